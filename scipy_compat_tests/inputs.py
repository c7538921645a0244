"""Dense inputs in the forms a user passes them: NumPy, MLX, Python lists and
array-API (array_api_strict) arrays. Each library gets the very same object."""
import array_api_strict as xp
import mlx.core as mx
import numpy as np

DENSE_KINDS = ("numpy", "mlx", "list", "array_api")


def to_kind(a, kind):
    """The NumPy array `a` as a dense input of the given kind."""
    if kind == "numpy":
        return a.copy()
    if kind == "mlx":
        return mx.array(a, dtype=getattr(mx, "bool_" if a.dtype == bool else a.dtype.name))
    if kind == "list":
        return a.tolist()
    if kind == "array_api":
        return xp.asarray(a)
    raise ValueError(kind)


def kind_supports(a, kind):
    """Lists of complex numbers become complex128 (not in MLX); lists of uint64
    values become int64 in both libraries; everything else round-trips."""
    if kind == "list" and a.dtype.kind == "c":
        return False
    return True
