"""mlx_sparse: SciPy's sparse matrices and sparse linear algebra on Apple's MLX."""
__version__ = "0.1.0"

from . import sparse  # noqa: E402,F401
