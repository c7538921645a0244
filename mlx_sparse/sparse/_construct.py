"""Functions that build sparse arrays and matrices (SciPy's scipy.sparse._construct):
identity/diagonal builders, Kronecker products, block stacking, random matrices,
and the axis helpers of the array API (2-D only).

Large outputs are built with whole-array MLX ops (broadcasting, concatenation,
prefix sums, gathers/scatters along an axis); Python loops run over blocks or
diagonals only, never over rows or entries.
"""
import numbers
import warnings

import mlx.core as mx
import numpy as np

from .._dtypes import MX_TO_NP, cast_values
from .._storage import COO, CSC, CSR
from ._base import _spbase, issparse
from ._dia import CHUNK, DIA, diagonals_to_compressed
from ._index_utils import (container, exclusive_cumsum, index_dtype_for, is_sparray,
                           segment_ids, side_stream, take, value_stream)
from ._sputils import (asmx, check_shape, get_index_dtype, getdtype, isintlike,
                       isscalarlike, mx_index_dtype, upcast)

__all__ = [
    "block_array", "block_diag", "bmat", "diags", "diags_array", "expand_dims", "eye",
    "eye_array", "hstack", "identity", "kron", "kronsum", "permute_dims", "rand",
    "random", "random_array", "spdiags", "swapaxes", "vstack",
]


class _NoValueType:
    """Marks "argument not given" where None means something (SciPy's _NoValue)."""

    def __repr__(self):
        return "<no value>"


_NoValue = _NoValueType()


# ---- helpers ----------------------------------------------------------------------
def _ours(x):
    """Our sparse object for a sparse input (SciPy objects keep their format and
    kind; formats we store natively map onto ours)."""
    if isinstance(x, _spbase):
        return x
    import scipy.sparse as ssp
    kind = isinstance(x, ssp.sparray)
    fmt = x.format if x.format in ("coo", "csr", "csc", "dia", "bsr") else "csr"
    return container(fmt, kind)(x.asformat(fmt))


def _as_coo(x, is_array):
    """A COO object of ours for a sparse, dense or scalar operand."""
    cls = container("coo", is_array)
    if issparse(x):
        return _ours(x).tocoo()
    if isscalarlike(x) or (isinstance(x, np.ndarray) and x.ndim == 0):
        x = np.atleast_2d(np.asarray(x))
    return cls(x)


def _np_dtype(dt):
    """NumPy dtype standing in for an MLX dtype in dtype arithmetic."""
    return np.dtype(np.float16) if dt == mx.bfloat16 else np.dtype(MX_TO_NP[dt])


def _finish(s, fmt, is_array, format):
    """An object of format `fmt` over storage s, converted to `format`."""
    return container(fmt, is_array)._from_storage(s).asformat(format)


# ---- identity and diagonals ---------------------------------------------------------
def spdiags(data, diags, m=None, n=None, format=None):
    """Sparse matrix from diagonals, SciPy's spdiags (a dia_matrix unless format)."""
    if m is None and n is None:
        m = n = len(data[0])
    elif n is None:
        m, n = m
    from ._dia import dia_matrix
    return dia_matrix((data, diags), shape=(m, n)).asformat(format)


def diags_array(diagonals, /, *, offsets=0, shape=None, format=None, dtype=_NoValue):
    """Sparse array from diagonals (SciPy's diags_array): diagonal j goes on offset
    offsets[j]; a length-1 diagonal is broadcast. The default dtype follows SciPy's
    (deprecated) common-type rule with its FutureWarning; pass dtype=None for the
    input's own type."""
    return _diags(diagonals, offsets, shape, format, dtype, is_array=True)


def diags(diagonals, offsets=0, shape=None, format=None, dtype=_NoValue):
    """Sparse matrix from diagonals (SciPy's diags; see diags_array)."""
    return _diags(diagonals, offsets, shape, format, dtype, is_array=False)


def _common_type(dts):
    """np.common_type over MLX dtypes (bfloat16 stays bfloat16 when alone)."""
    if all(d == mx.bfloat16 for d in dts):
        return mx.bfloat16
    arrays = [np.empty(0, np.float32 if d == mx.bfloat16 else MX_TO_NP[d]) for d in dts]
    return getdtype(np.common_type(*arrays))


