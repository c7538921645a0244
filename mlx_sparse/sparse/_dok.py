"""DOK format (SciPy's dok_array / dok_matrix): a host-side dictionary of keys.

Entries live in `self._dict` ({(i, j): NumPy scalar of the dtype}); like SciPy's,
the class also derives from dict so that isinstance(A, dict) holds, and exposes the
dict API (get, keys, items, update, pop, ...). Assigning 0 removes an entry. The
conversion to COO (and through it every other format) builds the MLX index and value
buffers in one go, in insertion order.
"""
import mlx.core as mx
import numpy as np

from .._storage import COO
from ._base import _spbase, issparse, sparray
from ._host_formats import _host_base, host_values
from ._index_utils import container
from ._sputils import (asmx, check_shape, get_index_dtype, getdtype, isshape,
                       mx_index_dtype)


class _dok_base(_host_base, dict):
    _format = "dok"

    def __init__(self, arg1, shape=None, dtype=None, copy=False, *, maxprint=None):
        _spbase.__init__(self, arg1, maxprint=maxprint)
        dt = None if dtype is None else getdtype(dtype)
        self._dict = {}
        if isinstance(arg1, tuple) and isshape(arg1):
            self._shape = check_shape((arg1,))
            self._dtype = dt or mx.float64
            return
        if issparse(arg1):
            src = arg1 if isinstance(arg1, _spbase) else container(
                "coo", True)(arg1)
            coo = src.tocoo()
            if dt is not None:
                coo = coo.astype(dt)
            self._load_storage(coo._s)
            if shape is not None and check_shape((shape,)) != self._shape:
                raise ValueError(f"inconsistent shapes: {check_shape((shape,))} != "
                                 f"{self._shape}")
            return
        if isinstance(arg1, tuple):
            raise TypeError("Invalid input format.")
        if arg1 is None:
            raise TypeError("function missing 1 required positional argument: 'shape'")
        nd = arg1.ndim if isinstance(arg1, mx.array) else np.ndim(arg1)
        if nd != 2:
            if not isinstance(self, sparray):
                raise ValueError(f"shape must have length in (2,). Got new_shape="
                                 f"{tuple(np.shape(arg1))}")
            raise ValueError(f"DOK arrays don't yet support {nd}D input."
                             if nd > 2 else
                             "mlx_sparse supports 2-D sparse arrays only; got a "
                             f"{nd}-D dense input")
        coo = container("coo", isinstance(self, sparray))(arg1, dtype=dt)
        self._load_storage(coo._s)
        if shape is not None and check_shape((shape,)) != self._shape:
            raise ValueError(f"inconsistent shapes: {check_shape((shape,))} != "
                             f"{self._shape}")

    # ---- host structure <-> storage -------------------------------------------------
    def _load_storage(self, s):
        """Fill the dictionary from a COO/compressed storage (duplicates summed,
        explicit zeros kept, as SciPy's todok)."""
        from ._coo import coo_array
        if type(s).__name__ != "COO":
            s = container("csr", True)._from_storage(s).tocoo()._s
        c = coo_array._from_storage(s)
        c.sum_duplicates()
        s = c._s
        self._shape = tuple(s.shape)
        self._dtype = s.data.dtype
        keys = zip(np.asarray(s.row).tolist(), np.asarray(s.col).tolist())
        self._dict = dict(zip(keys, host_values(s.data)))

    def _build_storage(self):
        M, N = self._shape
        idx = mx_index_dtype(get_index_dtype(maxval=max(M, N)))
        n = len(self._dict)
        if n == 0:
            return COO(mx.zeros((0,), idx), mx.zeros((0,), idx),
                       mx.zeros((0,), self._dtype), self._shape, canonical=True)
        ij = np.fromiter((v for k in self._dict for v in k), dtype=np.int64,
                         count=2 * n).reshape(n, 2)
        vals = np.fromiter(self._dict.values(), dtype=self._np_dtype, count=n)
        data = asmx(vals)
        if self._dtype == mx.bfloat16:
            data = data.astype(mx.bfloat16)
        return COO(mx.array(ij[:, 0]).astype(idx), mx.array(ij[:, 1]).astype(idx),
                   data, self._shape, canonical=False)

    # ---- elements ---------------------------------------------------------------------
    def _get1(self, i, j):
        v = self._dict.get((i, j))
        return self._np_dtype.type(0) if v is None else v

    def _set1(self, i, j, v):
        if v:
            self._dict[(i, j)] = v
        else:
            self._dict.pop((i, j), None)

    # ---- attributes -------------------------------------------------------------------
    @property
    def nnz(self):
        return len(self._dict)

    def _getnnz(self, axis=None):
        if axis is not None:
            raise NotImplementedError("_getnnz over an axis is not implemented "
                                      "for DOK format.")
        return len(self._dict)

    def count_nonzero(self, axis=None):
        if axis is not None:
            raise NotImplementedError("count_nonzero over an axis is not implemented "
                                      "for DOK format.")
        return sum(1 for v in self._dict.values() if v != 0)

    def __len__(self):
        return len(self._dict)

    # ---- the dict API -----------------------------------------------------------------
    def _check_key(self, key):
        i, j = key
        M, N = self._shape
        if not (0 <= int(i) < M and 0 <= int(j) < N):
            raise IndexError("Index out of bounds.")
        return (int(i), int(j))

    def get(self, key, default=0.0):
        """Value at key (a (row, col) pair), or default if absent."""
        key = self._check_key(key)
        return self._dict.get(key, default)

    def __contains__(self, key):
        return key in self._dict

    def __delitem__(self, key):
        del self._dict[key]
        self._changed()

    def setdefault(self, key, default=None):
        key = self._check_key(key)
        if key not in self._dict:
            self._dict[key] = self._cast(0 if default is None else default)
            self._changed()
        return self._dict[key]

    def pop(self, key, /, *default):
        out = self._dict.pop(key, *default)
        self._changed()
        return out

    def popitem(self):
        out = self._dict.popitem()
        self._changed()
        return out

    def clear(self):
        self._dict.clear()
        self._changed()

    def update(self, val):
        """Add entries from a mapping {(i, j): value} (keys checked, values cast)."""
        M, N = self._shape
        items = val.items() if hasattr(val, "items") else val
        new = {}
        for (i, j), v in items:
            if not (0 <= i < M and 0 <= j < N):
                raise IndexError(f"index ({i}, {j}) is too large for self.shape")
            new[(int(i), int(j))] = self._cast(v)
        self._dict.update(new)
        self._changed()

    def keys(self):
        return self._dict.keys()

    def values(self):
        return self._dict.values()

    def items(self):
        return self._dict.items()

    def __reversed__(self):
        return reversed(self._dict)

    def __or__(self, other):
        raise TypeError(f"unsupported operand type for |: {type(self).__name__} and "
                        f"{type(other).__name__}")

    __ror__ = __or__
    __ior__ = __or__

    @classmethod
    def fromkeys(cls, iterable, value=1, /):
        """A DOK with `value` at every (i, j) of iterable, shaped to hold them."""
        keys = [(int(i), int(j)) for i, j in iterable]
        M = max((i for i, _ in keys), default=-1) + 1
        N = max((j for _, j in keys), default=-1) + 1
        v = np.asarray(value)
        out = cls((M, N), dtype=v.dtype if v.dtype.kind != "O" else None)
        out._dict = {k: out._cast(value) for k in keys}
        return out

    __hash__ = None

    # ---- structure ----------------------------------------------------------------------
    def copy(self):
        out = self._blank(self._shape, self._dtype)
        out._dict = dict(self._dict)
        return out

    def resize(self, *shape):
        shape = check_shape(shape)
        M, N = shape
        if M < self._shape[0] or N < self._shape[1]:
            self._dict = {k: v for k, v in self._dict.items() if k[0] < M and k[1] < N}
        self._shape = shape
        self._changed()

    def _with_data(self, data):
        """Same keys in the same (insertion) order, new values: the values of `_s`
        follow the dictionary's order."""
        out = self._blank(self._shape, data.dtype)
        out._dict = dict(zip(self._dict.keys(), host_values(data)))
        return out

    def transpose(self, axes=None, copy=False):
        from ._coo import _check_transpose_axes
        _check_transpose_axes(axes, self._is_array)
        out = self._blank(self._shape[::-1], self._dtype)
        out._dict = {(j, i): v for (i, j), v in self._dict.items()}
        return out

    def __add__(self, other):
        res = _spbase.__add__(self, other)
        # SciPy keeps DOK for DOK + (any sparse operand)
        return res.todok() if issparse(other) and issparse(res) else res

    reshape = _spbase.reshape   # SciPy's: COO unless the shape is unchanged

    def todok(self, copy=False):
        return self.copy() if copy else self

    def tocsr(self, copy=False):
        return self.tocoo().tocsr()

    def tocsc(self, copy=False):
        return self.tocoo().tocsc()

    def conjtransp(self):
        """Conjugate transpose (SciPy's dok conjtransp)."""
        return self.conj().transpose()


class dok_array(_dok_base, sparray):
    """Dictionary Of Keys sparse array (SciPy's dok_array on MLX)."""


from ._matrix import spmatrix  # noqa: E402


class dok_matrix(spmatrix, _dok_base):
    """Dictionary Of Keys sparse matrix (SciPy's dok_matrix on MLX)."""

    shape = property(_host_base.get_shape, spmatrix.set_shape)
    get_shape = _host_base.get_shape


def isspmatrix_dok(x):
    """True for DOK sparse matrices (not arrays), ours or SciPy's."""
    import scipy.sparse as ssp
    return isinstance(x, dok_matrix) or ssp.isspmatrix_dok(x)


def coo_to_dok(coo_obj):
    """A DOK of the same kind as a COO object (duplicates summed)."""
    cls = dok_array if coo_obj._is_array else dok_matrix
    return cls._from_storage(coo_obj._s, coo_obj.maxprint)
