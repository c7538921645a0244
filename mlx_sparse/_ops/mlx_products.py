"""Product, binary-op and reduction kernels written with plain MLX ops (the
"fallback" path).

Like ``mlx_impl`` (whose conventions and MLX pitfalls apply here too), these run
on every device MLX runs on and are the path taken under ``mx.compile`` /
``mx.vmap``. The CPU twin in ``csrc/`` computes the same results.

Conventions:

* "major" is the compressed axis (rows for CSR, columns for CSC), "minor" the
  other; each function serves both formats. For CSC storage of ``A``,
  ``compressed_matvec`` computes ``A.T @ x`` and ``compressed_matvec_t``
  computes ``A @ x``.
* ``data``, ``x`` / ``X`` and ``b_data`` share one value dtype (the caller
  casts) and results have it; comparisons give bool.
* Sums of bool are logical OR and products of bool logical AND (SciPy's bool
  arithmetic). Integer sums and products wrap as in NumPy.
* float16 / bfloat16 products and sums are computed in float32 and rounded
  once at the end (the C++ twin should do the same to agree to the last bit).
* MLX 0.32's CUDA scatter has no int64/uint64 updates (add, max, min), so
  64-bit integer values never go through one: sums difference a cumsum over
  entries grouped by slot, max/min scatter the 32-bit halves (both exact).
* complex64 values are ordered as NumPy orders them (lexicographically: real
  part, then imaginary part), for ``maximum``, ``lt`` ... and max/min.
* Functions whose output length depends on the data do their host syncs
  explicitly, marked ``# HOST SYNC``; the others are sync-free and can be
  traced by ``mx.compile``.
"""

import mlx.core as mx
import numpy as np

from .mlx_impl import (
    _INT32_MAX,
    _INT64S,
    _scatter_sum,
    _compact,
    _cumsum,
    _count_dtype,
    _exclusive_cumsum,
    _index_dtype,
    _lexsort,
    expand_indptr,
)

__all__ = [
    "compressed_matvec",
    "compressed_matvec_t",
    "compressed_matmat",
    "compressed_matmat_t",
    "compressed_matmul",
    "compressed_binop",
    "compressed_reduce_major",
    "compressed_reduce_minor",
    "BINOPS",
    "REDUCE_OPS",
]

_HALF = (mx.float16, mx.bfloat16)
_FLOATS = (mx.float16, mx.bfloat16, mx.float32, mx.float64)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _acc_dtype(dt):
    """The dtype products and sums of ``dt`` values are computed in."""
    return mx.float32 if dt in _HALF else dt


def _mul(a, b):
    """Elementwise product in the accumulation dtype (bool: AND)."""
    if a.dtype == mx.bool_:
        return mx.logical_and(a, b)
    acc = _acc_dtype(a.dtype)
    return a.astype(acc) * b.astype(acc)


def _scatter_extreme(op, n, idx, vals):
    """Per-slot max (``op`` 'max') or min of ``vals``; a slot without values
    holds the dtype's lowest (max) or highest (min) value. Not bool."""
    dt = vals.dtype
    if dt == mx.complex64:
        # Lexicographic, as NumPy: the real parts decide, then the imaginary
        # parts among the entries that share the best real part.
        re, im = mx.real(vals), mx.imag(vals)
        best_re = _scatter_extreme(op, n, idx, re)
        im = mx.where(re == best_re[idx], im, _extreme(mx.float32, lowest=(op == "max")))
        best_im = _scatter_extreme(op, n, idx, im)
        return best_re + 1j * best_im
    if dt in _INT64S:
        # No 64-bit scatter on CUDA: the high 32-bit halves decide, then the
        # low halves among the entries that share the best high half.
        hi = (vals >> 32).astype(mx.int32 if dt == mx.int64 else mx.uint32)
        lo = (vals & 0xFFFFFFFF).astype(mx.uint32)
        best_hi = _scatter_extreme(op, n, idx, hi)
        lo = mx.where(hi == best_hi[idx], lo, 0 if op == "max" else 0xFFFFFFFF).astype(mx.uint32)
        best_lo = _scatter_extreme(op, n, idx, lo)
        return (best_hi.astype(dt) << 32) | best_lo.astype(dt)
    init = mx.broadcast_to(_extreme(dt, lowest=(op == "max")), (n,))
    return init.at[idx].maximum(vals) if op == "max" else init.at[idx].minimum(vals)


