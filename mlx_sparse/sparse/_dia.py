"""DIA format (SciPy's dia_array / dia_matrix): a few diagonals stored densely.

`data[d, j]` is the value in column j of the diagonal `offsets[d]`, i.e. at
(j - offsets[d], j); positions outside the matrix are padding. Compute goes through
CSR, which is built straight from the diagonals (`diagonals_to_compressed`, shared
with `diags_array`): the rows where every diagonal is present are a reshaped stack
of contiguous slices, only the few boundary rows need a mask.
"""
from dataclasses import dataclass, replace

import mlx.core as mx
import numpy as np

from .. import _ops
from .._dtypes import cast_values
from .._ops.mlx_impl import _scatter_sum
from .._storage import CSC, CSR
from ._base import _spbase, issparse, sparray, SparseEfficiencyWarning
from ._coo import _check_transpose_axes, _finish_dense, dense_operand
from ._index_utils import (container, exclusive_cumsum, index_dtype_for, positions_of,
                           side_stream, take, value_stream)
from ._sputils import (asmx, check_shape, get_index_dtype, getdtype, isshape,
                       mx_index_dtype)

_INT32_MAX = np.iinfo(np.int32).max


@dataclass(frozen=True)
class DIA:
    data: mx.array      # (n_diagonals, L)
    offsets: mx.array   # (n_diagonals,), int32 unless the shape needs int64
    shape: tuple
    canonical: bool = False  # DIA has no canonical form; kept for _spbase

    def with_(self, **changes):
        return replace(self, **changes)


