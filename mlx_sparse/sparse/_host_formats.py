"""What DOK and LIL share: host-side builders (a Python dict / lists of lists, as in
SciPy) whose conversions build MLX buffers in one go.

Element access (`A[i, j]`, `A[i, j] = v`) works on the host structure directly;
other keys read through CSR (whose indexing is vectorised) and writes loop over the
assigned cells in Python, as SciPy's DOK does. Generic methods of _spbase see a
storage object through `_s`, built from the host structure on demand and cached
until the next change.
"""
import mlx.core as mx
import numpy as np

from .._dtypes import MX_TO_NP
from ._base import _spbase, issparse
from ._coo import _check_transpose_axes
from ._sputils import getdtype, isintlike


def host_dtype(dt):
    """The NumPy dtype holding values of MLX dtype dt on the host (bfloat16: float32)."""
    return np.dtype(np.float32) if dt == mx.bfloat16 else np.dtype(MX_TO_NP[dt])


def host_values(data):
    """An MLX value buffer as a NumPy array of host_dtype (bfloat16 via float32)."""
    return np.asarray(data.astype(mx.float32) if data.dtype == mx.bfloat16 else data)


class _host_base(_spbase):
    """Base of the host-side builder formats. Subclasses keep `_shape`, `_dtype`
    (an MLX dtype) and their structure, and define `_build_storage()` (-> a COO or
    CSR storage), `_load_storage(s)`, `_get1(i, j)`, `_set1(i, j, v)`."""

    _cache = None

    # ---- storage view for the generic methods -------------------------------------
    @property
    def _s(self):
        if self._cache is None:
            self._cache = self._build_storage()
        return self._cache

    @_s.setter
    def _s(self, storage):
        self._load_storage(storage)
        self._cache = None

    def _changed(self):
        self._cache = None

    def _blank(self, shape, dtype):
        """A new object of this class with shape and dtype set and no structure."""
        out = type(self).__new__(type(self))
        _spbase.__init__(out, maxprint=self.maxprint)
        out._shape, out._dtype = shape, dtype
        return out

    # ---- attributes -------------------------------------------------------------------
    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype if self._dtype == mx.bfloat16 else MX_TO_NP[self._dtype]

    def _dtype_str(self):
        from .._dtypes import dtype_name
        return "bool" if self._dtype == mx.bool_ else dtype_name(self._dtype)

    @property
    def _np_dtype(self):
        return host_dtype(self._dtype)

    def _scalar(self, v):
        """A stored value as returned by A[i, j]: a NumPy scalar (bfloat16: 0-d mx)."""
        if self._dtype == mx.bfloat16:
            return mx.array(v, dtype=mx.float32).astype(mx.bfloat16)
        return v

    def _cast(self, v):
        """A value cast to the stored dtype (NumPy's casting rules and errors)."""
        return np.asarray(v, dtype=self._np_dtype)[()]

    # ---- indexing -----------------------------------------------------------------------
    def _scalar_key(self, key):
        """(i, j) for a pair of in-range integers (negatives wrapped), else None."""
        if not (isinstance(key, tuple) and len(key) == 2):
            return None
        i, j = key
        if not (isintlike(i) and isintlike(j)) or isinstance(i, bool) or isinstance(j, bool):
            return None
        if isinstance(i, (np.ndarray, mx.array)) or isinstance(j, (np.ndarray, mx.array)):
            if np.ndim(i) or np.ndim(j):
                return None
        i, j = int(i), int(j)
        M, N = self._shape
        if not -M <= i < M:
            raise IndexError(f"index ({i}) out of range")
        if not -N <= j < N:
            raise IndexError(f"index ({j}) out of range")
        return (i + M if i < 0 else i, j + N if j < 0 else j)

    def __getitem__(self, key):
        ij = self._scalar_key(key)
        if ij is not None:
            return self._scalar(self._get1(*ij))
        res = self.tocsr()[key]
        if isinstance(res, mx.array):
            # SciPy's DOK/LIL give sparse results where CSR gives dense ones
            if res.ndim != 2:
                from ._index import _not_2d
                raise _not_2d(self, tuple(res.shape))
            from ._index_utils import container
            res = container("csr", self._is_array)(res)
        return res.asformat(self.format)

    def __setitem__(self, key, x):
        ij = self._scalar_key(key)
        if ij is not None and not issparse(x) and np.ndim(x) == 0:
            self._set1(ij[0], ij[1], self._cast(x))
            self._changed()
            return
        rows, cols = _targets(key, self._shape)
        if issparse(x):
            x = x.toarray()
        vals = host_values(x) if isinstance(x, mx.array) else np.asarray(x)
        vals = _broadcast_to_target(vals, rows.shape).astype(self._np_dtype)
        for i, j, v in zip(rows.ravel().tolist(), cols.ravel().tolist(), vals.ravel()):
            self._set1(i, j, v)
        self._changed()

    # ---- conversions ---------------------------------------------------------------------
    def tocoo(self, copy=False):
        s = self._s
        if s.__class__.__name__ != "COO":
            return self.tocsr().tocoo()
        from ._index_utils import container
        return container("coo", self._is_array)._from_storage(s)

    def toarray(self, order=None, out=None):
        return self.tocoo().toarray(order=order, out=out)

    def copy(self):
        return self._from_storage(self._s, self.maxprint)

    def astype(self, dtype, casting="unsafe", copy=True):
        dt = getdtype(dtype)
        if dt == self._dtype:
            return self.copy() if copy else self
        return _spbase.astype(self, dt, casting=casting, copy=copy)

    def to_scipy(self):
        import scipy.sparse as ssp
        cls = getattr(ssp, f"{self.format}_{'array' if self._is_array else 'matrix'}")
        return cls(self.tocoo().to_scipy())

    def transpose(self, axes=None, copy=False):
        _check_transpose_axes(axes, self._is_array)
        return self.tocoo().transpose().asformat(self.format)

    def reshape(self, *args, **kwargs):
        return self.tocoo().reshape(*args, **kwargs).asformat(self.format)

    def count_nonzero(self, axis=None):
        return self.tocoo().count_nonzero(axis)

    def _getnnz(self, axis=None):
        if axis is None:
            return self.nnz
        return self.tocoo()._getnnz(axis)

    def sum_duplicates(self):
        """DOK and LIL hold no duplicates: nothing to do."""

    # SciPy computes these through CSR for DOK and LIL and returns CSR
    def __abs__(self):
        return abs(self.tocsr())

    def __round__(self, ndigits=0):
        return round(self.tocsr(), ndigits)

    def power(self, n, dtype=None):
        return self.tocsr().power(n, dtype=dtype)

    @property
    def real(self):
        return self.tocsr().real

    @property
    def imag(self):
        return self.tocsr().imag