def _check_vector(x, n, name):
    if x.ndim != 1 or x.shape[0] != n:
        raise ValueError(f"{name} must be 1-D of length {n}, got shape {tuple(x.shape)}")


def _check_matrix(X, n, name):
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"{name} must be 2-D with {n} rows, got shape {tuple(X.shape)}")


def _empty_compressed(n_major, index_dtype, value_dtype):
    return (
        mx.zeros((n_major + 1,), dtype=index_dtype),
        mx.zeros((0,), dtype=index_dtype),
        mx.zeros((0,), dtype=value_dtype),
    )


# --------------------------------------------------------------------------
# sparse x dense products
# --------------------------------------------------------------------------


def compressed_matvec(n_major, n_minor, indptr, indices, data, x):
    """``y[i] = sum(data[p] * x[indices[p]] for p in slice i)``, length n_major.

    Duplicates simply add. Sync-free.
    """
    n_major, n_minor = int(n_major), int(n_minor)
    _check_vector(x, n_minor, "x")
    major = expand_indptr(indptr, indices.shape[0])
    return _scatter_sum(n_major, major, _mul(data, x[indices]), ptr=indptr).astype(data.dtype)


def compressed_matvec_t(n_major, n_minor, indptr, indices, data, x):
    """``y[indices[p]] += data[p] * x[major(p)]``, length n_minor: the product
    with the transpose (``x`` has length n_major). Sync-free."""
    n_major, n_minor = int(n_major), int(n_minor)
    _check_vector(x, n_major, "x")
    major = expand_indptr(indptr, indices.shape[0])
    return _scatter_sum(n_minor, indices, _mul(data, x[major])).astype(data.dtype)


def compressed_matmat(n_major, n_minor, indptr, indices, data, X):
    """``Y = A @ X`` for ``X`` of shape (n_minor, k): Y has shape (n_major, k).

    Builds the (nnz, k) products at once: memory grows with nnz * k.
    Sync-free.
    """
    n_major, n_minor = int(n_major), int(n_minor)
    _check_matrix(X, n_minor, "X")
    major = expand_indptr(indptr, indices.shape[0])
    prod = _mul(data[:, None], X[indices])
    return _scatter_sum(n_major, major, prod, ptr=indptr).astype(data.dtype)


def compressed_matmat_t(n_major, n_minor, indptr, indices, data, X):
    """``Y = A.T @ X`` for ``X`` of shape (n_major, k): Y has shape
    (n_minor, k). Sync-free."""
    n_major, n_minor = int(n_major), int(n_minor)
    _check_matrix(X, n_major, "X")
    major = expand_indptr(indptr, indices.shape[0])
    prod = _mul(data[:, None], X[major])
    return _scatter_sum(n_minor, indices, prod).astype(data.dtype)


# --------------------------------------------------------------------------
# sparse x sparse product
# --------------------------------------------------------------------------


