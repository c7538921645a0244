"""The public sparse API defined once (SciPy's _spbase), mostly through conversions;
each format overrides what it does natively."""
import numpy as np
import mlx.core as mx

from .. import _ops
from .._dtypes import MX_TO_NP, dtype_name
from ._sputils import check_shape, getdtype, validateaxis

_FORMAT_NAMES = {
    "coo": "COOrdinate", "csr": "Compressed Sparse Row",
    "csc": "Compressed Sparse Column",
}


class SparseWarning(Warning):
    pass


class SparseFormatWarning(SparseWarning):
    pass


class SparseEfficiencyWarning(SparseWarning):
    pass


class _spbase:
    """Shared implementation of every sparse format. Subclasses hold `_s`, a storage
    object from mlx_sparse._storage, and define `format`."""

    __array_priority__ = 10.1
    _format = "und"
    ndim = 2
    maxprint = 50

    def __init__(self, arg1=None, *, maxprint=None):
        if maxprint is not None:
            self.maxprint = maxprint

    # ---- basic attributes -------------------------------------------------------
    @property
    def format(self):
        return self._format

    @property
    def shape(self):
        return self._s.shape

    @property
    def dtype(self):
        d = self._s.data.dtype
        return MX_TO_NP[d] if d != mx.bfloat16 else d

    @property
    def nnz(self):
        return int(self._s.data.size)

    @property
    def size(self):
        return self.nnz

    @property
    def _is_array(self):
        return isinstance(self, sparray)

    def __len__(self):
        raise TypeError("sparse array length is ambiguous; use getnnz()"
                        " or shape[0]")

    def __bool__(self):
        if self.shape == (1, 1):
            return self.nnz != 0 and bool(self.toarray().reshape(-1)[0].item())
        raise ValueError("The truth value of an array with more than one "
                         "element is ambiguous. Use a.any() or a.all().")

    __nonzero__ = __bool__

    def __iter__(self):
        for r in range(self.shape[0]):
            yield self[r]

    # ---- printing ---------------------------------------------------------------
    def _container_name(self):
        kind = "array" if self._is_array else "matrix"
        return f"{_FORMAT_NAMES[self.format]} sparse {kind}"

    def __repr__(self):
        return (f"<{self._container_name()} of dtype '{self._dtype_str()}'\n"
                f"\twith {self.nnz} stored elements and shape {self.shape}>")

    def _dtype_str(self):
        return dtype_name(self._s.data.dtype) if self._s.data.dtype != mx.bool_ else "bool"

    def __str__(self):
        header = repr(self)
        if self.nnz == 0:
            return header
        coo = self.tocoo()
        row, col, data = (np.asarray(coo.row), np.asarray(coo.col),
                          _host(coo._s.data))

        def lines(lo, hi):
            return [f"  ({row[i]}, {col[i]})\t{data[i]}" for i in range(lo, hi)]

        body = ["  Coords\tValues"]
        if self.nnz > self.maxprint:
            half = self.maxprint // 2
            body += lines(0, half) + ["  :\t:"] + lines(self.nnz - half, self.nnz)
        else:
            body += lines(0, self.nnz)
        return header + "\n" + "\n".join(body)

    # ---- conversions (each format overrides its own) ----------------------------
    def asformat(self, format, copy=False):
        if format is None or format == self.format:
            return self.copy() if copy else self
        try:
            convert = getattr(self, "to" + format)
        except AttributeError as e:
            raise ValueError(f"Format {format} is unknown.") from e
        return convert(copy=copy)

    def tocsr(self, copy=False):
        return self.tocoo(copy=copy).tocsr(copy=False)

    def tocsc(self, copy=False):
        return self.tocoo(copy=copy).tocsc(copy=False)

    def toarray(self, order=None, out=None):
        return self.tocoo(copy=False).toarray(order=order, out=out)

    def todense(self, order=None, out=None):
        return self.toarray(order=order, out=out)

    def reshape(self, *args, **kwargs):
        return self.tocoo().reshape(*args, **kwargs).asformat(self.format)

    def to_scipy(self):
        """The same matrix as a SciPy sparse object of the same format and family
        (values copied to the host; bfloat16 becomes float32)."""
        import scipy.sparse as ssp
        return getattr(ssp, f"{self.format}_{'array' if self._is_array else 'matrix'}")(
            self._scipy_args(), shape=self.shape)

    def copy(self):
        return self._with_storage(self._s.with_(**{
            f: mx.array(getattr(self._s, f)) for f in self._s_arrays}))

    def astype(self, dtype, casting="unsafe", copy=True):
        dtype = getdtype(dtype)
        if dtype == self._s.data.dtype:
            return self.copy() if copy else self
        src, dst = self._s.data.dtype, dtype
        if casting == "safe" and not _can_cast_safe(src, dst):
            raise TypeError(f"Cannot cast array data from dtype('{dtype_name(src)}') "
                            f"to dtype('{dtype_name(dst)}') according to the rule 'safe'")
        return self._with_data(self._s.data.astype(dtype))

    def _with_data(self, data):
        """Same structure, new values (used by astype, conj, real, imag, ...)."""
        return self._with_storage(self._s.with_(data=data))

    @classmethod
    def _from_storage(cls, storage, maxprint=None):
        obj = cls.__new__(cls)
        _spbase.__init__(obj, maxprint=maxprint)
        obj._s = storage
        return obj

    def _with_storage(self, storage):
        return self._from_storage(storage, self.maxprint)

    # ---- elementwise value views ------------------------------------------------
    def conjugate(self, copy=True):
        if self._s.data.dtype == mx.complex64:
            return self._with_data(mx.conj(self._s.data))
        return self.copy() if copy else self

    def conj(self, copy=True):
        return self.conjugate(copy=copy)

    @property
    def real(self):
        if self._s.data.dtype == mx.complex64:
            return self._with_data(mx.real(self._s.data))
        return self.copy()

    @property
    def imag(self):
        if self._s.data.dtype == mx.complex64:
            return self._with_data(mx.imag(self._s.data))
        return self._with_data(mx.zeros_like(self._s.data))

    @property
    def T(self):
        return self.transpose()

    @property
    def mT(self):
        return self.transpose()

    # ---- counting ---------------------------------------------------------------
    def _getnnz(self, axis=None):
        return self.tocoo()._getnnz(axis)

    def count_nonzero(self, axis=None):
        return self.tocoo().count_nonzero(axis)

    def nonzero(self):
        """(row, col) of stored nonzero values (explicit zeros excluded), COO order."""
        coo = self.tocoo()
        keep = coo._s.data != 0
        return _compress(coo._s.row, keep), _compress(coo._s.col, keep)

    def diagonal(self, k=0):
        return self.tocsr().diagonal(k=k)

    def trace(self, offset=0):
        return self.diagonal(k=offset).sum()

    # ---- canonical-form helpers every format exposes ------------------------------
    @property
    def has_canonical_format(self):
        return self._s.canonical

    def __array__(self, *args, **kwargs):
        # SciPy wraps itself as a 0-d object array; np.asarray(A) does the same here.
        out = np.empty((), dtype=object)
        out[()] = self
        return out


class sparray:
    """A namespace class: isinstance(x, sparray) marks the SciPy array API."""


def _compress(a, mask):
    """a[mask] for 1-D MLX arrays (MLX has no boolean indexing; one host sync)."""
    idx = np.flatnonzero(np.asarray(mask))
    return a[mx.array(idx.astype(np.int64))] if idx.size != a.size else a


def _host(a):
    if a.dtype == mx.bfloat16:
        a = a.astype(mx.float32)
    return np.asarray(a)


def _can_cast_safe(src, dst):
    if src == mx.bfloat16 or dst == mx.bfloat16:
        return src == dst or (src == mx.bfloat16 and dst in (mx.float32, mx.float64,
                                                                mx.complex64))
    return np.can_cast(MX_TO_NP[src], MX_TO_NP[dst], casting="safe")


def issparse(x):
    """True for sparse arrays/matrices of mlx_sparse or SciPy."""
    if isinstance(x, _spbase):
        return True
    import scipy.sparse as ssp
    return ssp.issparse(x)


def isspmatrix(x):
    from ._matrix import spmatrix
    if isinstance(x, spmatrix):
        return True
    import scipy.sparse as ssp
    return ssp.isspmatrix(x)
