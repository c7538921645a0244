"""SciPy's scipy.sparse.linalg on MLX: swap `import scipy.sparse.linalg` for
`import mlx_sparse.sparse.linalg`."""
from ._interface import LinearOperator, aslinearoperator
from ._norm import norm
from . import preconditioners
from ._isolve import *  # noqa: F401,F403  (cg, bicg, ..., and part B's solvers)
from ._isolve import __all__ as _isolve_all
from ._isolve.utils import get_check_every, set_check_every

__all__ = ["LinearOperator", "aslinearoperator", "norm", *_isolve_all,
           "get_check_every", "set_check_every"]