def compressed_matmul(
    n_major, n_inner, n_minor, a_indptr, a_indices, a_data, b_indptr, b_indices, b_data
):
    """Sparse product ``A @ B`` of A (n_major x n_inner) and B (n_inner x
    n_minor), both in the same compressed layout (CSR @ CSR, or CSC storage
    read as the transposed product).

    The result is canonical (sorted minor indices, no duplicates) and, as in
    SciPy, entries whose sum is exactly zero are not stored (NaN is kept).
    Inputs may hold duplicates, unsorted slices and explicit zeros. Products
    of one output entry are summed in A's entry order.

    Index dtype: int64 if any input index array is int64 or a dimension or
    the output nnz exceeds int32, else int32.

    Every A entry (i, k) meets every B entry of slice k: the products are
    counted per A entry, laid out by a prefix sum, formed with gathers, and
    then sorted and merged as in ``coo_to_compressed``. Two host syncs: the
    number of products and the output nnz.
    """
    n_major, n_inner, n_minor = int(n_major), int(n_inner), int(n_minor)
    dt = a_data.dtype
    idt = _index_dtype(a_indptr, a_indices, b_indptr, b_indices, dims=(n_major, n_minor))
    na, nb = a_indices.shape[0], b_indices.shape[0]
    if na == 0 or nb == 0 or n_minor == 0:
        return _empty_compressed(n_major, idt, dt)

    # Products per A entry: the length of B's slice a_indices[p].
    k = a_indices.astype(mx.int64)
    b_start = b_indptr.astype(mx.int64)[k]
    counts = b_indptr.astype(mx.int64)[k + 1] - b_start
    offsets = _exclusive_cumsum(counts, mx.int64)  # "indptr" over A entries
    # HOST SYNC: the number of products sizes every array that follows.
    total = int(offsets[-1].item())
    if total == 0:
        return _empty_compressed(n_major, idt, dt)

    # Product t belongs to A entry owner[t] and B entry q[t].
    owner = expand_indptr(offsets, total)
    q = b_start[owner] + (mx.arange(total, dtype=mx.int64) - offsets[owner])
    rows = expand_indptr(a_indptr, na)[owner]
    cols = b_indices[q]
    vals = _mul(a_data[owner], b_data[q])

    # Products are grouped by row already; the sort orders columns within a
    # row and keeps A's order within one (row, col) (stable).
    perm = _lexsort([(rows, n_major), (cols, n_minor)], total, stable=True)
    s_rows, s_cols, s_vals = rows[perm], cols[perm], vals[perm]
    is_new = mx.concatenate(
        [
            mx.ones((1,), dtype=mx.bool_),
            (s_rows[1:] != s_rows[:-1]) | (s_cols[1:] != s_cols[:-1]),
        ]
    )
    cdt = _count_dtype(total)
    seg = _cumsum(is_new.astype(cdt)) - 1
    # Slots past the last run stay unused; no sync for the number of runs.
    run_sum = _scatter_sum(total, seg, s_vals, grouped=True).astype(dt)
    keep = is_new & (run_sum[seg] != 0)
    kept_before = _exclusive_cumsum(keep, cdt)
    # HOST SYNC: the number of nonzero sums is the output length.
    n_out = int(kept_before[-1].item())
    if n_out > _INT32_MAX:
        idt = mx.int64
    if n_out == 0:
        return _empty_compressed(n_major, idt, dt)
    src = _compact(keep, n_out, kept_before)
    # Row i's products start at offsets[a_indptr[i]] before and after the sort.
    indptr = kept_before[offsets[a_indptr]].astype(idt)
    return indptr, s_cols[src].astype(idt), run_sum[seg[src]]


# --------------------------------------------------------------------------
# elementwise binary ops
# --------------------------------------------------------------------------


def _bool_or_num(bool_fn, num_fn):
    return lambda a, b: bool_fn(a, b) if a.dtype == mx.bool_ else num_fn(a, b)


# op -> (function of (a, b), is a comparison)
# maximum/minimum follow SciPy's functors: the second operand wins only when
# strictly greater (smaller), so a NaN in A is kept and a NaN in B is not.
BINOPS = {
    "add": (_bool_or_num(mx.logical_or, mx.add), False),
    "sub": (_bool_or_num(mx.not_equal, mx.subtract), False),
    "mul": (_bool_or_num(mx.logical_and, mx.multiply), False),
    "maximum": (lambda a, b: mx.where(a < b, b, a), False),
    "minimum": (lambda a, b: mx.where(b < a, b, a), False),
    "ne": (mx.not_equal, True),
    "lt": (mx.less, True),
    "gt": (mx.greater, True),
    "le": (mx.less_equal, True),
    "ge": (mx.greater_equal, True),
}