class _dia_base(_spbase):
    _format = "dia"
    _s_arrays = ("data", "offsets")

    def __init__(self, arg1, shape=None, dtype=None, copy=False, *, maxprint=None):
        _spbase.__init__(self, arg1, maxprint=maxprint)
        dtype = None if dtype is None else getdtype(dtype)

        if issparse(arg1):
            s = _dia_from_sparse(arg1, copy)
        elif isinstance(arg1, tuple) and isshape(arg1):
            shp = check_shape((arg1,))
            idx = mx_index_dtype(get_index_dtype(maxval=max(shp)))
            s = DIA(mx.zeros((0, 0), dtype or mx.float64), mx.zeros((0,), idx), shp)
        elif isinstance(arg1, tuple):
            s = _dia_from_tuple(arg1, shape, dtype, type(self).__name__)
        else:
            if isinstance(self, sparray):
                nd = np.ndim(arg1) if not isinstance(arg1, mx.array) else arg1.ndim
                if nd != 2:
                    raise ValueError(f"DIA arrays don't support {nd}D input. Use 2D")
            from ._coo import coo_array
            a = dense_operand(arg1, dtype, matrix=not isinstance(self, sparray))
            s = coo_to_dia(coo_array(a)._s)
        if dtype is not None and s.data.dtype != dtype:
            s = s.with_(data=cast_values(s.data, dtype))
        self._s = s
        _check_dia(s)

    # ---- attributes -------------------------------------------------------------
    @property
    def data(self):
        return self._s.data

    @data.setter
    def data(self, value):
        self._s = self._s.with_(data=asmx(value))

    @property
    def offsets(self):
        return self._s.offsets

    @offsets.setter
    def offsets(self, value):
        self._s = self._s.with_(offsets=asmx(value))

    @property
    def nnz(self):
        """Stored positions that lie inside the matrix (explicit zeros count)."""
        return int(sum(hi - lo for _, lo, hi in _column_ranges(self._s)))

    def _getnnz(self, axis=None):
        if axis is not None:
            raise NotImplementedError("_getnnz over an axis is not implemented "
                                      "for DIA format")
        return self.nnz

    def count_nonzero(self, axis=None):
        if axis is not None:
            raise NotImplementedError("count_nonzero over an axis is not implemented "
                                      "for DIA format")
        total = 0
        for d, lo, hi in _column_ranges(self._s):
            total = total + mx.sum(self._s.data[d, lo:hi] != 0)
        return int(total.item()) if not isinstance(total, int) else total

    def __repr__(self):
        kind = "array" if self._is_array else "matrix"
        nd = self._s.offsets.size
        return (f"<DIAgonal sparse {kind} of dtype '{self._dtype_str()}'\n"
                f"\twith {self.nnz} stored elements ({nd} diagonals) and "
                f"shape {self.shape}>")

    def __str__(self):
        # As SciPy: the header counts stored positions, the body lists the COO
        # entries (explicit zeros dropped), so the two counts can differ.
        from ._base import _host
        out = repr(self)
        if self.nnz == 0:
            return out
        coo = self.tocoo()
        row, col = np.asarray(coo.row).tolist(), np.asarray(coo.col).tolist()
        data = _host(coo.data)

        def lines(sl):
            return [f"  ({r}, {c})\t{v}" for r, c, v in zip(row[sl], col[sl], data[sl])]

        body = ["  Coords\tValues"]
        if self.nnz > self.maxprint:
            half = self.maxprint // 2
            body += lines(slice(None, half)) + ["  :\t:"] + \
                lines(slice(len(row) - (self.maxprint - half), None))
        else:
            body += lines(slice(None))
        return out + "\n" + "\n".join(body)

    def _scipy_args(self):
        from ._base import _host
        return (_host(self._s.data), np.asarray(self._s.offsets))

    # ---- conversions --------------------------------------------------------------
    def todia(self, copy=False):
        return self.copy() if copy else self

    def tocsr(self, copy=False):
        s = dia_to_compressed(self._s, 0)
        return container("csr", self._is_array)._from_storage(s)

    def tocsc(self, copy=False):
        s = dia_to_compressed(self._s, 1)
        return container("csc", self._is_array)._from_storage(s)

    def tocoo(self, copy=False):
        # SciPy goes through CSR: explicit zeros dropped, canonical order.
        return self.tocsr().tocoo()

    def toarray(self, order=None, out=None):
        s = self._s
        m, n = s.shape
        pos, vals = [], []
        fdt = mx.int32 if m * n <= np.iinfo(np.int32).max else mx.int64
        for d, lo, hi in _column_ranges(s):
            k = int(np.asarray(s.offsets)[d])
            cols = mx.arange(lo, hi, dtype=fdt)
            pos.append((cols - k) * n + cols)
            vals.append(s.data[d, lo:hi])
        dense = mx.zeros((m * n,), s.data.dtype)
        if pos:
            p, v = mx.concatenate(pos), mx.concatenate(vals)
            if p.size:
                dense = mx.put_along_axis(dense, p, v, axis=0)
        return _finish_dense(dense.reshape(m, n), order, out)

    def transpose(self, axes=None, copy=False):
        _check_transpose_axes(axes, self._is_array)
        s = self._s
        m, n = s.shape
        max_dim = max(m, n)
        offs = np.asarray(s.offsets).astype(np.int64)
        nd = offs.size
        L = s.data.shape[1]
        new_offsets = -offs
        # The transposed data column i (an original row) reads original column
        # i + k; SciPy computes it as a wrapped index into data padded to max_dim,
        # which fixes the padding values too: same arithmetic here.
        width = max(L, max_dim)
        data = s.data
        if width > L:
            data = mx.concatenate([data, mx.zeros((nd, width - L), data.dtype)], axis=1)
        if nd == 0 or m == 0:
            new_data = mx.zeros((nd, m), s.data.dtype)
        else:
            shift = (new_offsets % max_dim) if max_dim else new_offsets
            cols = (np.arange(m, dtype=np.int64)[None, :] - shift[:, None]) % width
            flat = (np.arange(nd, dtype=np.int64)[:, None] * width + cols).reshape(-1)
            new_data = take(data.reshape(-1), mx.array(flat)).reshape(nd, m)
        return self._with_storage(
            DIA(new_data, mx.array(new_offsets).astype(s.offsets.dtype), (n, m)))

    def diagonal(self, k=0):
        s = self._s
        rows, cols = s.shape
        k = int(k)
        if k <= -rows or k >= cols:
            return mx.zeros((0,), s.data.dtype)
        first, last = max(0, k), min(rows + k, cols)
        size = last - first
        hit = np.flatnonzero(np.asarray(s.offsets) == k)
        if hit.size == 0:
            return mx.zeros((size,), s.data.dtype)
        res = s.data[int(hit[0]), first:last]
        if res.size < size:
            res = mx.concatenate([res, mx.zeros((size - res.size,), res.dtype)])
        return res

    def setdiag(self, values, k=0):
        """Set the k-th diagonal in place (SciPy's dia setdiag: a new diagonal is
        added to data when k is not stored yet)."""
        s = self._s
        M, N = s.shape
        k = int(k)
        if k <= -M or k >= N:
            raise ValueError("k exceeds array dimensions")
        vals = asmx(values)
        if np.ndim(values) == 0 and vals.ndim:
            vals = vals.reshape(())  # asmx gives scalars shape (1,)
        if vals.ndim > 1:
            raise ValueError("setting an array element with a sequence.")
        data_rows = s.data.shape[0]
        L = s.data.shape[1] if data_rows else 0
        if k < 0:
            max_index = min(M + k, N)
            if vals.ndim == 1 and vals.size:
                max_index = min(max_index, vals.size)
            first, last = 0, max_index
        else:
            max_index = min(M, N - k)
            if vals.ndim == 1 and vals.size:
                max_index = min(max_index, vals.size)
            first, last = k, k + max_index
        if vals.ndim == 0:
            seg = mx.broadcast_to(vals, (last - first,))
        else:
            seg = vals[:last - first]
        dtype = s.data.dtype if data_rows else vals.dtype
        if data_rows == 0:
            dtype = s.data.dtype
        seg = seg.astype(dtype)
        offs = np.asarray(s.offsets)
        hit = np.flatnonzero(offs == k)
        width = max(L, last)
        data = s.data
        if width > L:
            data = mx.concatenate([data, mx.zeros((data_rows, width - L), dtype)], axis=1)
        if hit.size:
            d = int(hit[0])
            row = mx.concatenate([data[d, :first], seg, data[d, last:]])
            data = mx.concatenate([data[:d], row[None], data[d + 1:]], axis=0)
            self._s = s.with_(data=data)
        else:
            row = mx.concatenate([mx.zeros((first,), dtype), seg,
                                  mx.zeros((width - last,), dtype)])
            data = mx.concatenate([data, row[None]], axis=0)
            new_off = mx.concatenate([s.offsets, mx.array([k], s.offsets.dtype)])
            self._s = s.with_(data=data, offsets=new_off)

    def resize(self, *shape):
        shape = check_shape(shape)
        M, N = shape
        s = self._s
        data = s.data[:, :N]
        offs = np.asarray(s.offsets).astype(np.int64)
        if M > s.shape[0] and data.shape[0] and np.any(offs + s.shape[0] < data.shape[1]):
            # positions that were outside the old shape become visible: clear them
            hidden = (offs[:, None] + s.shape[0]) <= np.arange(data.shape[1])[None, :]
            data = mx.where(mx.array(hidden), mx.zeros((), data.dtype), data)
        self._s = s.with_(data=data, shape=shape)

    def sum_duplicates(self):
        """DIA stores no duplicates (SciPy has no such method on DIA; harmless)."""

    # ---- SciPy's DIA-preserving arithmetic (other combinations go through CSR) ------
    def __add__(self, other):
        if isinstance(other, _dia_base) and other.shape == self.shape:
            return self._dia_add(other, sub=False)
        if isinstance(other, _spbase) and other.shape == self.shape:
            return other.__add__(self)   # SciPy: the other format handles DIA + X
        return _spbase.__add__(self, other)

    def __sub__(self, other):
        if isinstance(other, _dia_base) and other.shape == self.shape:
            return self._dia_add(other, sub=True)
        return _spbase.__sub__(self, other)

    def _dia_add(self, other, sub):
        """DIA + DIA as SciPy: same offsets add data row by row; otherwise the
        diagonals land on the sorted union of offsets."""
        from ._sputils import upcast
        a, b = self._s, other._s
        dt = upcast(a.data.dtype, b.data.dtype)
        da, db = a.data.astype(dt), b.data.astype(dt)
        oa, ob = np.asarray(a.offsets), np.asarray(b.offsets)
        if np.array_equal(oa, ob) and da.shape == db.shape:
            return self._with_data(da - db if sub else da + db)
        new_off = np.union1d(oa, ob)
        ia, ib = np.searchsorted(new_off, oa), np.searchsorted(new_off, ob)
        La, Lb = da.shape[1], db.shape[1]
        if La == Lb and new_off.size in (oa.size, ob.size):
            width = La
        else:
            width = max(0, min(self.shape[0] + int(new_off[-1]), self.shape[1]))
        nd = new_off.size
        out = mx.zeros((nd, width), dt)
        for idx_rows, d, sign in ((ia, da, 1), (ib, db, -1 if sub else 1)):
            w = min(d.shape[1], width)
            if w == 0 or d.shape[0] == 0:
                continue
            rows = mx.array(idx_rows.astype(np.int64))
            piece = d[:, :w]
            if w < width:
                piece = mx.concatenate([piece, mx.zeros((d.shape[0], width - w), dt)], axis=1)
            block = _scatter_sum(nd, rows, piece)  # int64 data: no int64 scatter on CUDA
            out = out - block if sign < 0 else out + block
        offs = mx.array(new_off.astype(np.asarray(a.offsets).dtype))
        return self._with_storage(DIA(out, offs, self.shape))

    def multiply(self, other):
        if isinstance(other, _dia_base) and other.shape == self.shape:
            from ._sputils import upcast
            a, b = self._s, other._s
            oa, ob = np.asarray(a.offsets), np.asarray(b.offsets)
            offs, ia, ib = np.intersect1d(oa, ob, assume_unique=True, return_indices=True)
            L = min(a.data.shape[1], b.data.shape[1])
            dt = upcast(a.data.dtype, b.data.dtype)
            if offs.size == 0:
                data = mx.zeros((0, L), dt)
            else:
                data = (a.data[mx.array(ia.astype(np.int64)), :L].astype(dt)
                        * b.data[mx.array(ib.astype(np.int64)), :L].astype(dt))
            return self._with_storage(DIA(data, mx.array(offs.astype(oa.dtype)), self.shape))
        return _spbase.multiply(self, other)

    def _matmul_sparse(self, other):
        res = _spbase._matmul_sparse(self, other)
        if isinstance(other, _dia_base):
            return res.todia()       # SciPy keeps DIA for DIA @ DIA
        return res

    def __getitem__(self, key):
        raise TypeError(f"'{type(self).__name__}' object is not subscriptable")

    def __setitem__(self, key, value):
        raise TypeError(f"'{type(self).__name__}' object does not support item "
                        "assignment")


