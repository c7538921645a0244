"""Vectorised index-array helpers shared by the constructors (_construct.py) and the
DIA/BSR formats, and SciPy's `safely_cast_index_arrays`.

MLX facts these rely on (measured on the CPU backend, MLX 0.32):
* `mx.take_along_axis` / `mx.put_along_axis` are an order of magnitude faster than
  `a[idx]`, `mx.take` and `a.at[idx].add(...)`, so gathers and scatters use them.
* Sorting is slow (~1 s for 10M keys), so none of the large-output paths sort.
* "Which segment does entry p belong to" is a forward fill: write each segment's id
  at its (unique) start and take a running maximum (`mx.cummax`).
"""
import importlib

import mlx.core as mx
import numpy as np

from .._ops.mlx_impl import _exclusive_cumsum as exclusive_cumsum  # noqa: F401 (shared)
from ._sputils import get_index_dtype, mx_index_dtype

_INT32_MAX = np.iinfo(np.int32).max

__all__ = ["safely_cast_index_arrays"]


# ---- streams ---------------------------------------------------------------------
_SIDE_STREAMS = {}


def side_stream():
    """A second stream on the current default device. Constructors build their
    independent outputs (index arrays next to values) on it: MLX runs each CPU
    stream on its own thread, so the two proceed in parallel; MLX orders the
    cross-stream dependencies. Results do not depend on it."""
    dev = mx.default_device()
    key = (dev.type, getattr(dev, "index", 0))
    st = _SIDE_STREAMS.get(key)
    if st is None:
        st = _SIDE_STREAMS[key] = mx.new_stream(dev)
    return st


def value_stream(dt):
    """Stream for computing values of dtype dt: the default one, or the CPU when the
    device cannot hold dt (float64 on a GPU; see mlx_sparse._dtypes)."""
    from .._dtypes import device_for
    return mx.stream(device_for(dt))


# ---- containers ----------------------------------------------------------------
def container(fmt, is_array):
    """The public class for a format and kind: container("csr", True) -> csr_array."""
    mod = importlib.import_module(f"._{fmt}", __package__)
    return getattr(mod, f"{fmt}_{'array' if is_array else 'matrix'}")


def is_sparray(x):
    """isinstance(x, sparray) for our objects and SciPy's."""
    from ._base import sparray
    if isinstance(x, sparray):
        return True
    import scipy.sparse as ssp
    return isinstance(x, ssp.sparray)


def index_dtype_for(maxval, arrays=()):
    """MLX index dtype (int32 unless maxval or the arrays need int64)."""
    return mx_index_dtype(get_index_dtype(arrays, maxval=maxval))


# ---- prefix sums and compaction ------------------------------------------------
def positions_of(mask):
    """Indices (int32/int64) of the True entries of a 1-D bool array, in order.
    One host sync for the count."""
    n = mask.size
    if n == 0:
        return mx.zeros((0,), mx.int32)
    cdt = mx.int32 if n <= _INT32_MAX else mx.int64
    before = mx.cumsum(mask.astype(cdt))
    count = int(before[-1].item())  # HOST SYNC: output length
    if count == n:
        return mx.arange(n, dtype=cdt)
    if count == 0:
        return mx.zeros((0,), cdt)
    # Kept entry p goes to slot before[p] - 1; dropped ones to a spare slot.
    dest = mx.where(mask, before - 1, count)
    out = mx.put_along_axis(mx.zeros((count + 1,), cdt), dest,
                            mx.arange(n, dtype=cdt), axis=0)
    return out[:count]


def take(a, idx):
    """a[idx] along axis 0 of a 1-D array (the fast gather)."""
    if idx.size == 0:
        return mx.zeros((0,), a.dtype)
    return mx.take_along_axis(a, idx, axis=0)


def segment_ids(starts, n, first_id=None):
    """For n entries split into segments that begin at `starts` (non-decreasing,
    segment k begins at starts[k]; empty segments allowed), the segment of each
    entry. Returns int32/int64 ids.

    Empty segments share their start with the next segment; only the last segment
    starting at a position owns it, so starts are made unique first."""
    n = int(n)
    nseg = starts.size
    cdt = mx.int32 if max(n, nseg) <= _INT32_MAX else mx.int64
    if n == 0:
        return mx.zeros((0,), cdt)
    starts = starts.astype(cdt)
    ids = mx.arange(nseg, dtype=cdt)
    # A segment owns its start iff the next segment starts later (or it is last and
    # non-empty).
    nxt = mx.concatenate([starts[1:], mx.array([n], cdt)])
    owns = nxt > starts
    keep = positions_of(owns)
    if keep.size != nseg:
        starts, ids = take(starts, keep), take(ids, keep)
    marks = mx.put_along_axis(mx.zeros((n,), cdt), starts, ids, axis=0)
    return mx.cummax(marks)


def expand_indptr(indptr, nnz):
    """Major index of each of the nnz entries of a compressed structure."""
    return segment_ids(indptr[:-1], nnz).astype(indptr.dtype)


# ---- SciPy's safely_cast_index_arrays ------------------------------------------
def safely_cast_index_arrays(A, idx_dtype=np.int32, msg=""):
    """The index arrays of A cast to idx_dtype, raising ValueError if a value does not
    fit (SciPy's scipy.sparse.safely_cast_index_arrays). Returns (indices, indptr) for
    CSR/CSC/BSR, the coords for COO and the offsets for DIA; arrays already of the
    dtype are returned as they are (test `A.indptr is new_indptr`)."""
    from .._dtypes import to_mx_dtype
    if not msg:
        msg = f"dtype {idx_dtype}"
    max_value = int(np.iinfo(idx_dtype).max)
    target = to_mx_dtype(idx_dtype)
    big_shape = max(*A.shape) > max_value

    def largest(a):
        return int(a.max().item()) if a.size else 0

    def cast(a):
        return a if a.dtype == target else a.astype(target)

    fmt = A.format
    if fmt in ("csr", "csc", "bsr"):
        R, C = A.blocksize if fmt == "bsr" else (1, 1)
        if int(A.indptr[-1].item()) * R > max_value:
            raise ValueError(f"indptr values too large for {msg}")
        if big_shape and largest(A.indices) * C > max_value:
            raise ValueError(f"indices values too large for {msg}")
        return cast(A.indices), cast(A.indptr)
    if fmt == "coo":
        if big_shape and any(largest(c) > max_value for c in A.coords):
            raise ValueError(f"coords values too large for {msg}")
        return tuple(cast(c) for c in A.coords)
    if fmt == "dia":
        if big_shape and largest(A.offsets) > max_value:
            raise ValueError(f"offsets values too large for {msg}")
        return cast(A.offsets)
    raise TypeError(f"Format {fmt} is not associated with index arrays. "
                    "DOK and LIL have dict and list, not array.")
