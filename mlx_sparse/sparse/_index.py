"""Indexing and in-place structural edits: ``A[key]``, ``A[key] = x``, ``setdiag``,
``resize``, ``getrow`` / ``getcol`` (SciPy 1.17 semantics, 2-D coo/csr/csc).

Layout (read top to bottom):

* key validation (host, NumPy): SciPy's rules for ints, slices, integer and boolean
  arrays, ``None`` and ``Ellipsis``; the result shape SciPy would give, and its errors.
* selections (MLX ops): one axis selection is an integer range or an array of
  positions. A compressed major selection gathers whole slices through ``indptr``;
  a minor (or COO) selection gives every stored entry a multiplicity (0/1 for a
  range, the count of its coordinate in the selection array otherwise, via a lookup
  table or ``searchsorted``); prefix sums over the multiplicities place the output.
  Pairs of index arrays match entries by a ``row * n_cols + col`` key with
  ``searchsorted``. Every data-dependent output size costs one host sync, marked
  ``# HOST SYNC``; nothing loops over rows or entries in Python.
* getitem / setitem / setdiag / resize / getrow / getcol.

Decisions where SciPy's answer cannot be ours:

* ``A[i, j]`` returns a 0-d ``mx.array`` of the matrix dtype (SciPy: a NumPy scalar).
* Dense results (SciPy's ndarray / np.matrix, e.g. ``A[[0, 1], [2, 3]]``) are
  ``mx.array`` with SciPy's shape.
* Results SciPy gives as 1-D (or n-D) sparse arrays (``csr_array[i]``,
  ``coo_array[i, :]``, ...) raise NotImplementedError: mlx_sparse is 2-D only.
* SciPy raises for ``csr[rows_array, ::step]`` (step != 1); we return the
  NumPy-consistent outer selection. Non-integral float index arrays are truncated
  for every format (SciPy truncates for csr/csc; its COO silently matches nothing).
* ``coo.setdiag(array)`` keeps the matrix dtype (SciPy's COO upcasts it to the
  dtype of ``values``; its CSR/CSC do not).
"""
import operator
import warnings

import mlx.core as mx
import numpy as np

from .. import _ops
from .._ops.mlx_impl import _count_dtype, _exclusive_cumsum, _scatter_sum
from .._dtypes import MX_TO_NP, NP_TO_MX
from .._storage import COO, CSR
from ._base import SparseEfficiencyWarning, issparse
from ._index_utils import value_stream
from ._sputils import isintlike

_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1
# Above this many slots a per-axis lookup table gives way to searchsorted.
_TABLE_LIMIT = 1 << 24

__all__ = ["getitem", "setitem", "setdiag", "resize", "getrow", "getcol"]


def _on_data_device(fn):
    """Run an entry point on the device the matrix values live on (float64 data
    computes on the CPU stream, as in _ops)."""
    import functools

    @functools.wraps(fn)
    def wrapper(A, *args):
        with value_stream(A._s.data.dtype):
            return fn(A, *args)
    return wrapper


# ==================================================================================
# key validation (host side)
# ==================================================================================
def _host_key(idx):
    """MLX arrays in a key become NumPy arrays (bfloat16 via float32)."""
    if isinstance(idx, mx.array):
        if idx.dtype == mx.bfloat16:
            idx = idx.astype(mx.float32)
        return np.asarray(idx)
    return idx


def _boolean_index(idx):
    """A bool NumPy array for a boolean index (array, nested list, sparse), else None."""
    if issparse(idx):
        if getattr(idx.dtype, "kind", None) != "b":
            return None
        return np.asarray(_host_key(idx.toarray()), dtype=bool)
    if not hasattr(idx, "ndim"):
        # A list is boolean when its first element (at depth <= 2) is a bool.
        try:
            first = next(iter(idx), None)
            for _ in range(2):
                if isinstance(first, bool):
                    break
                first = next(iter(first), None)
            else:
                return None
        except TypeError:
            return None
        idx = np.asanyarray(idx)
    if getattr(idx, "dtype", None) is not None and np.asarray(idx).dtype.kind == "b":
        return np.asarray(idx)
    return None


def _as_positions(idx, n, fmt):
    """A validated integer index array for an axis of length n (negatives wrapped)."""
    try:
        ix = np.asarray(idx)
    except (ValueError, TypeError, MemoryError) as e:
        raise IndexError("invalid index") from e
    if (fmt != "coo" and ix.ndim not in (1, 2)) or (fmt == "coo" and ix.ndim == 0):
        raise IndexError(f"Index dimension must be 1 or 2. Got {ix.ndim}")
    if ix.size == 0:
        return ix.astype(np.int64)
    if ix.dtype.kind not in "iuf":
        raise TypeError(f"index arrays must hold integers, not {ix.dtype}")
    hi, lo = ix.max(), ix.min()
    if hi >= n:
        raise IndexError(f"index ({hi}) out of range")
    if lo < -n:
        raise IndexError(f"index ({lo}) out of range")
    if lo < 0:
        ix = np.where(ix < 0, ix + n, ix)
    return ix.astype(np.int64)


def _validate_key(key, shape, fmt):
    """SciPy's index normalisation for a 2-D sparse object.

    Returns (index, new_shape, arr_int_pos, none_pos): ``index`` holds two items,
    each an int, a slice or an int64 array (booleans turned into positions, negatives
    wrapped); ``new_shape`` is the shape SciPy gives the result (with the axes of
    ``None``); ``arr_int_pos`` the index axes given by ints or arrays; ``none_pos`` the
    positions of ``None`` in ``new_shape``.
    """
    if key is Ellipsis:
        return (slice(None), slice(None)), tuple(shape), [], []
    items = list(key) if isinstance(key, tuple) else [key]

    # pass 1: expand the ellipsis, turn boolean indices into arrays, count dimensions
    first, ellipsis_at, ndim_used = [], None, 0
    for idx in items:
        idx = _host_key(idx)
        if idx is Ellipsis:
            if ellipsis_at is not None:
                raise IndexError("an index can only have a single ellipsis")
            ellipsis_at = len(first)
        elif idx is None:
            first.append(None)
        elif isinstance(idx, slice) or isintlike(idx):
            first.append(idx)
            ndim_used += 1
        elif (b := _boolean_index(idx)) is not None:
            first.append(b)
            ndim_used += b.ndim
        elif issparse(idx):
            raise IndexError("Indexing with sparse matrices is not supported except "
                             "boolean indexing where matrix and index are equal shapes.")
        else:
            first.append(np.asarray(idx))
            ndim_used += 1
    if ndim_used > 2:
        raise IndexError(f"Too many indices for array: key {key!r} needs {ndim_used}-D; "
                         "the array is 2-D")
    fill = [slice(None)] * (2 - ndim_used)
    if ellipsis_at is None:
        first += fill
    else:
        first = first[:ellipsis_at] + fill + first[ellipsis_at:]

    # pass 2: normalise each item, collect the result shape
    idx_shape, index, array_axes, none_pos, arr_int_pos = [], [], [], [], []
    axis = 0
    for pos, idx in enumerate(first):
        if idx is None:
            none_pos.append(len(idx_shape))
            idx_shape.append(1)
        elif isinstance(idx, slice):
            idx_shape.append(len(range(*idx.indices(shape[axis]))))
            index.append(idx)
            axis += 1
        elif isinstance(idx, np.ndarray) and idx.dtype.kind == "b" and idx.ndim > 0:
            expect = tuple(shape[axis:axis + idx.ndim])
            if idx.shape != expect:
                raise IndexError(f"boolean index {pos} has shape {idx.shape}; "
                                 f"expected {expect}")
            index.extend(np.nonzero(idx))
            array_axes.extend(range(axis, axis + idx.ndim))
            arr_int_pos.extend(range(axis, axis + idx.ndim))
            axis += idx.ndim
        elif isintlike(idx):
            n = shape[axis]
            if not -n <= idx < n:
                raise IndexError(f"index ({idx}) out of range")
            index.append(int(idx + n if idx < 0 else idx))
            arr_int_pos.append(axis)
            axis += 1
        else:
            index.append(_as_positions(idx, shape[axis], fmt))
            arr_int_pos.append(axis)
            array_axes.append(axis)
            axis += 1
    if array_axes:
        shapes = [index[a].shape for a in array_axes]
        try:
            arr_shape = np.broadcast_shapes(*shapes)
        except ValueError:
            raise IndexError("shape mismatch: indexing arrays could not be broadcast "
                             "together with shapes " + " ".join(map(str, shapes))) from None
        contiguous = len(arr_int_pos) == arr_int_pos[-1] - arr_int_pos[0] + 1
        at = arr_int_pos[0] if contiguous else 0
        idx_shape = idx_shape[:at] + list(arr_shape) + idx_shape[at:]
    return tuple(index), tuple(idx_shape), arr_int_pos, none_pos