def compressed_binop(
    op, n_major, n_minor, a_indptr, a_indices, a_data, b_indptr, b_indices, b_data
):
    """``op`` applied elementwise to A and B (same shape and layout, both
    canonical: sorted, no duplicates).

    As SciPy's canonical sparse/sparse binop: ``op(a, b)`` over the union of
    the stored positions (a missing entry is 0), and only results != 0 are
    stored (for comparisons: only True). The output is canonical; values keep
    the input dtype, comparisons give bool.

    ``le`` / ``ge`` (and ``ne``, ``lt``, ``gt``) are evaluated only on the
    union of stored positions: where neither stores an entry, ``0 <= 0`` is
    True, which the caller adds (SciPy's ``A <= B`` is ``~(A > B)``).
    There is no 'div': SciPy's sparse / sparse true division returns a dense
    ndarray (0/0 = nan everywhere neither stores an entry).

    Index dtype: int64 if either input uses int64 or the output nnz exceeds
    int32. One host sync (the output nnz).
    """
    if op not in BINOPS:
        raise ValueError(f"op must be one of {sorted(BINOPS)}, got {op!r}")
    fn, is_cmp = BINOPS[op]
    n_major, n_minor = int(n_major), int(n_minor)
    out_dt = mx.bool_ if is_cmp else a_data.dtype
    idt = _index_dtype(a_indptr, a_indices, b_indptr, b_indices)
    na, nb = a_indices.shape[0], b_indices.shape[0]
    n = na + nb
    if n == 0:
        return _empty_compressed(n_major, idt, out_dt)

    major = mx.concatenate([expand_indptr(a_indptr, na).astype(mx.int64),
                            expand_indptr(b_indptr, nb).astype(mx.int64)])
    minor = mx.concatenate([a_indices.astype(mx.int64), b_indices.astype(mx.int64)])
    from_b = mx.concatenate([mx.zeros((na,), dtype=mx.bool_), mx.ones((nb,), dtype=mx.bool_)])
    vals = mx.concatenate([a_data, b_data])
    # Keys are distinct (canonical inputs), so stability does not matter; a
    # position stored by both sorts A's entry just before B's.
    perm = _lexsort([(major, n_major), (minor, n_minor), (from_b, 2)], n, stable=False)
    s_major, s_minor, s_b, s_vals = major[perm], minor[perm], from_b[perm], vals[perm]
    zero = mx.zeros((1,), dtype=vals.dtype)
    both = (s_major[1:] == s_major[:-1]) & (s_minor[1:] == s_minor[:-1])
    no = mx.zeros((1,), dtype=mx.bool_)
    pair_first = mx.concatenate([both, no])  # A's entry of a shared position
    pair_second = mx.concatenate([no, both])  # B's entry of it: dropped
    next_vals = mx.concatenate([s_vals[1:], zero])
    a_val = mx.where(s_b, zero, s_vals)
    b_val = mx.where(pair_first, next_vals, mx.where(s_b, s_vals, zero))
    res = fn(a_val, b_val)
    keep = mx.logical_not(pair_second) & (res != 0)

    kept_before = _exclusive_cumsum(keep, _count_dtype(n))
    # HOST SYNC: the number of nonzero results is the output length.
    n_out = int(kept_before[-1].item())
    if n_out > _INT32_MAX:
        idt = mx.int64
    if n_out == 0:
        return _empty_compressed(n_major, idt, out_dt)
    src = _compact(keep, n_out, kept_before)
    # Entries of slices < i come first in the sorted order: a_indptr[i] + b_indptr[i].
    starts = a_indptr.astype(mx.int64) + b_indptr.astype(mx.int64)
    indptr = kept_before[starts].astype(idt)
    return indptr, s_minor[src].astype(idt), res[src].astype(out_dt)


