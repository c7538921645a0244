"""COO format (SciPy's coo_array / coo_matrix), 2-D."""
import mlx.core as mx
import numpy as np

from .. import _ops
from .._storage import COO, CSC, CSR
from ._base import _spbase, issparse, sparray, _compress
from ._sputils import (INT32_MAX, asmx, check_shape, get_index_dtype, getdtype,
                       isshape, mx_index_dtype, to_host, validateaxis)


class _coo_base(_spbase):
    _format = "coo"
    _s_arrays = ("row", "col", "data")

    def __init__(self, arg1, shape=None, dtype=None, copy=False, *, maxprint=None):
        _spbase.__init__(self, arg1, maxprint=maxprint)
        dtype = None if dtype is None else getdtype(dtype)

        if isinstance(arg1, tuple) and isshape(arg1):
            shp = check_shape((arg1,))
            idx = mx_index_dtype(get_index_dtype(maxval=max(shp)))
            s = COO(mx.zeros(0, idx), mx.zeros(0, idx),
                    mx.zeros(0, dtype or mx.float64), shp, canonical=True)
        elif isinstance(arg1, tuple):
            s = _coo_from_triplets(arg1, shape, dtype)
        elif issparse(arg1):
            s = _coo_from_sparse(arg1, dtype, copy)
            if shape is not None and check_shape((shape,)) != s.shape:
                raise ValueError(f"inconsistent shapes: {shape} != {s.shape}")
        else:
            s = _coo_from_dense(arg1, dtype, matrix=not isinstance(self, sparray))
            if shape is not None and check_shape((shape,)) != s.shape:
                raise ValueError(f"inconsistent shapes: {shape} != {s.shape}")
        self._s = s

    # ---- attributes -------------------------------------------------------------
    @property
    def row(self):
        return self._s.row

    @row.setter
    def row(self, value):
        self._s = self._s.with_(row=asmx(value, self._s.row.dtype), canonical=False)

    @property
    def col(self):
        return self._s.col

    @col.setter
    def col(self, value):
        self._s = self._s.with_(col=asmx(value, self._s.col.dtype), canonical=False)

    @property
    def coords(self):
        return (self._s.row, self._s.col)

    @coords.setter
    def coords(self, value):
        row, col = value
        self._s = self._s.with_(row=asmx(row, self._s.row.dtype),
                                col=asmx(col, self._s.col.dtype), canonical=False)

    @property
    def data(self):
        return self._s.data

    @data.setter
    def data(self, value):
        self._s = self._s.with_(data=asmx(value))

    @_spbase.has_canonical_format.setter
    def has_canonical_format(self, value):
        self._s = self._s.with_(canonical=bool(value))

    def _scipy_args(self):
        from ._base import _host
        return (_host(self._s.data), (np.asarray(self._s.row), np.asarray(self._s.col)))

    # ---- conversions --------------------------------------------------------------
    def tocoo(self, copy=False):
        return self.copy() if copy else self

    def _to_compressed(self, cls):
        s = self._s
        row, col = s.row, s.col
        if s.data.size > INT32_MAX and row.dtype != mx.int64:
            row, col = row.astype(mx.int64), col.astype(mx.int64)
        major, minor = (row, col) if cls.major_axis == 0 else (col, row)
        n_major, n_minor = s.shape if cls.major_axis == 0 else s.shape[::-1]
        indptr, indices, data = _ops.coo_to_compressed(n_major, n_minor, major, minor, s.data)
        return cls(indptr, indices, data, s.shape, sorted_indices=True, canonical=True)

    def tocsr(self, copy=False):
        from ._csr import csr_array, csr_matrix
        out = csr_array if self._is_array else csr_matrix
        return out._from_storage(self._to_compressed(CSR))

    def tocsc(self, copy=False):
        from ._csc import csc_array, csc_matrix
        out = csc_array if self._is_array else csc_matrix
        return out._from_storage(self._to_compressed(CSC))

    def toarray(self, order=None, out=None):
        s = self._s
        dense = _ops.coo_to_dense(s.shape[0], s.shape[1], s.row, s.col, s.data)
        return _finish_dense(dense, order, out)

    def transpose(self, axes=None, copy=False):
        swap = _check_transpose_axes(axes, "coo_array" if self._is_array else "coo_matrix")
        s = self._s
        if not swap:
            return self.copy() if copy else self._with_storage(s)
        out = self._with_storage(COO(s.col, s.row, s.data, s.shape[::-1], canonical=False))
        return out.copy() if copy else out

    def reshape(self, *args, **kwargs):
        order = kwargs.pop("order", "C")
        copy = kwargs.pop("copy", False)
        if kwargs:
            raise TypeError("reshape() got unexpected keywords arguments: "
                            + ", ".join(kwargs))
        shape = check_shape(args, self.shape)
        if shape == self.shape:
            return self.copy() if copy else self
        s = self._s
        r, c = s.row.astype(mx.int64), s.col.astype(mx.int64)
        if order == "C":
            flat = r * s.shape[1] + c
            new_r, new_c = flat // shape[1], flat % shape[1]
        elif order == "F":
            flat = c * s.shape[0] + r
            new_c, new_r = flat // shape[0], flat % shape[0]
        else:
            raise ValueError("'order' must be 'C' or 'F'")
        idx = mx_index_dtype(get_index_dtype(maxval=max(shape)))
        return self._with_storage(COO(new_r.astype(idx), new_c.astype(idx), s.data, shape))

    # ---- canonical form -------------------------------------------------------------
    def sum_duplicates(self):
        """Sort by (row, col) and sum duplicate entries, in place."""
        if self._s.canonical:
            return
        csr = self._to_compressed(CSR)
        row = _ops.expand_indptr(csr.indptr, csr.data.size)
        self._s = COO(row, csr.indices, csr.data, self._s.shape, canonical=True)

    def eliminate_zeros(self):
        s = self._s
        keep = s.data != 0
        self._s = s.with_(row=_compress(s.row, keep), col=_compress(s.col, keep),
                          data=_compress(s.data, keep))

    # ---- counting ---------------------------------------------------------------------
    def _getnnz(self, axis=None):
        if axis is None:
            return self.nnz
        axis = validateaxis(axis)
        idx = self._s.col if axis == 0 else self._s.row
        return _bincount(idx, self.shape[1 - axis])

    def count_nonzero(self, axis=None):
        self.sum_duplicates()
        keep = self._s.data != 0
        if axis is None:
            return int(mx.sum(keep).item())
        axis = validateaxis(axis)
        idx = self._s.col if axis == 0 else self._s.row
        return _bincount(idx, self.shape[1 - axis], weights=keep)