def _is_int(idx):
    return isinstance(idx, int)


# ==================================================================================
# device helpers (MLX ops)
# ==================================================================================
def _expand(counts, total=None, base=None, rank=True):
    """Enumerate ``counts[k]`` output slots per item k.

    Returns (offsets, item, rank, total): slot p belongs to item ``item[p]`` and is
    its ``rank[p]``-th slot; ``offsets`` (length n + 1) are the first slots per item.
    With ``base`` (per item), ``rank`` is ``base[item] + rank`` instead, for one
    gather rather than two. ``total`` (the sum of counts) saves the host sync when
    the caller knows it. ``rank=False`` skips the ranks (None) where every count
    is 0 or 1.
    """
    offs = _exclusive_cumsum(counts, mx.int64)
    if total is None:
        total = int(offs[-1].item())  # HOST SYNC: the output size
    if total == 0:
        empty = mx.zeros((0,), dtype=mx.int64)
        return offs, empty, empty, 0
    item = _ops.expand_indptr(offs, total).astype(mx.int64)
    if not rank:
        return offs, item, None, total
    slots = mx.arange(total, dtype=mx.int64)
    if base is not None:
        return offs, item, (base.astype(mx.int64) - offs[:-1])[item] + slots, total
    return offs, item, slots - offs[item], total


def _where(mask, count=None):
    """Positions (int64) where the 1-D bool ``mask`` holds, ascending (a host sync
    unless ``count``, the number of true entries, is given)."""
    return _expand(mask.astype(mx.int32), count, rank=False)[1]


def _scatter_set(base, idx, vals):
    """``base`` with ``vals`` written at the distinct positions ``idx``."""
    if idx.size == 0:
        return base
    return mx.put_along_axis(base, idx, vals.astype(base.dtype), axis=0)


def _gather(a, idx):
    return a[idx] if idx.size else mx.zeros((0,), dtype=a.dtype)


def _sum_values(vals, dtype):
    """Sum of a 1-D value array as a 0-d array of ``dtype`` (bool: any)."""
    if dtype == mx.bool_:
        return mx.any(vals)
    return mx.sum(vals).astype(dtype)


def _index_dtype(shape, nnz):
    """SciPy's index dtype for a constructed result: int32 unless something needs int64."""
    return mx.int32 if max(tuple(shape) + (int(nnz),)) <= _INT32_MAX else mx.int64


def _flat_key(major, minor, n_minor):
    """major * n_minor + minor as int64 (one sortable key per cell)."""
    return major.astype(mx.int64) * n_minor + minor.astype(mx.int64)


def _check_key_range(n_rows, n_cols):
    if n_rows * max(n_cols, 1) > _INT64_MAX:
        raise OverflowError(f"shape {(n_rows, n_cols)} is too large for int64 cell keys")


# ==================================================================================
# selections
# ==================================================================================
class _Sel:
    """The positions one axis of a result reads: output k reads input coordinate
    ``start + k * step`` (a range) or ``pos[k]`` (an array)."""

    __slots__ = ("n", "start", "step", "length", "pos")

    def __init__(self, n, start=0, step=1, length=None, pos=None):
        self.n, self.pos = n, pos
        if pos is not None:
            self.start, self.step, self.length = None, None, int(pos.size)
        else:
            self.start, self.step = start, step
            self.length = n if length is None else length

    @classmethod
    def of(cls, idx, n):
        if _is_int(idx):
            return cls(n, idx, 1, 1)
        if isinstance(idx, slice):
            start, stop, step = idx.indices(n)
            return cls(n, start, step, len(range(start, stop, step)))
        return cls(n, pos=np.asarray(idx, dtype=np.int64).ravel())

    @property
    def is_all(self):
        return self.pos is None and self.start == 0 and self.step == 1 and self.length == self.n

    @property
    def increasing(self):
        """Non-decreasing output coordinates (duplicates allowed)."""
        if self.pos is None:
            return self.step > 0 or self.length <= 1
        return bool(np.all(self.pos[1:] >= self.pos[:-1]))

    @property
    def strictly_increasing(self):
        if self.pos is None:
            return self.step > 0 or self.length <= 1
        return bool(np.all(self.pos[1:] > self.pos[:-1]))

    def device(self):
        """The input coordinates as an int64 MLX array."""
        if self.pos is not None:
            return mx.array(self.pos)
        if self.length == 0:
            return mx.zeros((0,), dtype=mx.int64)
        return self.start + self.step * mx.arange(self.length, dtype=mx.int64)

    def host(self):
        if self.pos is not None:
            return self.pos
        return self.start + self.step * np.arange(self.length, dtype=np.int64)


