"""LinearOperator / aslinearoperator: the same construction and algebra through
scipy.sparse.linalg and mlx_sparse.sparse.linalg, results compared (values, shapes,
dtype attribute, repr, exception types)."""
import warnings

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp
import scipy.sparse.linalg as sla

import mlx_sparse.sparse as msp
import mlx_sparse.sparse.linalg as mla

RNG = np.random.default_rng(12345)
A_NP = RNG.standard_normal((4, 3))
B_NP = RNG.standard_normal((4, 3))
S_NP = RNG.standard_normal((3, 3))
AC_NP = (A_NP + 1j * RNG.standard_normal((4, 3))).astype(np.complex64)


def host(y):
    return np.asarray(y)


def close(a, b, tol=1e-6):
    a, b = host(a), host(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def pair(kind, M=A_NP):
    """(SciPy operator, our operator) for the same matrix M."""
    if kind == "dense":
        return sla.aslinearoperator(M), mla.aslinearoperator(M)
    if kind == "mx":
        return sla.aslinearoperator(M), mla.aslinearoperator(
            mx.array(M, dtype=mx.float64 if M.dtype == np.float64 else None))
    if kind == "scipy_sparse":
        return (sla.aslinearoperator(ssp.csr_array(M)),
                mla.aslinearoperator(ssp.csr_array(M)))
    if kind == "ours":
        return (sla.aslinearoperator(ssp.csr_array(M)),
                mla.aslinearoperator(msp.csr_array(M)))
    if kind == "ours_matrix":
        return (sla.aslinearoperator(ssp.csr_matrix(M)),
                mla.aslinearoperator(msp.csr_matrix(M)))
    if kind == "callables":
        def ops(lib):
            return lib.LinearOperator(M.shape, matvec=lambda v: M @ np.asarray(v),
                                      rmatvec=lambda v: M.conj().T @ np.asarray(v),
                                      dtype=M.dtype)
        return ops(sla), ops(mla)
    if kind == "scipy_op":
        op = sla.aslinearoperator(M)
        return op, mla.aslinearoperator(op)
    raise ValueError(kind)


KINDS = ["dense", "mx", "scipy_sparse", "ours", "ours_matrix", "callables", "scipy_op"]


@pytest.mark.parametrize("kind", KINDS)
def test_products(kind):
    S, O = pair(kind)
    assert O.shape == S.shape and O.dtype == S.dtype and O.ndim == 2
    x = RNG.standard_normal(3)
    X = RNG.standard_normal((3, 2))
    y = RNG.standard_normal(4)
    Y = RNG.standard_normal((4, 2))
    close(O.matvec(x), S.matvec(x))
    close(O.matvec(x[:, None]), S.matvec(x[:, None]))
    close(O.matvec(mx.array(x, dtype=mx.float64)), S.matvec(x))
    close(O @ x, S @ x)
    close(O * x, S * x)
    close(O.dot(x), S.dot(x))
    close(O(x), S(x))
    close(O.matmat(X), S.matmat(X))
    close(O @ X, S @ X)
    close(O.rmatvec(y), S.rmatvec(y))
    close(O.rmatvec(y[:, None]), S.rmatvec(y[:, None]))
    close(O.rmatmat(Y), S.rmatmat(Y))
    close(O.H @ y, S.H @ y)
    close(O.adjoint().matmat(Y), S.adjoint().matmat(Y))
    close(O.T @ y, S.T @ y)
    close(O.transpose().matmat(Y), S.transpose().matmat(Y))
    assert isinstance(O.matvec(x), mx.array)
    assert O.matvec(x).shape == (4,) and O.matvec(x[:, None]).shape == (4, 1)


@pytest.mark.parametrize("kind", ["dense", "ours", "callables"])
def test_algebra(kind):
    S, O = pair(kind)
    S2, O2 = pair(kind, B_NP)
    Sq, Oq = pair(kind, S_NP)
    x = RNG.standard_normal(3)
    y = RNG.standard_normal(4)
    cases = [
        (lambda A, B, Q: A + B, x, y), (lambda A, B, Q: A - B, x, y),
        (lambda A, B, Q: -A, x, y), (lambda A, B, Q: 2.5 * A, x, y),
        (lambda A, B, Q: A * 3, x, y), (lambda A, B, Q: A / 4.0, x, y),
        (lambda A, B, Q: A @ Q, x, y), (lambda A, B, Q: A * Q, x, y),
        (lambda A, B, Q: A.dot(Q), x, y), (lambda A, B, Q: Q ** 3, x, x),
        (lambda A, B, Q: Q ** 0, x, x), (lambda A, B, Q: (A + B).H, y, x),
        (lambda A, B, Q: (2 * A @ Q).T, y, x), (lambda A, B, Q: (Q ** 2).H, x, x),
        (lambda A, B, Q: (A - 2 * B).adjoint().H, x, y),
    ]
    for f, v, w in cases:
        s, o = f(S, S2, Sq), f(O, O2, Oq)
        assert isinstance(o, mla.LinearOperator)
        assert o.shape == s.shape
        assert o.dtype == s.dtype, (o.dtype, s.dtype)
        close(o @ v, s @ v)
        close(o.matmat(np.stack([v, 2 * v], 1)), s.matmat(np.stack([v, 2 * v], 1)))
        close(o.rmatvec(w), s.rmatvec(w))


def test_complex_adjoint_and_transpose():
    S, O = pair("ours", AC_NP)
    x = (RNG.standard_normal(3) + 1j * RNG.standard_normal(3)).astype(np.complex64)
    y = (RNG.standard_normal(4) + 1j * RNG.standard_normal(4)).astype(np.complex64)
    close(O @ x, S @ x, 1e-5)
    close(O.H @ y, S.H @ y, 1e-5)
    close(O.T @ y, S.T @ y, 1e-5)
    close((1j * O).H @ y, (1j * S).H @ y, 1e-5)
    close(O.rmatvec(y), S.rmatvec(y), 1e-5)
    assert O.dtype == np.complex64


def test_subclass():
    def define(lib):
        class Diag(lib.LinearOperator):
            def __init__(self, d):
                self.d = d
                super().__init__(dtype=None, shape=(len(d), len(d)))

            def _matvec(self, x):
                return self.d * np.asarray(x).reshape(-1)

            def _rmatvec(self, x):
                return np.conj(self.d) * np.asarray(x).reshape(-1)
        return Diag
    d = np.array([1.0, 2.0, 3.0])
    s, o = define(sla)(d), define(mla)(d)
    assert o.dtype is None and s.dtype is None
    x = np.array([1.0, -1.0, 2.0])
    close(o @ x, s @ x)
    close(o.H @ x, s.H @ x)
    close(o.matmat(np.eye(3)), s.matmat(np.eye(3)))
    close(o.rmatmat(np.eye(3)), s.rmatmat(np.eye(3)))
    close((o + o) @ x, (s + s) @ x)

    class Matmat(mla.LinearOperator):
        def __init__(self):
            super().__init__(np.float64, (2, 2))

        def _matmat(self, X):
            return 2 * mx.array(X)

        def _adjoint(self):
            return self
    m = Matmat()
    close(m.matvec(np.array([1.0, 2.0])), [2.0, 4.0])
    close(m.rmatvec(np.array([1.0, 2.0])), [2.0, 4.0])

    with pytest.warns(RuntimeWarning, match="at least one of _matvec and _matmat"):
        class Bad(mla.LinearOperator):
            def __init__(self):
                super().__init__(np.float64, (2, 2))
        Bad()


def test_dtype_inference_and_repr():
    for lib in (sla, mla):
        pass
    o = mla.LinearOperator((2, 3), matvec=lambda v: mx.array([1.0, 2.0]) * mx.sum(v))
    assert o.dtype == np.float32
    s = sla.LinearOperator((2, 3), matvec=lambda v: np.ones(2, dtype=np.int32) * v.sum())
    o = mla.LinearOperator((2, 3), matvec=lambda v: np.ones(2, dtype=np.int32) * np.asarray(v).sum())
    assert o.dtype == s.dtype
    assert repr(o) == repr(s).replace("_CustomLinearOperator", "_CustomLinearOperator")
    assert type(o).__name__ == "_CustomLinearOperator"
    o = mla.aslinearoperator(np.arange(6, dtype=np.int32).reshape(2, 3))
    s = sla.aslinearoperator(np.arange(6, dtype=np.int32).reshape(2, 3))
    assert repr(o) == repr(s)
    close(o @ np.array([1, 2, 3], dtype=np.int32), s @ np.array([1, 2, 3], dtype=np.int32))

    class Obj:
        shape = (2, 2)

        def matvec(self, v):
            return 3 * np.asarray(v)
    o, s = mla.aslinearoperator(Obj()), sla.aslinearoperator(Obj())
    close(o @ np.ones(2), s @ np.ones(2))


def test_identity_and_matrix_classes():
    from mlx_sparse.sparse.linalg._interface import IdentityOperator
    I = IdentityOperator((3, 3), dtype=np.float64)
    x = mx.array([1.0, 2.0, 3.0], dtype=mx.float64)
    close(I @ x, x)
    assert I.H is I


def errors(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e)
    return None


@pytest.mark.parametrize("case", [
    lambda lib, S: lib.LinearOperator((2, 2, 2), matvec=lambda v: v),
    lambda lib, S: lib.aslinearoperator(np.ones((2, 2, 2))),
    lambda lib, S: lib.aslinearoperator("abc"),
    lambda lib, S: S.matvec(np.ones(4)),
    lambda lib, S: S.rmatvec(np.ones(3)),
    lambda lib, S: S.matmat(np.ones(3)),
    lambda lib, S: S.matmat(np.ones((4, 2))),
    lambda lib, S: S.rmatmat(np.ones((3, 2))),
    lambda lib, S: S @ 2,
    lambda lib, S: 2 @ S,
    lambda lib, S: S + S.H,
    lambda lib, S: S @ S,
    lambda lib, S: S ** 2,
    lambda lib, S: lib.aslinearoperator(S_NP) ** -1,
    lambda lib, S: lib.aslinearoperator(S_NP) ** 1.5,
    lambda lib, S: S / np.ones(3),
    lambda lib, S: S + 1,
    lambda lib, S: S.dot(np.ones((3, 1, 1))),
    lambda lib, S: lib.LinearOperator((2, 2), matvec=lambda v: v).rmatvec(np.ones(2)),
])
def test_errors(case):
    S = sla.aslinearoperator(A_NP)
    O = mla.aslinearoperator(A_NP)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es, eo = errors(lambda: case(sla, S)), errors(lambda: case(mla, O))
    assert es is not None and eo is es, (es, eo)


def test_ndarray_left_operand():
    S, O = pair("ours")
    y = RNG.standard_normal(4)
    close(y @ O, y @ S)
    Y = RNG.standard_normal((2, 4))
    close(Y @ O, Y @ S)


def test_complex128_is_rejected():
    O = mla.aslinearoperator(msp.csr_array(S_NP.astype(np.complex64)))
    with pytest.raises(TypeError, match="complex128"):
        O.matvec(np.ones(3, dtype=np.complex128))
