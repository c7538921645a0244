"""The public sparse API defined once (SciPy's _spbase), mostly through conversions;
each format overrides what it does natively."""
import numpy as np
import mlx.core as mx

from .. import _ops
from .._dtypes import MX_TO_NP, dtype_name
from ._data import _data_mixin, _minmax_mixin, result_dtype, scalar_value
from ._sputils import asmx, check_shape, getdtype, isscalarlike, validateaxis

_FORMAT_NAMES = {
    "coo": "COOrdinate", "csr": "Compressed Sparse Row",
    "csc": "Compressed Sparse Column",
    # DIA/BSR/DOK/LIL (issue: the whole scipy.sparse namespace)
    "dia": "DIAgonal", "bsr": "Block Sparse Row", "dok": "Dictionary Of Keys",
    "lil": "List of Lists",
}


class SparseWarning(Warning):
    pass


class SparseFormatWarning(SparseWarning):
    pass


class SparseEfficiencyWarning(SparseWarning):
    pass


class _spbase(_data_mixin, _minmax_mixin):
    """Shared implementation of every sparse format. Subclasses hold `_s`, a storage
    object from mlx_sparse._storage, and define `format`."""

    __array_priority__ = 10.1
    __array_ufunc__ = None  # NumPy operators defer to our reflected methods
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

    # ---- conversions to DIA/BSR/DOK/LIL (issue: the whole scipy.sparse namespace;
    # the formats themselves live in _dia.py, _bsr.py, _dok.py, _lil.py) ----------
    def todia(self, copy=False):
        from ._dia import coo_to_dia, dia_array, dia_matrix
        cls = dia_array if self._is_array else dia_matrix
        return cls._from_storage(coo_to_dia(self.tocoo(copy=copy)._s))

    def tobsr(self, blocksize=None, copy=False):
        from ._bsr import csr_to_bsr
        return csr_to_bsr(self.tocsr(copy=copy), blocksize)

    def todok(self, copy=False):
        from ._dok import coo_to_dok
        return coo_to_dok(self.tocoo(copy=copy))

    def tolil(self, copy=False):
        from ._lil import csr_to_lil
        return csr_to_lil(self.tocsr(copy=copy))
    # ---- end of DIA/BSR/DOK/LIL conversions --------------------------------------

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

    # ---- products (generic: through CSR; the compressed formats override) ---------
    def __matmul__(self, other):
        if isscalarlike(other):
            raise ValueError("Scalar operands are not allowed, use '*' instead")
        return self._matmul_dispatch(other)

    def __rmatmul__(self, other):
        if isscalarlike(other):
            raise ValueError("Scalar operands are not allowed, use '*' instead")
        return self._rmatmul_dispatch(other)

    def dot(self, other):
        """Ordinary dot product (scalars multiply)."""
        if isscalarlike(other):
            return self._mul_scalar(other)
        return self @ other

    def _matmul_dispatch(self, other):
        M, N = self.shape
        if issparse(other):
            if other.shape[0] != N:
                raise ValueError("matmul: dimension mismatch with signature "
                                 f"(n,k={N}),(k={other.shape[0]},m)->(n,m)")
            return self._matmul_sparse(_ours(other))
        x = asmx(other)
        if x.ndim == 0:
            return self._mul_scalar(x)
        if x.ndim == 1:
            if x.shape[0] != N:
                raise ValueError("matmul: dimension mismatch with signature "
                                 f"(n,k={N}),(k={x.shape[0]},1?)->(n,1?)")
            return self._matmul_vector(x)
        if x.shape[-2] != N:
            raise ValueError("matmul: dimension mismatch with signature "
                             f"(n,k={N}),(k={x.shape[-2]},m)->(n,m)")
        if x.ndim == 2:
            return self._matmul_multivector(x)
        # Batched right-hand sides (..., N, k) (beyond SciPy): fold the batch into
        # the columns, one sparse product, unfold.
        lead, k = x.shape[:-2], x.shape[-1]
        cols = mx.moveaxis(x, -2, 0).reshape((N, int(np.prod(lead)) * k))
        y = self._matmul_multivector(cols).reshape((M,) + tuple(lead) + (k,))
        return mx.moveaxis(y, 0, -2)

    def _rmatmul_dispatch(self, other):
        if issparse(other):
            return _ours(other) @ self
        x = asmx(other)
        if x.ndim == 1:
            return self.transpose()._matmul_dispatch(x)
        return mx.swapaxes(self.transpose()._matmul_dispatch(mx.swapaxes(x, -1, -2)), -1, -2)

    def _matmul_vector(self, x):
        return self._as_product_csr(x)._matmul_vector(x)

    def _matmul_multivector(self, x):
        return self._as_product_csr(x)._matmul_multivector(x)

    def _as_product_csr(self, x):
        """CSR of self with values already in the product's dtype, so duplicates are
        summed in that dtype (bool duplicates count twice, as SciPy's COO product)."""
        dt = result_dtype(np.matmul, self._s.data.dtype, x.dtype)
        return self.astype(dt, copy=False).tocsr()

    def _matmul_sparse(self, other):
        return self.tocsr()._matmul_sparse(other)

    # ---- arithmetic (SciPy's rules; sparse-sparse through the compressed binop) ----
    def __mul__(self, other):
        return self.multiply(other)

    def __rmul__(self, other):
        return self.multiply(other)

    def multiply(self, other):
        """Element-wise product (broadcasting as SciPy)."""
        if isscalarlike(other):
            return self._mul_scalar(other)
        if issparse(other):
            other = _ours(other)
            if other.shape == self.shape:
                return self._compressed_self()._binopt(other, "mul")
            if other.shape in ((1, self.shape[1]), (self.shape[0], 1)):
                return self._compressed_self()._scale_broadcast(other.toarray())
            if self.shape in ((1, other.shape[1]), (other.shape[0], 1)):
                return other.multiply(self)
            raise ValueError(f"inconsistent shapes {self.shape} and {other.shape}")
        return self._elementwise_dense(other, "mul")

    def __truediv__(self, other):
        if isscalarlike(other):
            return self._divide_scalar(other)
        if issparse(other):
            other = _ours(other)
            if other.shape != self.shape:
                raise ValueError("inconsistent shapes")
            a, b = self.toarray(), other.toarray()
            dt = result_dtype(np.true_divide, a.dtype, b.dtype)
            return a.astype(dt) / b.astype(dt)
        return self._elementwise_dense(other, "div")

    def __rtruediv__(self, other):
        return NotImplemented

    def _elementwise_dense(self, other, op):
        """self (*|/) dense -> COO over self's stored entries (implicit zeros stay 0),
        as SciPy; a dense operand that broadcasts to a larger shape gives dense."""
        d = asmx(other)
        out_shape = tuple(np.broadcast_shapes(self.shape, tuple(d.shape)))
        np_op = np.multiply if op == "mul" else np.true_divide
        dt = result_dtype(np_op, self._s.data.dtype, d.dtype)
        if out_shape != self.shape:
            a = self.toarray().astype(dt)
            return a * d.astype(dt) if op == "mul" else a / d.astype(dt)
        coo = self.tocoo()
        b = mx.broadcast_to(d, self.shape)[coo._s.row, coo._s.col].astype(dt)
        a = coo._s.data.astype(dt)
        from ._coo import coo_array, coo_matrix
        cls = coo_array if self._is_array else coo_matrix
        return cls._from_storage(coo._s.with_(data=a * b if op == "mul" else a / b,
                                               canonical=coo._s.canonical))

    def __add__(self, other):
        return self._add_or_sub(other, "add")

    def __radd__(self, other):
        return self._add_or_sub(other, "add")

    def __sub__(self, other):
        return self._add_or_sub(other, "sub")

    def __rsub__(self, other):
        if isscalarlike(other):
            if scalar_value(other) == 0:
                return -self.copy()
            raise NotImplementedError("subtracting a sparse array from a nonzero "
                                      "scalar is not supported")
        if issparse(other):
            return _ours(other) - self
        d = asmx(other)
        a = self.toarray()
        dt = result_dtype(np.subtract, d.dtype, a.dtype)
        return d.astype(dt) - a.astype(dt)

    def _add_or_sub(self, other, op):
        if isscalarlike(other):
            if scalar_value(other) == 0:
                return self.copy()
            verb = "adding a nonzero scalar to" if op == "add" else \
                "subtracting a nonzero scalar from"
            raise NotImplementedError(f"{verb} a sparse array is not supported")
        if issparse(other):
            other = _ours(other)
            if other.shape != self.shape:
                raise ValueError(f"inconsistent shapes {self.shape} and {other.shape}")
            return self._compressed_self()._binopt(other, op)
        d = asmx(other)
        try:
            shape = tuple(np.broadcast_shapes(self.shape, tuple(d.shape)))
        except ValueError as e:
            raise ValueError(str(e)) from e
        a = self.toarray()
        np_op = np.add if op == "add" else np.subtract
        dt = result_dtype(np_op, a.dtype, d.dtype)
        return a.astype(dt) + d.astype(dt) if op == "add" else a.astype(dt) - d.astype(dt)

    def __pos__(self):
        return self.copy()

    def __pow__(self, other):
        return self.power(other)

    def __imul__(self, other):
        if isscalarlike(other):
            self._s = self._mul_scalar(other)._s
            return self
        return NotImplemented

    def __itruediv__(self, other):
        if isscalarlike(other):
            self._s = self._divide_scalar(other)._s
            return self
        return NotImplemented

    # ---- comparisons and maximum/minimum ----------------------------------------------
    def _compare(self, other, op):
        """SciPy's comparison rules: sparse result where op(0, x) is False; otherwise
        SciPy warns and builds the complement (dense-ish) result."""
        np_op = _CMP[op]
        if isscalarlike(other):
            other = scalar_value(other)
            if np_op(0, other):
                _warn_cmp(f"Comparing a sparse matrix with {other} using {_SYM[op]} "
                          f"is inefficient. Try using {_SYM[_INV[op]]} instead.")
                return self._from_dense_bool(np_op(_host_dense(self), other))
            A = self._compressed_self().copy()
            A.sum_duplicates()
            res = A._with_data(_CMP_MX[op](A._s.data, mx.array(other)))
            res.eliminate_zeros()
            return res
        if issparse(other):
            other = _ours(other)
            if other.shape != self.shape:
                raise ValueError("inconsistent shapes")
            if op in ("eq", "le", "ge"):
                _warn_cmp(f"Comparing two sparse matrices using {_SYM[op]} is "
                          f"inefficient. Try using {_SYM[_INV[op]]} instead.")
                return self._from_dense_bool(np_op(_host_dense(self), _host_dense(other)))
            return self._compressed_self()._binopt(other, op)
        d = asmx(other)
        a = self.toarray()
        return _CMP_MX[op](a, d)

    def _from_dense_bool(self, dense):
        return self._compressed_self().__class__(dense)

    def _compressed_self(self):
        """self for CSR/CSC, else its CSR form (where SciPy computes the result)."""
        return self if self.format in ("csr", "csc") else self.tocsr()

    def _container(self, fmt):
        """The class of format fmt in this object's family (_array or _matrix)."""
        from . import _coo, _csc, _csr
        mod = {"coo": _coo, "csr": _csr, "csc": _csc}[fmt]
        return getattr(mod, f"{fmt}_{'array' if self._is_array else 'matrix'}")

    def __eq__(self, other):
        return self._compare(other, "eq")

    def __ne__(self, other):
        return self._compare(other, "ne")

    def __lt__(self, other):
        return self._compare(other, "lt")

    def __gt__(self, other):
        return self._compare(other, "gt")

    def __le__(self, other):
        return self._compare(other, "le")

    def __ge__(self, other):
        return self._compare(other, "ge")

    __hash__ = None

    def _maximum_minimum(self, other, op):
        if isscalarlike(other):
            other = scalar_value(other)
            densifies = other > 0 if op == "maximum" else other < 0
            if densifies:
                _warn_cmp(f"Taking {op} with a {'positive' if op == 'maximum' else 'negative'}"
                          " number results in a dense matrix.")
                full = mx.full(self.shape, other, dtype=result_dtype(
                    np.maximum, self._s.data.dtype, other))
                A = self._compressed_self()
                return A._binopt(A.__class__(full), op)
            A = self._compressed_self().copy()
            A.sum_duplicates()
            dt = result_dtype(np.maximum, A._s.data.dtype, other)
            f = mx.maximum if op == "maximum" else mx.minimum
            return A._with_data(f(A._s.data.astype(dt), mx.array(other).astype(dt)))
        if issparse(other):
            other = _ours(other)
            if other.shape != self.shape:
                raise ValueError(f"inconsistent shapes self.shape={self.shape} "
                                 f"other.shape={other.shape}")
            return self._compressed_self()._binopt(other, op)
        d = asmx(other)
        a = self.toarray()
        dt = result_dtype(np.maximum, a.dtype, d.dtype)
        f = mx.maximum if op == "maximum" else mx.minimum
        return f(a.astype(dt), d.astype(dt))

    def maximum(self, other):
        """Element-wise maximum with a scalar, dense or sparse operand."""
        return self._maximum_minimum(other, "maximum")

    def minimum(self, other):
        """Element-wise minimum with a scalar, dense or sparse operand."""
        return self._maximum_minimum(other, "minimum")

    # ---- reductions -----------------------------------------------------------------
    def sum(self, axis=None, dtype=None, out=None):
        """Sum over all entries or along an axis (SciPy's result dtypes)."""
        axis = validateaxis(axis)
        src = self._s.data.dtype
        if dtype is not None:
            dt = getdtype(dtype)
        elif mx.issubdtype(src, mx.unsignedinteger):
            dt = mx.uint64
        elif mx.issubdtype(src, mx.integer) or src == mx.bool_:
            dt = mx.int64
        else:
            dt = src
        s = self._compressed_self()._s
        data = s.data.astype(dt)
        if axis is None:
            res = mx.sum(data) if data.size else mx.zeros((), dt)
        elif axis == 1 - s.major_axis:
            res = _ops.compressed_reduce_major("sum", s.n_major, s.indptr, data)
        else:
            res = _ops.compressed_reduce_minor("sum", s.n_minor, s.indices, data)
        if axis is not None and not self._is_array:
            res = res.reshape((1, -1) if axis == 0 else (-1, 1))
        return _to_out(res, out)

    def mean(self, axis=None, dtype=None, out=None):
        """Arithmetic mean over all entries or along an axis (implicit zeros count)."""
        axis = validateaxis(axis)
        src = self._s.data.dtype
        if dtype is None:
            dt = mx.float64 if (mx.issubdtype(src, mx.integer) or src == mx.bool_) else src
        else:
            dt = getdtype(dtype)
        total = self.sum(axis=axis, dtype=dt)
        count = self.shape[0] * self.shape[1] if axis is None else self.shape[axis]
        return _to_out(total / mx.array(count).astype(total.dtype), out)

    # ---- indexing and structure edits (implemented in _index.py) --------------------
    def __getitem__(self, key):
        from . import _index
        return _index.getitem(self, key)

    def __setitem__(self, key, value):
        from . import _index
        _index.setitem(self, key, value)

    def setdiag(self, values, k=0):
        from . import _index
        _index.setdiag(self, values, k)

    def resize(self, *shape):
        from . import _index
        _index.resize(self, *shape)

    # ---- canonical-form helpers every format exposes ------------------------------
    @property
    def has_canonical_format(self):
        return self._s.canonical

    def __array__(self, *args, **kwargs):
        # SciPy wraps itself as a 0-d object array; np.asarray(A) does the same here.
        out = np.empty((), dtype=object)
        out[()] = self
        return out


