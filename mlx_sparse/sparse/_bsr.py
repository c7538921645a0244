"""BSR format (SciPy's bsr_array / bsr_matrix): CSR over dense R x C blocks.

`indptr`/`indices` index block rows/columns; `data` is (nnz_blocks, R, C). Compute
goes through CSR; every conversion is a vectorised gather/scatter over the
(block, i, j) grid, and block-structure operations (sort, transpose, duplicate
merge) reuse the compressed ops on block ids.
"""
from dataclasses import dataclass, replace

import mlx.core as mx
import numpy as np

from .. import _ops
from .._dtypes import cast_values
from .._ops.mlx_impl import _count_dtype, _scatter_sum
from .._storage import COO, CSR
from ._base import _spbase, issparse, sparray
from ._coo import _check_transpose_axes, dense_operand
from ._index_utils import (container, exclusive_cumsum, expand_indptr,
                           index_dtype_for, positions_of, take)
from ._sputils import (asmx, check_shape, get_index_dtype, getdtype, isintlike,
                       isshape, mx_index_dtype)


@dataclass(frozen=True)
class BSR:
    indptr: mx.array   # (M // R + 1,)
    indices: mx.array  # (nnz_blocks,) block-column of each block
    data: mx.array     # (nnz_blocks, R, C)
    shape: tuple
    sorted_indices: bool = False
    canonical: bool = False

    @property
    def blocksize(self):
        return tuple(int(v) for v in self.data.shape[1:])

    def with_(self, **changes):
        return replace(self, **changes)


