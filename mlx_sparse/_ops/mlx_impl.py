"""Structural sparse kernels written with plain MLX ops (the "fallback" path).

These run on every device MLX runs on (CPU, Metal, CUDA) and are the path taken
under ``mx.compile`` / ``mx.vmap``, where the C++ CPU kernels cannot be called.
The CPU twin in ``csrc/`` computes exactly the same results: same entry order,
same dtypes.

Conventions shared by every function:

* "major" is the compressed axis (rows for CSR, columns for CSC), "minor" the
  other one; each function serves both formats.
* Index arrays are int32 or int64 and outputs keep the input index dtype.
* Values may be any MLX dtype. Sums of bool are logical OR (as in SciPy).
* Functions whose output length depends on the data (duplicates merged, zeros
  dropped) do exactly one host sync for that length, marked ``# HOST SYNC``.
  The others are sync-free and can be traced by ``mx.compile``.

MLX facts these rely on:

* ``mx.argsort`` is not guaranteed stable, so stable orders sort one int64 key
  that ends in the entry position (see ``_lexsort``).
* ``mx.cumsum`` keeps narrow integer dtypes (uint8 wraps) and gives int32 for
  bool, so counts are cast to a wide enough integer type first.
* ``a[idx] = v`` mutates ``a`` in place (aliases see it); only the functional
  ``.at[...]`` and ``mx.put_along_axis`` are used here.
* A scatter into a zero-length array raises even with no updates, so empty
  outputs are built directly.
"""

import mlx.core as mx

__all__ = [
    "coo_to_compressed",
    "compressed_transpose",
    "sort_indices",
    "sum_duplicates",
    "eliminate_zeros",
    "compressed_to_dense",
    "coo_to_dense",
    "dense_to_compressed",
    "compressed_diagonal",
    "expand_indptr",
]

_INT64_MAX = 2**63 - 1
_INT32_MAX = 2**31 - 1
_INT64S = (mx.int64, mx.uint64)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _count_dtype(bound):
    """Narrowest of int32/int64 that holds every value in [0, bound]."""
    return mx.int32 if bound <= _INT32_MAX else mx.int64


_SCAN_ROW = 1024      # row length of the two-level scan
_SCAN_MIN = 1 << 15   # shorter arrays: MLX's scan as it is


def _cumsum(a):
    """``mx.cumsum(a, axis=0)`` (same dtype rules). On CUDA, MLX 0.32 scans a long
    axis 0 about 20x slower than rows of 1024 (4M int64: 4.3 vs 0.2 ms, measured on an
    H200), so long arrays are scanned as such rows, then the rows' totals (the same
    scan, recursively) are added to the rows after them."""
    n = a.shape[0]
    if n <= _SCAN_MIN or not (mx.cuda.is_available() and mx.default_device() == mx.gpu):
        return mx.cumsum(a, axis=0)
    rest = tuple(a.shape[1:])
    pad = -n % _SCAN_ROW
    if pad:
        a = mx.concatenate([a, mx.zeros((pad,) + rest, dtype=a.dtype)])
    rows = mx.cumsum(a.reshape((-1, _SCAN_ROW) + rest), axis=1)
    totals = _cumsum(rows[:, -1])
    carry = mx.concatenate([mx.zeros((1,) + rest, dtype=totals.dtype), totals[:-1]])
    return (rows + carry[:, None]).reshape((-1,) + rest)[:n]


def _exclusive_cumsum(flags, dtype):
    """[0, f0, f0+f1, ...]: length len(flags) + 1, in ``dtype``."""
    head = mx.zeros((1,), dtype=dtype)
    if flags.size == 0:
        return head
    return mx.concatenate([head, _cumsum(flags.astype(dtype))])


