"""save_npz / load_npz in SciPy's .npz layout (SciPy's scipy.sparse._matrix_io), so
files move freely between SciPy and mlx_sparse in both directions.

Layout: `format` (ASCII bytes), `shape`, `data`, plus `indices`/`indptr`
(csr, csc, bsr), `offsets` (dia) or `row`/`col` (coo); `_is_array=True` marks the
sparse-array classes. Loading never unpickles.
"""
import numpy as np

from ._base import _host
from ._index_utils import container

__all__ = ["save_npz", "load_npz"]

_PICKLE_KWARGS = dict(allow_pickle=False)


def save_npz(file, matrix, compressed=True):
    """Save a sparse array/matrix to `file` (a path, ".npz" appended if missing, or
    a file object) in SciPy's .npz layout. bfloat16 values are written as float32
    (the .npz format has no bfloat16)."""
    from ._base import _spbase, sparray
    if not isinstance(matrix, _spbase):  # a SciPy object: SciPy's own writer
        import scipy.sparse as ssp
        return ssp.save_npz(file, matrix, compressed=compressed)
    fmt = matrix.format
    arrays = {}
    if fmt in ("csc", "csr", "bsr"):
        arrays.update(indices=np.asarray(matrix.indices), indptr=np.asarray(matrix.indptr))
    elif fmt == "dia":
        arrays.update(offsets=np.asarray(matrix.offsets))
    elif fmt == "coo":
        arrays.update(row=np.asarray(matrix.row), col=np.asarray(matrix.col))
    else:
        raise NotImplementedError(
            f"Save is not implemented for sparse matrix of format {fmt}.")
    arrays.update(format=fmt.encode("ascii"), shape=matrix.shape,
                  data=_host(matrix.data))
    if isinstance(matrix, sparray):
        arrays.update(_is_array=True)
    (np.savez_compressed if compressed else np.savez)(file, **arrays)


def load_npz(file):
    """Load a sparse array/matrix saved by save_npz (ours or SciPy's)."""
    with np.load(file, **_PICKLE_KWARGS) as loaded:
        fmt = loaded.get("format")
        if fmt is None:
            raise ValueError(f"The file {file} does not contain a sparse array or "
                             "matrix.")
        fmt = fmt.item()
        if not isinstance(fmt, str):
            fmt = fmt.decode("ascii")
        kind = "array" if loaded.get("_is_array") else "matrix"
        if fmt not in ("csr", "csc", "bsr", "dia", "coo", "dok", "lil"):
            raise ValueError(f'Unknown format "{fmt}_{kind}"')
        cls = container(fmt, kind == "array")
        shape = tuple(int(d) for d in loaded["shape"])
        if fmt in ("csc", "csr", "bsr"):
            return cls((loaded["data"], loaded["indices"], loaded["indptr"]), shape=shape)
        if fmt == "dia":
            return cls((loaded["data"], loaded["offsets"]), shape=shape)
        if fmt == "coo":
            if "coords" in loaded:
                return cls((loaded["data"], tuple(loaded["coords"])), shape=shape)
            return cls((loaded["data"], (loaded["row"], loaded["col"])), shape=shape)
        raise NotImplementedError(
            f"Load is not implemented for sparse matrix of format {fmt}.")
