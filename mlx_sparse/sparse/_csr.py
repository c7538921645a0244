"""CSR format: the compressed implementation with rows as the major axis."""
from .._storage import CSR
from ._base import sparray
from ._compressed import _cs_base
from ._matrix import spmatrix


class _csr_base(_cs_base):
    _format = "csr"
    _storage = CSR


class csr_array(_csr_base, sparray):
    """Compressed Sparse Row array (SciPy's csr_array on MLX)."""


class csr_matrix(spmatrix, _csr_base):
    """Compressed Sparse Row matrix (SciPy's csr_matrix on MLX)."""


def isspmatrix_csr(x):
    """True for CSR sparse matrices (not arrays), ours or SciPy's."""
    import scipy.sparse as ssp
    return isinstance(x, csr_matrix) or ssp.isspmatrix_csr(x)
