"""CPU implementation: thin adapters from MLX arrays to mlx_sparse._native.

Inputs are read in place (np.asarray of an evaluated CPU MLX array is zero-copy);
bfloat16 travels as its uint16 bits. Outputs come back as NumPy arrays from C++ and
are copied once into MLX arrays here.
"""
import mlx.core as mx
import numpy as np

from .._dtypes import NP_TO_MX, dtype_name
from . import mlx_products
from .mlx_impl import _index_dtype

try:
    from .. import _native
except ImportError:  # extension not built: dispatch falls back to plain MLX ops
    _native = None

AVAILABLE = _native is not None


def has(op):
    """True when the built extension provides the kernel behind op."""
    return AVAILABLE and hasattr(_native, op) and op in globals()


def _np(a):
    """Zero-copy NumPy view of an MLX array (C-contiguous; bf16 as uint16 bits)."""
    if a.dtype == mx.bfloat16:
        a = a.view(mx.uint16)
    return np.ascontiguousarray(a)


def _mx(a, bf16):
    out = mx.array(a, dtype=NP_TO_MX[a.dtype])
    if bf16 and a.dtype == np.uint16:
        out = out.view(mx.bfloat16)
    return out


def _call(fn, data_dtype, *args):
    """Call a native kernel; array args are MLX arrays, the last arg is vtype."""
    conv = [(_np(a) if isinstance(a, mx.array) else a) for a in args]
    res = fn(*conv, dtype_name(data_dtype))
    bf16 = data_dtype == mx.bfloat16
    if isinstance(res, tuple):
        return tuple(_mx(r, bf16) for r in res)
    return _mx(res, bf16)


def coo_to_compressed(n_major, n_minor, major, minor, data):
    return _call(_native.coo_to_compressed, data.dtype, n_major, n_minor, major, minor, data)


def compressed_transpose(n_major, n_minor, indptr, indices, data):
    return _call(_native.compressed_transpose, data.dtype, n_major, n_minor, indptr, indices, data)


def sort_indices(indptr, indices, data, n_minor=None):
    return _call(_native.sort_indices, data.dtype, indptr, indices, data)


def sum_duplicates(indptr, indices, data):
    return _call(_native.sum_duplicates, data.dtype, indptr, indices, data)


def eliminate_zeros(indptr, indices, data):
    return _call(_native.eliminate_zeros, data.dtype, indptr, indices, data)


def compressed_to_dense(n_major, n_minor, indptr, indices, data):
    return _call(_native.compressed_to_dense, data.dtype, n_major, n_minor, indptr, indices, data)


def coo_to_dense(n_rows, n_cols, row, col, data):
    return _call(_native.coo_to_dense, data.dtype, n_rows, n_cols, row, col, data)


def dense_to_compressed(dense, index_dtype):
    conv = _np(dense)
    res = _native.dense_to_compressed(conv, dtype_name(dense.dtype), dtype_name(index_dtype))
    return tuple(_mx(r, dense.dtype == mx.bfloat16) for r in res)


def compressed_diagonal(k, n_major, n_minor, indptr, indices, data):
    return _call(_native.compressed_diagonal, data.dtype, k, n_major, n_minor, indptr, indices, data)


def triangular_diagonal(n, indptr, indices, data, lower, unit_diagonal):
    diag, status = _native.triangular_diagonal(int(n), _np(indptr), _np(indices), _np(data),
                                               bool(lower), bool(unit_diagonal),
                                               dtype_name(data.dtype))
    return (None if unit_diagonal else _mx(diag, data.dtype == mx.bfloat16)), \
        mx.array(status, dtype=mx.int32)


def stack_minor(n_major, indptrs, indices, data, offsets):
    """Blocks of one index and one value dtype stacked along the minor axis (hstack of
    CSR, vstack of CSC): (indptr, indices, data); block b's minor indices are shifted by
    offsets[b] (the caller picks an index dtype that holds the result)."""
    dt = data[0].dtype
    res = _native.stack_minor(int(n_major), [_np(a) for a in indptrs], [_np(a) for a in indices],
                              [_np(a) for a in data], [int(o) for o in offsets], dtype_name(dt))
    return tuple(_mx(r, dt == mx.bfloat16) for r in res)


