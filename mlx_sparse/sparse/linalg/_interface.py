"""Abstract linear operators (SciPy's scipy.sparse.linalg.LinearOperator) on MLX.

A LinearOperator is anything that can compute ``A @ x``: a sparse matrix, a dense
array, or a pair of callables. Solvers only ever call ``matvec``/``rmatvec`` (and
``matmat``), so every such object can be handed to them.

Vectors are ``mx.array`` (NumPy arrays and lists are accepted and converted, keeping
their dtype); ``matvec`` of a shape ``(N,)`` vector returns ``(M,)``, of ``(N, 1)``
returns ``(M, 1)``, exactly as SciPy. ``dtype`` is a NumPy dtype, as in SciPy.

Ways to get one (SciPy's):

- subclass ``LinearOperator`` and implement ``_matvec`` or ``_matmat`` (optionally
  ``_rmatvec``, ``_rmatmat``, ``_adjoint``, ``_transpose``), calling
  ``super().__init__(dtype, shape)``;
- ``LinearOperator(shape, matvec, rmatvec=None, matmat=None, dtype=None,
  rmatmat=None)`` from callables; when ``dtype`` is None it is inferred from one
  trial ``matvec`` on an int8 zero vector (an mx.array), as SciPy does;
- ``aslinearoperator(A)`` for our sparse arrays/matrices, SciPy sparse objects
  (converted to ours once), dense NumPy/MLX arrays, LinearOperators (ours are
  returned as they are, SciPy's are wrapped), or any object with ``shape`` and
  ``matvec``.

Operators combine lazily: ``A + B``, ``A - B``, ``-A``, ``alpha * A``, ``A / alpha``,
``A @ B`` / ``A * B`` / ``A.dot(B)``, ``A ** p``, ``A.T``, ``A.H``.
"""
import contextlib
import types
import warnings

import mlx.core as mx
import numpy as np

from .._base import issparse, _ours
from .._sputils import asmx, isintlike, isshape

__all__ = ["LinearOperator", "aslinearoperator"]


# ---- helpers ------------------------------------------------------------------------
def _is_scalar(x):
    """SciPy's np.isscalar test, also accepting 0-d MLX arrays."""
    return np.isscalar(x) or (isinstance(x, mx.array) and x.ndim == 0)


def _scalar_value(x):
    return x.item() if isinstance(x, mx.array) else x


def _as_mx(x):
    """An mx.array for a vector/matrix operand (NumPy, matrix, list...)."""
    if isinstance(x, mx.array):
        return x
    if isinstance(x, np.matrix):
        x = np.asarray(x)
    return asmx(x)


def _as_result(y):
    """A user routine's result as an mx.array (they may return NumPy)."""
    if isinstance(y, mx.array):
        return y
    if issparse(y):
        return y
    return _as_mx(y)


def _np_dtype(dt):
    """A NumPy dtype for an MLX or NumPy dtype-like (bfloat16 reads as float32)."""
    if isinstance(dt, mx.Dtype):
        from ..._dtypes import MX_TO_NP
        return MX_TO_NP.get(dt, np.dtype(np.float32))
    return np.dtype(dt)


def _stream_for(x, op_dtype):
    """The stream an operator product runs on: the CPU when float64 is involved
    (MLX has no float64 on the GPU), else the current default."""
    wide = (isinstance(x, mx.array) and x.dtype == mx.float64) or (
        op_dtype is not None and np.dtype(op_dtype) == np.float64)
    if wide and mx.default_device().type != mx.DeviceType.cpu:
        return mx.stream(mx.cpu)
    return contextlib.nullcontext()


def _conj(x):
    return mx.conj(x) if mx.issubdtype(x.dtype, mx.complexfloating) else x


def _get_dtype(operators, dtypes=()):
    # an unspecified (None) dtype counts as float64, as in SciPy
    found = [op.dtype for op in operators if op is not None and hasattr(op, "dtype")]
    return np.result_type(*found, *dtypes)


