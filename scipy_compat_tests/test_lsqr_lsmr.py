"""Oracle tests: lsqr and lsmr against SciPy 1.17's.

Least squares on tall, wide and square sparse matrices, with and without damping,
x0 and calc_var: the full result tuples compared (x within a dtype tolerance, istop
and itn equal, the norm/condition estimates close), iteration limits exact, b = 0,
SciPy's errors.
"""
import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp
import scipy.sparse.linalg as sla

import mlx_sparse.sparse as msp
import mlx_sparse.sparse.linalg as mla

# SciPy's lsmr warns comparing its 1e100 start value with float32 scalars
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast")

SHAPES = {"tall": (40, 20), "wide": (20, 40), "square": (30, 30)}
DTYPES = ("float64", "float32", "complex64")


def problem(shape, dtype, rng):
    m, n = SHAPES[shape]
    # well conditioned (a dominant diagonal), so that both libraries converge long
    # before rounding separates their iterates
    def rand():
        return ssp.random(m, n, density=0.2, random_state=rng,
                          data_rvs=lambda k: rng.uniform(-0.5, 0.5, k))
    A = rand() + 2 * ssp.eye(m, n)
    b = rng.standard_normal(m)
    if np.dtype(dtype).kind == "c":
        A = A + 1j * rand()
        b = b + 1j * rng.standard_normal(m)
    return A.astype(dtype).tocsr(), b.astype(dtype)


def tols(dtype):
    """(atol = btol for the solver, x tolerance): float32 problems stop well above
    their rounding level so that both libraries stop at the same iteration."""
    return (1e-8, 1e-9) if dtype == "float64" else (1e-3, 2e-3)


def compare(res_s, res_m, dtype, n_est, loose=()):
    x_s, x_m = res_s[0], res_m[0]
    assert isinstance(x_m, mx.array)
    assert res_m[1] == res_s[1], "istop"
    assert res_m[2] == res_s[2], "itn"
    _, xtol = tols(dtype)
    np.testing.assert_allclose(np.asarray(x_m), x_s, rtol=0,
                               atol=xtol * max(1.0, np.abs(x_s).max()))
    for i in range(3, 3 + n_est):
        rt = 0.2 if i in loose else (1e-6 if dtype == "float64" else 2e-2)
        np.testing.assert_allclose(float(res_m[i]), float(res_s[i]), rtol=rt,
                                   atol=1e-12 if dtype == "float64" else 1e-5)


