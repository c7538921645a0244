"""COO format (SciPy's coo_array / coo_matrix), 2-D."""
import mlx.core as mx
import numpy as np

from .. import _ops
from .._ops.mlx_impl import _count_dtype, _scatter_sum
from .._storage import COO, CSC, CSR
from ._base import _spbase, issparse, sparray, _compress
from .._dtypes import MX_TO_NP, NP_TO_MX, cast_values
from ._sputils import (INT32_MAX, INT32_MIN, asmx, check_shape, check_value_dtype,
                       get_index_dtype, getdtype, isshape, nnz_axis,
                       mx_index_dtype, to_host)


class _coo_base(_spbase):
    _format = "coo"
    _s_arrays = ("row", "col", "data")

    def __init__(self, arg1, shape=None, dtype=None, copy=False, *, maxprint=None):
        _spbase.__init__(self, arg1, maxprint=maxprint)
        dtype = None if dtype is None else getdtype(dtype)

        is_array = isinstance(self, sparray)
        # SciPy's COO arrays read any tuple of ints as a shape (1-D, n-D: ValueError here)
        if isinstance(arg1, tuple) and (isshape(arg1) or (is_array and _is_int_tuple(arg1))):
            shp = check_shape((arg1,))
            idx = mx_index_dtype(get_index_dtype(maxval=max(shp)))
            s = COO(mx.zeros(0, idx), mx.zeros(0, idx),
                    mx.zeros(0, dtype or mx.float64), shp, canonical=True)
        elif isinstance(arg1, tuple):
            s = _coo_from_triplets(arg1, shape, dtype, is_array)
        elif issparse(arg1):
            s = _coo_from_sparse(arg1, dtype, copy)
            if shape is not None and check_shape((shape,)) != s.shape:
                raise ValueError(f"inconsistent shapes: {shape} != {s.shape}")
        else:
            s = _coo_from_dense(arg1, dtype, matrix=not is_array)
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
        axis = nnz_axis(axis)
        idx = self._s.col if axis == 0 else self._s.row
        return _bincount(idx, self.shape[1 - axis])

    def count_nonzero(self, axis=None):
        axis = nnz_axis(axis)  # before summing duplicates: a failed call changes nothing
        self.sum_duplicates()
        keep = self._s.data != 0
        if axis is None:
            return int(mx.sum(keep).item())
        idx = self._s.col if axis == 0 else self._s.row
        return _bincount(idx, self.shape[1 - axis], weights=keep)


class coo_array(_coo_base, sparray):
    """COOrdinate sparse array (SciPy's coo_array on MLX)."""


def _bincount(idx, n, weights=None):
    """Counts per index as int64 (SciPy returns intp), counted in 32 bits where they
    fit (MLX's CUDA scatter has no int64)."""
    cdt = _count_dtype(idx.size)
    w = mx.ones(idx.shape, cdt) if weights is None else weights.astype(cdt)
    return _scatter_sum(n, idx, w).astype(mx.int64)


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
        if (not isinstance(out, np.ndarray) or out.shape != tuple(dense.shape)
                or out.dtype != MX_TO_NP.get(dense.dtype)):  # bfloat16: no NumPy dtype
            raise ValueError("out array must be same dtype and shape as sparse array")
        out[...] = to_host(dense)
        return out
    return dense


# ---- constructor helpers (shared by COO and the compressed formats) ----------------
def _coo_from_triplets(arg1, shape, dtype, is_array):
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
    integral = all(mx.issubdtype(a.dtype, mx.integer) or a.dtype == mx.bool_
                   for a in (row, col))
    if shape is None:
        if row.size == 0:
            raise ValueError("cannot infer dimensions from zero sized index arrays")
        if not integral:  # SciPy: operator.index(max) of float coordinates
            raise TypeError("index arrays must have an integer dtype to infer the "
                            "shape; pass shape=")
    if shape is not None:
        shape = check_shape((shape,))
    # SciPy casts (truncating) non-integer coordinates to its index dtype: int64
    idx = mx.int64 if not integral else None
    row, col = (row, col) if integral else (row.astype(idx), col.astype(idx))
    # One host sync for min/max: needed for shape inference and SciPy's bound checks.
    if row.size:
        mins_maxs = [int(v) for v in np.asarray(mx.stack([
            row.min().astype(mx.int64), row.max().astype(mx.int64),
            col.min().astype(mx.int64), col.max().astype(mx.int64)]))]
    else:
        mins_maxs = None
    if shape is None:
        shape = check_shape(((mins_maxs[1] + 1, mins_maxs[3] + 1),))
    if mins_maxs is not None:
        for axis, (lo, hi) in enumerate((mins_maxs[:2], mins_maxs[2:])):
            if hi >= shape[axis]:
                raise ValueError(f"axis {axis} index {hi} exceeds matrix dimension "
                                 f"{shape[axis]}")
            if lo < 0:
                raise ValueError(f"negative axis {axis} index: {lo}")
    if idx is None:
        # SciPy's check_contents: *_matrix narrows coordinates whose values fit int32,
        # *_array keeps wide index dtypes (uses the min/max above: no second sync)
        fits = mins_maxs is None or (INT32_MIN <= min(mins_maxs) and max(mins_maxs) <= INT32_MAX)
        arrays = () if (fits and not is_array) else (row, col)
        idx = mx_index_dtype(get_index_dtype(arrays, maxval=max(shape)))
    return COO(row.astype(idx), col.astype(idx), data, shape, canonical=False)


