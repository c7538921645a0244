"""CSR and CSC: one implementation over (major, minor) axes, as SciPy's _compressed.

CSR stores rows as the major axis, CSC columns; every method works on major/minor
and `self._s.swap` maps (rows, cols) pairs to (major, minor)."""
import operator

import mlx.core as mx
import numpy as np

from .. import _ops
from .._dtypes import cast_values
from .._storage import COO
from ._base import _spbase, issparse, sparray
from ._coo import (_bincount, _check_transpose_axes, _coo_from_triplets,
                   _finish_dense, dense_operand)
from ._data import result_dtype
from ._sputils import (asmx, check_shape, get_index_dtype, getdtype, index_dtype_for,
                       isshape, mx_index_dtype, nnz_axis)


class _cs_base(_spbase):
    _s_arrays = ("indptr", "indices", "data")
    _storage = None  # CSR or CSC storage class

    def __init__(self, arg1, shape=None, dtype=None, copy=False, *, maxprint=None):
        _spbase.__init__(self, arg1, maxprint=maxprint)
        dtype = None if dtype is None else getdtype(dtype)
        S = self._storage
        name = self.__class__.__name__
        is_array = isinstance(self, sparray)

        if issparse(arg1):
            s = _compressed_from_sparse(arg1, self, copy)
        elif isinstance(arg1, tuple):
            if isshape(arg1):
                shp = check_shape((arg1,))
                idx = mx_index_dtype(get_index_dtype(maxval=max(shp)))
                n_major = shp[S.major_axis]
                s = S(mx.zeros(n_major + 1, idx), mx.zeros(0, idx),
                      mx.zeros(0, dtype or mx.float64), shp,
                      sorted_indices=True, canonical=True)
            elif len(arg1) == 2:
                coo = _coo_from_triplets(arg1, shape, dtype, is_array)
                s = _compress_coo(coo, S)
            elif len(arg1) == 3:
                s = _from_buffers(arg1, shape, S, is_array)
            else:
                raise ValueError(f"unrecognized {name} constructor input: {arg1}")
        else:
            # nonzeros are found before the cast to dtype (below), as SciPy does
            a = dense_operand(arg1, dtype, not is_array, self.format, cast=False)
            idx = mx_index_dtype(get_index_dtype(maxval=max(a.shape)))
            major_first = a if S.major_axis == 0 else a.T
            indptr, indices, data = _ops.dense_to_compressed(major_first, idx)
            s = S(indptr, indices, data, tuple(a.shape), sorted_indices=True,
                  canonical=True)

        if shape is not None and not isinstance(arg1, tuple):
            s = s.with_(shape=check_shape((shape,)))  # SciPy: given shape wins
        if dtype is not None and s.data.dtype != dtype:
            s = s.with_(data=cast_values(s.data, dtype))
        self._s = s
        self.check_format(full_check=False)

    # ---- attributes ---------------------------------------------------------------
    @property
    def data(self):
        return self._s.data

    @data.setter
    def data(self, value):
        self._s = self._s.with_(data=asmx(value))

    @property
    def indices(self):
        return self._s.indices

    @indices.setter
    def indices(self, value):
        self._s = self._s.with_(indices=asmx(value), sorted_indices=False, canonical=False)

    @property
    def indptr(self):
        return self._s.indptr

    @indptr.setter
    def indptr(self, value):
        self._s = self._s.with_(indptr=asmx(value), sorted_indices=False, canonical=False)

    @property
    def nnz(self):
        return int(self._s.indices.size)

    def _scipy_args(self):
        from ._base import _host
        return (_host(self._s.data), np.asarray(self._s.indices), np.asarray(self._s.indptr))

    # ---- flags, computed on demand as SciPy does ------------------------------------
    def _slices_ordered(self, strict):
        """True when indices increase (strictly: no duplicates) within every slice.
        Vectorised; one host sync."""
        s = self._s
        nnz = s.indices.size
        if nnz < 2:
            return True
        ind = s.indices
        step_ok = (ind[1:] > ind[:-1]) if strict else (ind[1:] >= ind[:-1])
        # boundary[p] > 0 where a new slice starts at entry p (then p-1 -> p is free)
        boundary = mx.zeros((nnz + 1,), mx.int32).at[s.indptr].add(1)[1:nnz]
        return bool(mx.all(step_ok | (boundary > 0)).item())

    @property
    def has_sorted_indices(self):
        s = self._s
        if not s.sorted_indices and not s.not_sorted and self._slices_ordered(strict=False):
            self._s = s.with_(sorted_indices=True)
        return self._s.sorted_indices

    @has_sorted_indices.setter
    def has_sorted_indices(self, value):
        # trusted as set (SciPy): sort_indices/sum_duplicates then rely on it
        if value:
            self._s = self._s.with_(sorted_indices=True, not_sorted=False)
        else:
            self._s = self._s.with_(sorted_indices=False, canonical=False, not_sorted=True)

    @property
    def has_canonical_format(self):
        s = self._s
        if s.canonical:
            return True
        if s.not_sorted or s.not_canonical:  # SciPy: not sorted implies not canonical
            return False
        if self._slices_ordered(strict=True):
            self._s = s.with_(sorted_indices=True, canonical=True)
        return self._s.canonical

    @has_canonical_format.setter
    def has_canonical_format(self, value):
        if value:
            self._s = self._s.with_(canonical=True, sorted_indices=True, not_sorted=False,
                                    not_canonical=False)
        else:
            self._s = self._s.with_(canonical=False, not_canonical=True)

    def copy(self):
        out = _spbase.copy(self)
        # SciPy's copy computes its flags afresh: a False the user set does not carry
        out._s = out._s.with_(not_sorted=False, not_canonical=False)
        return out

    # ---- validation ---------------------------------------------------------------
    def check_format(self, full_check=True):
        """SciPy's structural checks; full_check also scans the index values."""
        s = self._s
        for a in (s.data, s.indices, s.indptr):
            if a.ndim != 1:
                raise ValueError("data, indices, and indptr should be 1-D")
        for name, a in (("indptr", s.indptr), ("indices", s.indices)):
            if not mx.issubdtype(a.dtype, mx.signedinteger):
                raise ValueError(f"{name} array has non-integer dtype ({a.dtype})")
        n_major, n_minor = s.n_major, s.n_minor
        if s.indptr.size != n_major + 1:
            raise ValueError(f"index pointer size {s.indptr.size} should be {n_major + 1}")
        first, last = (int(v) for v in np.asarray(mx.stack([s.indptr[0], s.indptr[-1]])))
        if first != 0:
            raise ValueError("index pointer should start with 0")
        if s.indices.size != s.data.size:
            raise ValueError("indices and data should have the same size")
        if last > s.indices.size:
            raise ValueError("Last value of index pointer should be less than "
                             "the size of index and data arrays")
        self.prune()
        if full_check and self.nnz > 0:
            ind = self._s.indices
            lo, hi, dmin = (int(v) for v in np.asarray(mx.stack([
                ind.min().astype(mx.int64), ind.max().astype(mx.int64),
                mx.min(s.indptr[1:] - s.indptr[:-1]).astype(mx.int64)])))
            if hi >= n_minor:
                raise ValueError(f"indices must be < {n_minor}")
            if lo < 0:
                raise ValueError("indices must be >= 0")
            if dmin < 0:
                raise ValueError("indptr must be a non-decreasing sequence")
        elif full_check and n_major > 0:
            if int(mx.min(s.indptr[1:] - s.indptr[:-1]).item()) < 0:
                raise ValueError("indptr must be a non-decreasing sequence")

    def prune(self):
        """Drop storage past indptr[-1] (as SciPy's prune)."""
        s = self._s
        if s.indptr.size != s.n_major + 1:
            raise ValueError("index pointer has invalid length")
        nnz = int(s.indptr[-1].item())
        if s.indices.size < nnz:
            raise ValueError("indices array has fewer than nnz elements")
        if s.data.size < nnz:
            raise ValueError("data array has fewer than nnz elements")
        if s.indices.size > nnz or s.data.size > nnz:
            self._s = s.with_(indices=s.indices[:nnz], data=s.data[:nnz])

    # ---- conversions ----------------------------------------------------------------
    def tocoo(self, copy=False):
        from ._coo import coo_array, coo_matrix
        s = self._s
        major = _ops.expand_indptr(s.indptr, s.indices.size)
        row, col = s.swap((major, s.indices))
        coo = COO(row, col, s.data, s.shape,
                  canonical=s.major_axis == 0 and self.has_canonical_format)
        return (coo_array if self._is_array else coo_matrix)._from_storage(coo)

    def _transposed_layout(self):
        """The same matrix in the other compressed layout (CSR <-> CSC)."""
        from .._storage import CSC, CSR
        s = self._s
        other = CSC if s.major_axis == 0 else CSR
        indptr, indices, data = _ops.compressed_transpose(
            s.n_major, s.n_minor, s.indptr, s.indices, s.data)
        return other(indptr, indices, data, s.shape, sorted_indices=True,
                     canonical=s.canonical)

    def tocsr(self, copy=False):
        if self.format == "csr":
            return self.copy() if copy else self
        return self._container("csr")._from_storage(self._transposed_layout())

    def tocsc(self, copy=False):
        if self.format == "csc":
            return self.copy() if copy else self
        return self._container("csc")._from_storage(self._transposed_layout())

    def toarray(self, order=None, out=None):
        s = self._s
        dense = _ops.compressed_to_dense(s.n_major, s.n_minor, s.indptr, s.indices, s.data)
        return _finish_dense(dense if s.major_axis == 0 else dense.T, order, out)

    def transpose(self, axes=None, copy=False):
        """CSR^T is the same buffers read as CSC (and back): no data moves."""
        from .._storage import CSC, CSR
        _check_transpose_axes(axes, "compressed")
        s = self._s
        other_cls = CSC if s.major_axis == 0 else CSR
        other = other_cls(s.indptr, s.indices, s.data, s.shape[::-1],
                          s.sorted_indices, s.canonical)
        out = self._container("csc" if self.format == "csr" else "csr")._from_storage(other)
        return out.copy() if copy else out

    # ---- canonical form (in place: swap storage) --------------------------------------
    def sort_indices(self):
        if self.has_sorted_indices:
            return
        s = self._s
        indices, data = _ops.sort_indices(s.indptr, s.indices, s.data, s.n_minor)
        self._s = s.with_(indices=indices, data=data, sorted_indices=True, not_sorted=False)

    def sorted_indices(self):
        out = self.copy()
        out.sort_indices()
        return out

    def sum_duplicates(self):
        if self.has_canonical_format:
            return
        self.sort_indices()
        s = self._s
        indptr, indices, data = _ops.sum_duplicates(s.indptr, s.indices, s.data)
        self._s = s.with_(indptr=indptr, indices=indices, data=data, sorted_indices=True,
                          canonical=True, not_sorted=False, not_canonical=False)

    def eliminate_zeros(self):
        s = self._s
        indptr, indices, data = _ops.eliminate_zeros(s.indptr, s.indices, s.data)
        self._s = s.with_(indptr=indptr, indices=indices, data=data)

    # ---- counting and diagonals -------------------------------------------------------
    def _getnnz(self, axis=None):
        if axis is None:
            return self.nnz
        axis = nnz_axis(axis)
        s = self._s
        if axis == 1 - s.major_axis:  # counts per major slice: np.diff(indptr)
            return s.indptr[1:] - s.indptr[:-1]
        return _bincount(s.indices, s.n_minor)

    def count_nonzero(self, axis=None):
        axis = nnz_axis(axis)  # before summing duplicates: a failed call changes nothing
        self.sum_duplicates()
        s = self._s
        keep = s.data != 0
        if axis is None:
            return int(mx.sum(keep).item())
        if axis == 1 - s.major_axis:
            if bool(mx.all(keep).item()):  # SciPy: np.diff(indptr), indptr's dtype
                return s.indptr[1:] - s.indptr[:-1]
            major = _ops.expand_indptr(s.indptr, s.indices.size)
            return _bincount(major, s.n_major, weights=keep)
        return _bincount(s.indices, s.n_minor, weights=keep)

    def nonzero(self):
        row, col = _spbase.nonzero(self)
        if self._s.major_axis == 1 and row.size > 1:
            # SciPy's CSC returns C order: a stable sort by row (position breaks ties)
            key = row.astype(mx.int64) * row.size + mx.arange(row.size, dtype=mx.int64)
            order = mx.argsort(key)
            row, col = row[order], col[order]
        return row, col

    def diagonal(self, k=0):
        k = operator.index(k)  # SciPy: TypeError for a non-integer k (before any work)
        s = self._s
        # In (major, minor) coordinates CSC's k-th diagonal is the -k-th.
        kk = k if s.major_axis == 0 else -k
        return _ops.compressed_diagonal(kk, s.n_major, s.n_minor, s.indptr, s.indices, s.data)


    # ---- products and binary operations ------------------------------------------------
    def _operand(self, x, dt):
        return x.astype(dt) if x.dtype != dt else x

    def _matmul_vector(self, x):
        s = self._s
        dt = result_dtype(np.matmul, s.data.dtype, x.dtype)
        data, x = self._operand(s.data, dt), self._operand(x, dt)
        f = _ops.compressed_matvec if s.major_axis == 0 else _ops.compressed_matvec_t
        return f(s.n_major, s.n_minor, s.indptr, s.indices, data, x)

    def _matmul_multivector(self, X):
        s = self._s
        dt = result_dtype(np.matmul, s.data.dtype, X.dtype)
        data, X = self._operand(s.data, dt), self._operand(X, dt)
        f = _ops.compressed_matmat if s.major_axis == 0 else _ops.compressed_matmat_t
        return f(s.n_major, s.n_minor, s.indptr, s.indices, data, X)

    def _matmul_sparse(self, other):
        """Sparse @ sparse in self's format; result canonical. For CSC, C = A @ B is
        computed as C^T = B^T @ A^T on the same buffers read as CSR."""
        a = self._s
        b = other.asformat(self.format)._s
        dt = result_dtype(np.matmul, a.data.dtype, b.data.dtype)
        M, K = self.shape
        N = other.shape[1]
        if a.major_axis == 0:
            first, second, dims = a, b, (M, K, N)
        else:
            first, second, dims = b, a, (N, K, M)
        indptr, indices, data = _ops.compressed_matmul(
            *dims, first.indptr, first.indices, self._operand(first.data, dt),
            second.indptr, second.indices, self._operand(second.data, dt))
        if data.size == 0 and indptr.dtype != mx.int32:
            # SciPy returns a fresh empty matrix (int32 indices) when no product
            # exists at all; products that cancel keep the wide index dtype.
            lengths = second.indptr[1:] - second.indptr[:-1]
            if first.indices.size == 0 or int(mx.sum(lengths[first.indices]).item()) == 0:
                indptr = indptr.astype(mx_index_dtype(get_index_dtype(maxval=max(M, N))))
                indices = indices.astype(indptr.dtype)
        return self._from_storage(self._storage(indptr, indices, data, (M, N),
                                                sorted_indices=True, canonical=True))

    def _binopt(self, other, op):
        """Element-wise op over the union of stored entries of two same-shape matrices,
        in self's format, canonical, entries whose result is 0/False dropped. As
        SciPy's csr_binop_csr: other is first converted to self's format (a COO other
        sums its duplicates there, in its own dtype), then both operands are cast to
        the promoted dtype and their remaining duplicates summed in it."""
        other = other.asformat(self.format)
        dt = result_dtype(None, self._s.data.dtype, other._s.data.dtype)
        a, b = self._canonical_storage(dt), other._canonical_storage(dt)
        indptr, indices, data = _ops.compressed_binop(
            op, a.n_major, a.n_minor, a.indptr, a.indices, a.data,
            b.indptr, b.indices, b.data)
        return self._from_storage(self._storage(indptr, indices, data, self.shape,
                                                sorted_indices=True, canonical=True))

    def _canonical_storage(self, dt):
        """Canonical storage of this matrix with values cast to dt (duplicates summed
        in dt), without changing self."""
        s = self._s.with_(data=self._operand(self._s.data, dt))
        if self.has_canonical_format:
            return s
        tmp = self._from_storage(s)
        tmp.sum_duplicates()
        return tmp._s


