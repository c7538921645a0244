"""Device-agnostic structural operations on sparse storage buffers, and the one
dispatch table that decides which implementation runs where.

Each op has a CPU implementation (C++ `_native`, when built) and a plain-MLX-ops
implementation (any device; the GPU path until GPU kernels land). `python -m
mlx_sparse info` prints this table.
"""
import mlx.core as mx

from .._dtypes import device_for
from . import mlx_impl, native_impl

OPS = (
    "coo_to_compressed", "compressed_transpose", "sort_indices", "sum_duplicates",
    "eliminate_zeros", "compressed_to_dense", "coo_to_dense", "dense_to_compressed",
    "compressed_diagonal", "expand_indptr",
)

# op -> {device type name -> (implementation name, function)}
DISPATCH = {
    op: {
        "cpu": (("native (C++)", getattr(native_impl, op)) if native_impl.AVAILABLE
                else ("mlx ops", getattr(mlx_impl, op))),
        "gpu": ("mlx ops", getattr(mlx_impl, op)),
    }
    for op in OPS
}


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


def expand_indptr(indptr, nnz):
    return _run("expand_indptr", None, indptr, nnz)


def table():
    """[(op, cpu implementation, gpu implementation)] for printing."""
    return [(op, DISPATCH[op]["cpu"][0], DISPATCH[op]["gpu"][0]) for op in OPS]