def _hstack_columns(fn, X):
    """[fn(X[:, 0:1]), fn(X[:, 1:2]), ...] side by side (column-by-column default)."""
    X = _as_mx(X) if not issparse(X) else X
    if issparse(X):
        X = _as_mx(X.toarray())
    cols = [_as_result(fn(X[:, j:j + 1])).reshape(-1, 1) for j in range(X.shape[1])]
    if not cols:
        raise ValueError("need at least one column")
    return mx.concatenate(cols, axis=1)


# ---- the base class -------------------------------------------------------------------
class LinearOperator:
    """Common interface for performing matrix-vector products (SciPy's
    scipy.sparse.linalg.LinearOperator); see the module docstring."""

    ndim = 2
    # NumPy operators (ndarray @ op, ndarray * op) defer to our reflected methods.
    __array_ufunc__ = None
    __class_getitem__ = classmethod(types.GenericAlias)

    def __new__(cls, *args, **kwargs):
        if cls is LinearOperator:
            # LinearOperator(shape, matvec, ...) builds an operator from callables.
            return super().__new__(_CustomLinearOperator)
        obj = super().__new__(cls)
        if (type(obj)._matvec == LinearOperator._matvec
                and type(obj)._matmat == LinearOperator._matmat):
            warnings.warn("LinearOperator subclass should implement at least one of "
                          "_matvec and _matmat.", category=RuntimeWarning,
                          stacklevel=2)
        return obj

    def __init__(self, dtype, shape):
        """Validate and store dtype (may be None) and shape (a length-2 tuple)."""
        if dtype is not None:
            dtype = _np_dtype(dtype)
        shape = tuple(shape)
        if not isshape(shape):
            raise ValueError(f"invalid shape {shape!r} (must be 2-d)")
        self.dtype = dtype
        self.shape = tuple(int(d) for d in shape)

    def _init_dtype(self):
        """Infer dtype from one matvec of an int8 zero vector (int8 promotes to every
        other type, so the result's dtype is the operator's)."""
        if self.dtype is None:
            v = mx.zeros((self.shape[-1],), dtype=mx.int8)
            try:
                y = self.matvec(v)
            except OverflowError:
                self.dtype = np.dtype(int)
            else:
                self.dtype = _np_dtype(y.dtype) if isinstance(y, mx.array) \
                    else np.asarray(y).dtype

    # ---- defaults: each of matvec / matmat falls back on the other ----------------
    def _matmat(self, X):
        return _hstack_columns(self.matvec, X)

    def _matvec(self, x):
        return self.matmat(x.reshape(-1, 1))

    def _rmatvec(self, x):
        if type(self)._adjoint == LinearOperator._adjoint:
            if (hasattr(self, "_rmatmat")
                    and type(self)._rmatmat != LinearOperator._rmatmat):
                return _as_result(self._rmatmat(x.reshape(-1, 1))).reshape(-1)
            raise NotImplementedError
        return self.H.matvec(x)

    def _rmatmat(self, X):
        if type(self)._adjoint == LinearOperator._adjoint:
            return _hstack_columns(self.rmatvec, X)
        return self.H.matmat(X)

    # ---- the public products -------------------------------------------------------
    def matvec(self, x):
        """y = A @ x for x of shape (N,) or (N, 1); y has shape (M,) or (M, 1)."""
        x = _as_mx(x)
        M, N = self.shape
        if x.shape != (N,) and x.shape != (N, 1):
            raise ValueError("dimension mismatch")
        with _stream_for(x, self.dtype):
            y = _as_result(self._matvec(x))
        if y.size != M:
            raise ValueError("invalid shape returned by user-defined matvec()")
        return y.reshape((M,) if x.ndim == 1 else (M, 1))

    def rmatvec(self, x):
        """y = A^H @ x for x of shape (M,) or (M, 1); y has shape (N,) or (N, 1)."""
        x = _as_mx(x)
        M, N = self.shape
        if x.shape != (M,) and x.shape != (M, 1):
            raise ValueError("dimension mismatch")
        with _stream_for(x, self.dtype):
            y = _as_result(self._rmatvec(x))
        if y.size != N:
            raise ValueError("invalid shape returned by user-defined rmatvec()")
        return y.reshape((N,) if x.ndim == 1 else (N, 1))

    def matmat(self, X):
        """Y = A @ X for a 2-D X of shape (N, K)."""
        sparse_in = issparse(X)
        if not sparse_in:
            X = _as_mx(X)
        if X.ndim != 2:
            raise ValueError(f"expected 2-d ndarray or matrix, not {X.ndim}-d")
        if X.shape[0] != self.shape[1]:
            raise ValueError(f"dimension mismatch: {self.shape}, {X.shape}")
        try:
            with _stream_for(X, self.dtype):
                Y = self._matmat(X)
        except Exception as e:
            if sparse_in:
                raise TypeError("Unable to multiply a LinearOperator with a sparse "
                                "matrix. Wrap the matrix in aslinearoperator first.") from e
            raise
        return _as_result(Y)

    def rmatmat(self, X):
        """Y = A^H @ X for a 2-D X of shape (M, K)."""
        sparse_in = issparse(X)
        if not sparse_in:
            X = _as_mx(X)
        if X.ndim != 2:
            raise ValueError(f"expected 2-d ndarray or matrix, not {X.ndim}-d")
        if X.shape[0] != self.shape[0]:
            raise ValueError(f"dimension mismatch: {self.shape}, {X.shape}")
        try:
            with _stream_for(X, self.dtype):
                Y = self._rmatmat(X)
        except Exception as e:
            if sparse_in:
                raise TypeError("Unable to multiply a LinearOperator with a sparse "
                                "matrix. Wrap the matrix in aslinearoperator() first.") from e
            raise
        return _as_result(Y)

    def __call__(self, x):
        return self @ x

    def dot(self, x):
        """A @ x for a vector or matrix x; a LinearOperator for an operator x; the
        scaled operator for a scalar x."""
        if isinstance(x, LinearOperator):
            return _ProductLinearOperator(self, x)
        if _is_scalar(x):
            return _ScaledLinearOperator(self, _scalar_value(x))
        if not issparse(x):
            x = _as_mx(x)
        if x.ndim == 1 or (x.ndim == 2 and x.shape[1] == 1):
            return self.matvec(x)
        if x.ndim == 2:
            return self.matmat(x)
        raise ValueError(f"expected 1-d or 2-d array or matrix, got {x!r}")

    def _rdot(self, x):
        """x @ A, through (A^T @ x^T)^T."""
        if isinstance(x, LinearOperator):
            return _ProductLinearOperator(x, self)
        if _is_scalar(x):
            return _ScaledLinearOperator(self, _scalar_value(x))
        if not issparse(x):
            x = _as_mx(x)
        if x.ndim == 1 or (x.ndim == 2 and x.shape[0] == 1):
            return self.T.matvec(x.T).T
        if x.ndim == 2:
            return self.T.matmat(x.T).T
        raise ValueError(f"expected 1-d or 2-d array or matrix, got {x!r}")

    def __mul__(self, x):
        return self.dot(x)

    def __rmul__(self, x):
        if _is_scalar(x):
            return _ScaledLinearOperator(self, _scalar_value(x))
        return self._rdot(x)

    def __matmul__(self, other):
        if _is_scalar(other):
            raise ValueError("Scalar operands are not allowed, use '*' instead")
        return self.__mul__(other)

    def __rmatmul__(self, other):
        if _is_scalar(other):
            raise ValueError("Scalar operands are not allowed, use '*' instead")
        return self.__rmul__(other)

    def __truediv__(self, other):
        if not _is_scalar(other):
            raise ValueError("Can only divide a linear operator by a scalar.")
        return _ScaledLinearOperator(self, 1.0 / _scalar_value(other))

    def __pow__(self, p):
        if _is_scalar(p):
            return _PowerLinearOperator(self, _scalar_value(p))
        return NotImplemented

    def __add__(self, x):
        if isinstance(x, LinearOperator):
            return _SumLinearOperator(self, x)
        return NotImplemented

    def __neg__(self):
        return _ScaledLinearOperator(self, -1)

    def __sub__(self, x):
        return self.__add__(-x)

    def __repr__(self):
        M, N = self.shape
        dt = "unspecified dtype" if self.dtype is None else f"dtype={self.dtype}"
        return f"<{M}x{N} {self.__class__.__name__} with {dt}>"

    def adjoint(self):
        """The Hermitian adjoint A^H (conjugate transpose), also ``A.H``."""
        return self._adjoint()

    H = property(adjoint)

    def transpose(self):
        """The transpose A^T, also ``A.T``."""
        return self._transpose()

    T = property(transpose)

    def _adjoint(self):
        return _AdjointLinearOperator(self)

    def _transpose(self):
        return _TransposedLinearOperator(self)