class dia_array(_dia_base, sparray):
    """Sparse array with DIAgonal storage (SciPy's dia_array on MLX)."""


from ._matrix import spmatrix  # noqa: E402


class dia_matrix(spmatrix, _dia_base):
    """Sparse matrix with DIAgonal storage (SciPy's dia_matrix on MLX)."""


def isspmatrix_dia(x):
    """True for DIA sparse matrices (not arrays), ours or SciPy's."""
    import scipy.sparse as ssp
    return isinstance(x, dia_matrix) or ssp.isspmatrix_dia(x)


# ---- construction helpers -------------------------------------------------------
def _dia_from_tuple(arg1, shape, dtype, name):
    try:
        data, offsets = arg1
    except (TypeError, ValueError) as e:
        raise ValueError(f"unrecognized form for {name} constructor") from e
    if shape is None:
        raise ValueError("expected a shape argument")
    shape = check_shape((shape,))
    d = asmx(data, dtype)
    if d.ndim < 2:
        d = d.reshape((1, -1)) if d.ndim == 1 else d.reshape((1, 1))
    if d.ndim != 2:
        raise ValueError("data array must have rank 2")
    offs = np.asarray(offsets if not isinstance(offsets, mx.array) else np.asarray(offsets))
    offs = np.atleast_1d(offs)
    if offs.ndim != 1:
        raise ValueError("offsets array must have rank 1")
    idx_np = get_index_dtype(maxval=max(shape))
    offs = offs.astype(idx_np)
    return DIA(d, mx.array(offs), shape)