def _axis_map(sel, coords):
    """How stored entries with these coordinates land on one axis of a selection.

    Returns (mult, new, single): ``mult`` the number of output positions per entry
    (None: exactly one each), ``new(e, t)`` the output coordinate of the t-th copy
    of entry e; ``single`` when no entry has more than one copy (t is then unused).
    """
    if sel.is_all:
        return None, lambda e, t: coords[e].astype(mx.int64), True
    c = coords.astype(mx.int64)
    if sel.pos is None:
        d = c - sel.start
        q = d // sel.step
        keep = (d == q * sel.step) & (q >= 0) & (q < sel.length)
        return keep.astype(mx.int64), lambda e, t: q[e], True
    pos = sel.pos
    table = sel.n <= max(_TABLE_LIMIT, 4 * (pos.size + coords.size))
    if table and np.unique(pos).size == pos.size:
        # Distinct positions: one table maps a coordinate to its output (or -1).
        where = np.full(sel.n, -1, dtype=np.int64)
        where[pos] = np.arange(pos.size)
        newc = mx.array(where)[c] if c.size else mx.zeros((0,), dtype=mx.int64)
        return (newc >= 0).astype(mx.int64), lambda e, t: newc[e], True
    order = np.argsort(pos, kind="stable")
    order_d = mx.array(order.astype(np.int64))
    if table:
        counts = np.bincount(pos, minlength=sel.n).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        counts_d, starts_d = mx.array(counts), mx.array(starts)
        mult = counts_d[c] if c.size else mx.zeros((0,), dtype=mx.int64)
        return mult, lambda e, t: order_d[starts_d[c[e]] + t], False
    sorted_pos = mx.array(pos[order])
    lo = mx.searchsorted(sorted_pos, c, side="left").astype(mx.int64)
    hi = mx.searchsorted(sorted_pos, c, side="right").astype(mx.int64)
    return hi - lo, lambda e, t: order_d[lo[e] + t], False


def _cs_major(s, sel):
    """(indptr, indices, data) of the major slices ``sel`` (indices keep s's dtype)."""
    if sel.is_all:
        return s.indptr, s.indices, s.data
    if sel.pos is None and sel.step == 1:
        a, b = sel.start, sel.start + sel.length
        lo, hi = (int(v) for v in np.asarray(mx.stack([s.indptr[a], s.indptr[b]])))  # HOST SYNC
        return s.indptr[a:b + 1] - s.indptr[a], s.indices[lo:hi], s.data[lo:hi]
    if s.indptr.dtype == s.indices.dtype:  # one pass in C++ where there is a kernel (CPU)
        res = _ops.run_optional("take_major", s.data.dtype, s.indptr, s.indices, s.data, sel.host())
        if res is not None:
            return res[0].astype(s.indptr.dtype), res[1], res[2]
    rows = sel.device()
    indptr = s.indptr.astype(mx.int64)
    starts = _gather(indptr, rows)
    lens = _gather(indptr, rows + 1) - starts
    offs, _, src, _ = _expand(lens, base=starts)
    return offs.astype(s.indptr.dtype), _gather(s.indices, src), _gather(s.data, src)


def _reverse_segments(indptr, arrays, total):
    """Reverse the entry order inside every major slice."""
    if total == 0:
        return arrays
    ptr = indptr.astype(mx.int64)
    seg = _ops.expand_indptr(ptr, total).astype(mx.int64)
    p = mx.arange(total, dtype=mx.int64)
    src = ptr[seg] + ptr[seg + 1] - 1 - p
    return tuple(a[src] for a in arrays)


def _cs_minor(indptr, indices, data, sel, sorted_in):
    """(indptr, indices, data) keeping minor coordinates ``sel`` (renumbered)."""
    if sel.is_all:
        return indptr, indices, data
    reverse = sel.pos is None and sel.step < 0 and sorted_in
    if indptr.dtype == indices.dtype and sel.n <= max(_TABLE_LIMIT, 4 * (sel.length + indices.size)):
        # one pass in C++ where there is a kernel (CPU), with a table of sel.n slots
        res = _ops.run_optional("take_minor", data.dtype, sel.n, indptr, indices, data, sel.host(), reverse)
        if res is not None:
            return res[0].astype(indptr.dtype), res[1], res[2]
    mult, new, single = _axis_map(sel, indices)
    offs, e, t, total = _expand(mult, rank=not single)
    out_idx = new(e, t).astype(indices.dtype) if total else mx.zeros((0,), indices.dtype)
    out_data = _gather(data, e)
    out_ptr = offs[indptr].astype(indptr.dtype)
    if reverse:
        # Storage order read backwards: reverse each slice so sorted input stays sorted.
        out_idx, out_data = _reverse_segments(out_ptr, (out_idx, out_data), total)
    return out_ptr, out_idx, out_data


def _known_sorted(s, strict=False):
    """Whether indices increase (strictly: no duplicates) inside every major slice."""
    if s.canonical or (s.sorted_indices and not strict):
        return True
    nnz = s.indices.size
    if nnz < 2:
        return True
    ind = s.indices
    step_ok = (ind[1:] > ind[:-1]) if strict else (ind[1:] >= ind[:-1])
    starts = mx.zeros((nnz + 1,), dtype=mx.int32).at[s.indptr].add(1)[1:nnz]
    return bool(mx.all(step_ok | (starts > 0)).item())  # HOST SYNC


def _canonical(s):
    """The same compressed storage in canonical form (sorted, duplicates summed)."""
    if s.canonical:
        return s
    indices, data = s.indices, s.data
    if not _known_sorted(s):
        indices, data = _ops.sort_indices(s.indptr, indices, data, s.n_minor)
    indptr, indices, data = _ops.sum_duplicates(s.indptr, indices, data)
    return s.with_(indptr=indptr, indices=indices, data=data, sorted_indices=True,
                   canonical=True)


def _bisect(s, lo, hi, width, minor, right):
    """Per query, the first position in [lo, hi) (its sorted major slice) whose
    index is > minor (right) or >= minor (left); ``width`` bounds hi - lo."""
    nnz = s.indices.size
    target = minor.astype(mx.int64)
    for _ in range(width.bit_length()):  # bisection steps, not a loop over entries
        open_ = lo < hi
        mid = (lo + hi) // 2
        v = s.indices[mx.clip(mid, 0, max(nnz - 1, 0))].astype(mx.int64)
        go_right = open_ & ((v <= target) if right else (v < target))
        lo = mx.where(go_right, mid + 1, lo)
        hi = mx.where(go_right | ~open_, hi, mid)
    return lo


def _cs_find(s, qmaj, qmin, sorted_in):
    """All (entry, query) pairs where stored entry == query cell.

    qmaj, qmin: host int64 arrays. Returns (e, q, lower): matched entry and query
    positions (int64 MLX arrays), and for sorted storage the per-query insertion
    position (first entry not before the query cell), else None.
    """
    nq = qmaj.size
    if nq == 0 or s.indices.size == 0:
        empty = mx.zeros((0,), dtype=mx.int64)
        lower = None
        if sorted_in and nq:
            lower = s.indptr.astype(mx.int64)[mx.array(qmaj)]
        return empty, empty, lower
    if sorted_in:
        rows, minor = mx.array(qmaj), mx.array(qmin)
        indptr = s.indptr.astype(mx.int64)
        start, stop = indptr[rows], indptr[rows + 1]
        width = int(mx.max(stop - start).item())  # HOST SYNC: bisection step count
        lo = _bisect(s, start, stop, width, minor, right=False)
        hi = _bisect(s, start, stop, width, minor, right=True)
        _, q, e, _ = _expand(hi - lo, base=lo)
        return e, q, lo
    _check_key_range(s.n_major, s.n_minor)
    qkey = qmaj * s.n_minor + qmin
    order = np.argsort(qkey, kind="stable")
    skey = mx.array(qkey[order])
    order_d = mx.array(order.astype(np.int64))
    major = _ops.expand_indptr(s.indptr, s.indices.size)
    ekey = _flat_key(major, s.indices, s.n_minor)
    lo = mx.searchsorted(skey, ekey, side="left").astype(mx.int64)
    hi = mx.searchsorted(skey, ekey, side="right").astype(mx.int64)
    _, e, pos, _ = _expand(hi - lo, base=lo)
    return e, _gather(order_d, pos), None