# ---- operators from callables ---------------------------------------------------------
class _CustomLinearOperator(LinearOperator):
    """An operator defined by user callables."""

    def __init__(self, shape, matvec, rmatvec=None, matmat=None, dtype=None,
                 rmatmat=None):
        super().__init__(dtype, shape)
        self.args = ()
        self._fn_matvec = matvec
        self._fn_rmatvec = rmatvec
        self._fn_matmat = matmat
        self._fn_rmatmat = rmatmat
        self._init_dtype()

    def _matvec(self, x):
        return self._fn_matvec(x)

    def _matmat(self, X):
        if self._fn_matmat is not None:
            return self._fn_matmat(X)
        return super()._matmat(X)

    def _rmatvec(self, x):
        if self._fn_rmatvec is None:
            raise NotImplementedError("rmatvec is not defined")
        return self._fn_rmatvec(x)

    def _rmatmat(self, X):
        if self._fn_rmatmat is not None:
            return self._fn_rmatmat(X)
        return super()._rmatmat(X)

    def _adjoint(self):
        return _CustomLinearOperator(shape=(self.shape[1], self.shape[0]),
                                     matvec=self._fn_rmatvec, rmatvec=self._fn_matvec,
                                     matmat=self._fn_rmatmat, rmatmat=self._fn_matmat,
                                     dtype=self.dtype)


