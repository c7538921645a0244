"""The device the unit and oracle suites run on.

    MLX_SPARSE_TEST_DEVICE=gpu python -m pytest      # MLX's default device: the GPU

makes the GPU MLX's default device in every test process (float64 values still run on
the CPU: MLX has no float64 on a GPU). Without a GPU that request skips every test,
with the reason, rather than passing on the CPU. Unset or "cpu": the CPU.
"""
import os

import mlx.core as mx
import pytest

_DEVICE = os.environ.get("MLX_SPARSE_TEST_DEVICE", "cpu").lower() or "cpu"
_HAS_GPU = mx.cuda.is_available() or mx.metal.is_available()


def pytest_configure(config):
    if _DEVICE not in ("cpu", "gpu"):
        raise pytest.UsageError(f"MLX_SPARSE_TEST_DEVICE must be 'cpu' or 'gpu', got {_DEVICE!r}")
    if _DEVICE == "gpu" and _HAS_GPU:
        mx.set_default_device(mx.gpu)
    elif _DEVICE == "cpu":
        mx.set_default_device(mx.cpu)


def pytest_report_header(config):
    return f"mlx_sparse: tests run on {mx.default_device()} (MLX_SPARSE_TEST_DEVICE={_DEVICE})"


def pytest_collection_modifyitems(config, items):
    if _DEVICE == "gpu" and not _HAS_GPU:
        skip = pytest.mark.skip(reason="MLX_SPARSE_TEST_DEVICE=gpu, but this MLX has neither "
                                       "its CUDA nor its Metal backend available")
        for item in items:
            item.add_marker(skip)