def _dia_from_sparse(arg1, copy):
    if isinstance(arg1, _spbase):
        if arg1.format == "dia":
            return arg1.copy()._s if copy else arg1._s
        return arg1.todia()._s
    d = arg1.todia()  # a SciPy object
    shape = check_shape((d.shape,))
    idx_np = get_index_dtype(maxval=max(shape))
    return DIA(asmx(d.data), mx.array(np.asarray(d.offsets).astype(idx_np)), shape)


def _check_dia(s):
    if s.offsets.ndim != 1:
        raise ValueError("offsets array must have rank 1")
    if s.data.ndim != 2:
        raise ValueError("data array must have rank 2")
    if s.data.shape[0] != s.offsets.size:
        raise ValueError(f"number of diagonals ({s.data.shape[0]}) does not match "
                         f"the number of offsets ({s.offsets.size})")
    offs = np.asarray(s.offsets)
    if np.unique(offs).size != offs.size:
        raise ValueError("offset array contains duplicate values")


def _column_ranges(s):
    """[(d, first column, last column + 1)] of each diagonal's in-matrix part."""
    m, n = s.shape
    L = s.data.shape[1] if s.data.ndim == 2 else 0
    out = []
    for d, k in enumerate(np.asarray(s.offsets).tolist()):
        lo, hi = max(0, k), min(n, m + k, L)
        out.append((d, lo, max(lo, hi)))
    return out