def _scatter_sum(size, idx, vals, ptr=None, grouped=False):
    """Array of shape ``(size,) + vals.shape[1:]`` with the rows of ``vals``
    summed at ``idx`` (bool: OR).

    MLX 0.32's CUDA scatter has no int64/uint64 updates (add, max, min), so
    64-bit integer values never go through one: they are grouped by slot and
    one cumsum is differenced at the group ends (exact: integer sums wrap
    modulo 2**64). ``ptr`` (slot boundaries, when ``idx`` is
    ``expand_indptr(ptr)``) or ``grouped`` (``idx`` non-decreasing) say the
    entries already come grouped, which saves a sort; other dtypes ignore them.
    """
    shape = (size,) + tuple(vals.shape[1:])
    if size == 0 or idx.size == 0 or vals.size == 0:
        return mx.zeros(shape, dtype=vals.dtype)
    if vals.dtype == mx.bool_:
        # A sum of bools is their OR; max over uint8 says so on every backend.
        out = mx.zeros(shape, dtype=mx.uint8).at[idx].maximum(vals.astype(mx.uint8))
        return out.astype(mx.bool_)
    if vals.dtype in _INT64S:
        return _grouped_int_sum(size, idx, vals, ptr, grouped)
    return mx.zeros(shape, dtype=vals.dtype).at[idx].add(vals)


def _grouped_int_sum(n, idx, vals, ptr, grouped):
    """Per-slot sums of 64-bit integers without a 64-bit scatter: group the
    entries by slot, then difference one cumsum at the group ends."""
    if ptr is None:
        if not grouped:
            perm = mx.argsort(idx)  # any order within a slot: integer sums
            idx, vals = idx[perm], vals[perm]
        cdt = _count_dtype(idx.shape[0])
        ptr = _exclusive_cumsum(
            mx.zeros((n,), dtype=cdt).at[idx].add(mx.ones(idx.shape, dtype=cdt)), cdt
        )
    csum = mx.concatenate(
        [mx.zeros((1,) + tuple(vals.shape[1:]), dtype=vals.dtype), _cumsum(vals)]
    )
    return csum[ptr[1:]] - csum[ptr[:-1]]


def _scatter_set(size, idx, vals):
    """Array of length ``size`` with ``vals`` written at ``idx``.

    Where several writes hit one slot, they must carry the same value (or the
    slot must be one the caller discards).
    """
    if size == 0 or idx.size == 0:
        return mx.zeros((size,), dtype=vals.dtype)
    return mx.put_along_axis(mx.zeros((size,), dtype=vals.dtype), idx, vals, axis=0)


def _dense_rank(key):
    """Rank of each entry among the distinct values of ``key``: equal keys
    share a rank, ranks are 0..(#distinct - 1) <= len(key) - 1, int64."""
    n = key.size
    perm = mx.argsort(key)
    sk = key[perm]
    ranks_sorted = _exclusive_cumsum(sk[1:] != sk[:-1], mx.int64)
    return _scatter_set(n, perm, ranks_sorted)


def _lexsort(keys, n, stable=True):
    """Permutation sorting ``n`` entries by ``keys`` lexicographically.

    ``keys`` lists (key, bound) pairs, most significant first; a key holds
    non-negative integers below ``bound`` (a Python int, or None when only
    the dtype bounds it). With ``stable``, ties keep entry order.

    The keys are folded into one int64 (key * bound_so_far + so_far) so a
    single ``mx.argsort`` gives the order, whatever its stability. A fold that
    could overflow int64 first replaces the folded key, or the new key, by its
    dense rank (< n): one extra sort each, order unchanged.
    """
    if n == 0:
        return mx.zeros((0,), dtype=mx.uint32)
    comb, bound = (mx.arange(n, dtype=mx.int64), n) if stable else (None, 1)
    for key, kb in reversed(keys):
        key = key.astype(mx.int64)
        kb = _INT64_MAX + 1 if kb is None else max(int(kb), 1)  # exclusive
        if comb is None:
            comb, bound = key, kb
            continue
        if kb * bound > _INT64_MAX:
            # Shrink the side that makes the product fit; the folded key first.
            if bound > n and kb * n <= _INT64_MAX:
                comb, bound = _dense_rank(comb), n
            else:
                key, kb = _dense_rank(key), n
                if kb * bound > _INT64_MAX:
                    comb, bound = _dense_rank(comb), n
            if kb * bound > _INT64_MAX:
                raise OverflowError(f"cannot sort {n} entries with an int64 key")
        comb = key * bound + comb
        bound = kb * bound
    return mx.argsort(comb)