def _diags(diagonals, offsets, shape, format, dtype, is_array):
    if isscalarlike(offsets):
        if len(diagonals) == 0 or isscalarlike(diagonals[0]):
            diagonals = [diagonals]
        else:
            raise ValueError("Different number of diagonals and offsets.")
    else:
        diagonals = list(diagonals)
    diagonals = [_atleast_1d(asmx(d)) for d in diagonals]
    offs = np.atleast_1d(np.asarray(offsets))
    if len(diagonals) != len(offs):
        raise ValueError("Different number of diagonals and offsets.")
    if shape is None:
        m = diagonals[0].shape[-1] + abs(int(offs[0]))
        shape = (m, m)
    shape = check_shape((shape,))

    dts = [d.dtype for d in diagonals]
    if dtype is None:
        dt = upcast(*dts)
    elif dtype is _NoValue:
        dt = _common_type(dts)
        future = upcast(*dts)
        if dt != future:
            warnings.warn(
                f"Input has data type {_dname(future)}, but the output has been cast "
                f"to {_dname(dt)}.  In the future, the output data type will match "
                "the input. To avoid this warning, set the `dtype` parameter to "
                "`None` to have the output dtype match the input, or set it to the "
                "desired output data type.", FutureWarning, stacklevel=3)
    else:
        dt = getdtype(dtype)

    m, n = shape
    K = min(m, n)
    width = max([0] + [min(m + int(k), n - int(k)) + max(0, int(k)) for k in offs])
    sources = []  # (k, diagonal values of the exact length, first column)
    for j, (diag, k) in enumerate(zip(diagonals, offs)):
        k = int(k)
        length = min(m + k, n - k, K)
        if length < 0:
            raise ValueError(f"Offset {k} (index {j}) out of bounds")
        if diag.ndim > 1:
            diag = diag.reshape(-1) if diag.size == diag.shape[-1] else diag
        d = diag[..., :length]
        if d.shape[-1] != length and d.shape[-1] != 1:
            raise ValueError(f"Diagonal length (index {j}: {diag.shape[-1]} at offset "
                             f"{k}) does not agree with array size ({m}, {n}).")
        if d.ndim != 1:
            raise ValueError("setting an array element with a sequence.")
        d = _cast_values(d, dt)
        if d.size != length:
            d = mx.broadcast_to(d, (length,))
        sources.append((k, d, max(0, k)))
    if np.unique(offs).size != offs.size:
        raise ValueError("offset array contains duplicate values")

    idx_np = get_index_dtype(maxval=max(shape))
    if format in ("csr", "csc", "coo"):
        s = diagonals_to_compressed(sources, shape, 1 if format == "csc" else 0, dt)
        out = container("csc" if format == "csc" else "csr", is_array)._from_storage(s)
        return out.tocoo() if format == "coo" else out
    # data[j, start:start+len] = diagonal j: one flat concatenation of zero pads
    # and diagonals, read as (n_diagonals, width)
    pieces = []
    for k, d, start in sources:
        if start:
            pieces.append(mx.zeros((start,), dt))
        pieces.append(d)
        tail = width - start - d.size
        if tail:
            pieces.append(mx.zeros((tail,), dt))
    if not sources:
        data = mx.zeros((0, width), dt)
    elif len(pieces) == 1:
        data = mx.array(pieces[0]).reshape(1, width)
    else:
        data = mx.concatenate(pieces).reshape(len(sources), width)
    s = DIA(data, mx.array(offs.astype(idx_np)), shape)
    return _finish(s, "dia", is_array, format)


def _dname(dt):
    from .._dtypes import dtype_name
    return dtype_name(dt)


def _atleast_1d(a):
    return a.reshape((1,)) if a.ndim == 0 else a


def _cast_values(a, dt):
    if a.dtype == dt:
        return a
    if a.dtype == mx.complex64 and dt != mx.complex64:
        warnings.warn("Casting complex values to real discards the imaginary part",
                      np.exceptions.ComplexWarning, stacklevel=4)
        a = mx.real(a)
    return cast_values(a, dt)


def eye_array(m, n=None, *, k=0, dtype=float, format=None):
    """Sparse array with ones on the k-th diagonal (SciPy's eye_array; DIA unless
    format is given)."""
    return _eye(m, n, k, dtype, format, is_array=True)


def eye(m, n=None, k=0, dtype=float, format=None):
    """Sparse matrix with ones on the k-th diagonal (SciPy's eye)."""
    return _eye(m, n, k, dtype, format, is_array=False)


def identity(n, dtype="d", format=None):
    """Identity sparse matrix (SciPy's identity)."""
    return eye(n, n, dtype=dtype, format=format)


def _eye(m, n, k, dtype, format, is_array):
    m = int(m)
    n = m if n is None else int(n)
    k = int(k)
    dt = getdtype(dtype)
    if m == n and k == 0 and format in ("csr", "csc", "coo") and n >= 0:
        idx = index_dtype_for(n)
        ar = mx.arange(n, dtype=idx)
        ones = mx.ones((n,), dt)
        if format == "coo":
            return container("coo", is_array)._from_storage(
                COO(ar, ar, ones, (n, n), canonical=True))
        S = CSR if format == "csr" else CSC
        indptr = mx.arange(n + 1, dtype=idx)
        return container(format, is_array)._from_storage(
            S(indptr, ar, ones, (n, n), sorted_indices=True, canonical=True))
    return _diags([mx.ones((1,), dt)], [k], (m, n), format, dt, is_array)


# ---- Kronecker products -------------------------------------------------------------
def kron(A, B, format=None):
    """Kronecker product of sparse (or dense) A and B (SciPy's kron): BSR when B is
    at least half full and format is None or 'bsr', else COO converted to format."""
    is_array = is_sparray(A) or is_sparray(B)
    B = _as_coo(B, is_array)
    mB, nB = B.shape
    if (format is None or format == "bsr") and 2 * B.nnz >= mB * nB:
        A = _ours(A).tocsr() if issparse(A) else _as_coo(A, is_array).tocsr()
        out_shape = (A.shape[0] * mB, A.shape[1] * nB)
        if A.nnz == 0 or B.nnz == 0:
            return _empty_coo(out_shape, is_array).asformat(format)
        dt = upcast(A._s.data.dtype, B._s.data.dtype)
        Bd = B.toarray().astype(dt)
        data = A._s.data.astype(dt)[:, None, None] * Bd[None, :, :]
        from ._bsr import BSR
        a = A._s
        idx = a.indptr.dtype
        s = BSR(a.indptr, a.indices, data, out_shape, sorted_indices=a.sorted_indices,
                canonical=a.canonical)
        del idx
        return container("bsr", is_array)._from_storage(s).asformat(format)
    A = _as_coo(A, is_array)
    mA, nA = A.shape
    out_shape = (mA * mB, nA * nB)
    if A.nnz == 0 or B.nnz == 0:
        return _empty_coo(out_shape, is_array).asformat(format)
    if format in ("csr", "csc"):
        out = _kron_compressed(A, B, format, is_array)
        if out is not None:
            return out
    a, b = A._s, B._s
    idx = mx_index_dtype(get_index_dtype((a.row, b.row), maxval=max(out_shape)))
    with mx.stream(side_stream()):   # index arrays in parallel with the values
        row = (a.row.astype(idx)[:, None] * mB + b.row.astype(idx)[None, :]).reshape(-1)
        col = (a.col.astype(idx)[:, None] * nB + b.col.astype(idx)[None, :]).reshape(-1)
    dt = upcast(a.data.dtype, b.data.dtype)
    with value_stream(dt):
        data = (a.data.astype(dt)[:, None] * b.data.astype(dt)[None, :]).reshape(-1)
    return _finish(COO(row, col, data, out_shape), "coo", is_array, format)


