"""Device-agnostic structural operations on sparse storage buffers, and the one
dispatch table that decides which implementation runs where.

Each op has a CPU implementation (C++ `_native`, when built) and a plain-MLX-ops
implementation (any device; the GPU path until GPU kernels land). Optional kernels
(whole solver steps, block stacking) exist only where they are faster than their
callers' own MLX-ops code: elsewhere their entry is NOT_AVAILABLE and the caller runs
that code. `python -m mlx_sparse info` prints this table.
"""
import mlx.core as mx

from .._dtypes import device_for
from . import gpu_impl, mlx_impl, mlx_products, native_impl

# op -> module holding its plain-MLX-ops implementation
_MLX_MODULE = {
    **{op: mlx_impl for op in (
        "coo_to_compressed", "compressed_transpose", "sort_indices", "sum_duplicates",
        "eliminate_zeros", "compressed_to_dense", "coo_to_dense", "dense_to_compressed",
        "compressed_diagonal", "triangular_diagonal", "expand_indptr")},
    **{op: mlx_products for op in (
        "compressed_matvec", "compressed_matvec_t", "compressed_matmat",
        "compressed_matmat_t", "compressed_matmul", "compressed_binop",
        "compressed_reduce_major", "compressed_reduce_minor")},
}
# Optional kernels: cg's whole loop (C++ on the CPU), cg's iteration in two launches
# (GPU), gmres's Gram-Schmidt step and basis combination
# (sparse/linalg/_isolve), the triangular solve (sparse/linalg/preconditioners: C++
# substitution on the CPU, the sync-free CUDA kernel on an NVIDIA GPU),
# stacking compressed blocks along the minor axis (sparse/_construct), gathering major
# slices, minor coordinates and cell values (sparse/_index); callers run them with
# run_optional.
OPTIONAL_OPS = ("compressed_cg", "cg_step", "gram_schmidt", "combine_rows", "stack_minor",
                "take_major", "take_minor", "sample_values", "triangular_solve")
OPS = tuple(_MLX_MODULE) + OPTIONAL_OPS
NOT_AVAILABLE = ("not available", None)


def _cpu_entry(op):
    if native_impl.AVAILABLE and native_impl.has(op):
        return ("native (C++)", getattr(native_impl, op))
    if op in OPTIONAL_OPS:
        return NOT_AVAILABLE
    return ("mlx ops", getattr(_MLX_MODULE[op], op))


def _gpu_entry(op):
    if gpu_impl.has(op):
        return (f"{gpu_impl.API} kernel", gpu_impl.KERNELS[op])
    if op in OPTIONAL_OPS:
        return NOT_AVAILABLE
    return ("mlx ops", getattr(_MLX_MODULE[op], op))


# op -> {device type name -> (implementation name, function)}
DISPATCH = {op: {"cpu": _cpu_entry(op), "gpu": _gpu_entry(op)} for op in OPS}


def _device_name(dev):
    return "cpu" if dev.type == mx.DeviceType.cpu else "gpu"


def _run(op, value_dtype, *args):
    dev = device_for(value_dtype) if value_dtype is not None else mx.default_device()
    _, fn = DISPATCH[op][_device_name(dev)]
    with mx.stream(dev):
        return fn(*args)


# One function per op; `data` (or `dense`) decides the device through its dtype.
def coo_to_compressed(n_major, n_minor, major, minor, data):
    return _run("coo_to_compressed", data.dtype, n_major, n_minor, major, minor, data)


def compressed_transpose(n_major, n_minor, indptr, indices, data):
    return _run("compressed_transpose", data.dtype, n_major, n_minor, indptr, indices, data)


def sort_indices(indptr, indices, data, n_minor):
    # n_minor bounds the keys of the MLX-ops sort (one sort instead of two).
    return _run("sort_indices", data.dtype, indptr, indices, data, n_minor)


def sum_duplicates(indptr, indices, data):
    return _run("sum_duplicates", data.dtype, indptr, indices, data)


def eliminate_zeros(indptr, indices, data):
    return _run("eliminate_zeros", data.dtype, indptr, indices, data)


def compressed_to_dense(n_major, n_minor, indptr, indices, data):
    return _run("compressed_to_dense", data.dtype, n_major, n_minor, indptr, indices, data)


def coo_to_dense(n_rows, n_cols, row, col, data):
    return _run("coo_to_dense", data.dtype, n_rows, n_cols, row, col, data)


def dense_to_compressed(dense, index_dtype):
    return _run("dense_to_compressed", dense.dtype, dense, index_dtype)


def compressed_diagonal(k, n_major, n_minor, indptr, indices, data):
    return _run("compressed_diagonal", data.dtype, k, n_major, n_minor, indptr, indices, data)


def triangular_diagonal(n, indptr, indices, data, lower, unit_diagonal):
    return _run("triangular_diagonal", data.dtype, n, indptr, indices, data, lower,
                unit_diagonal)


def expand_indptr(indptr, nnz):
    return _run("expand_indptr", None, indptr, nnz)


def compressed_matvec(n_major, n_minor, indptr, indices, data, x):
    return _run("compressed_matvec", data.dtype, n_major, n_minor, indptr, indices, data, x)


def compressed_matvec_t(n_major, n_minor, indptr, indices, data, x):
    return _run("compressed_matvec_t", data.dtype, n_major, n_minor, indptr, indices, data, x)


def compressed_matmat(n_major, n_minor, indptr, indices, data, X):
    return _run("compressed_matmat", data.dtype, n_major, n_minor, indptr, indices, data, X)


def compressed_matmat_t(n_major, n_minor, indptr, indices, data, X):
    return _run("compressed_matmat_t", data.dtype, n_major, n_minor, indptr, indices, data, X)


def compressed_matmul(n_major, n_inner, n_minor, a_indptr, a_indices, a_data,
                      b_indptr, b_indices, b_data):
    return _run("compressed_matmul", a_data.dtype, n_major, n_inner, n_minor,
                a_indptr, a_indices, a_data, b_indptr, b_indices, b_data)


def compressed_binop(op, n_major, n_minor, a_indptr, a_indices, a_data,
                     b_indptr, b_indices, b_data):
    return _run("compressed_binop", a_data.dtype, op, n_major, n_minor,
                a_indptr, a_indices, a_data, b_indptr, b_indices, b_data)


def compressed_reduce_major(op, n_major, indptr, data):
    return _run("compressed_reduce_major", data.dtype, op, n_major, indptr, data)


def compressed_reduce_minor(op, n_minor, indices, data):
    return _run("compressed_reduce_minor", data.dtype, op, n_minor, indices, data)


def optional_kernel(op, device):
    """The implementation of optional kernel op (one of OPTIONAL_OPS) on device, or
    None when there is none (the caller then runs its own MLX-ops code)."""
    return DISPATCH[op][_device_name(device)][1]


def run_optional(op, value_dtype, *args):
    """Optional kernel op run on the device values of value_dtype compute on (as _run
    does for the other ops), or None when that device has none (the caller then runs
    its own MLX-ops code)."""
    dev = device_for(value_dtype)
    kernel = optional_kernel(op, dev)
    if kernel is None:
        return None
    with mx.stream(dev):
        return kernel(*args)


def table():
    """[(op, cpu implementation, gpu implementation)] for printing."""
    return [(op, DISPATCH[op]["cpu"][0], DISPATCH[op]["gpu"][0]) for op in OPS]
