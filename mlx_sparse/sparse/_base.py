"""The public sparse API defined once (SciPy's _spbase), mostly through conversions;
each format overrides what it does natively."""
import numpy as np
import mlx.core as mx

from .. import _ops
from .._dtypes import MX_TO_NP, cast_values, dtype_name
from ._data import (_data_mixin, _minmax_mixin, elementwise, host_scalar, reduction_axis,
                    result_dtype, scalar_array, scalar_value)
from ._sputils import (asmx, check_shape, get_index_dtype, getdtype, isscalarlike,
                       mx_index_dtype)

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
            return self.nnz != 0  # SciPy: stored entries count, even explicit zeros
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
        row, col, data = (np.asarray(coo.row).tolist(), np.asarray(coo.col).tolist(),
                          _host(coo._s.data))

        def lines(lo, hi):
            return "\n".join(f"  ({row[i]}, {col[i]})\t{data[i]}" for i in range(lo, hi))

        # SciPy's layout: maxprint // 2 leading entries, the rest trailing
        out = header + "\n  Coords\tValues\n"
        if self.nnz > self.maxprint:
            half = self.maxprint // 2
            out += lines(0, half) + "\n  :\t:\n"
            out += lines(self.nnz - (self.maxprint - half), self.nnz)
        else:
            out += lines(0, self.nnz)
        return out

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
        """As SciPy: self (or a copy) when the shape is unchanged, else a COO result."""
        shape = check_shape(args, self.shape)
        unknown = set(kwargs) - {"order", "copy"}
        if unknown:
            raise TypeError("reshape() got unexpected keywords arguments: "
                            + ", ".join(sorted(unknown)))
        if shape == self.shape:
            return self.copy() if kwargs.get("copy", False) else self
        return self.tocoo().reshape(shape, **kwargs)

    def to_scipy(self):
        """The same matrix as a SciPy sparse object of the same format and family,
        owning copies of the buffers. bfloat16 and float16 (which SciPy does not
        support) become float32."""
        import scipy.sparse as ssp
        args = _copy_host_args(self._scipy_args())
        return getattr(ssp, f"{self.format}_{'array' if self._is_array else 'matrix'}")(
            args, shape=self.shape)

    def copy(self):
        return self._with_storage(self._s.with_(**{
            f: mx.array(getattr(self._s, f)) for f in self._s_arrays}))

    def astype(self, dtype, casting="unsafe", copy=True):
        dtype = getdtype(dtype)
        if dtype == self._s.data.dtype:
            return self.copy() if copy else self
        src, dst = self._s.data.dtype, dtype
        if not _can_cast(src, dst, casting):
            raise TypeError(f"Cannot cast array data from dtype('{dtype_name(src)}') "
                            f"to dtype('{dtype_name(dst)}') according to the rule "
                            f"'{casting}'")
        # As SciPy: cast, then sum duplicates in the new dtype
        out = self._with_data(cast_values(self._s.data, dtype))
        out.sum_duplicates()
        return out

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

    # ---- arithmetic (SciPy's rules; COO computes through CSR, as SciPy's) ----------
    def __mul__(self, other):
        return self.multiply(other)

    def __rmul__(self, other):
        return self.multiply(other)

    def multiply(self, other):
        """Element-wise product, broadcasting as SciPy's."""
        if isscalarlike(other):
            return self._mul_scalar(other)
        A = self._compressed_self()
        if issparse(other):
            return A._multiply_sparse(_ours(other))
        return A._multiply_dense(asmx(other))

    def _multiply_sparse(self, other):
        """self * other for sparse operands (self CSR/CSC): SciPy's cases, in its order;
        the broadcast ones are products with a diagonal matrix (zeros dropped)."""
        (sM, sN), (oM, oN) = self.shape, other.shape
        if (sM, sN) == (oM, oN):
            return self._binopt(other, "mul")
        if (oM, oN) == (1, 1):
            return self._mul_scalar(other.toarray().reshape(()))
        if (sM, sN) == (1, 1):
            return other._mul_scalar(_data_sum(self))
        if sM == 1 and oN == 1:  # a row times a column: the outer product
            return other._matmul_sparse(self.tocsc())
        if sN == 1 and oM == 1:
            return self._matmul_sparse(other.tocsc())
        if oM == 1 and sN == oN:  # columns scaled by a row
            return self._matmul_sparse(self._diagonal_of(other))
        if sM == 1 and sN == oN:
            return other._matmul_sparse(self._diagonal_of(self))
        if oN == 1 and sM == oM:  # rows scaled by a column
            return self._diagonal_of(other)._matmul_sparse(self)
        if sN == 1 and sM == oM:
            return self._diagonal_of(self)._matmul_sparse(other)
        raise ValueError(f"inconsistent shapes {self.shape} and {other.shape}")

    def _diagonal_of(self, vec):
        """SciPy's _make_diagonal_csr: CSR diag(vec values), this family's class."""
        from .._storage import CSR
        d = vec.toarray().reshape(-1)
        n = d.size
        ptr = mx.arange(n + 1, dtype=mx_index_dtype(get_index_dtype(maxval=n)))
        return self._container("csr")._from_storage(
            CSR(ptr, ptr[:-1], d, (n, n), sorted_indices=True, canonical=True))

    def _multiply_dense(self, d):
        """self * d for dense d (self CSR/CSC), as SciPy's: a COO result over self's
        stored entries (repeated where self is a row/column that d broadcasts)."""
        if d.ndim > 2:
            return _dense_binop(np.multiply, mx.multiply, self.toarray(), d)
        bshape = tuple(np.broadcast_shapes(self.shape, tuple(d.shape)))
        if d.size == 1:
            return self._mul_scalar(d.reshape(()))
        if self.shape == (1, 1):
            return _dense_binop(np.multiply, mx.multiply, _data_sum(self), d).reshape(bshape)
        coo = self.tocoo()
        s = coo._s
        r, c = s.row, s.col
        dt = result_dtype(np.multiply, s.data.dtype, d.dtype)
        a, d = s.data.astype(dt), d.astype(dt)
        if tuple(d.shape) == self.shape:
            return coo._with_data(a * d[r, c])
        M, N = self.shape
        d2 = d.reshape(1, -1) if d.ndim == 1 else d
        dM, dN = d2.shape
        if M == 1 and dN in (1, N):  # a sparse row times a column or a matrix
            vals = d2 if dN == 1 else d2[:, c]
            rows, cols, shape = mx.repeat(mx.arange(dM), a.size), mx.tile(c, dM), (dM, N)
            data = (a[None, :] * vals).reshape(-1)
        elif N == 1 and dM in (1, M):  # a sparse column times a row or a matrix
            vals = d2 if dM == 1 else d2[r]
            rows, cols, shape = mx.repeat(r, dN), mx.tile(mx.arange(dN), a.size), (M, dN)
            data = (a[:, None] * vals).reshape(-1)
        elif (dM, dN) == (1, N):
            return coo._with_data(a * d2[0, c])
        elif (dM, dN) == (M, 1):
            return coo._with_data(a * d2[r, 0])
        else:
            raise ValueError(f"inconsistent shapes {self.shape} and {tuple(d.shape)}")
        from .._storage import COO
        idx = mx_index_dtype(get_index_dtype(maxval=max(shape + (data.size,))))
        return coo._from_storage(COO(rows.astype(idx), cols.astype(idx), data, shape))

    def __truediv__(self, other):
        if isscalarlike(other):
            return self._divide_scalar(other)
        if issparse(other):
            return self._divide_sparse(_ours(other))
        d = asmx(other)
        dt = result_dtype(np.true_divide, 1, d.dtype)
        return self.multiply(mx.array(1, dt) / d.astype(dt))  # SciPy: A.multiply(1 / D)

    def __rtruediv__(self, other):
        return NotImplemented

    def _divide_sparse(self, other):
        """A / B as SciPy: dense (0 / 0 = nan where neither stores an entry), computed
        from A.astype(float64) (complex A stays complex)."""
        if other.shape != self.shape:
            raise ValueError(f"inconsistent shapes {self.shape} and {other.shape}")
        A, B = self.tocsr(), other.tocsr()
        if A._s.data.dtype != mx.complex64:
            A = A.astype(mx.float64)
        dt = result_dtype(None, A._s.data.dtype, B._s.data.dtype)
        # duplicates summed in the quotient's dtype, as SciPy's binop
        a = A._with_data(A._s.data.astype(dt)).toarray()
        b = B._with_data(B._s.data.astype(dt)).toarray()
        if dt == mx.complex64:  # SciPy's complex x / 0 is nan+nanj, MLX's inf
            return mx.where(b == 0, mx.array(complex(np.nan, np.nan), dt), a / b)
        return a / b

    def __add__(self, other):
        if isscalarlike(other):
            return self._zero_scalar_only(
                other, "adding a nonzero scalar to a sparse array is not supported")
        if issparse(other):
            return self._compressed_self()._binopt(self._same_shape(other), "add")
        d = mx.broadcast_to(asmx(other), self.shape)
        # self's values (duplicates one by one) added into d in the promoted dtype,
        # as SciPy's coo_todense / csr_todense
        dt = result_dtype(None, self._s.data.dtype, d.dtype)
        s = self.tocoo()._s
        a = _ops.coo_to_dense(*self.shape, s.row, s.col, s.data.astype(dt))
        return mx.logical_or(d, a) if dt == mx.bool_ else d.astype(dt) + a

    def __radd__(self, other):
        return self.__add__(other)

    def __sub__(self, other):
        if isscalarlike(other):
            return self._zero_scalar_only(
                other, "subtracting a nonzero scalar from a sparse array is not supported")
        if issparse(other):
            return self._compressed_self()._binopt(self._same_shape(other), "sub")
        d = mx.broadcast_to(asmx(other), self.shape)
        return _dense_binop(np.subtract, mx.subtract, self.toarray(), d)

    def __rsub__(self, other):
        if isscalarlike(other):
            return -self._zero_scalar_only(
                other, "subtracting a sparse array from a nonzero scalar is not supported")
        if issparse(other):
            return _ours(other) - self
        d = mx.broadcast_to(asmx(other), self.shape)
        return _dense_binop(np.subtract, mx.subtract, d, self.toarray())

    def _zero_scalar_only(self, other, msg):
        """A copy of self for a scalar operand 0 of + / -; SciPy refuses any other."""
        if scalar_value(other) == 0:
            return self.copy()
        raise NotImplementedError(msg)

    def _same_shape(self, other):
        other = _ours(other)
        if other.shape != self.shape:
            raise ValueError("inconsistent shapes")
        return other

    def __pow__(self, other):
        return self.power(other)

    # ---- comparisons and maximum/minimum ----------------------------------------------
    def _scalar_binopt(self, other, op):
        """op(stored value, scalar) after summing duplicates (in place, as SciPy);
        entries whose result is 0/False dropped. self is CSR/CSC."""
        self.sum_duplicates()
        data = self._s.data
        if op in _CMP_MX:
            dt = _compare_dtype(data.dtype, other)
            vals = _CMP_MX[op](data.astype(dt), scalar_array(other, dt))
        else:
            np_op, mx_op = _MAXMIN[op]
            vals = elementwise(np_op, data, lambda a, dt: mx_op(a, scalar_array(other, dt)),
                               other)
        res = self._with_data(vals)
        res.eliminate_zeros()
        return res

    def _complement(self, inv):
        """all-True minus inv (SciPy's way to the result of ==, <=, >=): True where
        inv is not, canonical, in self's format."""
        return self.__class__(mx.logical_not(inv.toarray()))

    def _compare(self, other, op):
        """SciPy's comparison rules: sparse where op(0, x) is False; otherwise SciPy
        warns and builds the complement of the opposite comparison."""
        np_op = _CMP[op]
        if isscalarlike(other):
            other = host_scalar(other)
            nan = bool(np.isnan(other))
            if not np_op(0, other):
                if nan:  # all False
                    return self.__class__(self.shape, dtype=mx.bool_)
                return self._compressed_self()._scalar_binopt(other, op)
            _warn_cmp(f"Comparing a sparse matrix with {other} using {_SYM[op]} "
                      f"is inefficient. Try using {_SYM[_INV[op]]} instead.")
            if nan:  # != nan: all True
                return self.__class__(mx.ones(self.shape, dtype=mx.bool_))
            A = self._compressed_self()
            return A._complement(A._scalar_binopt(other, _INV[op]))
        if issparse(other):
            other = _ours(other)
            if other.shape != self.shape:
                if op in ("eq", "ne"):
                    return op == "ne"
                raise ValueError("inconsistent shape")
            A = self._compressed_self()
            if not np_op(0, 0):
                return A._binopt(other, op)
            _warn_cmp(f"Comparing two sparse matrices using {_SYM[op]} is "
                      f"inefficient. Try using {_SYM[_INV[op]]} instead.")
            return A._complement(A._binopt(other, _INV[op]))
        return _CMP_MX[op](self.toarray(), asmx(other))

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
        np_op, mx_op = _MAXMIN[op]
        if isscalarlike(other):
            other = host_scalar(other)
            if np_op(0, other):  # implicit zeros change (nan too): dense, self's class
                _warn_cmp(f"Taking {op} with a "
                          f"{'positive' if op == 'maximum' else 'negative'} number "
                          "results in a dense matrix.")
                dense = elementwise(np_op, self.toarray(),
                                    lambda a, dt: mx_op(a, scalar_array(other, dt)), other)
                return self.__class__(dense)
            return self._compressed_self()._scalar_binopt(other, op)
        if issparse(other):
            other = _ours(other)
            if other.shape != self.shape:
                raise ValueError(f"inconsistent shapes self.shape={self.shape} "
                                 f"other.shape={other.shape}")
            return self._compressed_self()._binopt(other, op)
        return _dense_binop(np_op, mx_op, self.toarray(), asmx(other))

    def maximum(self, other):
        """Element-wise maximum with a scalar, dense or sparse operand."""
        return self._maximum_minimum(other, "maximum")

    def minimum(self, other):
        """Element-wise minimum with a scalar, dense or sparse operand."""
        return self._maximum_minimum(other, "minimum")

    # ---- reductions -----------------------------------------------------------------
    def sum(self, axis=None, dtype=None, out=None):
        """Sum over all entries or along an axis, with SciPy's dtypes and accumulators:
        axis=None sums the deduplicated values (NumPy's sum, in dtype if given); along
        an axis the values are summed in NumPy's sum dtype (int64 for small integers
        and bool), then cast to dtype."""
        if self.format in ("csr", "csc") and not isinstance(axis, tuple) and \
                axis in ((1, -1) if self.format == "csr" else (0, -2)):
            axis = int(axis)  # SciPy's CSR/CSC take this path before checking axis
        axis = reduction_axis(axis)
        src = self._s.data.dtype
        res_dt = _sum_dtype(src)
        final = getdtype(dtype) if dtype is not None else res_dt
        if axis is None:
            data = self._deduped_data()
            # (MLX sums small integers in int32: cast back, exact modulo 2**bits)
            total = mx.sum(cast_values(data, final)).astype(final)
            return _to_out(total, out)
        A = self if res_dt == src else self._with_data(self._s.data.astype(res_dt))
        s = A._compressed_self()._s
        if axis == 1 - s.major_axis:
            res = _ops.compressed_reduce_major("sum", s.n_major, s.indptr, s.data)
        else:
            res = _ops.compressed_reduce_minor("sum", s.n_minor, s.indices, s.data)
        res = cast_values(res, final)
        if not self._is_array:
            res = res.reshape((1, -1) if axis == 0 else (-1, 1))
        return _to_out(res, out)

    def mean(self, axis=None, dtype=None, out=None):
        """Arithmetic mean (implicit zeros count), as SciPy: the values scaled by
        1 / count in float64 (integers) or their own dtype, then summed."""
        axis = reduction_axis(axis)
        src = self._s.data.dtype
        inter = mx.float64 if (mx.issubdtype(src, mx.integer) or src == mx.bool_) else src
        A = self if inter == src else self.astype(inter)
        denom = self.shape[0] * self.shape[1] if axis is None else self.shape[axis]
        res = A._mul_scalar(1.0 / denom).sum(axis=axis, dtype=inter, out=out)
        if dtype is not None and out is None:
            res = res.astype(getdtype(dtype))
        return res

    def trace(self, offset=0):
        """Sum of the offset-th diagonal (NumPy's sum dtype)."""
        d = self.diagonal(k=offset)
        return mx.sum(d.astype(_sum_dtype(d.dtype)))

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
_MAXMIN = {"maximum": (np.maximum, mx.maximum), "minimum": (np.minimum, mx.minimum)}