def coo_to_dia(coo, warn=True):
    """DIA storage of a COO storage (duplicates summed, explicit zeros kept as SciPy).
    Offsets ascending; data width = largest column + 1."""
    from ._coo import coo_array
    if not coo.canonical:
        tmp = coo_array._from_storage(coo)
        tmp.sum_duplicates()
        coo = tmp._s
    m, n = coo.shape
    idx = index_dtype_for(max(m, n) if m or n else 0)
    nnz = coo.data.size
    if nnz == 0:
        return DIA(mx.zeros((0, 0), coo.data.dtype), mx.zeros((0,), idx), coo.shape)
    wide = mx.int64 if m + n > np.iinfo(np.int32).max else mx.int32
    ks = coo.col.astype(wide) - coo.row.astype(wide) + (m - 1)  # in [0, m + n - 1)
    present = mx.put_along_axis(mx.zeros((m + n - 1,), mx.bool_), ks,
                                mx.ones(ks.shape, mx.bool_), axis=0)
    where = positions_of(present)                       # HOST SYNC (count)
    n_diags = int(where.size)
    if n_diags > 100 and warn:
        import warnings
        warnings.warn(f"Constructing a DIA matrix with {n_diags} diagonals "
                      "is inefficient", SparseEfficiencyWarning, stacklevel=3)
    rank = mx.cumsum(present.astype(wide)) - 1
    diag_idx = take(rank, ks)
    width = int(coo.col.max().item()) + 1               # HOST SYNC
    fdt = mx.int64 if n_diags * width > np.iinfo(np.int32).max else mx.int32
    flat = diag_idx.astype(fdt) * width + coo.col.astype(fdt)
    data = mx.put_along_axis(mx.zeros((n_diags * width,), coo.data.dtype), flat,
                             coo.data, axis=0).reshape(n_diags, width)
    offsets = (where.astype(mx.int64) - (m - 1)).astype(idx)
    return DIA(data, offsets, coo.shape)


