"""CSC format: the compressed implementation with columns as the major axis."""
from .._storage import CSC
from ._base import sparray
from ._compressed import _cs_base
from ._matrix import spmatrix


class _csc_base(_cs_base):
    _format = "csc"
    _storage = CSC


class csc_array(_csc_base, sparray):
    """Compressed Sparse Column array (SciPy's csc_array on MLX)."""


class csc_matrix(spmatrix, _csc_base):
    """Compressed Sparse Column matrix (SciPy's csc_matrix on MLX)."""


def isspmatrix_csc(x):
    """True for CSC sparse matrices (not arrays), ours or SciPy's."""
    import scipy.sparse as ssp
    return isinstance(x, csc_matrix) or ssp.isspmatrix_csc(x)