def _dense_binop(np_op, mx_op, a, b):
    """np_op(a, b) for dense operands: NumPy's result dtype (and errors), MLX's values."""
    dt = result_dtype(np_op, a.dtype, b.dtype)
    return mx_op(a.astype(dt), b.astype(dt))


def _sum_dtype(dt):
    """NumPy's default dtype of a sum (SciPy's get_sum_dtype)."""
    if dt == mx.bool_ or mx.issubdtype(dt, mx.signedinteger):
        return mx.int64
    return mx.uint64 if mx.issubdtype(dt, mx.unsignedinteger) else dt


def _data_sum(A):
    """A.data.sum() as NumPy sums it (a typed 0-d array)."""
    return mx.sum(A._s.data.astype(_sum_dtype(A._s.data.dtype)))


def _compare_dtype(dt, x):
    """The dtype NumPy compares values of dt with scalar x in (float64 where a
    Python int lies outside dt's range: NumPy compares such values exactly)."""
    res = result_dtype(None, dt, x)
    if isinstance(x, int) and mx.issubdtype(res, mx.integer):
        info = np.iinfo(MX_TO_NP[res])
        if not info.min <= x <= info.max:
            return mx.float64
    return res


def _warn_cmp(msg):
    import warnings
    warnings.warn(msg, SparseEfficiencyWarning, stacklevel=4)


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


