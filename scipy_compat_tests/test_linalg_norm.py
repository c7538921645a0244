"""scipy.sparse.linalg.norm: every ord/axis SciPy accepts, on the same matrices
through both libraries (values compared; errors by type)."""
import warnings

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp
import scipy.sparse.linalg as sla

import mlx_sparse.sparse as msp
import mlx_sparse.sparse.linalg as mla

ORDS = [(None, None), ("fro", None), ("f", None), (1, None), (-1, None),
        (np.inf, None), (-np.inf, None), (2, None), (None, (0, 1)), (1, (1, 0)),
        (np.inf, (0, 1)), (None, 0), (None, 1), (2, -1), (1, 0), (1, 1),
        (np.inf, 0), (np.inf, 1), (-np.inf, 0), (-np.inf, 1), (0, 0), (0, 1),
        (3, 0), (0.5, 1)]


def matrix(dtype, fmt, seed=0):
    rng = np.random.default_rng(seed)
    D = (rng.random((7, 6)) < 0.4) * rng.standard_normal((7, 6)) * 3
    D[:, 2] = 0          # an empty column
    D[1, :] = 1.5        # a full row
    if np.dtype(dtype).kind == "c":
        D = D + 1j * D[::-1]
    D = D.astype(dtype)
    return getattr(ssp, f"{fmt}_array")(D), getattr(msp, f"{fmt}_array")(D)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "complex64"])
def test_norm(dtype, fmt):
    S, M = matrix(dtype, fmt)
    tol = 1e-5 if dtype in ("float32", "complex64") else 1e-12
    for ord_, axis in ORDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = sla.norm(S, ord_, axis)
        got = mla.norm(M, ord_, axis)
        assert isinstance(got, mx.array)
        np.testing.assert_allclose(np.asarray(got), ref, rtol=tol, atol=tol,
                                   err_msg=f"ord={ord_} axis={axis}")
        assert np.shape(got) == np.shape(ref)


def test_norm_matrix_class_and_scipy_input():
    S, M = matrix("float64", "csr")
    np.testing.assert_allclose(np.asarray(mla.norm(S, 1)), sla.norm(S, 1))
    Sm = ssp.csr_matrix(S)
    np.testing.assert_allclose(np.asarray(mla.norm(msp.csr_matrix(Sm), np.inf, 1)),
                               sla.norm(Sm, np.inf, 1))


@pytest.mark.parametrize("args", [
    (np.ones((2, 2)),), ("S", "bad"), ("S", 3), ("S", -2), ("S", None, (0, 0)),
    ("S", None, (0, 2)), ("S", None, 2), ("S", None, 1.5), ("S", None, (0, 1, 1)),
    ("S", "fro", 0),
])
def test_norm_errors(args):
    S, M = matrix("float64", "csr")

    def call(lib, X):
        a = tuple(X if isinstance(v, str) and v == "S" else v for v in args)
        try:
            lib.norm(*a)
        except Exception as e:  # noqa: BLE001
            return type(e)
        return None
    es, eo = call(sla, S), call(mla, M)
    assert es is not None and eo is es, (eo, es)
