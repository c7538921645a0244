"""SciPy's scipy.sparse API on MLX: swap `import scipy.sparse` for
`import mlx_sparse.sparse`."""
from ._base import (SparseEfficiencyWarning, SparseFormatWarning, SparseWarning,
                    issparse, isspmatrix, sparray)
from ._coo import coo_array, coo_matrix, isspmatrix_coo
from ._csc import csc_array, csc_matrix, isspmatrix_csc
from ._csr import csr_array, csr_matrix, isspmatrix_csr
from ._matrix import spmatrix
from ._sputils import get_index_dtype

__all__ = [
    "SparseEfficiencyWarning", "SparseFormatWarning", "SparseWarning",
    "coo_array", "coo_matrix", "csc_array", "csc_matrix", "csr_array", "csr_matrix",
    "get_index_dtype", "issparse", "isspmatrix", "isspmatrix_coo", "isspmatrix_csc",
    "isspmatrix_csr", "sparray", "spmatrix",
]
