"""SciPy's sparse triangular solve and the triangular-structure queries of
scipy.sparse.linalg (spsolve_triangular, is_sptriangular, spbandwidth).

The solve is the preconditioners' _TriangularSolve, where its values compute (the
device policy of mlx_sparse._dtypes), through the optional kernel "triangular_solve":
on the CPU by substitution, row by row, in C++ (one pass over the matrix); on CUDA one
sync-free kernel launch. On Metal, or without the extension, level-scheduled (the rows
of one level at once, compiled MLX ops on a GPU), which is slow for chain-like matrices
(about one step per row). SciPy's checks run where the values are, through the op
triangular_diagonal (C++ on the CPU, one kernel on a GPU, else MLX ops).
"""
import warnings

import mlx.core as mx
import numpy as np
from numpy.linalg import LinAlgError

from ..._dtypes import MX_TO_NP, device_for, to_mx_dtype
from ..._ops import compressed_diagonal, expand_indptr, triangular_diagonal
from .._base import SparseEfficiencyWarning, _ours, issparse
from .preconditioners import _TriangularSolve

__all__ = ["spsolve_triangular", "is_sptriangular", "spbandwidth"]


def _host(a):
    return np.asarray(a.astype(mx.float32) if a.dtype == mx.bfloat16 else a)


def _structure(A):
    """(rows, cols) of the stored entries of A (a dense A: of its CSR form), as NumPy
    int64."""
    if not issparse(A):
        from .. import csr_array
        A = csr_array(A)
    S = _ours(A).tocoo()
    return _host(S.row).astype(np.int64), _host(S.col).astype(np.int64)


def _offsets(A):
    """The stored diagonals' offsets of a DIA matrix (SciPy reads them, not its
    entries), else None."""
    return _host(_ours(A).offsets).astype(np.int64) if issparse(A) and A.format == "dia" else None


def spsolve_triangular(A, b, lower=True, overwrite_A=False, overwrite_b=False,
                       unit_diagonal=False):
    """x with A x = b for triangular sparse A (SciPy's checks, errors and result dtype:
    that of A and b promoted, at least float32); x is an mx.array of b's shape.
    unit_diagonal: the diagonal is taken as 1 (stored values ignored). A and b are never
    changed (overwrite_A / overwrite_b are accepted). Where SciPy's answer for a matrix
    with nonzero entries on the other side of the diagonal is undefined, this raises
    LinAlgError."""
    if not (issparse(A) and A.format in ("csr", "csc")):
        warnings.warn("CSC or CSR matrix format is required. Converting to CSC matrix.",
                      SparseEfficiencyWarning, stacklevel=2)
        from .. import csc_array
        A = csc_array(A)
    if A.shape[0] != A.shape[1]:  # (SciPy solves a CSR matrix as its transpose's CSC)
        shape = A.shape[::-1] if A.format == "csr" else A.shape
        raise ValueError(f"A must be a square matrix but its shape is {shape}.")
    n = A.shape[0]
    S = _ours(A).tocsr()
    S = S._canonical_storage(S._s.data.dtype)  # (A itself unchanged)
    indptr, cols, vals = S.indptr, S.indices, S.data
    if vals.dtype == mx.bfloat16:
        vals = vals.astype(mx.float32)
    diag, singular, not_triangular = _checks(n, indptr, cols, vals, lower, unit_diagonal)
    if singular:
        raise LinAlgError("A is singular: zero entry on diagonal.")
    if not isinstance(b, mx.array):
        b = np.asanyarray(b)
    if b.ndim not in (1, 2):
        raise ValueError(f"b must have 1 or 2 dims but its shape is {b.shape}.")
    if b.shape[0] != n:
        raise ValueError("The size of the dimensions of A must be equal to the size of the "
                         f"first dimension of b but the shape of A is {A.shape} and the "
                         f"shape of b is {b.shape}.")
    a_dt = MX_TO_NP[vals.dtype]
    if not unit_diagonal:  # (SciPy first scales A by 1 / diagonal: integers become float64)
        a_dt = np.true_divide(1, np.ones(1, dtype=a_dt)).dtype
    b_dt = b.dtype if isinstance(b, np.ndarray) else (
        np.dtype(np.float32) if b.dtype == mx.bfloat16 else MX_TO_NP[b.dtype])
    result = np.promote_types(np.promote_types(a_dt, np.float32), b_dt)
    mdt = to_mx_dtype(result)  # complex128: TypeError (MLX has none)
    if not_triangular:
        raise LinAlgError(f"A is not {'lower' if lower else 'upper'} triangular: it stores "
                          "nonzero entries on the other side of the diagonal.")
    with mx.stream(device_for(mdt)):
        b = b.astype(mdt) if isinstance(b, mx.array) else mx.array(b, dtype=mdt)
        if n == 0:
            return mx.zeros(b.shape, dtype=mdt)
        return _TriangularSolve(n, indptr, cols, vals, diag, lower, mdt)(b)