def _index_dtype(*arrays, dims=()):
    """int64 if any index array is int64 or a dimension exceeds int32, else int32."""
    wide = any(a.dtype == mx.int64 for a in arrays) or max(dims, default=0) > _INT32_MAX
    return mx.int64 if wide else mx.int32


# --------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------


def expand_indptr(indptr, nnz):
    """Major index of every stored entry: length ``nnz``, dtype of ``indptr``.

    Each slice end ``indptr[r+1]`` (r < n_major - 1) adds 1 from that position
    on: a scatter of marks and one cumsum, no search.
    """
    nnz = int(nnz)
    n_major = indptr.shape[0] - 1
    if nnz == 0 or n_major <= 1:
        return mx.zeros((nnz,), dtype=indptr.dtype)
    cdt = _count_dtype(n_major)
    ends = indptr[1:n_major]
    marks = _scatter_sum(nnz + 1, ends, mx.ones(ends.shape, dtype=cdt), grouped=True)
    return _cumsum(marks[:nnz]).astype(indptr.dtype)


def coo_to_compressed(n_major, n_minor, major, minor, data, perm=None):
    """Canonical compressed arrays from COO triplets.

    Entries are sorted by (major, minor); duplicates are summed in input
    order; zero sums and explicit zeros are kept. ``indptr`` has length
    ``n_major + 1``. ``perm``: that stable sort's permutation, when the caller
    has it (the GPU's bucket sort).
    """
    n_major, n_minor = int(n_major), int(n_minor)
    idt = _index_dtype(major, minor)
    nnz = data.shape[0]
    if nnz == 0:
        return (
            mx.zeros((n_major + 1,), dtype=idt),
            mx.zeros((0,), dtype=idt),
            mx.zeros((0,), dtype=data.dtype),
        )
    if perm is None:
        perm = _lexsort([(major, n_major), (minor, n_minor)], nnz, stable=True)
    s_major, s_minor, s_data = major[perm], minor[perm], data[perm]
    is_new = mx.concatenate(
        [
            mx.ones((1,), dtype=mx.bool_),
            (s_major[1:] != s_major[:-1]) | (s_minor[1:] != s_minor[:-1]),
        ]
    )
    cdt = _count_dtype(nnz)
    seg = _cumsum(is_new.astype(cdt)) - 1
    # HOST SYNC: the number of distinct (major, minor) pairs is the output length.
    n_out = int(seg[-1].item()) + 1
    out_data = _scatter_sum(n_out, seg, s_data, grouped=True)
    # Every entry of a run carries the same minor index, so the writes agree.
    out_indices = _scatter_set(n_out, seg, s_minor.astype(idt))
    # Counts (<= nnz) in the narrowest type: no 64-bit scatter unless nnz needs it.
    per_major = _scatter_sum(n_major, s_major, is_new.astype(cdt), grouped=True)
    indptr = _exclusive_cumsum(per_major, idt)
    return indptr, out_indices, out_data


