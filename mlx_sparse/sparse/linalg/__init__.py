"""SciPy's scipy.sparse.linalg on MLX: swap `import scipy.sparse.linalg` for
`import mlx_sparse.sparse.linalg`."""
from ._interface import LinearOperator, aslinearoperator
from ._norm import norm
from ._dsolve import is_sptriangular, spbandwidth, spsolve_triangular
from ._matfuncs import matrix_power
from ._special_sparse_arrays import LaplacianNd
from . import preconditioners
from ._isolve import *  # noqa: F401,F403  (cg, bicg, ..., and part B's solvers)
from ._isolve import __all__ as _isolve_all
from ._isolve.utils import get_check_every, set_check_every

__all__ = ["LinearOperator", "aslinearoperator", "norm", "spsolve_triangular",
           "is_sptriangular", "spbandwidth", "matrix_power", "LaplacianNd", *_isolve_all,
           "get_check_every", "set_check_every"]


class NotSupportedError(NotImplementedError, AttributeError):
    """A scipy.sparse.linalg name mlx_sparse does not offer yet (docs/supported.md);
    an AttributeError too, so hasattr() and introspection see a missing name."""


# scipy.sparse.linalg names not implemented yet: using one fails loudly, never silently.
_NOT_YET = {
    "direct solvers": ("spsolve", "splu", "spilu", "factorized", "use_solver", "SuperLU",
                       "MatrixRankWarning"),
    "eigen/singular value solvers": ("eigs", "eigsh", "lobpcg", "svds", "ArpackError",
                                     "ArpackNoConvergence"),
    "matrix functions": ("expm", "expm_multiply", "inv", "onenormest",
                         "funm_multiply_krylov"),
    "SciPy's deprecated submodules": ("dsolve", "eigen", "interface", "isolve",
                                      "matfuncs"),
}


def __getattr__(name):
    for what, names in _NOT_YET.items():
        if name in names:
            raise NotSupportedError(
                f"mlx_sparse.sparse.linalg.{name}: {what} are not implemented by "
                f"mlx_sparse yet (docs/supported.md); convert with A.to_scipy() and use "
                f"scipy.sparse.linalg.{name}")
    raise AttributeError(f"module 'mlx_sparse.sparse.linalg' has no attribute {name!r}")


# Where MLX's default device is a GPU, float64 data computes on the CPU (the device
# policy in mlx_sparse/_dtypes.py): every public class and function goes through it.
def _guard_namespace(namespace, names):
    import inspect
    from ..._dtypes import on_value_device, on_value_devices
    on_value_devices(*(namespace[n] for n in names if inspect.isclass(namespace[n])))
    for n in names:
        if inspect.isfunction(namespace[n]):
            namespace[n] = on_value_device(namespace[n])


_guard_namespace(globals(), __all__)
_guard_namespace(vars(preconditioners), preconditioners.__all__)
