"""Functions to extract parts of sparse matrices (SciPy's scipy.sparse._extract)."""
import math

import mlx.core as mx

from ._base import issparse
from ._index_utils import container, is_sparray, positions_of, take

__all__ = ["find", "tril", "triu"]


def _coo_of(A):
    """A COO object of ours for A (sparse of any kind/library, or dense), keeping
    A's array/matrix kind as SciPy's extract functions do."""
    from ._construct import _ours
    is_array = is_sparray(A)
    if issparse(A):
        return _ours(A).tocoo()
    return container("coo", is_array)(A)


def find(A):
    """(row, col, values) of the nonzero entries of A, duplicates summed, in
    row-major order (SciPy's find). Returns MLX arrays."""
    coo = _coo_of(A)
    c = coo._with_storage(coo._s)  # never reorders A itself
    c.sum_duplicates()
    s = c._s
    keep = positions_of(s.data != 0) if s.data.size else mx.zeros((0,), mx.int32)
    if keep.size == s.data.size:
        return s.row, s.col, s.data
    return take(s.row, keep), take(s.col, keep), take(s.data, keep)


def tril(A, k=0, format=None):
    """Lower triangle of A: entries on or below the k-th diagonal (SciPy's tril;
    COO unless format). Duplicates and explicit zeros are kept."""
    return _triangle(A, k, format, lower=True)


def triu(A, k=0, format=None):
    """Upper triangle of A: entries on or above the k-th diagonal (SciPy's triu)."""
    return _triangle(A, k, format, lower=False)


def _triangle(A, k, format, lower):
    coo = _coo_of(A)
    s = coo._s
    diff = s.col.astype(mx.int64) - s.row.astype(mx.int64)
    if lower:
        keep = diff <= math.floor(k)     # row + k >= col
    else:
        keep = diff >= math.ceil(k)      # row + k <= col
    pos = positions_of(keep) if s.data.size else mx.zeros((0,), mx.int32)
    if pos.size == s.data.size:
        row, col, data = mx.array(s.row), mx.array(s.col), mx.array(s.data)
    else:
        row, col, data = take(s.row, pos), take(s.col, pos), take(s.data, pos)
    out = coo._with_storage(s.with_(row=row, col=col, data=data,
                                    canonical=s.canonical))
    return out.asformat(format)