def compressed_transpose(n_major, n_minor, indptr, indices, data, perm=None, indptr_t=None):
    """The same matrix compressed along the other axis.

    Stable: within an output slice, entries keep their input order (input
    major index, then position); duplicates are kept. ``perm`` / ``indptr_t``:
    that stable sort's permutation and the result's indptr, when the caller has
    them (the GPU's bucket sort).
    """
    n_major, n_minor = int(n_major), int(n_minor)
    nnz = indices.shape[0]
    major = expand_indptr(indptr, nnz)
    # Input positions already ascend with the major index, so sorting by
    # (minor, position) orders each output slice by (major, position).
    if perm is None:
        perm = _lexsort([(indices, n_minor)], nnz, stable=True)
    indices_t = major[perm].astype(indices.dtype)
    data_t = data[perm]
    if indptr_t is None:
        cdt = _count_dtype(nnz)
        per_minor = _scatter_sum(n_minor, indices, mx.ones(indices.shape, dtype=cdt))
        indptr_t = _exclusive_cumsum(per_minor, indptr.dtype)
    return indptr_t.astype(indptr.dtype), indices_t, data_t


def sort_indices(indptr, indices, data, n_minor=None):
    """Stable sort of each slice by minor index; duplicates keep input order.

    ``n_minor`` (optional, a Python int) bounds the minor indices; without it
    int64 indices may cost one more sort to keep the key within int64.
    """
    nnz = indices.shape[0]
    if nnz == 0:
        return indices, data
    n_major = indptr.shape[0] - 1
    if n_minor is None and indices.dtype == mx.int32:
        n_minor = _INT32_MAX + 1
    major = expand_indptr(indptr, nnz)
    perm = _lexsort([(major, n_major), (indices, n_minor)], nnz, stable=True)
    return indices[perm], data[perm]


def sum_duplicates(indptr, indices, data):
    """Merge runs of equal minor indices within a slice by summing them.

    Input slices must be sorted; the result keeps slice order and explicit
    zeros (including zero sums).
    """
    nnz = indices.shape[0]
    if nnz == 0:
        return indptr, indices, data
    major = expand_indptr(indptr, nnz)
    is_new = mx.concatenate(
        [
            mx.ones((1,), dtype=mx.bool_),
            (major[1:] != major[:-1]) | (indices[1:] != indices[:-1]),
        ]
    )
    runs_before = _exclusive_cumsum(is_new, _count_dtype(nnz))
    # HOST SYNC: the number of runs is the output length.
    n_out = int(runs_before[-1].item())
    if n_out == nnz:
        return indptr, indices, data
    seg = runs_before[1:] - 1
    out_data = _scatter_sum(n_out, seg, data, grouped=True)
    out_indices = _scatter_set(n_out, seg, indices)
    # A slice starts a new run, so the runs before its first entry are its start.
    out_indptr = runs_before[indptr].astype(indptr.dtype)
    return out_indptr, out_indices, out_data


def _compact(keep, n_out, kept_before):
    """Positions of the ``n_out`` entries where ``keep`` is true, in order.

    Dropped entries write into a spare slot ``n_out``, cut off afterwards.
    """
    n = keep.shape[0]
    dest = mx.where(keep, kept_before[:-1], n_out)
    src = _scatter_set(n_out + 1, dest, mx.arange(n, dtype=kept_before.dtype))
    return src[:n_out]


def eliminate_zeros(indptr, indices, data):
    """Drop stored entries equal to zero (NaN is not zero and stays)."""
    nnz = indices.shape[0]
    if nnz == 0:
        return indptr, indices, data
    keep = data != 0
    kept_before = _exclusive_cumsum(keep, _count_dtype(nnz))
    # HOST SYNC: the number of nonzero entries is the output length.
    n_out = int(kept_before[-1].item())
    if n_out == nnz:
        return indptr, indices, data
    src = _compact(keep, n_out, kept_before)
    return kept_before[indptr].astype(indptr.dtype), indices[src], data[src]


def compressed_to_dense(n_major, n_minor, indptr, indices, data):
    """Dense (n_major, n_minor) array; duplicates are summed."""
    n_major, n_minor = int(n_major), int(n_minor)
    major = expand_indptr(indptr, indices.shape[0])
    return coo_to_dense(n_major, n_minor, major, indices, data)


