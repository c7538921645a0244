"""Dtype and device policy: NumPy <-> MLX dtype mapping, and where data may compute.

MLX has no float64 (nor complex128) on any GPU, so float64 data lives and computes
on the CPU stream (reported once per process); complex128 does not exist in MLX at all
and is rejected with a TypeError naming the dtype.
"""
import functools
import inspect
import os
import warnings

import mlx.core as mx
import numpy as np

# One table for every value dtype we store; bfloat16 has no NumPy dtype (its buffers
# travel as uint16 bits).
_PAIRS = [
    (np.dtype(np.bool_), mx.bool_),
    (np.dtype(np.int8), mx.int8),
    (np.dtype(np.int16), mx.int16),
    (np.dtype(np.int32), mx.int32),
    (np.dtype(np.int64), mx.int64),
    (np.dtype(np.uint8), mx.uint8),
    (np.dtype(np.uint16), mx.uint16),
    (np.dtype(np.uint32), mx.uint32),
    (np.dtype(np.uint64), mx.uint64),
    (np.dtype(np.float16), mx.float16),
    (np.dtype(np.float32), mx.float32),
    (np.dtype(np.float64), mx.float64),
    (np.dtype(np.complex64), mx.complex64),
]
NP_TO_MX = {n: m for n, m in _PAIRS}
MX_TO_NP = {m: n for n, m in _PAIRS}

_MX_NAMES = {m: str(m).split(".")[-1] for _, m in _PAIRS}
_MX_NAMES[mx.bfloat16] = "bfloat16"
_BY_NAME = {v: k for k, v in _MX_NAMES.items()}

SUPPORTED_NAMES = tuple(_MX_NAMES.values())


def dtype_name(dt):
    """'float32', 'bfloat16', ... for an MLX dtype."""
    return _MX_NAMES[dt]


def to_mx_dtype(dtype):
    """Map any dtype-like (NumPy dtype, type, string, MLX dtype) to an MLX dtype.

    Raises TypeError naming the dtype when MLX cannot hold it (complex128, longdouble,
    object, strings).
    """
    if isinstance(dtype, mx.Dtype):
        return dtype
    if isinstance(dtype, str) and dtype in _BY_NAME:
        return _BY_NAME[dtype]
    try:
        nd = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"could not interpret data type {dtype!r}") from e
    if nd in NP_TO_MX:
        return NP_TO_MX[nd]
    if nd == np.complex128 or nd.kind == "c":
        raise TypeError(
            f"dtype {nd} is not supported: MLX has no complex128; convert to "
            "complex64 explicitly (e.g. dtype=numpy.complex64)")
    raise TypeError(f"mlx_sparse does not support dtype {nd}. Supported: "
                    + ", ".join(SUPPORTED_NAMES))


def to_np_dtype(dt):
    """NumPy dtype of an MLX dtype (bfloat16 has none: raises TypeError)."""
    if dt == mx.bfloat16:
        raise TypeError("bfloat16 has no NumPy dtype")
    return MX_TO_NP[dt]


def is_integer(dt):
    return mx.issubdtype(dt, mx.integer)


def is_complex(dt):
    return dt == mx.complex64


def is_float(dt):
    return mx.issubdtype(dt, mx.floating)


# ----------------------------------------------------------------------------------
# Device policy
# ----------------------------------------------------------------------------------
_CPU_ONLY = (mx.float64,)
_reported_cpu_fallback = False


def needs_cpu(dt):
    """True when values of dtype dt cannot compute on a GPU stream in MLX."""
    return dt in _CPU_ONLY


def device_for(dt):
    """The device an op on values of dtype dt runs on: MLX's default device, except
    float64, which MLX supports only on the CPU (reported once per process)."""
    dev = mx.default_device()
    if dev.type == mx.DeviceType.cpu or not needs_cpu(dt):
        return dev
    global _reported_cpu_fallback
    if not _reported_cpu_fallback and not os.environ.get("MLX_SPARSE_QUIET"):
        _reported_cpu_fallback = True
        warnings.warn(
            "mlx_sparse: float64 data computes on the CPU because MLX has no float64 "
            "on the GPU; use .astype(numpy.float32) to run on the GPU "
            "(set MLX_SPARSE_QUIET=1 to silence this note).",
            RuntimeWarning, stacklevel=3)
    return mx.Device(mx.cpu)