def _kron_compressed(A, B, format, is_array):
    """kron(A, B) straight into CSR (or CSC) for duplicate-free COO factors; None
    when a factor has duplicates (SciPy then sums products of duplicates).

    With both factors in canonical CSR, output row (iA, iB) holds the outer
    product of A's row iA and B's row iB in (a, b) order, already sorted, and A's
    row iA owns the contiguous output range from ptrA[iA]*nnzB. CSC is the CSR of
    kron(A.T, B.T) read transposed."""
    fa, fb = (A.tocsr(), B.tocsr()) if format == "csr" else (A.tocsc(), B.tocsc())
    if fa.nnz != A.nnz or fb.nnz != B.nnz:
        return None          # duplicates were merged: keep SciPy's summation order
    a, b = fa._s, fb._s
    if format == "csc":      # CSR of the transposes, same buffers
        a = CSR(a.indptr, a.indices, a.data, a.shape[::-1], True, True)
        b = CSR(b.indptr, b.indices, b.data, b.shape[::-1], True, True)
    (mA, nA), (mB, nB) = a.shape, b.shape
    out_shape = (mA * mB, nA * nB)
    nnzA, nnzB = a.indices.size, b.indices.size
    nnz = nnzA * nnzB
    idx = index_dtype_for(max(max(out_shape), nnz))
    dt = upcast(a.data.dtype, b.data.dtype)
    w = mx.int64 if max(nnz, max(out_shape)) > np.iinfo(np.int32).max else mx.int32
    counts = (_lengths(a.indptr.astype(w))[:, None] *
              _lengths(b.indptr.astype(w))[None, :]).reshape(-1)
    indptr = exclusive_cumsum(counts, idx)
    built = _kron_runs(a, b, nB, nnz, idx, dt)
    if built is None:
        built = _kron_scatter(a, b, nB, nnz, idx, dt, w)
    indices, data = built
    S = CSR if format == "csr" else CSC
    shape = out_shape if format == "csr" else out_shape[::-1]
    return container(format, is_array)._from_storage(
        S(indptr, indices, data, shape, sorted_indices=True, canonical=True))


def _lengths(indptr):
    return indptr[1:] - indptr[:-1]


def _runs(lengths):
    """[(first, stop, length)] of the maximal runs of equal values of a host array."""
    if lengths.size == 0:
        return []
    cut = np.flatnonzero(np.diff(lengths)) + 1
    first = np.concatenate([[0], cut])
    stop = np.concatenate([cut, [lengths.size]])
    return list(zip(first.tolist(), stop.tolist(), lengths[first].tolist()))