# --------------------------------------------------------------------------
# reductions over stored values
# --------------------------------------------------------------------------

REDUCE_OPS = ("sum", "max", "min")


def _extreme(dt, lowest):
    """The value every stored value of ``dt`` is >= (``lowest``) or <=."""
    if dt in _FLOATS or dt == mx.complex64:
        return mx.array(-np.inf if lowest else np.inf, dtype=dt)
    info = mx.iinfo(dt)
    # Through NumPy: a Python int beyond int64 cannot build a uint64 array.
    return mx.array(np.array(info.min if lowest else info.max, dtype=np.dtype(str(dt).split(".")[-1])))


def _reduce(op, n, idx, data, present, ptr=None):
    """``op`` over the values of ``data`` grouped by ``idx`` into ``n`` slots;
    ``present`` says which slots received a value (others give 0); ``ptr``
    as in ``_scatter_sum``."""
    if op not in REDUCE_OPS:
        raise ValueError(f"op must be one of {REDUCE_OPS}, got {op!r}")
    dt = data.dtype
    if op == "sum":
        return _scatter_sum(n, idx, data.astype(_acc_dtype(dt)), ptr=ptr).astype(dt)
    if n == 0 or data.size == 0:
        return mx.zeros((n,), dtype=dt)
    if dt == mx.bool_:
        # max is OR, min is AND; uint8 scatters work on every backend.
        init = mx.full((n,), 0 if op == "max" else 1, dtype=mx.uint8)
        v = data.astype(mx.uint8)
        out = init.at[idx].maximum(v) if op == "max" else init.at[idx].minimum(v)
        return mx.where(present, out, 0).astype(mx.bool_)
    inexact = dt in _FLOATS or dt == mx.complex64
    if inexact:
        # Scatter max/min drop or keep NaN depending on order: take NaN out and
        # put it back, so any stored NaN gives NaN (as np.maximum.reduce).
        nan = mx.isnan(data)
        data = mx.where(nan, _extreme(dt, lowest=(op == "max")), data)
    out = _scatter_extreme(op, n, idx, data)
    if inexact:
        has_nan = mx.zeros((n,), dtype=mx.uint8).at[idx].maximum(nan.astype(mx.uint8))
        out = mx.where(has_nan > 0, mx.array(np.nan, dtype=dt), out)
    return mx.where(present, out, mx.zeros((1,), dtype=dt))


def compressed_reduce_major(op, n_major, indptr, data):
    """``op`` ('sum', 'max', 'min') over the stored values of each major
    slice; length n_major, dtype of ``data``.

    Only stored values count (the caller combines with implicit zeros). An
    empty slice gives 0 for every op (False for bool). Sums of bool are OR;
    max/min propagate NaN. Sync-free.
    """
    n_major = int(n_major)
    major = expand_indptr(indptr, data.shape[0])
    present = indptr[1:] != indptr[:-1]
    return _reduce(op, n_major, major, data, present, ptr=indptr)


def compressed_reduce_minor(op, n_minor, indices, data):
    """``op`` ('sum', 'max', 'min') over the stored values of each minor
    index; length n_minor, dtype of ``data``.

    Same rules as ``compressed_reduce_major``: a minor index without stored
    values gives 0. Sync-free.
    """
    n_minor = int(n_minor)
    if op != "sum" and n_minor > 0 and indices.size > 0:
        present = mx.zeros((n_minor,), dtype=mx.uint8).at[indices].maximum(
            mx.ones(indices.shape, dtype=mx.uint8)
        ) > 0
    else:
        present = mx.zeros((n_minor,), dtype=mx.bool_)
    return _reduce(op, n_minor, indices, data, present)