# ---- derived operators ----------------------------------------------------------------
class _AdjointLinearOperator(LinearOperator):
    """A^H of any operator, through its rmatvec/rmatmat."""

    def __init__(self, A):
        super().__init__(dtype=A.dtype, shape=(A.shape[1], A.shape[0]))
        self.A = A
        self.args = (A,)

    def _matvec(self, x):
        return self.A._rmatvec(x)

    def _rmatvec(self, x):
        return self.A._matvec(x)

    def _matmat(self, X):
        return self.A._rmatmat(X)

    def _rmatmat(self, X):
        return self.A._matmat(X)


class _TransposedLinearOperator(LinearOperator):
    """A^T of any operator: A^T x = conj(A^H conj(x))."""

    def __init__(self, A):
        super().__init__(dtype=A.dtype, shape=(A.shape[1], A.shape[0]))
        self.A = A
        self.args = (A,)

    def _matvec(self, x):
        return _conj(_as_result(self.A._rmatvec(_conj(x))))

    def _rmatvec(self, x):
        return _conj(_as_result(self.A._matvec(_conj(x))))

    def _matmat(self, X):
        return _conj(_as_result(self.A._rmatmat(_conj(X))))

    def _rmatmat(self, X):
        return _conj(_as_result(self.A._matmat(_conj(X))))