# ---- DIA -> CSR / CSC -------------------------------------------------------------
def _column_piece(src, shift, a, b):
    """src[t + shift] for t in [a, b), zero outside src (a contiguous slice, padded)."""
    n = b - a
    lo, hi = a + shift, b + shift
    size = src.size
    s_lo, s_hi = max(lo, 0), min(hi, size)
    if s_hi <= s_lo:
        return mx.zeros((n,), src.dtype)
    piece = src[s_lo:s_hi]
    left, right = s_lo - lo, hi - s_hi
    if left or right:
        parts = ([mx.zeros((left,), src.dtype)] if left else []) + [piece] + \
                ([mx.zeros((right,), src.dtype)] if right else [])
        piece = mx.concatenate(parts)
    return piece


def diagonals_to_compressed(diags, shape, major_axis, dtype, drop_zeros=True):
    """Compressed storage (CSR for major_axis 0, CSC for 1) of a matrix given by
    diagonals: `diags` lists (k, src, src_start) where the value in column j of
    diagonal k is src[j - src_start] (absent where that index is outside src).
    Offsets must be distinct. Sorted and canonical; explicit zeros dropped (as
    SciPy's dia_tocsr) unless drop_zeros is False."""
    m, n = shape
    S = CSR if major_axis == 0 else CSC
    n_major, n_minor = (m, n) if major_axis == 0 else (n, m)
    parts = []  # (s, shift, lo, hi, src)
    for k, src, start in diags:
        k = int(k)
        s = k if major_axis == 0 else -k
        shift = (k - start) if major_axis == 0 else -start
        lo = max(0, -s, -shift)
        hi = min(n_major, n_minor - s, src.size - shift)
        if hi > lo:
            parts.append((s, shift, lo, hi, src))
    parts.sort(key=lambda p: p[0])
    nnz = sum(p[3] - p[2] for p in parts)
    idx = index_dtype_for(max(nnz, m, n))
    if not parts:
        return S(mx.zeros((n_major + 1,), idx), mx.zeros((0,), idx),
                 mx.zeros((0,), dtype), shape, sorted_indices=True, canonical=True)
    nd = len(parts)
    s_arr = mx.array([p[0] for p in parts], dtype=idx)
    lo_arr = mx.array([p[2] for p in parts], dtype=idx)
    hi_arr = mx.array([p[3] for p in parts], dtype=idx)
    T0, T1 = max(p[2] for p in parts), min(p[3] for p in parts)
    side, vstream = side_stream(), value_stream(dtype)
    if T0 < T1 and _band_fits(shape, nd, idx):
        return _banded_compressed(parts, shape, S, n_major, T0, T1, dtype, idx,
                                  (s_arr, lo_arr, hi_arr), drop_zeros)
    ranges = [(0, n_major, False)] if T0 >= T1 else \
        [(0, T0, False), (T0, T1, True), (T1, n_major, False)]
    data_pieces, index_pieces, count_pieces = [], [], []
    for a, b, full in ranges:
        if b <= a:
            continue
        minor, counts, vals = _range_piece(parts, a, b, full, idx, dtype,
                                           (s_arr, lo_arr, hi_arr))
        index_pieces.append(minor)
        count_pieces.append(counts)
        data_pieces.append(vals)

    def cat(xs):
        return mx.concatenate(xs) if len(xs) > 1 else xs[0]
    with mx.stream(side):
        indices = cat(index_pieces)
        indptr = exclusive_cumsum(cat(count_pieces), idx)
    with vstream:
        data = cat(data_pieces)
    # explicit zeros are dropped as SciPy's dia_tocsr; one reduction (mx.all: no
    # temporary mask) decides whether the compaction (a full copy) is needed at all
    if drop_zeros and data.size and not bool(mx.all(data).item()):
        indptr, indices, data = _ops.eliminate_zeros(indptr, indices, data)
    return S(indptr, indices, data, shape, sorted_indices=True, canonical=True)


