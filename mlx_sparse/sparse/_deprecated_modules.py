"""SciPy's deprecated public submodules of scipy.sparse (`scipy.sparse.base`,
`scipy.sparse.csr`, ...): thin module objects whose names resolve to ours, with
SciPy's DeprecationWarning on access. They are registered in sys.modules, so
`import mlx_sparse.sparse.csr` works as `import scipy.sparse.csr` does."""
import sys
import types
import warnings

# module -> names it offers (SciPy 1.17's __all__ of each deprecated module)
_MODULES = {
    "base": ["SparseEfficiencyWarning", "SparseWarning", "issparse", "isspmatrix",
             "spmatrix"],
    "bsr": ["bsr_matrix", "isspmatrix_bsr", "spmatrix"],
    "compressed": ["SparseEfficiencyWarning"],
    "construct": ["block_diag", "bmat", "bsr_matrix", "coo_matrix", "csc_matrix",
                  "csr_matrix", "dia_matrix", "diags", "eye", "get_index_dtype",
                  "hstack", "identity", "issparse", "kron", "kronsum", "rand",
                  "random", "spdiags", "vstack"],
    "coo": ["SparseEfficiencyWarning", "coo_matrix", "isspmatrix_coo", "spmatrix"],
    "csc": ["csc_matrix", "isspmatrix_csc", "spmatrix"],
    "csr": ["csr_matrix", "isspmatrix_csr", "spmatrix"],
    "data": [],
    "dia": ["dia_matrix", "isspmatrix_dia", "spmatrix"],
    "dok": ["dok_matrix", "isspmatrix_dok", "spmatrix"],
    "extract": ["coo_matrix", "find", "tril", "triu"],
    "lil": ["isspmatrix_lil", "lil_array", "lil_matrix"],
    "sparsetools": [],
    "sputils": [],
}


def _make(name, names):
    mod = types.ModuleType(f"mlx_sparse.sparse.{name}",
                           f"Deprecated alias of parts of mlx_sparse.sparse "
                           f"(SciPy's scipy.sparse.{name}).")
    mod.__all__ = list(names)

    def __getattr__(attr):
        if attr not in names:
            raise AttributeError(
                f"`mlx_sparse.sparse.{name}` has no attribute `{attr}`; furthermore, "
                f"`mlx_sparse.sparse.{name}` is deprecated and will be removed.")
        warnings.warn(
            f"Please use `{attr}` from the `mlx_sparse.sparse` namespace, the "
            f"`mlx_sparse.sparse.{name}` namespace is deprecated.",
            category=DeprecationWarning, stacklevel=2)
        import mlx_sparse.sparse as pkg
        return getattr(pkg, attr)

    def __dir__():
        return list(names)

    mod.__getattr__ = __getattr__
    mod.__dir__ = __dir__
    sys.modules[mod.__name__] = mod
    return mod


for _name, _names in _MODULES.items():
    globals()[_name] = _make(_name, _names)

__all__ = list(_MODULES)