class _SumLinearOperator(LinearOperator):
    def __init__(self, A, B):
        if not isinstance(A, LinearOperator) or not isinstance(B, LinearOperator):
            raise ValueError("both operands have to be a LinearOperator")
        if A.shape != B.shape:
            raise ValueError(f"cannot add {A} and {B}: shape mismatch")
        self.args = (A, B)
        super().__init__(_get_dtype([A, B]), A.shape)

    def _matvec(self, x):
        return self.args[0].matvec(x) + self.args[1].matvec(x)

    def _rmatvec(self, x):
        return self.args[0].rmatvec(x) + self.args[1].rmatvec(x)

    def _matmat(self, X):
        return self.args[0].matmat(X) + self.args[1].matmat(X)

    def _rmatmat(self, X):
        return self.args[0].rmatmat(X) + self.args[1].rmatmat(X)

    def _adjoint(self):
        A, B = self.args
        return A.H + B.H


class _ProductLinearOperator(LinearOperator):
    def __init__(self, A, B):
        if not isinstance(A, LinearOperator) or not isinstance(B, LinearOperator):
            raise ValueError("both operands have to be a LinearOperator")
        if A.shape[1] != B.shape[0]:
            raise ValueError(f"cannot multiply {A} and {B}: shape mismatch")
        super().__init__(_get_dtype([A, B]), (A.shape[0], B.shape[1]))
        self.args = (A, B)

    def _matvec(self, x):
        return self.args[0].matvec(self.args[1].matvec(x))

    def _rmatvec(self, x):
        return self.args[1].rmatvec(self.args[0].rmatvec(x))

    def _matmat(self, X):
        return self.args[0].matmat(self.args[1].matmat(X))

    def _rmatmat(self, X):
        return self.args[1].rmatmat(self.args[0].rmatmat(X))

    def _adjoint(self):
        A, B = self.args
        return B.H @ A.H


class _ScaledLinearOperator(LinearOperator):
    def __init__(self, A, alpha):
        if not isinstance(A, LinearOperator):
            raise ValueError("LinearOperator expected as A")
        if not _is_scalar(alpha):
            raise ValueError("scalar expected as alpha")
        alpha = _scalar_value(alpha)
        if isinstance(A, _ScaledLinearOperator):
            A, alpha0 = A.args
            alpha = alpha * alpha0
        super().__init__(_get_dtype([A], [type(alpha)]), A.shape)
        self.args = (A, alpha)
        # Python scalars multiply MLX arrays on the device (a NumPy scalar would pull
        # the vector to the host).
        a = complex(alpha) if np.iscomplexobj(alpha) else alpha
        a = a.item() if isinstance(a, np.generic) else a
        self._alpha = a
        self._alpha_conj = a.conjugate() if isinstance(a, complex) else a

    def _matvec(self, x):
        return self._alpha * self.args[0].matvec(x)

    def _rmatvec(self, x):
        return self._alpha_conj * self.args[0].rmatvec(x)

    def _matmat(self, X):
        return self._alpha * self.args[0].matmat(X)

    def _rmatmat(self, X):
        return self._alpha_conj * self.args[0].rmatmat(X)

    def _adjoint(self):
        A, alpha = self.args
        return A.H * np.conj(alpha)


class _PowerLinearOperator(LinearOperator):
    def __init__(self, A, p):
        if not isinstance(A, LinearOperator):
            raise ValueError("LinearOperator expected as A")
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"square LinearOperator expected, got {A!r}")
        if not isintlike(p) or p < 0:
            raise ValueError("non-negative integer expected as p")
        super().__init__(_get_dtype([A]), A.shape)
        self.args = (A, int(p))

    def _power(self, fn, x):
        res = x
        for _ in range(self.args[1]):
            res = fn(res)
        return mx.array(res) if res is x else res

    def _matvec(self, x):
        return self._power(self.args[0].matvec, x)

    def _rmatvec(self, x):
        return self._power(self.args[0].rmatvec, x)

    def _matmat(self, X):
        return self._power(self.args[0].matmat, X)

    def _rmatmat(self, X):
        return self._power(self.args[0].rmatmat, X)

    def _adjoint(self):
        A, p = self.args
        return A.H ** p