def _range_piece(parts, a, b, full, idx, dtype, arrays):
    """(minor indices, counts per major slice, values) of major slices [a, b) of the
    diagonals `parts` (as in diagonals_to_compressed); full: every diagonal is
    present in every one of these slices (no mask needed)."""
    s_arr, lo_arr, hi_arr = arrays
    nd = len(parts)
    side = side_stream()
    keep = None
    if not full:
        with mx.stream(side):
            t = mx.arange(a, b, dtype=idx)[:, None]
            valid = (t >= lo_arr[None, :]) & (t < hi_arr[None, :])
        keep = positions_of(valid.reshape(-1))             # HOST SYNC (count)
    with mx.stream(side):
        t = mx.arange(a, b, dtype=idx)[:, None]
        minor = (t + s_arr[None, :]).reshape(-1)
        if full:
            counts = mx.full((b - a,), nd, dtype=idx)
        else:
            minor = take(minor, keep)
            counts = mx.sum(valid.astype(idx), axis=1)
    with value_stream(dtype):
        cols = [_column_piece(p[4], p[1], a, b) for p in parts]
        cols = [c if c.dtype == dtype else c.astype(dtype) for c in cols]
        # (slice, diagonal) layout: one concatenation and one transposed copy
        # (faster in MLX than an axis-1 stack)
        vals = (mx.concatenate(cols).reshape(nd, b - a).T if nd > 1
                else cols[0][:, None]).reshape(-1)
        if not full:
            vals = take(vals, keep)
    return minor, counts, vals


_BLOCK = 4096   # rows per block of affine_grid
# Entries per piece that builders assemble in the cache before copying it into a
# large output: MLX keeps freed buffers up to its cache limit (32 MiB by default on
# Linux), so pieces this small are recycled, where every larger temporary is a
# fresh, page-faulting allocation.
CHUNK = 1 << 19


def _band_fits(shape, nd, idx):
    """The banded path's index arithmetic (with its slack rows) fits idx."""
    return idx == mx.int64 or (max(shape) + 2 * _BLOCK + 1) * (nd + 1) <= _INT32_MAX


