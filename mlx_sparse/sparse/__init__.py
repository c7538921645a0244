"""SciPy's scipy.sparse API on MLX: swap `import scipy.sparse` for
`import mlx_sparse.sparse`."""
from ._base import (SparseEfficiencyWarning, SparseFormatWarning, SparseWarning,
                    issparse, isspmatrix, matrix_transpose, sparray)
from ._coo import coo_array, coo_matrix, isspmatrix_coo
from ._csc import csc_array, csc_matrix, isspmatrix_csc
from ._csr import csr_array, csr_matrix, isspmatrix_csr
from ._matrix import spmatrix
from ._sputils import get_index_dtype
# the whole scipy.sparse namespace: more formats, constructors, extract, I/O
from ._bsr import bsr_array, bsr_matrix, isspmatrix_bsr
from ._dia import dia_array, dia_matrix, isspmatrix_dia
from ._dok import dok_array, dok_matrix, isspmatrix_dok
from ._lil import isspmatrix_lil, lil_array, lil_matrix
from ._construct import (block_array, block_diag, bmat, diags, diags_array,
                         expand_dims, eye, eye_array, hstack, identity, kron, kronsum,
                         permute_dims, rand, random, random_array, spdiags, swapaxes,
                         vstack)
from ._extract import find, tril, triu
from ._io import load_npz, save_npz
from ._index_utils import safely_cast_index_arrays
from . import csgraph  # present, every name raises: see docs/supported.md
from ._deprecated_modules import (base, bsr, compressed, construct, coo, csc, csr,
                                  data, dia, dok, extract, lil, sparsetools, sputils)
from . import linalg

__all__ = [
    "SparseEfficiencyWarning", "SparseFormatWarning", "SparseWarning",
    "coo_array", "coo_matrix", "csc_array", "csc_matrix", "csr_array", "csr_matrix",
    "get_index_dtype", "issparse", "isspmatrix", "isspmatrix_coo", "isspmatrix_csc",
    "isspmatrix_csr", "matrix_transpose", "sparray", "spmatrix",
    # the whole scipy.sparse namespace
    "bsr_array", "bsr_matrix", "isspmatrix_bsr", "dia_array", "dia_matrix",
    "isspmatrix_dia", "dok_array", "dok_matrix", "isspmatrix_dok", "lil_array",
    "lil_matrix", "isspmatrix_lil", "block_array", "block_diag", "bmat", "diags",
    "diags_array", "expand_dims", "eye", "eye_array", "hstack", "identity", "kron",
    "kronsum", "permute_dims", "rand", "random", "random_array", "spdiags",
    "swapaxes", "vstack", "find", "tril", "triu", "load_npz", "save_npz",
    "safely_cast_index_arrays", "base", "bsr", "compressed", "construct", "coo",
    "csc", "csr", "data", "dia", "dok", "extract", "lil", "sparsetools", "sputils",
    "csgraph", "linalg",
]

# Where MLX's default device is a GPU, float64 data computes on the CPU (the device
# policy in mlx_sparse/_dtypes.py): every public class and function goes through it.
import inspect as _inspect  # noqa: E402

from .._dtypes import on_value_device as _on_value_device  # noqa: E402
from .._dtypes import on_value_devices as _on_value_devices  # noqa: E402

_on_value_devices(*(v for v in map(globals().get, __all__) if _inspect.isclass(v)))
for _name in __all__:
    if _inspect.isfunction(globals()[_name]):
        globals()[_name] = _on_value_device(globals()[_name])