_CMP = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "gt": np.greater,
        "le": np.less_equal, "ge": np.greater_equal}
_CMP_MX = {"eq": mx.equal, "ne": mx.not_equal, "lt": mx.less, "gt": mx.greater,
           "le": mx.less_equal, "ge": mx.greater_equal}
_SYM = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
_INV = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "gt": "le", "le": "gt"}


def _warn_cmp(msg):
    import warnings
    warnings.warn(msg, SparseEfficiencyWarning, stacklevel=4)


def _host_dense(A):
    return _host(A.toarray())


def _ours(x):
    """Our sparse object for x (SciPy objects are converted, keeping the format)."""
    if isinstance(x, _spbase):
        return x
    from . import _coo, _csc, _csr
    fmt = x.format if x.format in ("coo", "csr", "csc") else "csr"
    mod = {"coo": _coo, "csr": _csr, "csc": _csc}[fmt]
    import scipy.sparse as ssp
    kind = "array" if isinstance(x, ssp.sparray) else "matrix"
    return getattr(mod, f"{fmt}_{kind}")(x.asformat(fmt))


def _to_out(res, out):
    if out is None:
        return res
    if not isinstance(out, np.ndarray) or out.shape != tuple(res.shape):
        raise ValueError("dimensions do not match")
    out[...] = _host(res)
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