def _cs_sample(s, qmaj, qmin):
    """Values at the query cells (duplicates summed, missing cells zero)."""
    if s.indptr.dtype == s.indices.dtype:  # one pass in C++ where there is a kernel (CPU)
        vals = _ops.run_optional("sample_values", s.data.dtype, s.indptr, s.indices, s.data,
                                 qmaj, qmin, bool(s.sorted_indices or s.canonical))
        if vals is not None:
            return vals
    e, q, _ = _cs_find(s, qmaj, qmin, _known_sorted(s))
    return _scatter_sum(qmaj.size, q, _gather(s.data, e))


def _empty_storage(S, shape, dtype, idx=mx.int32):
    n_major = shape[S.major_axis] if S is not COO else None
    if S is COO:
        return COO(mx.zeros((0,), idx), mx.zeros((0,), idx), mx.zeros((0,), dtype),
                   tuple(shape), canonical=True)
    return S(mx.zeros((n_major + 1,), idx), mx.zeros((0,), idx), mx.zeros((0,), dtype),
             tuple(shape), sorted_indices=True, canonical=True)


# ==================================================================================
# result packaging
# ==================================================================================
def _coo_class(A):
    from ._coo import coo_array, coo_matrix
    return coo_array if A._is_array else coo_matrix


def _not_2d(A, new_shape):
    kind = "1-D" if len(new_shape) == 1 else f"{len(new_shape)}-D"
    hint = (" Index with a list or a slice to keep the axis, e.g. A[[i], :] or "
            "A[:, j:j+1]." if len(new_shape) == 1 else "")
    return NotImplementedError(
        f"this index gives a {kind} sparse array of shape {new_shape} in SciPy; "
        f"mlx_sparse supports 2-D sparse arrays only.{hint}")


def _coo_reshaped(A, row, col, data, core_shape, new_shape, canonical, idx):
    """A COO result laid out in ``new_shape`` from coordinates in ``core_shape``
    (the same C-order positions), index dtype ``idx``."""
    if tuple(core_shape) != tuple(new_shape) and data.size:
        flat = row.astype(mx.int64) * core_shape[1] + col.astype(mx.int64)
        row, col = flat // new_shape[1], flat % new_shape[1]
    idx = _result_index_dtype(idx, new_shape, data.size, A._is_array)
    return _coo_class(A)._from_storage(
        COO(row.astype(idx), col.astype(idx), data, tuple(new_shape), canonical=canonical),
        A.maxprint)


def _package_sparse(A, core, new_shape):
    """SciPy's packaging of a 2-D sparse result of a compressed format."""
    if core.shape == tuple(new_shape) or (not A._is_array and len(new_shape) == 1):
        return A._with_storage(core)
    if len(new_shape) != 2:
        raise _not_2d(A, new_shape)
    major = _ops.expand_indptr(core.indptr, core.indices.size)
    row, col = core.swap((major, core.indices))
    return _coo_reshaped(A, row, col, core.data, core.shape, new_shape,
                         canonical=core.canonical and core.major_axis == 0,
                         idx=core.indices.dtype)


def _package_dense(A, vals, new_shape):
    """A dense result: SciPy's ndarray (array API) or np.matrix (matrix API)."""
    shape = tuple(new_shape)
    if not A._is_array and len(shape) < 2:
        shape = (1,) * (2 - len(shape)) + shape
    return vals.reshape(shape)


# ==================================================================================
# getitem
# ==================================================================================
def _classify(r, c):
    """'scalar', ('outer', row Sel-able, col Sel-able) or ('inner', R, C)."""
    if _is_int(r) and _is_int(c):
        return ("scalar",)
    if isinstance(r, np.ndarray) and isinstance(c, np.ndarray):
        if r.ndim == 2 and r.shape[1] == 1 and (c.ndim == 1 or c.shape[0] == 1):
            return ("outer", r[:, 0], c.reshape(-1))
        R, C = np.broadcast_arrays(r, c)
        return ("inner", R, C)
    return ("outer", r, c)


@_on_data_device
def getitem(A, key):
    if A.format == "coo" and not A._is_array:
        raise TypeError("'coo_matrix' object is not subscriptable")
    index, new_shape, _, _ = _validate_key(key, A.shape, A.format)
    if A.format == "coo":
        return _coo_getitem(A, index, new_shape)
    if len(new_shape) > 2:
        raise IndexError(f"Indexing that leads to >2D is not supported by {A.format} "
                         "format. Try converting to COO format")
    return _cs_getitem(A, index, new_shape)


def _cs_scalar(s, r, c):
    maj, mnr = s.swap((r, c))
    lo, hi = (int(v) for v in np.asarray(mx.stack([s.indptr[maj], s.indptr[maj + 1]])))  # HOST SYNC
    seg = s.indices[lo:hi]
    vals = s.data[lo:hi]
    return _sum_values(mx.where(seg == mnr, vals, mx.zeros_like(vals)), s.data.dtype)


def _result_index_dtype(idx, shape, nnz, is_array):
    """SciPy's index dtype for a result built from index arrays of dtype ``idx``:
    kept by the array API, narrowed to int32 where it fits by the matrix API."""
    if idx == mx.int64 and not is_array and max(tuple(shape) + (nnz,)) <= _INT32_MAX:
        return mx.int32
    if idx == mx.int32 and max(tuple(shape) + (nnz,)) > _INT32_MAX:
        return mx.int64
    return idx


def _built_from_shape(rsel, csel, keys, major_axis):
    """Whether SciPy builds this empty result from its shape (int32 indices): an
    empty axis read through _major/_minor_index_fancy or _major/_minor_slice, that
    is, unless it came through _get_submatrix (two unit-step slices, or CSR's
    array x unit-step column slice) or was the key slice(None)."""
    for x, y, key, is_col in ((rsel, csel, keys[0], False), (csel, rsel, keys[1], True)):
        if x.length != 0:
            continue
        if x.pos is not None:
            return True
        if isinstance(key, slice) and key == slice(None):
            continue
        if y.pos is None:
            if (x.step, y.step) != (1, 1):
                return True
        elif not (major_axis == 0 and is_col and x.step == 1):
            return True
    return False