def _targets(key, shape):
    """Broadcast (rows, cols) NumPy index arrays of the cells `key` assigns to."""
    from ._index import _validate_key
    index, _, _, _ = _validate_key(key, shape, "csr")
    r, c = index
    r_arr, c_arr = isinstance(r, np.ndarray), isinstance(c, np.ndarray)
    if isinstance(r, slice):
        r = np.arange(*r.indices(shape[0]), dtype=np.int64)
    if isinstance(c, slice):
        c = np.arange(*c.indices(shape[1]), dtype=np.int64)
    r, c = np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64)
    if not (r_arr and c_arr) and r.ndim == 1 and c.ndim == 1:
        r = r[:, None]   # a slice (or a slice and an array): the outer product
    return np.broadcast_arrays(r, c)


def _broadcast_to_target(vals, shape):
    """NumPy broadcasting of an assigned value, allowing extra leading unit axes."""
    while vals.ndim > len(shape) and vals.shape[0] == 1:
        vals = vals[0]
    try:
        return np.broadcast_to(vals, shape)
    except ValueError:
        sq = tuple(d for d in shape if d != 1)
        if vals.size == int(np.prod(shape)) and tuple(d for d in vals.shape if d != 1) == sq:
            return vals.reshape(shape)
        raise ValueError(f"shape mismatch in assignment: value of shape {vals.shape} "
                         f"cannot be broadcast to {tuple(shape)}") from None