def _compress_coo(coo, S):
    row, col = coo.row, coo.col
    major, minor = (row, col) if S.major_axis == 0 else (col, row)
    n_major, n_minor = coo.shape if S.major_axis == 0 else coo.shape[::-1]
    indptr, indices, data = _ops.coo_to_compressed(n_major, n_minor, major, minor, coo.data)
    return S(indptr, indices, data, coo.shape, sorted_indices=True, canonical=True)


def _from_buffers(arg1, shape, S, is_array):
    data, indices, indptr = arg1
    maxval = None
    if shape is not None and 0 not in tuple(shape):
        maxval = max(shape)
    indices_m, indptr_m = asmx(indices), asmx(indptr)
    # SciPy's check_contents: *_matrix narrows index buffers whose values fit int32;
    # non-integer buffers become int64 (cast, truncating, as np.array(x, dtype=) does)
    idx = index_dtype_for(is_array, (indices_m, indptr_m), maxval=maxval,
                          check_contents=True)
    data_m = asmx(data)
    if shape is None:
        if indices_m.ndim != 1 or indptr_m.ndim != 1:
            raise ValueError("data, indices, and indptr should be 1-D")
        if indices_m.size == 0 or indptr_m.size == 0:
            raise ValueError("unable to infer matrix dimensions")
        n_major = indptr_m.size - 1
        n_minor = int(indices_m.max().item()) + 1
        shape = (n_major, n_minor) if S.major_axis == 0 else (n_minor, n_major)
    shape = check_shape((shape,))
    return S(indptr_m.astype(idx), indices_m.astype(idx), data_m, shape)


def _compressed_from_sparse(arg1, self, copy):
    S = self._storage
    if isinstance(arg1, _spbase):
        src = arg1.asformat(self.format)
        s = src._s
        if copy and src is arg1:
            s = src.copy()._s
        return s
    # A SciPy sparse object: take its arrays in our format.
    sp = arg1.asformat(self.format)
    shape = check_shape((sp.shape,))
    idx = mx_index_dtype(get_index_dtype((sp.indices, sp.indptr), maxval=max(shape)))
    return S(asmx(sp.indptr, idx), asmx(sp.indices, idx), asmx(sp.data), shape,
             sorted_indices=bool(sp.has_sorted_indices),
             canonical=bool(sp.has_canonical_format))