class coo_array(_coo_base, sparray):
    """COOrdinate sparse array (SciPy's coo_array on MLX)."""


def _bincount(idx, n, weights=None):
    """Counts per index as int64 (SciPy returns intp)."""
    ones = mx.ones(idx.shape, mx.int64) if weights is None else weights.astype(mx.int64)
    return mx.zeros((n,), mx.int64).at[idx].add(ones)


def _check_transpose_axes(axes, kind):
    """SciPy's axes rules; returns True when the permutation swaps the axes.
    kind: 'coo_array' (any permutation of (0, 1)), 'coo_matrix', 'compressed'."""
    if axes is None:
        return True
    if kind == "coo_array":
        if not hasattr(axes, "__len__") or len(axes) != 2:
            raise ValueError("axes don't match matrix dimensions")
        if len(set(axes)) != 2:
            raise ValueError("repeated axis in transpose")
        (0, 1)[axes[0]], (0, 1)[axes[1]]  # IndexError for an axis out of range, as SciPy
        return tuple(axes) in ((1, 0), (1, -2), (-1, 0), (-1, -2))
    if axes != (1, 0):
        who = "matrices" if kind == "coo_matrix" else "arrays/matrices"
        raise ValueError(f"Sparse {who} do not support an 'axes' parameter because "
                         "swapping dimensions is the only logical permutation.")
    return True


def _finish_dense(dense, order, out):
    """toarray's order/out handling: out (a NumPy array) is filled and returned."""
    if order not in (None, "C", "F"):
        raise ValueError(f"order must be 'C' or 'F', not {order!r}")
    if out is not None:
        if order is not None:
            raise ValueError("order cannot be specified if out is not None")
        if not isinstance(out, np.ndarray) or out.shape != tuple(dense.shape):
            raise ValueError("out array must be same dtype and shape as sparse array")
        out[...] = to_host(dense)
        return out
    return dense