def _kron_runs(a, b, nB, nnz, idx, dt):
    """(indices, data) of CSR kron(a, b) when the rows of a and of b fall into few
    runs of equal length (banded, stencil, identity factors); None otherwise.

    An A run (rows of length L) against a B run (RB rows of length M) is one
    broadcast product of shape (rows, RB, L, M), laid out exactly as the output
    holds it; the B runs of one group of A rows sit side by side in the output
    rows of those A rows (an axis-1 concatenation, or, for the largest A run, a
    2-D copy straight into the output). Groups of A rows are sized so these
    pieces stay in MLX's buffer cache, and each is copied into the output, which
    is allocated (and page-faulted) once; no output-sized temporary exists."""
    ptrA = np.asarray(a.indptr).astype(np.int64)
    ptrB = np.asarray(b.indptr).astype(np.int64)
    nnzB = int(ptrB[-1])
    runsA = [r for r in _runs(np.diff(ptrA)) if r[2]]
    runsB = [r for r in _runs(np.diff(ptrB)) if r[2]]
    if not runsA or not runsB:
        return None
    groups = []           # (first A row, stop A row, length): output-contiguous pieces
    for r0, r1, L in runsA:
        step = max(1, CHUNK // (L * nnzB))
        groups += [(g, min(g + step, r1), L) for g in range(r0, r1, step)]
    if len(groups) * (len(runsB) + 2) > max(256, nnz // 4096):
        return None       # too many small pieces: Python overhead would dominate
    vA, vB = _same(a.data, dt), _same(b.data, dt)
    cA, cB = _same(a.indices, idx) * nB, _same(b.indices, idx)
    side = side_stream()
    pieces_b = [(int(ptrB[q0]), int(ptrB[q1]), q1 - q0, M) for q0, q1, M in runsB]

    def product(xa, xb, op, r0, r1, L):
        xa = xa[int(ptrA[r0]):int(ptrA[r1])].reshape(r1 - r0, 1, L, 1)
        out = [op(xa, xb[p0:p1].reshape(1, nr, 1, M)).reshape(r1 - r0, -1)
               for p0, p1, nr, M in pieces_b]
        return (mx.concatenate(out, axis=1) if len(out) > 1 else out[0]).reshape(-1)

    # The largest A run is written as a 2-D block of whole buffer rows (one row per
    # A row), each B run's product straight into its columns: no concatenation.
    # The buffers get slack so that this block starts on a row; the other runs'
    # pieces pack against it; the outputs are views.
    s0, s1, Lm = max(runsA, key=lambda r: (r[1] - r[0]) * r[2])
    W = Lm * nnzB
    pre = int(ptrA[s0]) * nnzB
    before = -(-pre // W) if len(pieces_b) > 1 else 0
    slack = before * W - pre if before else 0
    rows = before + (s1 - s0) + -(-(nnz - pre - (s1 - s0) * W) // W)
    size = rows * W if len(pieces_b) > 1 else nnz
    with mx.stream(side):
        indices = mx.zeros((size,), idx)
    with value_stream(dt):
        data = mx.zeros((size,), dt)
    block = []
    for r0, r1, L in groups:
        if len(pieces_b) > 1 and s0 <= r0 < s1:
            block.append((r0, r1))
            continue
        lo, hi = slack + int(ptrA[r0]) * nnzB, slack + int(ptrA[r1]) * nnzB
        with mx.stream(side):
            indices[lo:hi] = product(cA, cB, mx.add, r0, r1, L)
        with value_stream(dt):
            data[lo:hi] = product(vA, vB, mx.multiply, r0, r1, L)
    if block:
        indices, data = indices.reshape(rows, W), data.reshape(rows, W)
        for r0, r1 in block:
            ia, ib = before + r0 - s0, before + r1 - s0
            for p0, p1, nr, M in pieces_b:
                c0, c1 = Lm * p0, Lm * p1
                with mx.stream(side):
                    xa = cA[int(ptrA[r0]):int(ptrA[r1])].reshape(r1 - r0, 1, Lm, 1)
                    indices[ia:ib, c0:c1] = (xa + cB[p0:p1].reshape(1, nr, 1, M)
                                             ).reshape(r1 - r0, -1)
                with value_stream(dt):
                    xa = vA[int(ptrA[r0]):int(ptrA[r1])].reshape(r1 - r0, 1, Lm, 1)
                    data[ia:ib, c0:c1] = (xa * vB[p0:p1].reshape(1, nr, 1, M)
                                          ).reshape(r1 - r0, -1)
        indices = indices.reshape(-1)[slack:slack + nnz]
        data = data.reshape(-1)[slack:slack + nnz]
    return indices, data


def _kron_scatter(a, b, nB, nnz, idx, dt, w):
    """(indices, data) of CSR kron(a, b) for any row structure. Entry (a, b) goes to
        ptrA[iA]*nnzB + lenA[iA]*ptrB[iB] + (a - ptrA[iA])*lenB[iB] + (b - ptrB[iB])
    (all earlier rows, then this row's earlier entries): a sum of per-a and per-b
    terms, built by broadcasting, then one scatter per output array."""
    nnzA, nnzB = a.indices.size, b.indices.size
    from ._index_utils import expand_indptr
    ptrA, ptrB = a.indptr.astype(w), b.indptr.astype(w)
    lenA, lenB = ptrA[1:] - ptrA[:-1], ptrB[1:] - ptrB[:-1]
    rowA, rowB = expand_indptr(ptrA, nnzA), expand_indptr(ptrB, nnzB)
    startA, startB = take(ptrA[:-1], rowA), take(ptrB[:-1], rowB)
    per_a = startA * nnzB                                  # rows of earlier iA
    la = take(lenA, rowA)
    a_loc = mx.arange(nnzA, dtype=w) - startA
    per_b = mx.arange(nnzB, dtype=w) - startB              # b_loc
    lb = take(lenB, rowB)
    dest = ((per_a[:, None] + la[:, None] * startB[None, :])
            + (a_loc[:, None] * lb[None, :] + per_b[None, :])).reshape(-1)
    with mx.stream(side_stream()):   # index array in parallel with the values
        cols = (a.indices.astype(idx)[:, None] * nB
                + b.indices.astype(idx)[None, :]).reshape(-1)
        indices = mx.put_along_axis(mx.zeros((nnz,), idx), dest, cols, axis=0)
    with value_stream(dt):
        vals = (a.data.astype(dt)[:, None] * b.data.astype(dt)[None, :]).reshape(-1)
        data = mx.put_along_axis(mx.zeros((nnz,), dt), dest, vals, axis=0)
    return indices, data


def _empty_coo(shape, is_array):
    return container("coo", is_array)(shape)


def kronsum(A, B, format=None):
    """Kronecker sum kron(I_n, A) + kron(B, I_m) of square A (m x m) and B (n x n)
    (SciPy's kronsum; CSR unless format)."""
    is_array = is_sparray(A) or is_sparray(B)
    A = _as_coo(A, is_array)
    B = _as_coo(B, is_array)
    if A.shape[0] != A.shape[1]:
        raise ValueError("A is not square")
    if B.shape[0] != B.shape[1]:
        raise ValueError("B is not square")
    dt = upcast(A._s.data.dtype, B._s.data.dtype)
    # SciPy's kron gives an empty float64 result when a factor has no entries, and
    # L + R then upcasts with it: same result dtype here.
    m, n = A.shape[0], B.shape[0]
    dt_l = mx.float64 if n == 0 or A.nnz == 0 else dt
    dt_r = mx.float64 if m == 0 or B.nnz == 0 else dt
    dt = upcast(dt_l, dt_r)
    L = kron(_eye(B.shape[0], None, 0, dt, "coo", is_array), A, format="coo")
    R = kron(B, _eye(A.shape[0], None, 0, dt, "coo", is_array), format="coo")
    l, r = L._s, R._s
    idx = mx_index_dtype(get_index_dtype((l.row, r.row), maxval=max(L.shape)))
    coo = COO(mx.concatenate([l.row.astype(idx), r.row.astype(idx)]),
              mx.concatenate([l.col.astype(idx), r.col.astype(idx)]),
              mx.concatenate([l.data.astype(dt), r.data.astype(dt)]), L.shape)
    # L + R as SciPy computes it: duplicates summed, zeros (explicit or cancelled)
    # dropped, canonical CSR.
    out = container("coo", is_array)._from_storage(coo).tocsr()
    out.eliminate_zeros()
    return out.asformat(format)


# ---- block stacking -----------------------------------------------------------------
def hstack(blocks, format=None, dtype=None):
    """Stack sparse blocks horizontally (SciPy's hstack)."""
    blocks = np.asarray(blocks, dtype="object")
    return _block([blocks], format, dtype, _is_array_result(blocks))


def vstack(blocks, format=None, dtype=None):
    """Stack sparse blocks vertically (SciPy's vstack)."""
    blocks = np.asarray(blocks, dtype="object")
    return _block([[b] for b in blocks], format, dtype, _is_array_result(blocks))


def bmat(blocks, format=None, dtype=None):
    """Sparse matrix from a 2-D grid of blocks, None for zero blocks (SciPy's bmat;
    an array if any block is a sparse array)."""
    blocks = np.asarray(blocks, dtype="object")
    return _block(blocks, format, dtype, _is_array_result(blocks))


def block_array(blocks, *, format=None, dtype=None):
    """Sparse array from a 2-D grid of blocks, None for zero blocks."""
    return _block(blocks, format, dtype, True)


def _is_array_result(blocks):
    return any(is_sparray(b) for b in np.asarray(blocks, dtype="object").flat)


def _block(blocks, format, dtype, is_array):
    blocks = np.asarray(blocks, dtype="object")
    if blocks.ndim != 2:
        raise ValueError("blocks must be 2-D")
    M, N = blocks.shape
    if M == 0 or N == 0:
        raise IndexError(f"index 0 is out of bounds for axis {0 if M == 0 else 1} "
                         "with size 0")
    flat = list(blocks.flat)
    for fmt, major in (("csr", 0), ("csc", 1)):
        if format in (None, fmt) and all(issparse(b) and b.format == fmt for b in flat):
            grid = [[_ours(b) for b in row] for row in blocks]
            if major == 0:
                slabs = [_stack_minor([g._s for g in row], is_array)
                         if len(row) > 1 else row[0]._s for row in grid]
            else:
                cols = [[grid[i][j] for i in range(M)] for j in range(N)]
                slabs = [_stack_minor([g._s for g in col], is_array)
                         if len(col) > 1 else col[0]._s for col in cols]
            s = _stack_major(slabs)
            out = container(fmt, is_array)._from_storage(s)
            if dtype is not None:
                out = out.astype(dtype, copy=False)
            return out
    return _block_coo(blocks, format, dtype, is_array)


def _stack_major(slabs):
    """Compressed storages stacked along their major axis (vstack of CSR, hstack of
    CSC): concatenations plus shifted indptr pieces."""
    S = type(slabs[0])
    major_axis = S.major_axis
    minor_axis = 1 - major_axis
    constant = slabs[0].shape[minor_axis]
    for s in slabs:
        if s.shape[minor_axis] != constant:
            raise ValueError(f"incompatible dimensions for axis {minor_axis}")
    nnz = sum(s.indices.size for s in slabs)
    idx = mx_index_dtype(get_index_dtype([s.indptr for s in slabs],
                                         maxval=max(nnz, constant)))
    n_major = sum(s.shape[major_axis] for s in slabs)
    ptr_pieces, base = [], 0
    for s in slabs:
        p = s.indptr[:-1].astype(idx)
        ptr_pieces.append(p + base if base else p)
        base += s.indices.size
    ptr_pieces.append(mx.array([base], idx))
    indptr = mx.concatenate(ptr_pieces)
    if len(slabs) == 1:
        indices, data = slabs[0].indices.astype(idx), slabs[0].data
        if indices is slabs[0].indices:
            indices, data = mx.array(indices), mx.array(data)
    else:
        with mx.stream(side_stream()):
            indices = mx.concatenate([_same(s.indices, idx) for s in slabs])
        dt = upcast(*[s.data.dtype for s in slabs])
        with value_stream(dt):
            data = mx.concatenate([_same(s.data, dt) for s in slabs])
    shape = (n_major, constant) if major_axis == 0 else (constant, n_major)
    return S(indptr, indices, data, shape,
             sorted_indices=all(s.sorted_indices for s in slabs),
             canonical=all(s.canonical for s in slabs))


def _stack_minor(slabs, is_array):
    """Compressed storages stacked along their minor axis (hstack of CSR, vstack of
    CSC): output slice r lists slice r of every block in block order.

    The output is a gather from the concatenation of all blocks: its segments
    (slice r, block b) appear in (r, b) order, each copied from one contiguous run of
    block b. One forward fill finds every output entry's segment; a per-segment
    shift gives its source position."""
    S = type(slabs[0])
    major_axis = S.major_axis
    dims = {s.shape[major_axis] for s in slabs}
    if len(dims) > 1:
        raise ValueError(f"Mismatching dimensions along axis {major_axis}: {dims}")
    n_major = dims.pop()
    nb = len(slabs)
    minor_axis = 1 - major_axis
    sum_dim = sum(s.shape[minor_axis] for s in slabs)
    nnz = sum(s.indices.size for s in slabs)
    idx = mx_index_dtype(get_index_dtype([s.indptr for s in slabs],
                                         maxval=max(sum_dim - 1, nnz)))
    shape = (n_major, sum_dim) if major_axis == 0 else (sum_dim, n_major)
    dt = upcast(*[s.data.dtype for s in slabs])
    flags = dict(sorted_indices=all(s.sorted_indices for s in slabs),
                 canonical=all(s.canonical for s in slabs))
    if nnz == 0:
        return S(mx.zeros((n_major + 1,), idx), mx.zeros((0,), idx),
                 mx.zeros((0,), dt), shape, **flags)
    from .. import _ops
    offsets = np.cumsum([0] + [s.shape[minor_axis] for s in slabs])[:-1].tolist()
    with value_stream(dt):  # one C++ pass where there is a kernel (CPU); casts stay lazy
        out = _ops.run_optional("stack_minor", dt, n_major, [_same(s.indptr, idx) for s in slabs],
                                [_same(s.indices, idx) for s in slabs],
                                [_same(s.data, dt) for s in slabs], offsets)
    if out is not None:
        return S(*out, shape, **flags)
    if nb * (n_major + 1) <= _HOST_PLAN_MAX:
        return _stack_minor_chunked(slabs, S, n_major, nnz, idx, dt, shape, flags)
    wide = mx.int64 if nnz + nb * (n_major + 1) > np.iinfo(np.int32).max else mx.int32
    ptrs = mx.stack([s.indptr.astype(wide) for s in slabs])          # (nb, n_major+1)
    counts = ptrs[:, 1:] - ptrs[:, :-1]                                # (nb, n_major)
    out_indptr = exclusive_cumsum(mx.sum(counts, axis=0), wide)
    out_start = out_indptr[None, :-1] + (mx.cumsum(counts, axis=0) - counts)
    bases = np.cumsum([0] + [s.indices.size for s in slabs])[:-1]
    src_start = mx.array(bases, wide)[:, None] + ptrs[:, :-1]
    out_start, src_start = out_start.T.reshape(-1), src_start.T.reshape(-1)
    seg = segment_ids(out_start, nnz).astype(wide)
    src = mx.arange(nnz, dtype=wide) + take(src_start - out_start, seg)
    offsets = np.cumsum([0] + [s.shape[minor_axis] for s in slabs])[:-1]
    with mx.stream(side_stream()):   # index array in parallel with the values
        indices = take(mx.concatenate([_same(s.indices, idx) + int(o) if o else
                                       _same(s.indices, idx)
                                       for s, o in zip(slabs, offsets)]), src)
    with value_stream(dt):
        data = take(mx.concatenate([_same(s.data, dt) for s in slabs]), src)
    return S(out_indptr.astype(idx), indices, data, shape, **flags)


_HOST_PLAN_MAX = 1 << 24   # (blocks x slices) whose copy plan is made on the host


def _stack_minor_chunked(slabs, S, n_major, nnz, idx, dt, shape, flags):
    """_stack_minor by groups of output slices, each about CHUNK entries: a group's
    part of every block is concatenated (block order) and gathered into (slice,
    block) order in the cache, then copied into the outputs, which are allocated
    (page-faulted) once. The gather positions come from the indptr arrays, read
    on the host (zero-copy), where NumPy computes the plan."""
    minor_axis = 1 - S.major_axis
    nb = len(slabs)
    ptrs = np.stack([np.asarray(s.indptr).astype(np.int64) for s in slabs])
    counts = np.diff(ptrs, axis=1)                             # (nb, n_major)
    out_ptr = np.zeros(n_major + 1, np.int64)
    np.cumsum(counts.sum(axis=0), out=out_ptr[1:])
    offsets = np.cumsum([0] + [s.shape[minor_axis] for s in slabs])[:-1]
    side = side_stream()
    with mx.stream(side):
        indptr = mx.array(out_ptr.astype(mx_np_index(idx)))
        indices = mx.zeros((nnz,), idx)
    with value_stream(dt):
        data = mx.zeros((nnz,), dt)
    # groups of slices [r0, r1) holding about CHUNK entries each
    cuts = np.searchsorted(out_ptr, np.arange(0, nnz, CHUNK), side="right") - 1
    bounds = np.unique(np.concatenate([[0], cuts, [n_major]]))
    group = np.repeat(np.arange(bounds.size - 1), np.diff(bounds))  # of each slice
    P0, P1 = ptrs[:, bounds[:-1]], ptrs[:, bounds[1:]]          # (nb, groups)
    taken = P1 - P0
    # segment (b, r): its start in its group's block-ordered concatenation, and in
    # the group's output; listed in output, (r, b), order
    src = (np.cumsum(taken, axis=0) - taken - P0)[:, group] + ptrs[:, :-1]
    seg = counts.T.reshape(-1)
    out_start = np.cumsum(seg) - seg - np.repeat(out_ptr[bounds[:-1]][group], nb)
    shift = src.T.reshape(-1) - out_start
    P0, P1 = P0.T.tolist(), P1.T.tolist()
    for g, (r0, r1) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist())):
        lo, hi = int(out_ptr[r0]), int(out_ptr[r1])
        if hi == lo:
            continue
        sl = slice(r0 * nb, r1 * nb)
        keep = seg[sl] > 0                    # non-empty segments: distinct starts
        starts = mx.array(out_start[sl][keep].astype(np.int32))
        # an entry's source is its position plus its segment's shift: a prefix sum
        # of the shifts' changes at segment starts
        step = mx.array(np.diff(shift[sl][keep], prepend=0).astype(np.int32))
        parts = [(s, a, e, int(o)) for s, a, e, o in zip(slabs, P0[g], P1[g], offsets)
                 if e > a]
        n = hi - lo
        with value_stream(dt):
            g_ = mx.cumsum(mx.put_along_axis(mx.zeros((n,), mx.int32), starts, step,
                                             axis=0)) + mx.arange(n, dtype=mx.int32)
        with mx.stream(side):
            cat = mx.concatenate([_same(s.indices[a:e], idx) + o if o else
                                  _same(s.indices[a:e], idx) for s, a, e, o in parts])
            indices[lo:hi] = take(cat, g_)
        with value_stream(dt):
            cat = mx.concatenate([_same(s.data[a:e], dt) for s, a, e, _ in parts])
            data[lo:hi] = take(cat, g_)
    return S(indptr, indices, data, shape, **flags)


def mx_np_index(idx):
    return np.int64 if idx == mx.int64 else np.int32


def _same(a, dt):
    """a in dtype dt (no copy when it already is)."""
    return a if a.dtype == dt else a.astype(dt)


def _block_coo(blocks, format, dtype, is_array):
    M, N = blocks.shape
    coo_cls = container("coo", True)
    present = []
    brow = np.zeros(M, dtype=np.int64)
    bcol = np.zeros(N, dtype=np.int64)
    for i in range(M):
        for j in range(N):
            b = blocks[i, j]
            if b is None:
                continue
            A = coo_cls(b) if not isinstance(b, _spbase) or b.format != "coo" else b
            r, c = A.shape
            if brow[i] == 0:
                brow[i] = r
            elif brow[i] != r:
                raise ValueError(f"blocks[{i},:] has incompatible row dimensions. "
                                 f"Got blocks[{i},{j}].shape[0] == {r}, "
                                 f"expected {brow[i]}.")
            if bcol[j] == 0:
                bcol[j] = c
            elif bcol[j] != c:
                raise ValueError(f"blocks[:,{j}] has incompatible column dimensions. "
                                 f"Got blocks[{i},{j}].shape[1] == {c}, "
                                 f"expected {bcol[j]}.")
            present.append((i, j, A._s))
    row_off = np.concatenate([[0], np.cumsum(brow)])
    col_off = np.concatenate([[0], np.cumsum(bcol)])
    shape = (int(row_off[-1]), int(col_off[-1]))
    if dtype is None:
        dt = upcast(*[s.data.dtype for _, _, s in present]) if present else mx.float64
    else:
        dt = getdtype(dtype)
    idx = mx_index_dtype(get_index_dtype([s.row for _, _, s in present],
                                         maxval=max(shape)))
    if present:
        def cat(xs):
            return mx.concatenate(xs) if len(xs) > 1 else mx.array(xs[0])
        with mx.stream(side_stream()):   # coordinates in parallel with the values
            row = cat([s.row.astype(idx) + int(row_off[i]) if row_off[i]
                       else s.row.astype(idx) for i, _, s in present])
            col = cat([s.col.astype(idx) + int(col_off[j]) if col_off[j]
                       else s.col.astype(idx) for _, j, s in present])
        with value_stream(dt):
            data = cat([_same(s.data, dt) for _, _, s in present])
        s = COO(row, col, data, shape)
    else:
        s = COO(mx.zeros((0,), idx), mx.zeros((0,), idx), mx.zeros((0,), dt), shape)
    return _finish(s, "coo", is_array, format)


def block_diag(mats, format=None, dtype=None):
    """Block-diagonal sparse matrix/array from the given blocks (SciPy's
    block_diag): sparse blocks keep their entries, NumPy/MLX arrays are stored in
    full, lists and scalars keep their nonzeros."""
    is_array = any(is_sparray(a) for a in mats)
    coo_cls = container("coo", True)
    rows, cols, datas, idx_arrays = [], [], [], []
    r_idx = c_idx = 0
    for a in mats:
        if isinstance(a, (list, numbers.Number)):
            a = coo_cls(np.atleast_2d(np.asarray(a)))
        if issparse(a):
            s = _ours(a).tocoo()._s
            if not idx_arrays and s.row.dtype == mx.int64:
                idx_arrays.append(s.row)
            nrows, ncols = s.shape
            rows.append((s.row, r_idx))
            cols.append((s.col, c_idx))
            datas.append(s.data)
        else:
            d = asmx(a)
            nrows, ncols = d.shape
            flat = mx.arange(nrows * ncols, dtype=mx.int64)
            rows.append((flat // max(ncols, 1), r_idx))
            cols.append((flat % max(ncols, 1), c_idx))
            datas.append(d.reshape(-1))
        r_idx += nrows
        c_idx += ncols
    if not mats:
        raise ValueError("need at least one array to concatenate")
    idx = mx_index_dtype(get_index_dtype(idx_arrays, maxval=max(r_idx, c_idx)))
    row = mx.concatenate([r.astype(idx) + off for r, off in rows])
    col = mx.concatenate([c.astype(idx) + off for c, off in cols])
    dt = upcast(*[d.dtype for d in datas])
    data = mx.concatenate([d.astype(dt) for d in datas])
    if dtype is not None:
        data = data.astype(getdtype(dtype))
    s = COO(row, col, data, (r_idx, c_idx))
    return _finish(s, "coo", is_array, format)


# ---- random ---------------------------------------------------------------------------
def random_array(shape, *, density=0.01, format="coo", dtype=None, rng=None,
                 data_sampler=None, random_state=None):
    """Sparse array of the given shape with round(density * size) distinct random
    positions (SciPy's random_array). Values come from data_sampler(size=k), else
    uniform in [0, 1) (floats), over the whole range (integers) or True (bool)."""
    shape = check_shape((shape,))
    return _random(shape, density, format, dtype, _rng(rng, random_state),
                   data_sampler, True, keyword=True)


def random(m, n, density=0.01, format="coo", dtype=None, rng=None, data_rvs=None, *,
           random_state=None):
    """Sparse matrix of random values (SciPy's random); data_rvs(k) gives values."""
    shape = check_shape(((int(m), int(n)),))
    return _random(shape, density, format, dtype, _rng(rng, random_state), data_rvs,
                   False, keyword=False)


def rand(m, n, density=0.01, format="coo", dtype=None, rng=None, *, random_state=None):
    """Sparse matrix of uniform random values in [0, 1) (SciPy's rand)."""
    shape = check_shape(((int(m), int(n)),))
    return _random(shape, density, format, dtype, _rng(rng, random_state), None, False,
                   keyword=False)


def _rng(rng, random_state):
    if rng is not None and random_state is not None:
        raise TypeError("Use only one of rng and random_state")
    r = rng if rng is not None else random_state
    if isinstance(r, (np.random.Generator, np.random.RandomState)):
        return r
    return np.random.default_rng(r)


def _random(shape, density, format, dtype, rng, sampler, is_array, keyword):
    if density < 0 or density > 1:
        raise ValueError("density expected to be 0 <= density <= 1")
    dt = mx.float64 if dtype is None else getdtype(dtype)
    m, n = shape
    mn = m * n
    k = int(round(density * mn))
    if isinstance(rng, np.random.RandomState):
        flat = rng.choice(mn, size=k, replace=False) if k else np.zeros(0, np.int64)
    else:
        flat = rng.choice(mn, size=k, replace=False, shuffle=True) if k else \
            np.zeros(0, np.int64)
    flat = np.asarray(flat, dtype=np.int64)
    if sampler is not None:
        vals = sampler(size=k) if keyword else sampler(k)
    else:
        vals = _default_values(rng, k, dt)
    vals = asmx(vals)
    if vals.dtype != dt:
        vals = _cast_values(vals, dt)
    idx_np = get_index_dtype(maxval=max(shape))
    row = mx.array((flat // max(n, 1)).astype(idx_np))
    col = mx.array((flat % max(n, 1)).astype(idx_np))
    return _finish(COO(row, col, vals, shape), "coo", is_array, format)


def _default_values(rng, k, dt):
    integers = rng.integers if isinstance(rng, np.random.Generator) else rng.randint
    if dt == mx.bool_:
        return np.ones(k, dtype=bool)
    if mx.issubdtype(dt, mx.integer):
        info = np.iinfo(MX_TO_NP[dt])
        if isinstance(rng, np.random.Generator):
            return rng.integers(info.min, info.max, size=k, dtype=MX_TO_NP[dt],
                                endpoint=True)
        return integers(info.min, info.max, size=k, dtype=MX_TO_NP[dt])
    uniform = rng.random if isinstance(rng, np.random.Generator) else rng.random_sample
    if dt == mx.complex64:
        return (uniform(k) + 1j * uniform(k)).astype(np.complex64)
    v = uniform(k)
    return mx.array(v, dtype=mx.float64).astype(dt) if dt == mx.bfloat16 else \
        v.astype(_np_dtype(dt))


# ---- array-API axis helpers (2-D only) ---------------------------------------------------
def expand_dims(A, /, *, axis=0):
    """SciPy's expand_dims; the result would have 3 dimensions, which mlx_sparse does
    not store, so valid calls raise ValueError."""
    if not isintlike(axis):
        raise ValueError(f"Invalid axis {axis}. Must be an integer.")
    ndim = A.ndim
    pos = axis if axis >= 0 else axis + ndim + 1
    if pos < 0 or pos > ndim:
        raise ValueError(f"Invalid axis {axis} for N={ndim}. Must be in [-N-1, N].")
    raise ValueError(f"mlx_sparse supports 2-D sparse arrays only; expand_dims would "
                     f"give a {ndim + 1}-D array")


def swapaxes(A, axis1, axis2):
    """A with axes axis1 and axis2 swapped (SciPy's swapaxes)."""
    axes = np.arange(A.ndim)
    try:
        axes[[axis1, axis2]] = axes[[axis2, axis1]]
    except IndexError as err:
        msg = str(err).removeprefix("index ").split(" axis ", 1)[0]
        raise ValueError(f"Invalid axis: {msg} ndim={A.ndim}") from None
    return permute_dims(A, axes=tuple(int(a) for a in axes), copy=True)


def permute_dims(A, axes=None, copy=False):
    """A with its axes permuted (SciPy's permute_dims); a swap gives COO."""
    ndim = A.ndim
    if axes is None:
        axes = tuple(range(ndim)[::-1])
    elif not isinstance(axes, (tuple, list)):
        if not np.issubdtype(np.dtype(type(axes)), np.integer):
            raise TypeError(f"axis must be an integer/tuple of ints, not {type(axes)}")
        axes = (axes,)
    if len(axes) != ndim:
        raise ValueError(f"Incorrect number of axes: {ndim} instead of {A.ndim}")
    canon = []
    for ax in axes:
        if not isintlike(ax):
            raise TypeError(f"axis must be an integer. (given {ax})")
        ax = int(ax) + ndim if ax < 0 else int(ax)
        if ax < 0 or ax >= ndim:
            raise ValueError("axis out of range for ndim")
        canon.append(ax)
    if len(set(canon)) != len(canon):
        raise ValueError("duplicate value in axis")
    if canon == list(range(ndim)):
        return A.copy() if copy else A
    return _ours(A).tocoo().transpose()