def _checks(n, indptr, cols, vals, lower, unit_diagonal):
    """(diagonal or None, singular, not_triangular) of a canonical CSR matrix: SciPy's
    checks where the values are, with one host read. Its rows are sorted, so the entry
    at a row's end on the solve's side (lower: its last) is the row's diagonal entry
    unless the row stores entries on the other side (the op triangular_diagonal: one
    kernel on a GPU); only when a row does (explicit zeros, or an error) are all
    entries looked at."""
    nnz = cols.shape[0]
    if nnz == 0:
        return (None if unit_diagonal else mx.zeros((n,), dtype=vals.dtype),
                not unit_diagonal and n > 0, False)
    diag, status = triangular_diagonal(n, indptr, cols, vals, lower, unit_diagonal)
    status = status.item()
    if status < 2:  # no row crosses: the row ends are the diagonal
        return diag, status == 1, False
    rows = expand_indptr(indptr, nnz)
    other_side = (cols > rows) if lower else (cols < rows)
    flags = [mx.any(other_side & (vals != 0))]
    if not unit_diagonal:
        diag = compressed_diagonal(0, n, n, indptr, cols, vals)
        flags.append(mx.any(diag == 0))
    not_triangular, singular = (mx.stack(flags).tolist() + [False])[:2]
    return diag, singular, not_triangular


def is_sptriangular(A):
    """(lower, upper): whether the stored entries of sparse A lie on or below / on or
    above the diagonal (structure only; a diagonal A gives (True, True))."""
    if not (issparse(A) and A.format in ("csc", "csr", "coo", "dia", "dok", "lil")):
        warnings.warn("is_sptriangular needs sparse and not BSR format. Converting to CSR.",
                      SparseEfficiencyWarning, stacklevel=2)
    offsets = _offsets(A)
    if offsets is not None:
        return bool(offsets.max() <= 0), bool(offsets.min() >= 0)
    rows, cols = _structure(A)
    return bool(np.all(cols <= rows)), bool(np.all(cols >= rows))


def spbandwidth(A):
    """(below, above): the largest distance of a stored entry of sparse A below and above
    the diagonal (0 where there is none; structure only). As SciPy, a CSR/CSC/COO matrix
    without entries raises NumPy's ValueError for an empty reduction (DOK gives (0, 0))."""
    if not (issparse(A) and A.format in ("csc", "csr", "coo", "dia", "dok")):
        warnings.warn("spbandwidth needs sparse format not LIL and BSR. Converting to CSR.",
                      SparseEfficiencyWarning, stacklevel=2)
    offsets = _offsets(A)
    if offsets is not None:
        return max(0, -int(offsets.min())), max(0, int(offsets.max()))
    rows, cols = _structure(A)
    gap = cols - rows
    if issparse(A) and A.format == "dok":
        gap = np.append(gap, 0)
    return max(-int(np.min(gap)), 0), max(int(np.max(gap)), 0)