_UNSIGNED = (mx.uint8, mx.uint16, mx.uint32, mx.uint64)


def cast_values(a, dt):
    """``a.astype(dt)`` with NumPy's result on every device. MLX's CUDA backend
    saturates negative floats cast to an unsigned dtype at 0, where NumPy (and MLX's
    CPU) wrap them modulo 2**bits: on a GPU those go through int64 (the same wrap for
    every value int64 holds; NumPy leaves the others undefined)."""
    if a.dtype == dt:
        return a
    if dt in _UNSIGNED and mx.issubdtype(a.dtype, mx.inexact) and \
            mx.default_device().type != mx.DeviceType.cpu:
        real = mx.real(a) if a.dtype == mx.complex64 else a
        return mx.where(real < 0, real.astype(mx.int64).astype(dt), real.astype(dt))
    return a.astype(dt)


def _refused_on_gpu(err):
    """Whether err is MLX refusing an op on a GPU stream that its CPU runs: any float64
    op, and some complex64 ones (e.g. arcsinh on CUDA: "Can not do unary op ...")."""
    return (isinstance(err, ValueError) and "float64" in str(err)) or (
        isinstance(err, RuntimeError) and str(err).startswith("Can not do"))


def _own_dtype(obj):
    """The MLX dtype of a sparse object's values (its public dtype is NumPy's), read
    without side effects: DOK / LIL keep it in _dtype (their _s builds a cached
    storage), the others in their storage _s; None for anything else."""
    attrs = getattr(obj, "__dict__", {})
    dt = attrs.get("_dtype")
    if dt is None:
        dt = getattr(getattr(attrs.get("_s"), "data", None), "dtype", None)
    return dt if isinstance(dt, mx.Dtype) else None


def on_value_device(fn):
    """fn, run where its values may compute: on MLX's default device, except that where
    that is a GPU, calls on float64 data run on the CPU stream (device_for), those of a
    float64 sparse object at once, any other call once MLX refuses one of its ops on
    the GPU (_refused_on_gpu; then the whole call runs again on the CPU: calls change
    nothing the caller holds before they succeed, so the second run starts from the
    same state)."""
    if getattr(fn, "_on_value_device", False):
        return fn

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if mx.default_device().type == mx.DeviceType.cpu:
            return fn(*args, **kwargs)
        own = _own_dtype(args[0]) if args else None
        if own is not None and needs_cpu(own):
            with mx.stream(device_for(own)):
                return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except (ValueError, RuntimeError) as err:
            if not _refused_on_gpu(err):
                raise
            float64 = isinstance(err, ValueError)
        with mx.stream(device_for(mx.float64) if float64 else mx.Device(mx.cpu)):
            return fn(*args, **kwargs)

    run._on_value_device = True
    return run


# Special methods that compute (the public ones are all wrapped); not __iter__: a
# generator's body runs after the call returns (its items come from __getitem__).
_COMPUTING_DUNDERS = frozenset(
    f"__{n}__" for n in (
        "init add radd sub rsub mul rmul matmul rmatmul truediv rtruediv floordiv "
        "rfloordiv pow rpow neg pos abs round eq ne lt le gt ge getitem setitem iadd isub "
        "imul itruediv imatmul bool repr str call").split())


def on_value_devices(*classes):
    """Wrap (on_value_device) the public and computing special methods and properties
    of each class and of its mlx_sparse bases, once each."""
    seen = set()
    for cls in classes:
        for klass in cls.__mro__:
            if klass in seen or not klass.__module__.startswith("mlx_sparse"):
                continue
            seen.add(klass)
            for name, attr in list(vars(klass).items()):
                if name.startswith("_") and name not in _COMPUTING_DUNDERS:
                    continue
                if inspect.isfunction(attr):
                    setattr(klass, name, on_value_device(attr))
                elif isinstance(attr, property) and attr.fget is not None and name != "dtype":
                    setattr(klass, name, property(
                        on_value_device(attr.fget),
                        attr.fset and on_value_device(attr.fset), attr.fdel, attr.__doc__))