def take_major(indptr, indices, data, rows):
    """Major slices rows (a NumPy int64 array; repeats allowed) of a compressed matrix
    whose index arrays share one dtype: (indptr as int64, indices, data)."""
    dt = data.dtype
    res = _native.take_major(_np(indptr), _np(indices), _np(data), np.ascontiguousarray(rows, np.int64),
                             dtype_name(dt))
    return tuple(_mx(r, dt == mx.bfloat16) for r in res)


def take_minor(n_minor, indptr, indices, data, pos, reverse):
    """Minor coordinates pos (a NumPy int64 array; repeats allowed) of a compressed
    matrix whose index arrays share one dtype, renumbered: (indptr as int64, indices,
    data); reverse: each slice back to front."""
    dt = data.dtype
    res = _native.take_minor(int(n_minor), _np(indptr), _np(indices), _np(data),
                             np.ascontiguousarray(pos, np.int64), bool(reverse), dtype_name(dt))
    return tuple(_mx(r, dt == mx.bfloat16) for r in res)


def sample_values(indptr, indices, data, rows, cols, sorted_indices):
    """Values at cells (rows[q], cols[q]) (NumPy int64 arrays) of a compressed matrix
    whose index arrays share one dtype: duplicates summed, zero where none is stored."""
    dt = data.dtype
    res = _native.sample_values(_np(indptr), _np(indices), _np(data), np.ascontiguousarray(rows, np.int64),
                                np.ascontiguousarray(cols, np.int64), bool(sorted_indices), dtype_name(dt))
    return _mx(res, dt == mx.bfloat16)


def expand_indptr(indptr, nnz):
    return _mx(_native.expand_indptr(_np(indptr), nnz), False)


# ---------------------------------------------------------------- products (csrc/products.hpp)
# Same contracts as the MLX-ops twins in mlx_products (argument checks are shared).

def _common_index(*arrays, dims=()):
    """The arrays in one index dtype: int64 if any is int64 or a dimension needs it."""
    want = _index_dtype(*arrays, dims=dims)
    return [a if a.dtype == want else a.astype(want) for a in arrays]


def compressed_matvec(n_major, n_minor, indptr, indices, data, x):
    mlx_products._check_vector(x, int(n_minor), "x")
    return _call(_native.compressed_matvec, data.dtype, int(n_major), int(n_minor), indptr, indices, data, x)


def compressed_matvec_t(n_major, n_minor, indptr, indices, data, x):
    mlx_products._check_vector(x, int(n_major), "x")
    return _call(_native.compressed_matvec_t, data.dtype, int(n_major), int(n_minor), indptr, indices, data, x)


def compressed_matmat(n_major, n_minor, indptr, indices, data, X):
    mlx_products._check_matrix(X, int(n_minor), "X")
    return _call(_native.compressed_matmat, data.dtype, int(n_major), int(n_minor), indptr, indices, data, X)


def compressed_matmat_t(n_major, n_minor, indptr, indices, data, X):
    mlx_products._check_matrix(X, int(n_major), "X")
    return _call(_native.compressed_matmat_t, data.dtype, int(n_major), int(n_minor), indptr, indices, data, X)


def compressed_matmul(n_major, n_inner, n_minor, a_indptr, a_indices, a_data, b_indptr, b_indices, b_data):
    dims = (int(n_major), int(n_inner), int(n_minor))
    ap, ai, bp, bi = _common_index(a_indptr, a_indices, b_indptr, b_indices, dims=(dims[0], dims[2]))

    def run(ap, ai, bp, bi):
        return _call(_native.compressed_matmul, a_data.dtype, *dims, ap, ai, a_data, bp, bi, b_data)

    try:
        return run(ap, ai, bp, bi)
    except ValueError as e:  # output nnz beyond int32: again with int64 indices
        if ap.dtype != mx.int32 or "does not fit" not in str(e):
            raise
        return run(*(a.astype(mx.int64) for a in (ap, ai, bp, bi)))