def _is_int_tuple(t):
    return len(t) > 0 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                              for v in t)


def _coo_from_sparse(arg1, dtype, copy):
    """COO storage of a sparse input, keeping its index dtype (as SciPy)."""
    if isinstance(arg1, _spbase):
        s = arg1.tocoo(copy=copy)._s
        return s if dtype is None else s.with_(data=cast_values(s.data, dtype))
    coo = arg1.tocoo()  # a SciPy object
    data = asmx(coo.data, dtype)
    shape = check_shape((coo.shape,))
    idx = mx_index_dtype(get_index_dtype((coo.row, coo.col), maxval=max(shape)))
    return COO(asmx(coo.row, idx), asmx(coo.col, idx), data, shape,
               canonical=bool(coo.has_canonical_format))


# Host dtypes MLX cannot hold, and the MLX dtype that carries their values (and
# their zeros) until dtype= casts them.
_CARRIERS = {"c": np.complex64, "f": np.float64}


def dense_operand(arg1, dtype, matrix, fmt=None, cast=True):
    """A 2-D MLX array from a dense constructor argument, with SciPy's checks in
    SciPy's order. With dtype given, a host array MLX cannot hold (complex128,
    longdouble) is accepted; cast=False leaves the cast to dtype to the caller (who
    must find nonzeros first, as SciPy does)."""
    if not matrix and np.isscalar(arg1):
        raise ValueError("scipy sparse array classes do not support instantiation "
                         "from a scalar")
    a = arg1 if isinstance(arg1, mx.array) else to_host(arg1)
    if not matrix and fmt == "csc" and a.ndim != 2:
        raise ValueError(f"CSC arrays don't support {a.ndim}D input. Use 2D")
    if fmt in ("csr", "csc") and a.ndim > 2:
        raise ValueError(f"CSR arrays don't yet support {a.ndim}D.")
    if matrix and a.ndim < 2:
        a = a.reshape((1, -1)) if a.ndim == 1 else a.reshape((1, 1))
    if matrix and a.ndim != 2:
        raise TypeError(f"expected 2D array or matrix, not {a.ndim}D")
    if a.ndim == 0:
        raise TypeError("function missing 1 required positional argument: 'shape'")
    if a.ndim != 2:
        raise ValueError(f"mlx_sparse supports 2-D sparse arrays only; got a "
                         f"{a.ndim}-D dense input")
    if isinstance(a, np.ndarray):
        check_value_dtype(a.dtype)
        if dtype is not None and a.dtype not in NP_TO_MX and a.dtype.kind in _CARRIERS:
            a = a.astype(_CARRIERS[a.dtype.kind])
        a = asmx(a)
    if cast and dtype is not None and a.dtype != dtype:
        a = cast_values(a, dtype)
    return a


def _coo_from_dense(arg1, dtype, matrix):
    # nonzeros are found before the cast: a value the cast makes 0 stays stored
    a = dense_operand(arg1, dtype, matrix, "coo", cast=False)
    shape = tuple(a.shape)
    idx = mx_index_dtype(get_index_dtype(maxval=max(shape)))
    indptr, indices, data = _ops.dense_to_compressed(a, idx)
    row = _ops.expand_indptr(indptr, data.size)
    if dtype is not None and data.dtype != dtype:
        data = cast_values(data, dtype)
    return COO(row, indices, data, shape, canonical=True)


from ._matrix import spmatrix  # noqa: E402  (after _coo_base to avoid a cycle)


class coo_matrix(spmatrix, _coo_base):
    """COOrdinate sparse matrix (SciPy's coo_matrix on MLX)."""


def isspmatrix_coo(x):
    """True for COO sparse matrices (not arrays), ours or SciPy's."""
    import scipy.sparse as ssp
    return isinstance(x, coo_matrix) or ssp.isspmatrix_coo(x)