class _bsr_base(_spbase):
    _format = "bsr"
    _s_arrays = ("indptr", "indices", "data")

    def __init__(self, arg1, shape=None, dtype=None, copy=False, blocksize=None, *,
                 maxprint=None):
        _spbase.__init__(self, arg1, maxprint=maxprint)
        dtype = None if dtype is None else getdtype(dtype)
        name = type(self).__name__

        if issparse(arg1):
            s = _bsr_from_sparse(arg1, blocksize, copy, self._is_array)
        elif isinstance(arg1, tuple) and isshape(arg1):
            shp = check_shape((arg1,))
            R, C = _check_blocksize_arg((1, 1) if blocksize is None else blocksize)
            M, N = shp
            if M % R or N % C:
                raise ValueError("shape must be multiple of blocksize")
            idx = mx_index_dtype(get_index_dtype(maxval=max(M // R, N // C, R, C)))
            s = BSR(mx.zeros((M // R + 1,), idx), mx.zeros((0,), idx),
                    mx.zeros((0, R, C), dtype or mx.float64), shp,
                    sorted_indices=True, canonical=True)
        elif isinstance(arg1, tuple) and len(arg1) == 2:
            from ._coo import coo_array, coo_matrix
            # the COO of the same family picks SciPy's index dtype (matrices narrow)
            coo_cls = coo_array if isinstance(self, sparray) else coo_matrix
            coo = coo_cls(arg1, shape=shape, dtype=dtype)
            s = csr_to_bsr(coo.tocsr(), blocksize)._s
        elif isinstance(arg1, tuple) and len(arg1) == 3:
            s = _bsr_from_buffers(arg1, shape, blocksize, isinstance(self, sparray))
        elif isinstance(arg1, tuple):
            raise ValueError(f"unrecognized {name} constructor usage")
        else:
            if isinstance(self, sparray):
                nd = arg1.ndim if isinstance(arg1, mx.array) else np.ndim(arg1)
                if nd != 2:
                    raise ValueError(f"BSR arrays don't support {nd}D input. Use 2D")
            try:
                a = dense_operand(arg1, dtype, matrix=not isinstance(self, sparray))
            except TypeError as e:
                raise ValueError(f"unrecognized form for {name} constructor") from e
            from ._coo import coo_array
            s = csr_to_bsr(coo_array(a).tocsr(), blocksize)._s
        if shape is not None and not isinstance(arg1, tuple):
            shp = check_shape((shape,))
            if shp != s.shape:
                raise ValueError(f"inconsistent shapes: {shp} != {s.shape}")
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
        self._s = self._s.with_(indices=asmx(value), sorted_indices=False,
                                canonical=False)

    @property
    def indptr(self):
        return self._s.indptr

    @indptr.setter
    def indptr(self, value):
        self._s = self._s.with_(indptr=asmx(value), sorted_indices=False,
                                canonical=False)

    @property
    def blocksize(self):
        return self._s.blocksize

    @property
    def nnz(self):
        R, C = self.blocksize
        return int(self._s.indptr[-1].item()) * R * C

    def _getnnz(self, axis=None):
        if axis is not None:
            raise NotImplementedError("_getnnz over an axis is not implemented "
                                      "for BSR format")
        return self.nnz

    def count_nonzero(self, axis=None):
        if axis is not None:
            raise NotImplementedError("count_nonzero over axis is not implemented "
                                      "for BSR format.")
        return self.tocoo().count_nonzero()

    def __repr__(self):
        kind = "array" if self._is_array else "matrix"
        R, C = self.blocksize
        return (f"<Block Sparse Row sparse {kind} of dtype '{self._dtype_str()}'\n"
                f"\twith {self.nnz} stored elements (blocksize={R}x{C}) and "
                f"shape {self.shape}>")

    def _scipy_args(self):
        from ._base import _host
        return (_host(self._s.data), np.asarray(self._s.indices),
                np.asarray(self._s.indptr))

    # ---- validation -----------------------------------------------------------------
    def check_format(self, full_check=True):
        s = self._s
        M, N = s.shape
        if s.data.ndim != 3:
            raise ValueError(f"BSR data must be 3-dimensional, got shape={s.data.shape}")
        R, C = s.blocksize
        if s.indices.ndim != 1 or s.indptr.ndim != 1:
            raise ValueError("indices, and indptr should be 1-D")
        for nm, a in (("indices", s.indices), ("indptr", s.indptr)):
            if not mx.issubdtype(a.dtype, mx.integer):
                raise ValueError(f"{nm} array has non-integer dtype ({a.dtype})")
        if R == 0 or C == 0:
            raise ValueError(f"invalid blocksize {(R, C)}")
        if s.indptr.size != M // R + 1:
            raise ValueError(f"index pointer size ({s.indptr.size}) should be "
                             f"({M // R + 1})")
        first, last = (int(v) for v in np.asarray(mx.stack(
            [s.indptr[0], s.indptr[-1]]).astype(mx.int64)))
        if first != 0:
            raise ValueError("index pointer should start with 0")
        if s.indices.size != s.data.shape[0]:
            raise ValueError("indices and data should have the same size")
        if last > s.indices.size:
            raise ValueError("Last value of index pointer should be less than the "
                             "size of index and data arrays")
        self.prune()
        if full_check and self._s.indices.size:
            ind = self._s.indices
            lo, hi = int(ind.min().item()), int(ind.max().item())
            if hi >= N // C:
                raise ValueError(f"column index values must be < {N // C} "
                                 f"(now max {hi})")
            if lo < 0:
                raise ValueError("column index values must be >= 0")
            if int(mx.min(s.indptr[1:] - s.indptr[:-1]).item()) < 0:
                raise ValueError("index pointer values must form a non-decreasing "
                                 "sequence")

    def prune(self):
        s = self._s
        nnzb = int(s.indptr[-1].item())
        if s.indices.size > nnzb or s.data.shape[0] > nnzb:
            self._s = s.with_(indices=s.indices[:nnzb], data=s.data[:nnzb])

    # ---- flags ------------------------------------------------------------------------
    def _slices_ordered(self, strict):
        s = self._s
        nb = s.indices.size
        if nb < 2:
            return True
        ind = s.indices
        step_ok = (ind[1:] > ind[:-1]) if strict else (ind[1:] >= ind[:-1])
        boundary = mx.zeros((nb + 1,), mx.int32).at[s.indptr].add(1)[1:nb]
        return bool(mx.all(step_ok | (boundary > 0)).item())

    @property
    def has_sorted_indices(self):
        if not self._s.sorted_indices and self._slices_ordered(strict=False):
            self._s = self._s.with_(sorted_indices=True)
        return self._s.sorted_indices

    @has_sorted_indices.setter
    def has_sorted_indices(self, value):
        self._s = self._s.with_(sorted_indices=bool(value),
                                canonical=self._s.canonical and bool(value))

    @property
    def has_canonical_format(self):
        if not self._s.canonical and self._slices_ordered(strict=True):
            self._s = self._s.with_(sorted_indices=True, canonical=True)
        return self._s.canonical

    @has_canonical_format.setter
    def has_canonical_format(self, value):
        value = bool(value)
        self._s = self._s.with_(canonical=value,
                                sorted_indices=self._s.sorted_indices or value)

    # ---- canonical form (block level) --------------------------------------------------
    def sort_indices(self):
        if self.has_sorted_indices:
            return
        s = self._s
        n_bcols = max(s.shape[1] // max(s.blocksize[1], 1), 1)
        ind, perm = _ops.sort_indices(s.indptr, s.indices,
                                      mx.arange(s.indices.size, dtype=mx.int64), n_bcols)
        self._s = s.with_(indices=ind, data=s.data[perm], sorted_indices=True)

    def sorted_indices(self):
        out = self.copy()
        out.sort_indices()
        return out

    def sum_duplicates(self):
        if self.has_canonical_format:
            return
        self.sort_indices()
        s = self._s
        nb = s.indices.size
        major = expand_indptr(s.indptr, nb)
        new = mx.concatenate([mx.ones((1,), mx.bool_),
                              (major[1:] != major[:-1]) | (s.indices[1:] != s.indices[:-1])])
        seg = mx.cumsum(new.astype(mx.int64)) - 1
        n_out = int(seg[-1].item()) + 1
        R, C = s.blocksize
        out = _scatter_sum(n_out, seg, s.data.reshape(nb, R * C), grouped=True)
        keep = positions_of(new)
        indices = take(s.indices, keep)
        # Blocks per block row counted in 32 bits (no int64 scatter on CUDA).
        counts = _scatter_sum(s.indptr.size - 1, take(major, keep),
                              mx.ones((n_out,), _count_dtype(n_out)))
        indptr = exclusive_cumsum(counts, s.indptr.dtype)
        self._s = s.with_(indptr=indptr, indices=indices, data=out.reshape(n_out, R, C),
                          sorted_indices=True, canonical=True)

    def eliminate_zeros(self):
        """Drop blocks whose values are all zero."""
        s = self._s
        nb = s.indices.size
        if nb == 0:
            return
        R, C = s.blocksize
        nonzero = mx.any(s.data.reshape(nb, R * C) != 0, axis=1)
        keep = positions_of(nonzero)
        if keep.size == nb:
            return
        major = expand_indptr(s.indptr, nb)
        counts = _scatter_sum(s.indptr.size - 1, take(major, keep),
                              mx.ones((keep.size,), _count_dtype(keep.size)))  # as above
        self._s = s.with_(indptr=exclusive_cumsum(counts, s.indptr.dtype),
                          indices=take(s.indices, keep), data=s.data[keep])

    # ---- conversions --------------------------------------------------------------------
    def tobsr(self, blocksize=None, copy=False):
        if blocksize is None or tuple(blocksize) == self.blocksize:
            return self.copy() if copy else self
        return csr_to_bsr(self.tocsr(), blocksize)

    def tocoo(self, copy=True):
        s = self._s
        R, C = s.blocksize
        nb = s.indices.size
        M, N = s.shape
        idx = index_dtype_for(max(M, N, nb * R * C))
        brow = expand_indptr(s.indptr, nb).astype(idx)
        row = (brow * R)[:, None, None] + mx.arange(R, dtype=idx)[None, :, None]
        col = (s.indices.astype(idx) * C)[:, None, None] + mx.arange(C, dtype=idx)[None, None, :]
        row = mx.broadcast_to(row, (nb, R, C)).reshape(-1)
        col = mx.broadcast_to(col, (nb, R, C)).reshape(-1)
        coo = COO(row, col, s.data.reshape(-1), s.shape, canonical=False)
        return container("coo", self._is_array)._from_storage(coo)

    def tocsr(self, copy=False):
        return container("csr", self._is_array)._from_storage(bsr_to_csr(self._s))

    def tocsc(self, copy=False):
        return self.tocsr(copy=False).tocsc(copy=copy)

    def toarray(self, order=None, out=None):
        return self.tocoo(copy=False).toarray(order=order, out=out)

    def transpose(self, axes=None, copy=False):
        _check_transpose_axes(axes, self._is_array)
        s = self._s
        R, C = s.blocksize
        M, N = s.shape
        nb = s.indices.size
        n_brows, n_bcols = M // R, N // C
        if nb == 0:
            idx = s.indptr.dtype
            t = BSR(mx.zeros((n_bcols + 1,), idx), mx.zeros((0,), idx),
                    mx.zeros((0, C, R), s.data.dtype), (N, M), True, True)
            return self._with_storage(t)
        ids = mx.arange(nb, dtype=mx.int64)
        indptr, indices, perm = _ops.compressed_transpose(n_brows, n_bcols, s.indptr,
                                                          s.indices, ids)
        data = mx.transpose(s.data[perm], (0, 2, 1))
        return self._with_storage(BSR(indptr.astype(s.indptr.dtype),
                                      indices.astype(s.indices.dtype), data, (N, M),
                                      sorted_indices=True, canonical=s.canonical))


    # ---- SciPy's BSR-preserving arithmetic (other combinations go through CSR) ------
    def _same_blocks(self, other):
        # SciPy: BSR (+, -, multiply) any sparse operand of its shape gives BSR
        return issparse(other) and other.shape == self.shape

    def __add__(self, other):
        res = _spbase.__add__(self, other)
        return res.tobsr(self.blocksize) if self._same_blocks(other) else res

    def __sub__(self, other):
        res = _spbase.__sub__(self, other)
        return res.tobsr(self.blocksize) if self._same_blocks(other) else res

    def multiply(self, other):
        res = _spbase.multiply(self, other)
        return res.tobsr(self.blocksize) if self._same_blocks(other) else res

    def _matmul_sparse(self, other):
        res = _spbase._matmul_sparse(self, other)
        cols = other.blocksize[1] if isinstance(other, _bsr_base) else 1
        return res.tobsr((self.blocksize[0], cols))   # SciPy: BSR @ sparse is BSR

    def resize(self, *shape):
        shape = check_shape(shape)
        R, C = self.blocksize
        if shape[0] % R or shape[1] % C:
            raise ValueError(f"shape must be divisible into {(R, C)} blocks. "
                             f"Got {shape}")
        csr = self.tocsr()
        csr.resize(shape)
        self._s = csr_to_bsr(csr, (R, C))._s

    def __getitem__(self, key):
        raise NotImplementedError

    def __setitem__(self, key, value):
        raise NotImplementedError


class bsr_array(_bsr_base, sparray):
    """Block Sparse Row array (SciPy's bsr_array on MLX)."""


from ._matrix import spmatrix  # noqa: E402


class bsr_matrix(spmatrix, _bsr_base):
    """Block Sparse Row matrix (SciPy's bsr_matrix on MLX)."""


def isspmatrix_bsr(x):
    """True for BSR sparse matrices (not arrays), ours or SciPy's."""
    import scipy.sparse as ssp
    return isinstance(x, bsr_matrix) or ssp.isspmatrix_bsr(x)


# ---- construction helpers -----------------------------------------------------------
def _check_blocksize_arg(blocksize):
    blocksize = tuple(blocksize)
    if len(blocksize) != 2:
        raise ValueError(f"invalid blocksize={blocksize}")
    R, C = blocksize
    if not (isintlike(R) and isintlike(C)) or R < 1 or C < 1:
        raise ValueError(f"invalid blocksize {blocksize}")
    return int(R), int(C)


def _bsr_from_sparse(arg1, blocksize, copy, is_array):
    if isinstance(arg1, _spbase):
        if arg1.format == "bsr" and (blocksize is None or
                                     tuple(blocksize) == arg1.blocksize):
            return arg1.copy()._s if copy else arg1._s
        return arg1.tobsr(blocksize=blocksize)._s
    # A SciPy object: take its BSR arrays.
    b = arg1.tobsr(blocksize=blocksize)
    shape = check_shape((b.shape,))
    idx = mx_index_dtype(get_index_dtype((b.indices, b.indptr), maxval=max(shape)))
    return BSR(asmx(b.indptr, idx), asmx(b.indices, idx), asmx(b.data), shape,
               sorted_indices=bool(b.has_sorted_indices),
               canonical=bool(b.has_canonical_format))


def _bsr_from_buffers(arg1, shape, blocksize, is_array):
    data, indices, indptr = arg1
    d = asmx(data)
    if d.ndim != 3:
        raise ValueError(f"BSR data must be 3-dimensional, got shape={tuple(d.shape)}")
    R, C = (int(v) for v in d.shape[1:])
    if blocksize is not None:
        bs = tuple(blocksize)
        if bs != (R, C):
            raise ValueError(f"mismatching blocksize={bs} vs {(R, C)}")
    ind, ptr = asmx(indices), asmx(indptr)
    if ind.ndim != 1 or ptr.ndim != 1:
        raise ValueError("indices, and indptr should be 1-D")
    for nm, a in (("indices", ind), ("indptr", ptr)):
        if not (mx.issubdtype(a.dtype, mx.integer) or a.dtype == mx.bool_):
            if mx.issubdtype(a.dtype, mx.floating) and a.size and \
                    bool(mx.all(mx.floor(a) == a).item()):
                continue
            raise ValueError(f"{nm} array has non-integer dtype ({a.dtype})")
    if shape is None:
        if ind.size == 0:
            raise ValueError("unable to infer matrix dimensions")
        M = (ptr.size - 1) * R
        N = (int(ind.max().item()) + 1) * C
        shape = (M, N)
    shape = check_shape((shape,))
    maxval = max(shape[0] // max(R, 1), shape[1] // max(C, 1), R, C)
    # SciPy: sparse arrays keep int64 index arrays, matrices downcast when they fit
    idx = mx_index_dtype(get_index_dtype((ind, ptr), maxval=maxval,
                                         check_contents=not is_array))
    return BSR(ptr.astype(idx), ind.astype(idx), d, shape)


# ---- conversions -----------------------------------------------------------------------
def bsr_to_csr(s):
    """CSR storage of a BSR storage: row r of block row br lists the blocks of br in
    storage order, C columns each (explicit zeros kept, as SciPy's bsr_tocsr)."""
    R, C = s.blocksize
    M, N = s.shape
    nb = s.indices.size
    nnz = nb * R * C
    idx = index_dtype_for(max(nnz, M, N), (s.indptr, s.indices))
    if nnz == 0:
        return CSR(mx.zeros((M + 1,), idx), mx.zeros((0,), idx),
                   mx.zeros((0,), s.data.dtype), s.shape, True, True)
    n_brows = s.indptr.size - 1
    bptr = s.indptr.astype(idx)
    per_brow = bptr[1:] - bptr[:-1]                        # blocks per block row
    # indptr: block row br starts at bptr[br]*R*C; its row i at + i*per_brow[br]*C
    i = mx.arange(R, dtype=idx)
    starts = (bptr[:-1] * (R * C))[:, None] + (per_brow * C)[:, None] * i[None, :]
    # rows past the last full block row (SciPy allows M % R != 0) are empty
    indptr = mx.concatenate([starts.reshape(-1),
                             mx.full((M + 1 - n_brows * R,), nnz, idx)])
    # Destination of (block b, i, j): start of row (br*R + i) + (b - bptr[br])*C + j
    brow = expand_indptr(bptr, nb)
    local = mx.arange(nb, dtype=idx) - take(bptr[:-1], brow)
    cnt = take(per_brow, brow)
    base = take(bptr[:-1], brow) * (R * C) + local * C
    dest = (base[:, None, None] + (cnt * C)[:, None, None] * i[None, :, None]
            + mx.arange(C, dtype=idx)[None, None, :])
    dest = mx.broadcast_to(dest, (nb, R, C)).reshape(-1)
    cols = (s.indices.astype(idx) * C)[:, None, None] + mx.arange(C, dtype=idx)[None, None, :]
    cols = mx.broadcast_to(cols, (nb, R, C)).reshape(-1)
    data = mx.put_along_axis(mx.zeros((nnz,), s.data.dtype), dest,
                             s.data.reshape(-1), axis=0)
    indices = mx.put_along_axis(mx.zeros((nnz,), idx), dest, cols, axis=0)
    return CSR(indptr, indices, data, s.shape, sorted_indices=s.sorted_indices,
               canonical=s.canonical)


def _count_blocks(csr_s, R, C):
    """Number of distinct R x C blocks holding entries of a CSR storage."""
    nnz = csr_s.indices.size
    if nnz == 0:
        return 0
    row = expand_indptr(csr_s.indptr, nnz).astype(mx.int64)
    nbc = -(-csr_s.shape[1] // C)
    key = (row // R) * nbc + csr_s.indices.astype(mx.int64) // C
    sk = mx.sort(key)
    return int((mx.sum(sk[1:] != sk[:-1]) + 1).item())


def estimate_blocksize(csr_obj, efficiency=0.7):
    """SciPy's heuristic: the largest of (6,6), (4,4), (3,3), (2,2) whose blocks would
    be at least `efficiency` full, else (1,1)."""
    s = csr_obj._s
    nnz = float(s.indices.size)
    if nnz == 0:
        return (1, 1)
    M, N = s.shape
    high = (1.0 + efficiency) / 2.0

    def fill(r):
        if M % r or N % r:
            return 0.0
        return nnz / (r * r * _count_blocks(s, r, r))

    e22, e33 = fill(2), fill(3)
    if e22 > high and e33 > high:
        return (6, 6) if fill(6) > efficiency else (3, 3)
    if fill(4) > efficiency:
        return (4, 4)
    if e33 > efficiency:
        return (3, 3)
    if e22 > efficiency:
        return (2, 2)
    return (1, 1)


def csr_to_bsr(csr_obj, blocksize=None):
    """A BSR object of the same kind from a CSR object (SciPy's csr.tobsr): blocks
    are numbered within each block row in order of first appearance in the CSR
    entries; duplicates are summed into the block."""
    if blocksize is None:
        blocksize = estimate_blocksize(csr_obj)
    R, C = _check_blocksize_arg(blocksize)
    s = csr_obj._s
    M, N = s.shape
    if M % R or N % C:
        raise ValueError(f"invalid blocksize {(R, C)}")
    cls = container("bsr", csr_obj._is_array)
    nnz = s.indices.size
    n_brows, n_bcols = M // R, N // C
    if (R, C) == (1, 1):
        out = BSR(s.indptr, s.indices, s.data.reshape(nnz, 1, 1), s.shape,
                  sorted_indices=s.sorted_indices, canonical=s.canonical)
        return cls._from_storage(out)
    idx = index_dtype_for(max(n_brows, n_bcols, R, C))
    if nnz == 0:
        return cls._from_storage(BSR(mx.zeros((n_brows + 1,), idx), mx.zeros((0,), idx),
                                     mx.zeros((0, R, C), s.data.dtype), s.shape,
                                     True, True))
    row = expand_indptr(s.indptr, nnz).astype(mx.int64)
    col = s.indices.astype(mx.int64)
    key = (row // R) * n_bcols + col // C
    pos = mx.arange(nnz, dtype=mx.int64)
    # Group entries by block (stable: ties keep entry order), first entry of each
    # block = its first appearance; order blocks by first appearance.
    perm = mx.argsort(key * nnz + pos)
    sk = take(key, perm)
    new = mx.concatenate([mx.ones((1,), mx.bool_), sk[1:] != sk[:-1]])
    firsts = positions_of(new)                       # HOST SYNC: number of blocks
    nblocks = firsts.size
    first_pos = take(perm.astype(mx.int64), firsts)  # entry position of each block
    block_key = take(sk, firsts)
    order = mx.argsort(first_pos)                     # blocks by first appearance
    rank = mx.put_along_axis(mx.zeros((nblocks,), mx.int64), order.astype(mx.int64),
                             mx.arange(nblocks, dtype=mx.int64), axis=0)
    seg = mx.cumsum(new.astype(mx.int64)) - 1        # sorted entry -> sorted block
    block_of_sorted = take(rank, seg)
    block_of_entry = mx.put_along_axis(mx.zeros((nnz,), mx.int64), perm.astype(mx.int64),
                                       block_of_sorted, axis=0)
    flat = block_of_entry * (R * C) + (row % R) * C + col % C
    if bool(s.canonical) and s.data.dtype != mx.bool_:
        data = mx.put_along_axis(mx.zeros((nblocks * R * C,), s.data.dtype), flat, s.data,
                                 axis=0)
    else:  # duplicates summed (bool: OR)
        data = _scatter_sum(nblocks * R * C, flat, s.data)
    key_in_order = take(block_key, order.astype(mx.int64))
    indices = (key_in_order % n_bcols).astype(idx)
    brow = key_in_order // n_bcols
    counts = _scatter_sum(n_brows, brow, mx.ones((nblocks,), _count_dtype(nblocks)))
    indptr = exclusive_cumsum(counts, idx)
    out = BSR(indptr, indices, data.reshape(nblocks, R, C), s.shape)
    return cls._from_storage(out)