def compressed_binop(op, n_major, n_minor, a_indptr, a_indices, a_data, b_indptr, b_indices, b_data):
    if op not in mlx_products.BINOPS:
        raise ValueError(f"op must be one of {sorted(mlx_products.BINOPS)}, got {op!r}")
    idx = _common_index(a_indptr, a_indices, b_indptr, b_indices)
    return _call(_native.compressed_binop, a_data.dtype, op, int(n_major), int(n_minor),
                 idx[0], idx[1], a_data, idx[2], idx[3], b_data)


def compressed_reduce_major(op, n_major, indptr, data):
    return _call(_native.compressed_reduce_major, data.dtype, op, int(n_major), indptr, data)


def compressed_reduce_minor(op, n_minor, indices, data):
    return _call(_native.compressed_reduce_minor, data.dtype, op, int(n_minor), indices, data)


# ---------------------------------------------------------------- solver kernels (csrc/cg.hpp, arnoldi.hpp)
# Whole steps of the iterative solvers; their MLX-ops twins are the solvers' own loops.

def compressed_cg(indptr, indices, data, b, x0, atol, maxiter, diag_inv=None):
    """Conjugate gradients with the whole loop in C++ (CPU; float32/float64 only).

    indptr, indices, data: a square CSR matrix A (n x n; same index dtype for both
    index arrays); b, x0: length-n vectors of data's dtype; atol: absolute tolerance on
    the residual norm (fold SciPy's rtol in first: max(atol, rtol * |b|)); maxiter:
    iteration limit; diag_inv: None, or 1 / diag(A) as a vector of data's dtype for
    Jacobi preconditioning (SciPy's M = diag(1 / diag(A))).

    The iteration is scipy.sparse.linalg.cg's (same stopping test |r| < atol at the top
    of each iteration, same updates), so iteration counts agree with SciPy up to rounding.
    No callback: callers that need one use their Python loop.

    Returns (x, converged, iterations, residual_norm): x an mx.array; SciPy's `info` is
    0 if converged else iterations.
    """
    if data.dtype not in (mx.float32, mx.float64):
        raise TypeError(f"native cg supports float32 and float64 values, got {data.dtype}")
    conv = [_np(a) for a in (indptr, indices, data, b, x0)]
    dinv = None if diag_inv is None else _np(diag_inv)
    x, ok, its, res = _native.compressed_cg(*conv, float(atol), int(maxiter), dinv,
                                            dtype_name(data.dtype))
    return _mx(x, False), bool(ok), int(its), float(res)


def gram_schmidt(basis, w, out, reorth, normalize):
    """Classical Gram-Schmidt of w against the orthonormal rows of basis (k x n), into
    out (a writeable NumPy row; it may be w): h = basis^H w, out = w - basis^T h,
    repeated once when |out| < reorth |w|; with normalize, out /= |out| when finite.
    basis: a NumPy array; w: an mx.array or NumPy array of basis' dtype (float32,
    float64, complex64, complex128). Returns (h as NumPy, |w|, |out| before scaling)."""
    return _native.gram_schmidt(basis, _np(w) if isinstance(w, mx.array) else w, out,
                                float(reorth), bool(normalize), basis.dtype.name)


def combine_rows(basis, y):
    """y @ basis for a NumPy basis (k x n) and y (k,) of its dtype, as NumPy."""
    return _native.combine_rows(basis, np.ascontiguousarray(y, dtype=basis.dtype),
                                basis.dtype.name)


def triangular_solve(indptr, indices, data, diag_inv, b, lower):
    """X (an mx.array) with T X = b by substitution, row by row: T the square CSR matrix
    (MLX arrays) read as triangular (lower: its entries left of the diagonal, else
    right of it) with diagonal 1 / diag_inv (None: 1). b: (n, k) of data's dtype
    (float32, float64, complex64)."""
    x = _native.triangular_solve(_np(indptr), _np(indices), _np(data),
                                 None if diag_inv is None else _np(diag_inv), _np(b),
                                 bool(lower), dtype_name(data.dtype))
    return _mx(x, False)