def run(name, A, b, **kw):
    rs = getattr(sla, name)(A, b, **kw)
    rm = getattr(mla, name)(msp.csr_array(A), b, **kw)
    return rs, rm


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("damp", [0.0, 0.7])
def test_lsqr_matches_scipy(dtype, shape, damp, rng):
    A, b = problem(shape, dtype, rng)
    t, _ = tols(dtype)
    rs, rm = run("lsqr", A, b, damp=damp, atol=t, btol=t, calc_var=True)
    assert len(rm) == 10
    # acond (index 6) sums ||dk||^2, sensitive to rounding: looser
    compare(rs, rm, dtype, 6, loose=(6,))
    np.testing.assert_allclose(np.asarray(rm[9]), rs[9],
                               rtol=1e-6 if dtype == "float64" else 0.05, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("damp", [0.0, 0.7])
def test_lsmr_matches_scipy(dtype, shape, damp, rng):
    A, b = problem(shape, dtype, rng)
    t, _ = tols(dtype)
    rs, rm = run("lsmr", A, b, damp=damp, atol=t, btol=t)
    assert len(rm) == 8
    # conda (index 6) depends on the smallest rbar seen: looser
    compare(rs, rm, dtype, 5, loose=(6,))


@pytest.mark.parametrize("name,limit_kw", [("lsqr", "iter_lim"), ("lsmr", "maxiter")])
@pytest.mark.parametrize("limit", [1, 2, 5])
def test_iteration_limit_exact(name, limit_kw, limit, rng):
    A, b = problem("tall", "float64", rng)
    rs, rm = run(name, A, b, atol=1e-14, btol=1e-14, **{limit_kw: limit})
    assert rs[1] == rm[1] == 7
    assert rs[2] == rm[2] == limit
    compare(rs, rm, "float64", 5 if name == "lsmr" else 6)


@pytest.mark.parametrize("name", ["lsqr", "lsmr"])
def test_x0(name, rng):
    A, b = problem("tall", "float64", rng)
    x0 = rng.standard_normal(A.shape[1])
    rs = getattr(sla, name)(A, b, x0=x0, damp=0.3, atol=1e-10, btol=1e-10)
    rm = getattr(mla, name)(msp.csr_array(A), mx.array(b, dtype=mx.float64),
                            x0=mx.array(x0, dtype=mx.float64), damp=0.3,
                            atol=1e-10, btol=1e-10)
    compare(rs, rm, "float64", 5 if name == "lsmr" else 6, loose=(6,))


@pytest.mark.parametrize("name", ["lsqr", "lsmr"])
def test_conlim_stop(name, rng):
    # a column scaling makes the condition estimate cross conlim within a few
    # iterations (late crossings depend on rounding: the estimates use the
    # smallest rotation entries seen)
    A, b = problem("tall", "float64", rng)
    A = (A @ ssp.diags(np.logspace(0, 3, A.shape[1]))).tocsr()
    rs, rm = run(name, A, b, atol=1e-14, btol=1e-14, conlim=8)
    assert rs[1] == rm[1] == 3
    assert rs[2] == rm[2]


@pytest.mark.parametrize("name", ["lsqr", "lsmr"])
def test_zero_rhs(name):
    A = ssp.eye(6, 4, format="csr")
    rs, rm = run(name, A, np.zeros(6))
    assert rs[1] == rm[1] == 0 and rs[2] == rm[2] == 0
    assert not np.asarray(rm[0]).any() and rm[0].shape == (4,)
    assert rm[0].dtype == mx.float64


def test_result_dtypes():
    A = ssp.eye(5, 3, format="csr", dtype=np.float32)
    b = np.ones(5, dtype=np.float32)
    for name in ("lsqr", "lsmr"):
        rs, rm = run(name, A, b)
        # SciPy returns float64 x for float32 data
        assert np.asarray(rm[0]).dtype == rs[0].dtype == np.float64


@pytest.mark.parametrize("name", ["lsqr", "lsmr"])
def test_errors(name):
    A = ssp.random(20, 10, density=0.3, random_state=0, format="csr")
    for b, kw in ((np.ones(19), {}), (np.ones(20), {"x0": np.ones(9)})):
        with pytest.raises(ValueError):
            getattr(sla, name)(A, b, **kw)
        with pytest.raises(ValueError):
            getattr(mla, name)(msp.csr_array(A), b, **kw)
    with pytest.raises(TypeError, match="complex128"):
        getattr(mla, name)(msp.csr_array(A), np.ones(20, dtype=np.complex128))


@pytest.mark.parametrize("name", ["lsqr", "lsmr"])
def test_show_prints(name, capsys, rng):
    A, b = problem("tall", "float64", rng)
    getattr(mla, name)(msp.csr_array(A), b, show=True)
    out = capsys.readouterr().out
    assert name.upper() in out and "istop" in out


def test_linear_operator_and_dense(rng):
    A, b = problem("tall", "float64", rng)
    rs = sla.lsqr(A, b, atol=1e-10, btol=1e-10)
    Am = msp.csr_array(A)
    op = mla.LinearOperator(A.shape, matvec=lambda v: Am @ v,
                            rmatvec=lambda v: Am.T @ v, dtype=np.float64)
    for AA in (op, A.toarray(), A):
        rm = mla.lsqr(AA, b, atol=1e-10, btol=1e-10)
        compare(rs, rm, "float64", 6, loose=(6,))