# ---- operators wrapping a matrix ------------------------------------------------------
def _dense_product(A, X):
    """A @ X for a dense mx.array A; MLX's matmul takes inexact types only, so
    integer/bool products are a broadcast multiply and sum (SciPy keeps int dtypes)."""
    if mx.issubdtype(A.dtype, mx.inexact) or mx.issubdtype(X.dtype, mx.inexact):
        return A @ X
    if X.ndim == 1:
        return (A * X[None, :]).sum(axis=1)
    return (A[:, :, None] * X[None, :, :]).sum(axis=1)


class MatrixLinearOperator(LinearOperator):
    """An operator holding a matrix: our sparse class or a dense mx.array."""

    def __init__(self, A):
        if isinstance(A, (np.ndarray, list)) and not issparse(A):
            A = _as_mx(np.asarray(A))
        elif issparse(A):
            A = _ours(A)
        super().__init__(_np_dtype(A.dtype) if isinstance(A, mx.array) else A.dtype,
                         A.shape)
        self.A = A
        self._adj = None
        self.args = (A,)

    def _product(self, X):
        if isinstance(self.A, mx.array):
            if issparse(X):
                X = _as_mx(X.toarray())
            return _dense_product(self.A, X)
        return self.A @ X

    def _matmat(self, X):
        return self._product(X)

    def _matvec(self, x):
        return self._product(x)

    def _adjoint(self):
        if self._adj is None:
            self._adj = _AdjointMatrixOperator(self)
        return self._adj


class _AdjointMatrixOperator(MatrixLinearOperator):
    """A^H of a MatrixLinearOperator, as the conjugate-transposed matrix."""

    def __init__(self, parent):
        A = parent.A
        if isinstance(A, mx.array):
            At = _conj(mx.transpose(A))
        else:
            At = A.T.conj() if _np_dtype(A.dtype).kind == "c" else A.T
        LinearOperator.__init__(self, parent.dtype, (A.shape[1], A.shape[0]))
        self.A = At
        self._parent = parent
        self._adj = parent
        self.args = (A,)

    def _adjoint(self):
        return self._parent


class IdentityOperator(LinearOperator):
    """The identity: matvec returns its input."""

    def __init__(self, shape, dtype=None):
        super().__init__(dtype, shape)

    def _matvec(self, x):
        return x

    def _rmatvec(self, x):
        return x

    def _matmat(self, X):
        return X

    def _rmatmat(self, X):
        return X

    def _adjoint(self):
        return self


def _is_scipy_linear_operator(A):
    mod = type(A).__module__ or ""
    if not mod.startswith("scipy."):
        return False
    from scipy.sparse.linalg import LinearOperator as _SciPyLO
    return isinstance(A, _SciPyLO)


def aslinearoperator(A):
    """A as a LinearOperator.

    A may be our LinearOperator (returned as is), our sparse array/matrix, a SciPy
    sparse array/matrix (converted to ours once), a dense NumPy array/matrix or
    mx.array (ndim <= 2), a SciPy LinearOperator, or any object with ``shape`` and
    ``matvec`` (and optionally ``rmatvec``, ``rmatmat``, ``dtype``; without ``dtype``
    one trial matvec determines it).
    """
    if isinstance(A, LinearOperator):
        return A
    if isinstance(A, (np.ndarray, mx.array)):
        if A.ndim > 2:
            raise ValueError("array must have ndim <= 2")
        A = _as_mx(A)
        if A.ndim < 2:
            A = A.reshape(1, -1) if A.ndim == 1 else A.reshape(1, 1)
        return MatrixLinearOperator(A)
    if issparse(A):
        return MatrixLinearOperator(A)
    if hasattr(A, "shape") and hasattr(A, "matvec"):
        rmatvec = getattr(A, "rmatvec", None)
        rmatmat = getattr(A, "rmatmat", None)
        matmat = getattr(A, "matmat", None) if _is_scipy_linear_operator(A) else None
        dtype = getattr(A, "dtype", None)
        return _CustomLinearOperator(A.shape, A.matvec, rmatvec=rmatvec, matmat=matmat,
                                     dtype=dtype, rmatmat=rmatmat)
    raise TypeError("type not understood")