# ---- constructor helpers (shared by COO and the compressed formats) ----------------
def _coo_from_triplets(arg1, shape, dtype):
    try:
        obj, coords = arg1
    except (TypeError, ValueError) as e:
        raise TypeError("invalid input format") from e
    try:
        coords = tuple(coords)
    except TypeError as e:
        raise TypeError("invalid input format") from e
    if len(coords) != 2:
        raise ValueError("mismatching number of index arrays for shape; "
                         f"got {len(coords)}, expected 2")
    row, col = asmx(coords[0]), asmx(coords[1])
    data = asmx(obj, dtype)
    if data.ndim != 1 or row.ndim != 1 or col.ndim != 1:
        raise ValueError("row, column, and data array must all be the same length"
                         if data.ndim == row.ndim == col.ndim
                         else "coordinates and data arrays must be 1-D")
    if not (data.size == row.size == col.size):
        raise ValueError("row, column, and data array must all be the same length")
    for name, idx in (("row", row), ("column", col)):
        if not (mx.issubdtype(idx.dtype, mx.integer) or idx.dtype == mx.bool_):
            raise ValueError(f"{name} index array must have an integer dtype, "
                             f"not {idx.dtype}")
    # One host sync for min/max: needed for shape inference and SciPy's bound checks.
    if row.size:
        mins_maxs = [int(v) for v in np.asarray(mx.stack([
            row.min().astype(mx.int64), row.max().astype(mx.int64),
            col.min().astype(mx.int64), col.max().astype(mx.int64)]))]
    else:
        mins_maxs = None
    if shape is None:
        if mins_maxs is None:
            raise ValueError("cannot infer dimensions from zero sized index arrays")
        shape = (mins_maxs[1] + 1, mins_maxs[3] + 1)
    shape = check_shape((shape,))
    if mins_maxs is not None:
        for axis, (lo, hi) in enumerate((mins_maxs[:2], mins_maxs[2:])):
            name = "row" if axis == 0 else "column"
            if hi >= shape[axis]:
                raise ValueError(f"axis {axis} index {hi} exceeds matrix dimension "
                                 f"{shape[axis]}")
            if lo < 0:
                raise ValueError(f"negative axis {axis} index: {lo}")
    idx_np = get_index_dtype((row, col), maxval=max(shape), check_contents=True)
    idx = mx_index_dtype(idx_np)
    return COO(row.astype(idx), col.astype(idx), data, shape, canonical=False)


def _coo_from_sparse(arg1, dtype, copy):
    if isinstance(arg1, _spbase):
        s = arg1.tocoo(copy=copy)._s
        return s if dtype is None else s.with_(data=s.data.astype(dtype))
    coo = arg1.tocoo()  # a SciPy object
    data = asmx(coo.data, dtype)
    shape = check_shape((coo.shape,))
    idx = mx_index_dtype(get_index_dtype((coo.row, coo.col), maxval=max(shape)))
    return COO(asmx(coo.row, idx), asmx(coo.col, idx), data, shape,
               canonical=bool(coo.has_canonical_format))


def dense_operand(arg1, dtype, matrix):
    """A 2-D MLX array from a dense constructor argument (SciPy's rules/errors)."""
    try:
        a = asmx(arg1, dtype)
    except (TypeError, ValueError) as e:
        raise TypeError(f"unrecognized constructor input: {arg1!r}") from e
    if matrix and a.ndim < 2:
        a = a.reshape((1, -1)) if a.ndim == 1 else a.reshape((1, 1))
    if a.ndim != 2:
        raise ValueError(f"mlx_sparse supports 2-D sparse arrays only; got a "
                         f"{a.ndim}-D dense input")
    return a


def _coo_from_dense(arg1, dtype, matrix):
    a = dense_operand(arg1, dtype, matrix)
    shape = tuple(a.shape)
    idx = mx_index_dtype(get_index_dtype(maxval=max(shape)))
    indptr, indices, data = _ops.dense_to_compressed(a, idx)
    row = _ops.expand_indptr(indptr, data.size)
    return COO(row, indices, data, shape, canonical=True)


from ._matrix import spmatrix  # noqa: E402  (after _coo_base to avoid a cycle)


class coo_matrix(spmatrix, _coo_base):
    """COOrdinate sparse matrix (SciPy's coo_matrix on MLX)."""


def isspmatrix_coo(x):
    """True for COO sparse matrices (not arrays), ours or SciPy's."""
    import scipy.sparse as ssp
    return isinstance(x, coo_matrix) or ssp.isspmatrix_coo(x)
