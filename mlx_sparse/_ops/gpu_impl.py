"""GPU implementation: custom kernels through mx.fast.cuda_kernel / metal_kernel.

Ops listed in KERNELS run as GPU kernels; every other op uses plain MLX ops on the GPU.
"""
import mlx.core as mx

API = "cuda" if mx.cuda.is_available() else ("metal" if mx.metal.is_available() else None)

KERNELS = {}  # op name -> function (filled as kernels land)


def has(op):
    return API is not None and op in KERNELS