def _cs_outer(s, rsel, csel, is_array=True, keys=(None, None)):
    """The (len(rsel), len(csel)) compressed submatrix, same layout as s; keys: the
    user's (row, col) keys (SciPy's index dtype of empty results depends on them)."""
    shape = (rsel.length, csel.length)
    if rsel.is_all and csel.is_all:
        return s.with_(indptr=mx.array(s.indptr), indices=mx.array(s.indices),
                       data=mx.array(s.data))
    msel, nsel = s.swap((rsel, csel))
    backwards = nsel.pos is None and nsel.step < 0 and nsel.length > 1
    sorted_in = _known_sorted(s) if backwards else (s.sorted_indices or s.canonical)
    indptr, indices, data = _cs_major(s, msel)
    indptr, indices, data = _cs_minor(indptr, indices, data, nsel, sorted_in)
    idx = _result_index_dtype(s.indices.dtype, shape, indices.size, is_array)
    if _built_from_shape(rsel, csel, keys, s.major_axis):
        idx = mx.int32
    keeps_order = nsel.pos is None or nsel.increasing
    return type(s)(indptr.astype(idx), indices.astype(idx), data, shape,
                   sorted_indices=sorted_in and keeps_order,
                   canonical=s.canonical and keeps_order)


def _cs_getitem(A, index, new_shape):
    s = A._s
    r, c = index
    kind = _classify(r, c)
    if kind[0] == "scalar":
        val = _cs_scalar(s, r, c)
        return val if new_shape == () else _package_dense(A, val, new_shape)
    if kind[0] == "inner":
        R, C = kind[1], kind[2]
        if R.size == 0:
            core = _empty_storage(type(s), np.atleast_2d(R).shape, s.data.dtype)
            return _package_sparse(A, core, new_shape)
        qmaj, qmin = s.swap((R.ravel(), C.ravel()))
        vals = _cs_sample(s, qmaj, qmin)
        if R.ndim == 1:
            return _package_dense(A, vals, new_shape)
        dense = vals.reshape(R.shape)
        indptr, indices, data = _ops.dense_to_compressed(
            dense if s.major_axis == 0 else dense.T, _index_dtype(R.shape, 0))
        core = type(s)(indptr, indices, data, tuple(R.shape), sorted_indices=True,
                       canonical=True)
        return _package_sparse(A, core, new_shape)
    core = _cs_outer(s, _Sel.of(kind[1], s.shape[0]), _Sel.of(kind[2], s.shape[1]),
                     A._is_array, keys=(r, c))
    return _package_sparse(A, core, new_shape)


def _coo_getitem(A, index, new_shape):
    s = A._s
    r, c = index
    if new_shape == ():
        hit = (s.row == r) & (s.col == c)
        return _sum_values(mx.where(hit, s.data, mx.zeros_like(s.data)), s.data.dtype)
    if len(new_shape) != 2:
        raise _not_2d(A, new_shape)
    kind = _classify(r, c)
    if kind[0] == "inner":
        R, C = kind[1], kind[2]
        e, q = _coo_match(s, R.ravel(), C.ravel())
        core_shape = (1, R.size) if R.ndim == 1 else R.shape
        width = core_shape[1] if core_shape[1] else 1
        return _coo_reshaped(A, q // width, q % width, _gather(s.data, e), core_shape,
                             new_shape, canonical=False, idx=mx.int64)
    if kind[0] == "scalar":  # int, int plus None axes: matching entries, not summed
        kind = ("outer", r, c)
    rsel, csel = _Sel.of(kind[1], s.shape[0]), _Sel.of(kind[2], s.shape[1])
    row, col, data = _coo_outer(s, rsel, csel)
    canonical = s.canonical and rsel.strictly_increasing and csel.increasing
    # SciPy's coordinates along index arrays are intp: int64 results
    idx = mx.int64 if rsel.pos is not None or csel.pos is not None else s.row.dtype
    return _coo_reshaped(A, row, col, data, (rsel.length, csel.length), new_shape,
                         canonical, idx)