def _can_cast(src, dst, casting):
    """np.can_cast on MLX dtypes; bfloat16 casts like float16, except that
    float16 <-> bfloat16 loses values (same kind, not safe)."""
    if src == dst:
        return True
    if {src, dst} == {mx.float16, mx.bfloat16}:
        return casting in ("same_kind", "unsafe")
    src, dst = (np.dtype(np.float16) if d == mx.bfloat16 else MX_TO_NP[d] for d in (src, dst))
    return bool(np.can_cast(src, dst, casting=casting))


def _copy_host_args(args):
    """Copies of (nested) host buffers, float16 widened (SciPy rejects float16)."""
    if isinstance(args, tuple):
        return tuple(_copy_host_args(a) for a in args)
    return np.array(args, dtype=np.float32 if args.dtype == np.float16 else None)


def issparse(x):
    """True for sparse arrays/matrices of mlx_sparse or SciPy."""
    if isinstance(x, _spbase):
        return True
    import scipy.sparse as ssp
    return ssp.issparse(x)


def matrix_transpose(A):
    """The matrix transpose of sparse array A (SciPy 1.18's function; A.mT): A.T, as
    every sparse array here is 2-D."""
    if not isinstance(A, _spbase):
        raise TypeError(f"matrix_transpose: A must be a sparse array, got {type(A).__name__}")
    return A.T


def isspmatrix(x):
    from ._matrix import spmatrix
    if isinstance(x, spmatrix):
        return True
    import scipy.sparse as ssp
    return ssp.isspmatrix(x)
