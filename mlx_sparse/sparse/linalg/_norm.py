"""Norms of sparse matrices (SciPy 1.17's scipy.sparse.linalg.norm), computed with
MLX ops on the stored entries; results are mx.arrays (0-d for a matrix norm, 1-D
for norms along an axis)."""
import mlx.core as mx
import numpy as np

from .._base import _ours, issparse
from ..._dtypes import device_for
from ..._ops.mlx_impl import _count_dtype, _scatter_sum
from ..._ops.mlx_products import _scatter_extreme

__all__ = ["norm"]


def _abs_real_dtype(dt):
    if dt == mx.complex64:
        return mx.float32
    if dt in (mx.float16, mx.bfloat16, mx.float32, mx.float64):
        return dt
    return mx.float64


def _frobenius(x):
    """sqrt(sum |a|^2) over the stored values as they are (SciPy's rule: duplicates
    of a COO are not summed first)."""
    if x.format in ("csr", "csc", "coo", "bsr", "dia"):
        data = x._s.data
    else:
        data = x.tocoo()._s.data
    data = mx.abs(data).astype(_abs_real_dtype(data.dtype)).reshape(-1)
    return mx.sqrt(mx.sum(data * data))


def _entries(x):
    """(row, col, |value|, nonzero) of x, duplicates summed."""
    c = x.tocoo(copy=True)
    c.sum_duplicates()
    s = c._s
    vals = s.data
    nz = vals != 0
    a = mx.abs(vals)
    if not mx.issubdtype(a.dtype, mx.inexact):
        a = a.astype(mx.int64)
    elif a.dtype in (mx.float16, mx.bfloat16):
        a = a.astype(mx.float32)
    return s.row, s.col, a, nz


def _reduce(x, axis, kind, p=None):
    """Per-row (axis=1) or per-column (axis=0) reduction of |x| (implicit zeros
    included): 'sum', 'max', 'min', 'count' (nonzeros), 'pow' (sum |a|^p)."""
    row, col, a, nz = _entries(x)
    key = col if axis == 0 else row
    m, full = x.shape[1 - axis], x.shape[axis]
    # MLX's CUDA scatter has no int64: counts are taken in 32 bits, and int64 |a|
    # (integer input) goes through the 64-bit-safe sum and max/min helpers.
    cdt = _count_dtype(key.size)
    if kind == "count":
        return _scatter_sum(m, key, nz.astype(cdt)).astype(mx.int64)
    if kind == "sum":
        return _scatter_sum(m, key, a)
    if kind == "pow":
        af = a.astype(mx.float64 if a.dtype == mx.int64 else a.dtype)
        return _scatter_sum(m, key, af ** p)
    if kind == "max":
        if a.dtype == mx.int64:
            return mx.maximum(_scatter_extreme("max", m, key, a), 0)
        return mx.zeros((m,), dtype=a.dtype).at[key].maximum(a)
    # min: an implicit zero in the row/column makes it 0; a slot without stored
    # values holds int64 max / inf (it is then 0 unless the axis has length 0)
    stored = _scatter_sum(m, key, mx.ones(key.shape, dtype=cdt)).astype(mx.int64)
    if a.dtype == mx.int64:
        lo = _scatter_extreme("min", m, key, a)
    else:
        lo = mx.full((m,), np.inf, dtype=a.dtype).at[key].minimum(a)
    return mx.where(stored < full, mx.zeros_like(lo), lo)


def norm(x, ord=None, axis=None):
    """Norm of a sparse matrix (SciPy's scipy.sparse.linalg.norm).

    ord: None/'fro'/'f' (Frobenius), 1, -1, inf, -inf, 2 (largest singular value;
    computed densely on the host, for matrices up to 4096 on a side) for matrix
    norms; None/2, 1, 0, inf, -inf and any other number p for vector norms along
    ``axis`` (an int). Returns a 0-d mx.array for a matrix norm, a 1-D mx.array
    for vector norms.
    """
    if not issparse(x):
        raise TypeError("input is not sparse. use numpy.linalg.norm")
    x = _ours(x)
    dev = device_for(x._s.data.dtype)
    with mx.stream(dev):
        if axis is None and ord in (None, "fro", "f"):
            return _frobenius(x)
        nd = 2
        if axis is None:
            axis = (0, 1)
        elif not isinstance(axis, tuple):
            msg = "'axis' must be None, an integer or a tuple of integers"
            try:
                int_axis = int(axis)
            except TypeError as e:
                raise TypeError(msg) from e
            if axis != int_axis:
                raise TypeError(msg)
            axis = (int_axis,)
        if len(axis) == 2:
            row_axis, col_axis = axis
            if not (-nd <= row_axis < nd and -nd <= col_axis < nd):
                raise ValueError(f"Invalid axis {axis!r} for an array with shape "
                                 f"{x.shape!r}")
            if row_axis % nd == col_axis % nd:
                raise ValueError("Duplicate axes given.")
            row_axis, col_axis = row_axis % nd, col_axis % nd
            if ord == 2:
                return _two_norm(x)
            if ord == -2:
                raise NotImplementedError
            if ord == 1:
                return mx.max(_reduce(x, row_axis, "sum"))
            if ord == np.inf:
                return mx.max(_reduce(x, col_axis, "sum"))
            if ord == -1:
                return mx.min(_reduce(x, row_axis, "sum"))
            if ord == -np.inf:
                return mx.min(_reduce(x, col_axis, "sum"))
            if ord in (None, "f", "fro"):
                return _frobenius(x)
            raise ValueError("Invalid norm order for matrices.")
        if len(axis) == 1:
            a, = axis
            if not (-nd <= a < nd):
                raise ValueError(f"Invalid axis {axis!r} for an array with shape "
                                 f"{x.shape!r}")
            a %= nd
            if ord == np.inf:
                return _reduce(x, a, "max")
            if ord == -np.inf:
                return _reduce(x, a, "min")
            if ord == 0:
                return _reduce(x, a, "count")
            if ord == 1:
                return _reduce(x, a, "sum")
            if ord in (2, None):
                return mx.sqrt(_reduce(x, a, "pow", 2))
            try:
                ord + 1
            except TypeError as e:
                raise ValueError("Invalid norm order for vectors.") from e
            return _reduce(x, a, "pow", ord) ** (1 / ord)
        raise ValueError("Improper number of dimensions to norm.")


def _two_norm(x):
    if min(x.shape) == 0:
        return mx.array(0.0)
    if max(x.shape) > 4096:
        raise NotImplementedError(
            "norm(x, ord=2) is computed densely and supports matrices up to 4096 on a "
            "side (an iterative svds is not available yet)")
    d = np.asarray(x.toarray())
    s = np.linalg.svd(d.astype(np.complex128 if d.dtype.kind == "c" else np.float64),
                      compute_uv=False)
    rdt = _abs_real_dtype(x._s.data.dtype)
    return mx.array(s[0], dtype=rdt if rdt != mx.float16 else mx.float32)