def _coo_outer(s, rsel, csel):
    """Entries of a COO storage in the outer selection rsel x csel, entry order kept
    (each entry's copies in row-position then column-position order)."""
    mr, fr, single_r = _axis_map(rsel, s.row)
    mc, fc, single_c = _axis_map(csel, s.col)
    if mr is None and mc is None:
        return s.row, s.col, s.data
    mult = mr if mc is None else mc if mr is None else mr * mc
    single = single_r and single_c
    _, e, t, total = _expand(mult, rank=not single)
    if total == 0:
        z = mx.zeros((0,), dtype=mx.int64)
        return z, z, mx.zeros((0,), dtype=s.data.dtype)
    if single:
        return fr(e, None), fc(e, None), s.data[e]
    if mc is None:
        return fr(e, t), fc(e, None), s.data[e]
    m_c = mc[e]
    return fr(e, t // m_c), fc(e, t % m_c), s.data[e]


def _coo_match(s, qr, qc):
    """All (entry, query) pairs of a COO storage and query cells; entry-major order,
    then query position (SciPy's order)."""
    if qr.size == 0 or s.data.size == 0:
        z = mx.zeros((0,), dtype=mx.int64)
        return z, z
    n_cols = s.shape[1]
    _check_key_range(s.shape[0], n_cols)
    qkey = qr.astype(np.int64) * n_cols + qc
    order = np.argsort(qkey, kind="stable")
    skey = mx.array(qkey[order])
    ekey = _flat_key(s.row, s.col, n_cols)
    lo = mx.searchsorted(skey, ekey, side="left").astype(mx.int64)
    hi = mx.searchsorted(skey, ekey, side="right").astype(mx.int64)
    _, e, pos, _ = _expand(hi - lo, base=lo)
    return e, _gather(mx.array(order.astype(np.int64)), pos)


# ==================================================================================
# values for assignments
# ==================================================================================
def _np_dtype(dt):
    return np.dtype(np.float32) if dt == mx.bfloat16 else MX_TO_NP[dt]


def _dense_values(x, dt):
    """An MLX array of dtype ``dt`` from an assigned value (NumPy's casting rules and
    errors for host inputs; sparse inputs densified)."""
    if issparse(x):
        x = x.toarray()
    if isinstance(x, mx.array):
        return x if x.dtype == dt else x.astype(dt)
    a = np.asarray(x, dtype=_np_dtype(dt))
    out = mx.array(np.ascontiguousarray(a), dtype=NP_TO_MX[a.dtype])
    return out if out.dtype == dt else out.astype(dt)


def _squeezed(shape):
    return tuple(d for d in shape if d != 1)


def _broadcast_value(xv, shape):
    try:
        np.broadcast_shapes(tuple(xv.shape), tuple(shape))
        if np.broadcast_shapes(tuple(xv.shape), tuple(shape)) != tuple(shape):
            raise ValueError
    except ValueError:
        raise ValueError(f"could not broadcast the assigned value of shape "
                         f"{tuple(xv.shape)} to the indexed shape {tuple(shape)}") from None
    return mx.broadcast_to(xv, tuple(shape))


def _sparse_value_coo(x):
    """(row, col, data, shape) of a sparse value, duplicates summed; x is untouched."""
    from ._coo import coo_array
    c = coo_array(x) if not hasattr(x, "_s") else x.tocoo()
    c = c._with_storage(c._s)  # our own wrapper: sum_duplicates must not touch x
    c.sum_duplicates()
    return c._s.row, c._s.col, c._s.data, tuple(c.shape)


# ==================================================================================
# setitem
# ==================================================================================
@_on_data_device
def setitem(A, key, x):
    if A.format == "coo" and not A._is_array:
        raise TypeError("'coo_matrix' object does not support item assignment")
    index, new_shape, arr_int_pos, none_pos = _validate_key(key, A.shape, A.format)
    if A.format == "coo":
        new_s = _coo_setitem(A._s, index, new_shape, arr_int_pos, none_pos, x)
    else:
        new_s = _cs_setitem(A, index, x)
    if new_s is not None:
        A._s = new_s


def _region(s, r, c):
    """SciPy's broadcast (row, col) target arrays of a compressed assignment."""
    if isinstance(r, slice):
        r = np.arange(*r.indices(s.shape[0]), dtype=np.int64)[:, None]
    else:
        r = np.atleast_1d(np.asarray(r, dtype=np.int64))
    if isinstance(c, slice):
        c = np.arange(*c.indices(s.shape[1]), dtype=np.int64)[None, :]
        if r.ndim == 1:
            r = r[:, None]
    else:
        c = np.atleast_1d(np.asarray(c, dtype=np.int64))
    return np.broadcast_arrays(r, c)


def _cs_setitem(A, index, x):
    s = A._s
    dt = s.data.dtype
    r, c = index
    if _is_int(r) and _is_int(c):
        xv = _dense_values(x, dt)
        if xv.size != 1:
            raise ValueError("Trying to assign a sequence to an item")
        return _cs_set_many(A, s, np.array([r]), np.array([c]), xv.reshape(1))
    i, j = _region(s, r, c)
    if issparse(x):
        return _cs_set_sparse(A, s, i, j, x)
    xv = _dense_values(x, dt)
    if _squeezed(xv.shape) != _squeezed(i.shape):
        xv = _broadcast_value(xv, i.shape)
    if xv.size == 0:
        return None
    return _cs_set_many(A, s, i.ravel(), j.ravel(), xv.reshape(-1))


def _cs_set_sparse(A, s, i, j, x):
    if 0 in x.shape:
        return None
    if i.ndim == 1:
        i, j = i[None], j[None]
    xr, xc, xd, xshape = _sparse_value_coo(x)
    M, N = i.shape
    b_row = xshape[0] == 1 and M != 1
    b_col = xshape[1] == 1 and N != 1
    if not ((b_row or xshape[0] == M) and (b_col or xshape[1] == N)):
        raise ValueError("shape mismatch in assignment")
    xd = xd.astype(s.data.dtype)
    # Existing entries of the region become explicit zeros; then x's entries are set.
    s = _cs_set_many(A, s, i.ravel(), j.ravel(), mx.zeros((i.size,), s.data.dtype),
                     insert=False)
    if xd.size == 0:
        return s
    xr_h, xc_h = np.asarray(xr, dtype=np.int64), np.asarray(xc, dtype=np.int64)
    if b_row:
        xr_h, xc_h = np.repeat(np.arange(M), xr_h.size), np.tile(xc_h, M)
        xd = mx.tile(xd, (M,))
    if b_col:
        xr_h, xc_h = np.repeat(xr_h, N), np.tile(np.arange(N), xc_h.size)
        xd = mx.repeat(xd, N)
    return _cs_set_many(A, s, i[xr_h, xc_h], j[xr_h, xc_h], xd)


def _cs_set_many(A, s, ti, tj, xv, insert=True, warn=True):
    """Storage with cells (ti[k], tj[k]) (host, row/col) set to xv[k]; repeated
    cells take their last value. Missing cells are inserted (with SciPy's
    SparseEfficiencyWarning) unless ``insert`` is False."""
    maj, mnr = s.swap((np.asarray(ti, np.int64), np.asarray(tj, np.int64)))
    if maj.size == 0:
        return s
    _check_key_range(s.n_major, s.n_minor)
    key = maj * s.n_minor + mnr
    src = np.arange(key.size)
    uniq, first_rev = np.unique(key[::-1], return_index=True)
    if uniq.size != key.size:  # the last assignment to a cell wins
        src = key.size - 1 - first_rev
        maj, mnr = maj[src], mnr[src]
    for attempt in range(2):
        sorted_in = _known_sorted(s)
        perm = np.lexsort((mnr, maj)) if sorted_in else np.argsort(maj, kind="stable")
        m_h, n_h = maj[perm], mnr[perm]
        e, q, lower = _cs_find(s, m_h, n_h, sorted_in)
        hits = _scatter_sum(m_h.size, q, mx.ones(q.shape, dtype=mx.int32))
        most, missing = (int(v) for v in np.asarray(mx.stack(
            [mx.max(hits), mx.sum(hits == 0)])))  # HOST SYNC
        if most > 1 and attempt == 0:  # a target cell is stored twice: canonicalise
            s = _canonical(s)
            continue
        break
    vals = xv[mx.array(src[perm].astype(np.int64))]
    data = _scatter_set(s.data, e, _gather(vals, q))
    if missing == 0 or not insert:
        return s.with_(data=data)
    if warn:
        name = type(A).__name__
        warnings.warn(f"Changing the sparsity structure of a {name} is expensive: "
                      "build the structure in COO format (or assign all new entries "
                      "in one call) instead.", SparseEfficiencyWarning, stacklevel=4)
    new = _where(hits == 0, missing)
    nm = mx.array(m_h)[new]
    nn = mx.array(n_h)[new]
    nv = vals[new]
    if sorted_in:
        rank = lower[new]
    else:  # unsorted slices: new entries go after the old ones of their slice
        rank = s.indptr.astype(mx.int64)[nm + 1]
    return _merge_insert(s.with_(data=data), nm, nn, nv, rank, sorted_in)


def _merge_insert(s, nm, nn, nv, rank, sorted_in):
    """Insert entries (major nm, minor nn, value nv) before the old entries at global
    positions ``rank`` (non-decreasing along the new entries)."""
    nnz, k = s.indices.size, nn.size
    total = nnz + k
    idx = s.indices.dtype
    if total > _INT32_MAX or max(s.shape) > _INT32_MAX:
        idx = mx.int64
    # Each entry's output slot: old entries shift by the new ones ranked at or before
    # them. (Two scatters measure faster than the gather formulation on MLX's CPU.)
    pos_new = rank + mx.arange(k, dtype=mx.int64)
    ones = mx.ones((k,), dtype=_count_dtype(k))  # 32-bit counts: no int64 scatter on CUDA
    before = mx.cumsum(_scatter_sum(nnz + 1, rank, ones).astype(mx.int64))
    pos_old = mx.arange(nnz, dtype=mx.int64) + before[:nnz]
    dest = mx.concatenate([pos_old, pos_new])
    indices = _scatter_set(mx.zeros((total,), dtype=idx), dest,
                           mx.concatenate([s.indices.astype(idx), nn.astype(idx)]))
    data = _scatter_set(mx.zeros((total,), dtype=s.data.dtype), dest,
                        mx.concatenate([s.data, nv.astype(s.data.dtype)]))
    per_major = _scatter_sum(s.n_major, nm, ones)
    indptr = (s.indptr.astype(mx.int64) + _exclusive_cumsum(per_major, mx.int64)).astype(idx)
    return s.with_(indptr=indptr, indices=indices, data=data,
                   sorted_indices=sorted_in, canonical=s.canonical)


# ---- COO assignment ------------------------------------------------------------
def _coo_setitem(s, index, new_shape, arr_int_pos, none_pos, x):
    dt = s.data.dtype
    shape2 = tuple(d for k, d in enumerate(new_shape) if k not in set(none_pos))
    r, c = index
    arrays = [k for k in (0, 1) if isinstance(index[k], np.ndarray)]
    if arrays:
        bro = np.broadcast_arrays(*[index[k] for k in arrays])
        index = list(index)
        for k, a in zip(arrays, bro):
            index[k] = a
        r, c = index
    # SciPy appends intp coordinates (int64) except where every new coordinate comes
    # from the int32 coordinates of a sparse value through slices.
    new_idx = mx.int64
    if issparse(x):
        if 0 in x.shape:
            return None
        flat, xd, x_idx = _coo_sparse_value(x, shape2, dt)
        if all(isinstance(k, slice) for k in (r, c)) and x_idx == mx.int32:
            new_idx = s.row.dtype
    else:
        xv = _dense_values(x, dt)
        if xv.size == 0:
            return None
        if tuple(xv.shape) != shape2:
            sq = xv.reshape(_squeezed(xv.shape)) if xv.ndim else xv
            if shape2 == () and sq.size != 1:
                raise ValueError("cannot broadcast a non-scalar to a scalar array")
            xv = _broadcast_value(sq, shape2)
        if shape2 == ():
            flat, xd = mx.zeros((1,), dtype=mx.int64), xv.reshape(1)
        else:
            xf = xv.reshape(-1)
            flat = _where(xf != 0)
            xd = _gather(xf, flat)

    # remove the stored entries of the region
    keep = ~_coo_region_mask(s, r, c, arrays)
    if keep.size and not bool(mx.all(keep).item()):  # HOST SYNC
        pos = _where(keep)
        s = s.with_(row=s.row[pos], col=s.col[pos], data=s.data[pos])
    if xd.size == 0 and len(shape2) == 1:
        return s
    # x positions (C order over shape2) -> matrix cells
    xcoords = _unravel(flat, shape2)
    at = (arr_int_pos[0] if len(arr_int_pos) == arr_int_pos[-1] - arr_int_pos[0] + 1
          else 0) if arrays else -1
    arr_shape = index[arrays[0]].shape if arrays else ()
    x_axis, cells = 0, []
    for k, idx in enumerate((r, c)):
        if k == at:
            x_axis += len(arr_shape)
        if _is_int(idx):
            cells.append(mx.full((xd.size,), idx, dtype=mx.int64))
        elif isinstance(idx, slice):
            start, _, step = idx.indices(s.shape[k])
            cells.append(start + xcoords[x_axis] * step)
            x_axis += 1
        else:
            sub = xcoords[at:at + len(arr_shape)]
            p = _ravel(sub, arr_shape)
            cells.append(mx.array(idx.reshape(-1).astype(np.int64))[p])
    nr, nc = cells
    if arrays:  # repeated index cells: keep the first value, as SciPy
        nr, nc, xd = _first_per_cell(nr, nc, xd, s.shape)
    idx = new_idx
    return COO(mx.concatenate([s.row.astype(idx), nr.astype(idx)]),
               mx.concatenate([s.col.astype(idx), nc.astype(idx)]),
               mx.concatenate([s.data, xd.astype(dt)]), s.shape, canonical=False)


def _unravel(flat, shape):
    coords, rest = [], flat
    for d in reversed(shape):
        coords.append(rest % d if d else rest)
        rest = rest // d if d else rest
    return coords[::-1]


def _ravel(coords, shape):
    flat = mx.zeros(coords[0].shape, dtype=mx.int64) if coords else mx.array(0)
    for cdim, d in zip(coords, shape):
        flat = flat * d + cdim
    return flat


def _coo_region_mask(s, r, c, arrays):
    """Which stored entries lie in the indexed region."""
    if s.data.size == 0:
        return mx.zeros((0,), dtype=mx.bool_)
    if len(arrays) == 2:
        e, _ = _coo_match(s, r.ravel(), c.ravel())
        return _scatter_sum(s.data.size, e, mx.ones(e.shape, dtype=mx.bool_))
    hit = mx.ones(s.row.shape, dtype=mx.bool_)
    for coords, idx, n in ((s.row, r, s.shape[0]), (s.col, c, s.shape[1])):
        mult, _, _ = _axis_map(_Sel.of(idx, n), coords)
        if mult is not None:
            hit = hit & (mult > 0)
    return hit


def _first_per_cell(nr, nc, xd, shape):
    """Keep the first of entries sharing a cell; result sorted by cell."""
    n = xd.size
    if n < 2:
        return nr, nc, xd
    _check_key_range(*shape)
    key = _flat_key(nr, nc, shape[1])
    if (shape[0] * max(shape[1], 1)) * n <= _INT64_MAX:
        perm = mx.argsort(key * n + mx.arange(n, dtype=mx.int64))
    else:  # keys too wide to fold in the position: a stable sort on the host
        perm = mx.array(np.argsort(np.asarray(key), kind="stable").astype(np.int64))
    sk = key[perm]
    first = mx.concatenate([mx.ones((1,), dtype=mx.bool_), sk[1:] != sk[:-1]])
    keep = perm[_where(first)]
    return nr[keep], nc[keep], xd[keep]


def _coo_sparse_value(x, shape2, dt):
    """(flat positions over shape2, values) of a sparse assigned value, broadcast to
    shape2 (SciPy's rules: squeeze leading/trailing unit axes, then broadcast)."""
    xr, xc, xd, xshape = _sparse_value_coo(x)
    coords, xs = [xr.astype(mx.int64), xc.astype(mx.int64)], list(xshape)
    x_idx = xr.dtype
    while len(xs) > len(shape2):
        if xs[0] == 1:
            xs, coords = xs[1:], coords[1:]
        elif xs[-1] == 1:
            xs, coords = xs[:-1], coords[:-1]
        else:
            raise ValueError("shape mismatch in assignment")
    while len(xs) < len(shape2):
        xs, coords = [1] + xs, [mx.zeros_like(xr, dtype=mx.int64)] + coords
    xd = xd.astype(dt)
    for k, (want, have) in enumerate(zip(shape2, xs)):
        if want == have:
            continue
        if have != 1:
            raise ValueError("shape mismatch in assignment")
        nnz = xd.size
        coords = [mx.tile(co, (want,)) for co in coords]
        coords[k] = mx.repeat(mx.arange(want, dtype=mx.int64), nnz)
        xd = mx.tile(xd, (want,))
        x_idx = mx.int64
    if not shape2:
        return mx.zeros((xd.size,), dtype=mx.int64), xd, x_idx
    return _ravel(coords, shape2), xd, x_idx


# ==================================================================================
# setdiag
# ==================================================================================
def _diag_k(k):
    if isinstance(k, (float, np.floating)):
        if float(k).is_integer():
            return int(k)
        raise TypeError(f"k must be an integer, got {k!r}")
    return operator.index(k)


@_on_data_device
def setdiag(A, values, k=0):
    M, N = A.shape
    if (k > 0 and k >= N) or (k < 0 and -k >= M):
        raise ValueError("k exceeds array dimensions")
    k = _diag_k(k)
    values = values if isinstance(values, mx.array) else np.asarray(values)
    if A.format == "coo":
        new_s = _coo_setdiag(A._s, values, k)
    else:
        new_s = _cs_setdiag(A, values, k)
    if new_s is not None:
        A._s = new_s


def _diag_cells(M, N, k, n_values):
    """Rows and columns (host) of the first cells of diagonal k (all if n_values is None)."""
    if k < 0:
        n = min(M + k, N)
    else:
        n = min(M, N - k)
    if n_values is not None:
        n = min(n, n_values)
    n = max(n, 0)
    rows = np.arange(n, dtype=np.int64) + max(-k, 0)
    return rows, rows + k


def _cs_setdiag(A, values, k):
    s = A._s
    if 0 in s.shape:
        return None
    M, N = s.shape
    broadcast = values.ndim == 0
    rows, cols = _diag_cells(M, N, k, None if broadcast else len(values))
    if not broadcast:
        values = values[:rows.size]
    xv = _dense_values(values, s.data.dtype)
    xv = xv.reshape(-1) if xv.ndim else xv.reshape(1)
    if _squeezed(xv.shape) != _squeezed(rows.shape):
        xv = _broadcast_value(xv, rows.shape)
    if xv.size == 0:
        return None
    return _cs_set_many(A, s, rows, cols, xv, warn=False)


def _coo_setdiag(s, values, k):
    M, N = s.shape
    if values.ndim and not len(values):
        return None
    if values.ndim > 1:
        raise ValueError(f"setdiag values must be a scalar or 1-D; got shape "
                         f"{tuple(values.shape)}")
    rows, cols = _diag_cells(M, N, k, len(values) if values.ndim else None)
    n = rows.size
    if n == 0:
        return s.with_(canonical=False)
    if values.ndim:
        new_data = _dense_values(values[:n], s.data.dtype)
    else:
        new_data = mx.broadcast_to(_dense_values(values, s.data.dtype), (n,))
    drop = (s.col.astype(mx.int64) - s.row.astype(mx.int64) == k)
    drop = drop & ((s.row if k >= 0 else s.col) < n)
    if s.data.size and bool(mx.any(drop).item()):  # HOST SYNC
        keep = _where(~drop)
        s = s.with_(row=s.row[keep], col=s.col[keep], data=s.data[keep])
    idx = s.row.dtype
    return COO(mx.concatenate([s.row, mx.array(rows).astype(idx)]),
               mx.concatenate([s.col, mx.array(cols).astype(idx)]),
               mx.concatenate([s.data, new_data.astype(s.data.dtype)]), s.shape,
               canonical=False)


# ==================================================================================
# resize
# ==================================================================================
def _resize_shape(A, args):
    if len(args) == 0:
        raise TypeError("function missing 1 required positional argument: 'shape'")
    if len(args) == 1:
        try:
            it = iter(args[0])
        except TypeError:
            shape = (operator.index(args[0]),)
        else:
            shape = tuple(operator.index(a) for a in it)
    else:
        shape = tuple(operator.index(a) for a in args)
    if any(d < 0 for d in shape):
        raise ValueError("'shape' elements cannot be negative")
    if len(shape) == 1 and A._is_array and A.format in ("csr", "coo"):
        raise NotImplementedError(
            f"resize to {shape} gives a 1-D sparse array in SciPy; mlx_sparse supports "
            "2-D sparse arrays only")
    if len(shape) != 2:
        raise ValueError(f"shape must have length 2. Got new_shape={shape}")
    return shape


@_on_data_device
def resize(A, *shape):
    shape = _resize_shape(A, shape)
    s = A._s
    if A.format == "coo":
        M, N = shape
        keep = (s.row < M) & (s.col < N)
        if s.data.size and not bool(mx.all(keep).item()):  # HOST SYNC
            pos = _where(keep)
            s = s.with_(row=s.row[pos], col=s.col[pos], data=s.data[pos])
        A._s = s.with_(shape=shape)
        return
    new_major, new_minor = s.swap(shape)
    indptr, indices, data = s.indptr, s.indices, s.data
    if new_major < s.n_major:
        cut = int(indptr[new_major].item())  # HOST SYNC
        indptr, indices, data = indptr[:new_major + 1], indices[:cut], data[:cut]
    elif new_major > s.n_major:
        pad = mx.broadcast_to(indptr[-1:], (new_major - s.n_major,))
        indptr = mx.concatenate([indptr, pad])
    if new_minor < s.n_minor and indices.size:
        keep = indices < new_minor
        if not bool(mx.all(keep).item()):  # HOST SYNC
            kept_before = _exclusive_cumsum(keep, mx.int64)
            pos = _where(keep)
            indptr = kept_before[indptr].astype(indptr.dtype)
            indices, data = indices[pos], data[pos]
    A._s = s.with_(indptr=indptr, indices=indices, data=data, shape=shape)


# ==================================================================================
# getrow / getcol (matrix API)
# ==================================================================================
def _line_index(A, i, axis):
    n = A.shape[axis]
    if A.format == "coo":
        if i < -n or i >= n:
            raise IndexError("index out of bounds")
        i = operator.index(i) if not isinstance(i, float) else int(i)
    else:
        i = int(i)
        if i < -n or i >= n:
            raise IndexError(f"index ({i}) out of range")
    return i + n if i < 0 else i


def _line(A, i, axis):
    """Row (axis 0) or column (axis 1) i as a 2-D compressed matrix: csc input keeps
    csc for columns; everything else gives csr (as SciPy)."""
    from ._csc import csc_matrix
    from ._csr import csr_matrix
    i = _line_index(A, i, axis)
    s = A._s
    M, N = s.shape
    sel_line = _Sel(s.shape[axis], i, 1, 1)
    sels = (sel_line, _Sel(N)) if axis == 0 else (_Sel(M), sel_line)
    shape = (sels[0].length, sels[1].length)
    if A.format == "coo":
        row, col, data = _coo_outer(s, *sels)
        idx = _index_dtype(shape, data.size)
        indptr, indices, data = _ops.coo_to_compressed(
            shape[0], shape[1], row.astype(idx), col.astype(idx), data)
        return csr_matrix._from_storage(
            CSR(indptr, indices, data, shape, sorted_indices=True, canonical=True),
            A.maxprint)
    core = _cs_outer(s, *sels)
    if A.format == "csc" and axis == 0:
        # A (1, N) CSC row read as CSR: indices are the columns of the entries.
        cols = _ops.expand_indptr(core.indptr, core.indices.size).astype(core.indices.dtype)
        indptr = mx.array([0, core.indices.size], dtype=core.indptr.dtype)
        return csr_matrix._from_storage(
            CSR(indptr, cols, core.data, shape, sorted_indices=True,
                canonical=core.canonical), A.maxprint)
    cls = csc_matrix if A.format == "csc" else csr_matrix
    return cls._from_storage(core, A.maxprint)


@_on_data_device
def getrow(A, i):
    return _line(A, i, 0)


@_on_data_device
def getcol(A, j):
    return _line(A, j, 1)