def coo_to_dense(n_rows, n_cols, row, col, data):
    """Dense (n_rows, n_cols) array from COO triplets; duplicates are summed."""
    n_rows, n_cols = int(n_rows), int(n_cols)
    size = n_rows * n_cols
    if size == 0 or data.shape[0] == 0:
        return mx.zeros((n_rows, n_cols), dtype=data.dtype)
    fdt = _count_dtype(size)
    flat = row.astype(fdt) * n_cols + col.astype(fdt)
    return _scatter_sum(size, flat, data).reshape(n_rows, n_cols)


def dense_to_compressed(dense, index_dtype):
    """Compressed arrays of a 2-D dense array: entries != 0 (NaN included) in
    row-major order; indices in ``index_dtype``."""
    n_major, n_minor = dense.shape
    flat = dense.reshape(-1)
    size = flat.shape[0]
    cdt = _count_dtype(size)
    keep = flat != 0
    kept_before = _exclusive_cumsum(keep, cdt)
    # HOST SYNC: the number of nonzero entries is the output length.
    n_out = int(kept_before[-1].item())
    if n_out == 0:
        return (
            mx.zeros((n_major + 1,), dtype=index_dtype),
            mx.zeros((0,), dtype=index_dtype),
            mx.zeros((0,), dtype=dense.dtype),
        )
    src = _compact(keep, n_out, kept_before)
    # Slice r starts at flat position r * n_minor (n_minor > 0 here).
    starts = mx.arange(n_major + 1, dtype=cdt) * n_minor
    indptr = kept_before[starts].astype(index_dtype)
    return indptr, (src % n_minor).astype(index_dtype), flat[src]


def triangular_diagonal(n, indptr, indices, data, lower, unit_diagonal):
    """(diagonal, status) of a canonical square CSR matrix read as triangular (lower:
    entries in columns <= the row): each row's end entry on the solve's side (lower:
    its last) is its diagonal entry unless the row stores entries on the other side.
    status, a () int32 array: 2 where some row ends on the other side (the caller must
    look at every entry), else 1 where some diagonal entry is 0 (not with
    unit_diagonal), else 0. diagonal: None with unit_diagonal. At least one entry."""
    nnz = indices.shape[0]
    i = mx.arange(n, dtype=indices.dtype)
    nonempty = indptr[1:] > indptr[:-1]
    at = mx.clip(indptr[1:] - 1 if lower else indptr[:-1], 0, nnz - 1)
    edge = indices[at]
    crossing = mx.any(nonempty & ((edge > i) if lower else (edge < i)))
    if unit_diagonal:
        return None, mx.where(crossing, 2, 0).astype(mx.int32)
    diag = mx.where(nonempty & (edge == i), data[at], mx.zeros((1,), dtype=data.dtype))
    return diag, mx.where(crossing, 2, mx.any(diag == 0)).astype(mx.int32)


def compressed_diagonal(k, n_major, n_minor, indptr, indices, data):
    """Sum of the entries with minor - major == k, along that diagonal.

    Length ``max(0, min(n_major + min(k, 0), n_minor - max(k, 0)))``.
    """
    k, n_major, n_minor = int(k), int(n_major), int(n_minor)
    length = max(0, min(n_major + min(k, 0), n_minor - max(k, 0)))
    nnz = indices.shape[0]
    if length == 0 or nnz == 0:
        return mx.zeros((length,), dtype=data.dtype)
    major = expand_indptr(indptr, nnz).astype(mx.int64)
    on_diag = (indices.astype(mx.int64) - major) == k
    # Off-diagonal entries add a zero to their own major's slot (clipped into
    # range) rather than all hitting one spare slot: no atomic hot spot on GPUs.
    pos = mx.clip(major + min(k, 0), 0, length - 1)
    vals = mx.where(on_diag, data, mx.zeros_like(data))
    return _scatter_sum(length, pos, vals, grouped=True)  # pos is non-decreasing
