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


def kind_supports(shape, dtype, kind):
    """Whether a dense array survives as a `kind` input: lists of complex numbers
    become complex128 (not in MLX, a documented difference), and a list of zero
    rows is 1-D; everything else round-trips."""
    if kind == "list" and np.dtype(dtype).kind == "c":
        return False
    if kind == "list" and len(shape) == 2 and shape[0] == 0:
        return False  # [] is a 1-D input: the (0, n) shape is lost
    return True


def spec_dense_params(specs):
    """pytest params (spec, dense_kind) for every pair a dense input can express."""
    import pytest
    return [pytest.param(s, k, id=f"{s.id}-{k}") for s in specs for k in DENSE_KINDS
            if kind_supports(s.shape, s.dtype, k)]
