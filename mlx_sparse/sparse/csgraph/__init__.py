"""scipy.sparse.csgraph is not implemented by mlx_sparse (see docs/supported.md).

The module exists so that `mlx_sparse.sparse.csgraph` resolves as in SciPy, and every
name looked up in it fails loudly with what to do instead, never with a result that
differs from SciPy's."""

__all__ = []


class CsgraphNotSupportedError(NotImplementedError, AttributeError):
    """Raised for every scipy.sparse.csgraph name (an AttributeError too, so hasattr()
    and introspection tools see a missing attribute)."""


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise CsgraphNotSupportedError(
        f"mlx_sparse.sparse.csgraph.{name}: scipy.sparse.csgraph is not implemented by "
        f"mlx_sparse; convert with A.to_scipy() and call scipy.sparse.csgraph.{name}")