def affine_grid(first, step, rows, cols, dtype):
    """Flat array whose element r * len(cols) + j is first + step * r + cols[j], for
    r in [0, rows) (and a few slack rows after: the length is rounded up to whole
    blocks). One broadcast op over two small operands: no rows-long arange is
    materialised first (a large temporary is a fresh, page-faulting allocation)."""
    blk = min(_BLOCK, max(rows, 1))
    nblk = -(-rows // blk)
    hi = mx.arange(nblk, dtype=dtype)[:, None, None] * (blk * step) + first
    lo = mx.arange(blk, dtype=dtype)[None, :, None] * step + cols[None, None, :]
    return (hi + lo).reshape(-1)


def _banded_compressed(parts, shape, S, n_major, T0, T1, dtype, idx, arrays,
                       drop_zeros):
    """diagonals_to_compressed when every diagonal is present in major slices
    [T0, T1): those slices are a dense (T1 - T0, nd) block of the output.

    Each output array is written into one buffer of whole rows (nd entries per
    slice), with the few ragged slices before T0 (after T1) packed against the
    block's start (end); the result arrays are views of the buffers. The indices
    and indptr are one broadcast op each; the values are copied into a zeroed
    buffer piece by cache-sized piece. So every output is allocated (page-faulted)
    once, and no output-sized temporary exists."""
    nd = len(parts)
    T = T1 - T0
    side, vstream = side_stream(), value_stream(dtype)
    head = _range_piece(parts, 0, T0, False, idx, dtype, arrays) if T0 else None
    tail = _range_piece(parts, T1, n_major, False, idx, dtype, arrays) \
        if T1 < n_major else None
    h = head[0].size if head else 0
    tl = tail[0].size if tail else 0
    nnz = h + T * nd + tl
    hr = -(-h // nd)                       # whole rows before the block
    rows = hr + T + -(-tl // nd)
    start, block_end = hr * nd - h, (hr + T) * nd
    # explicit zeros are dropped as SciPy's dia_tocsr does; whether there are any is
    # read from the diagonals: on the CPU by NumPy, in place, on this thread while
    # the streams build the outputs (mx.all over the pieces costs more)
    on_host = mx.default_device() == mx.cpu and dtype != mx.bfloat16 and \
        all(p[4].dtype == dtype for p in parts)
    nonzero = []
    with vstream:
        buf = mx.zeros((rows * nd,), dtype)
        if h:
            buf[start:hr * nd] = head[2]
        if tl:
            buf[block_end:block_end + tl] = tail[2]
        # the block, CHUNK / 4 entries at a time: each diagonal's slice is written
        # into its column of those rows, which stay in the cache meanwhile (one
        # strided pass per diagonal over the whole buffer costs more)
        buf = buf.reshape(rows, nd)
        step = max(1, (CHUNK >> 2) // nd)   # smaller pieces measured faster here
        for c0 in range(0, T, step):
            c1 = min(T, c0 + step)
            cols = [src[T0 + shift + c0:T0 + shift + c1] for _, shift, _, _, src in parts]
            cols = [c if c.dtype == dtype else c.astype(dtype) for c in cols]
            for j, c in enumerate(cols):
                if drop_zeros and not on_host:
                    nonzero.append(mx.all(c))
                buf[hr + c0:hr + c1, j] = c
        data = buf.reshape(-1)[start:start + nnz]
        if drop_zeros:
            nonzero += [mx.all(p[2]) for p in (head, tail) if p is not None]
            flag = mx.all(mx.stack(nonzero)) if nonzero else mx.array(True)
    with mx.stream(side):
        s_arr = arrays[0]
        ibuf = affine_grid(T0 - hr, 1, rows, s_arr, idx)
        if h:
            ibuf[start:hr * nd] = head[0]
        if tl:
            ibuf[block_end:block_end + tl] = tail[0]
        indices = ibuf[start:start + nnz]
        # indptr[t] = h + (t - T0) * nd on [T0, T1]; prefix sums before and after
        pbuf = affine_grid(h - T0 * nd, nd, n_major + 1, mx.zeros((1,), idx), idx)
        if T0:
            pbuf[0:T0] = exclusive_cumsum(head[1], idx)[:-1]
        if tail is not None:
            pbuf[T1 + 1:n_major + 1] = mx.cumsum(tail[1]) + (h + T * nd)
        indptr = pbuf[:n_major + 1]
    check = drop_zeros and on_host
    if check:
        mx.eval(*[p[4] for p in parts])    # views of the inputs: no work queued after
    mx.async_eval(data, indices, indptr)
    if check:
        for _, shift, _, _, src in parts:
            x = np.asarray(src)[T0 + shift:T1 + shift]
            if np.count_nonzero(x) != x.size:
                flag = mx.array(False)
                break
    if drop_zeros and not bool(flag.item()):
        indptr, indices, data = _ops.eliminate_zeros(indptr, indices, data)
    return S(indptr, indices, data, shape, sorted_indices=True, canonical=True)


def dia_to_compressed(s, major_axis):
    """CSR (major_axis 0) / CSC (1) storage of a DIA storage."""
    m, n = s.shape
    if m == 0 or n == 0 or s.offsets.size == 0:
        idx = index_dtype_for(max(m, n))
        S = CSR if major_axis == 0 else CSC
        n_major = m if major_axis == 0 else n
        return S(mx.zeros((n_major + 1,), idx), mx.zeros((0,), idx),
                 mx.zeros((0,), s.data.dtype), s.shape, sorted_indices=True,
                 canonical=True)
    offs = np.asarray(s.offsets).tolist()
    diags = [(k, s.data[d], 0) for d, k in enumerate(offs)]
    return diagonals_to_compressed(diags, s.shape, major_axis, s.data.dtype)
