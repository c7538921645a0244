"""LIL format (SciPy's lil_array / lil_matrix): host-side lists of lists.

`rows[i]` is the sorted list of column indices of row i and `data[i]` their values
(NumPy object arrays of lists, as SciPy). Assigning 0 removes an entry. Conversion
to CSR concatenates the lists once and builds the MLX buffers in one go.
"""
import bisect
from itertools import chain

import mlx.core as mx
import numpy as np

from .._storage import CSR
from ._base import _spbase, issparse, sparray
from ._host_formats import _host_base, host_values
from ._index_utils import container
from ._sputils import (asmx, check_shape, get_index_dtype, getdtype, isshape,
                       mx_index_dtype)


def _object_lists(n):
    a = np.empty((n,), dtype=object)
    for i in range(n):
        a[i] = []
    return a


class _lil_base(_host_base):
    _format = "lil"

    def __init__(self, arg1, shape=None, dtype=None, copy=False, *, maxprint=None):
        _spbase.__init__(self, arg1, maxprint=maxprint)
        dt = None if dtype is None else getdtype(dtype)
        name = type(self).__name__
        if isinstance(arg1, tuple) and isshape(arg1):
            self._shape = check_shape((arg1,))
            self._dtype = dt or mx.float64
            self.rows = _object_lists(self._shape[0])
            self.data = _object_lists(self._shape[0])
            return
        if issparse(arg1):
            src = arg1 if isinstance(arg1, _spbase) else container("csr", True)(arg1)
            csr = src.tocsr()
            if dt is not None:
                csr = csr.astype(dt)
            self._load_storage(csr._s)
            return
        if isinstance(arg1, tuple):
            raise TypeError(f"unrecognized {name} constructor usage")
        if arg1 is None or isinstance(arg1, str) or np.ndim(arg1) == 0 and \
                not isinstance(arg1, mx.array):
            raise ValueError("mlx_sparse sparse array classes do not support "
                             "instantiation from a scalar")
        nd = arg1.ndim if isinstance(arg1, mx.array) else np.ndim(arg1)
        if isinstance(self, sparray) and nd != 2:
            raise ValueError(f"LIL arrays don't support {nd}D input. Use 2D")
        csr = container("csr", isinstance(self, sparray))(arg1, dtype=dt)
        self._load_storage(csr._s)

    # ---- host structure <-> storage -------------------------------------------------
    def _load_storage(self, s):
        """Fill the lists from a storage (sorted per row, duplicates summed, explicit
        zeros kept, as SciPy's tolil)."""
        csr = container("csr", True)._from_storage(s) if type(s).__name__ == "CSR" \
            else _any_to_csr(s)
        csr = csr.copy() if not csr._s.canonical else csr
        csr.sum_duplicates()
        s = csr._s
        self._shape = tuple(s.shape)
        self._dtype = s.data.dtype
        M = self._shape[0]
        indptr = np.asarray(s.indptr).astype(np.int64).tolist()
        indices = np.asarray(s.indices).tolist()
        vals = list(host_values(s.data))
        rows, data = np.empty((M,), dtype=object), np.empty((M,), dtype=object)
        for i in range(M):
            lo, hi = indptr[i], indptr[i + 1]
            rows[i] = indices[lo:hi]
            data[i] = vals[lo:hi]
        self.rows, self.data = rows, data

    def _build_storage(self):
        M, N = self._shape
        lens = np.fromiter((len(r) for r in self.rows), dtype=np.int64, count=M)
        nnz = int(lens.sum())
        idx = mx_index_dtype(get_index_dtype(maxval=max(nnz, M, N)))
        indptr = np.zeros(M + 1, dtype=np.int64)
        np.cumsum(lens, out=indptr[1:])
        indices = np.fromiter(chain.from_iterable(self.rows), dtype=np.int64, count=nnz)
        vals = np.fromiter(chain.from_iterable(self.data), dtype=self._np_dtype,
                           count=nnz)
        data = asmx(vals)
        if self._dtype == mx.bfloat16:
            data = data.astype(mx.bfloat16)
        return CSR(mx.array(indptr).astype(idx), mx.array(indices).astype(idx), data,
                   self._shape, sorted_indices=True, canonical=True)

    # ---- elements ---------------------------------------------------------------------
    def _get1(self, i, j):
        row = self.rows[i]
        p = bisect.bisect_left(row, j)
        if p < len(row) and row[p] == j:
            return self.data[i][p]
        return self._np_dtype.type(0)

    def _set1(self, i, j, v):
        row, vals = self.rows[i], self.data[i]
        p = bisect.bisect_left(row, j)
        hit = p < len(row) and row[p] == j
        if v:
            if hit:
                vals[p] = v
            else:
                row.insert(p, j)
                vals.insert(p, v)
        elif hit:
            del row[p]
            del vals[p]

    # ---- attributes ---------------------------------------------------------------------
    @property
    def nnz(self):
        return sum(len(r) for r in self.rows)

    def count_nonzero(self, axis=None):
        if axis is None:
            return sum(1 for r in self.data for v in r if v != 0)
        return self.tocoo().count_nonzero(axis)

    # ---- rows ---------------------------------------------------------------------------
    def _row_index(self, i):
        M = self._shape[0]
        if not -M <= i < M:
            raise IndexError("row index out of bounds")
        return i + M if i < 0 else i

    def getrow(self, i):
        """Row i as a (1, n) LIL (a copy)."""
        i = self._row_index(int(i))
        out = type(self)((1, self._shape[1]), dtype=self._dtype)
        out.rows[0] = list(self.rows[i])
        out.data[0] = list(self.data[i])
        return out

    def getrowview(self, i):
        """Row i as a (1, n) LIL sharing this matrix's lists."""
        i = self._row_index(int(i))
        out = type(self)((1, self._shape[1]), dtype=self._dtype)
        out.rows[0] = self.rows[i]
        out.data[0] = self.data[i]
        return out

    # ---- structure ------------------------------------------------------------------------
    def copy(self):
        out = self._blank(self._shape, self._dtype)
        M = self._shape[0]
        out.rows = np.empty((M,), dtype=object)
        out.data = np.empty((M,), dtype=object)
        for i in range(M):
            out.rows[i] = list(self.rows[i])
            out.data[i] = list(self.data[i])
        return out

    def resize(self, *shape):
        shape = check_shape(shape)
        M, N = shape
        oldM, oldN = self._shape
        if M < oldM:
            self.rows, self.data = self.rows[:M].copy(), self.data[:M].copy()
        elif M > oldM:
            self.rows = np.concatenate([self.rows, _object_lists(M - oldM)])
            self.data = np.concatenate([self.data, _object_lists(M - oldM)])
        if N < oldN:
            for i in range(len(self.rows)):
                r = self.rows[i]
                k = bisect.bisect_left(r, N)
                del r[k:]
                del self.data[i][k:]
        self._shape = shape
        self._changed()

    def _with_data(self, data):
        """Same rows, new values (the values of `_s` follow the rows' order)."""
        out = self._blank(self._shape, data.dtype)
        vals = list(host_values(data))
        M = self._shape[0]
        out.rows = np.empty((M,), dtype=object)
        out.data = np.empty((M,), dtype=object)
        pos = 0
        for i in range(M):
            n = len(self.rows[i])
            out.rows[i] = list(self.rows[i])
            out.data[i] = vals[pos:pos + n]
            pos += n
        return out

    def __neg__(self):
        return -self.tocsr()      # SciPy's LIL negates through CSR

    def tolil(self, copy=False):
        return self.copy() if copy else self

    def tocsr(self, copy=False):
        return container("csr", self._is_array)._from_storage(self._s)

    def tocsc(self, copy=False):
        return self.tocsr().tocsc()

    def tocoo(self, copy=False):
        return self.tocsr().tocoo()

    def __setitem__(self, key, x):
        _host_base.__setitem__(self, key, x)


def _any_to_csr(s):
    if type(s).__name__ == "COO":
        return container("coo", True)._from_storage(s).tocsr()
    if type(s).__name__ == "CSC":
        return container("csc", True)._from_storage(s).tocsr()
    raise TypeError(f"cannot load a {type(s).__name__} storage into LIL")


class lil_array(_lil_base, sparray):
    """Row-based List of Lists sparse array (SciPy's lil_array on MLX)."""


from ._matrix import spmatrix  # noqa: E402


class lil_matrix(spmatrix, _lil_base):
    """Row-based List of Lists sparse matrix (SciPy's lil_matrix on MLX)."""

    shape = property(_host_base.get_shape, spmatrix.set_shape)
    get_shape = _host_base.get_shape


def isspmatrix_lil(x):
    """True for LIL sparse matrices (not arrays), ours or SciPy's."""
    import scipy.sparse as ssp
    return isinstance(x, lil_matrix) or ssp.isspmatrix_lil(x)


def csr_to_lil(csr_obj):
    """A LIL of the same kind as a CSR object."""
    cls = lil_array if csr_obj._is_array else lil_matrix
    return cls._from_storage(csr_obj._s, csr_obj.maxprint)
