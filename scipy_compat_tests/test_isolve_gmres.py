"""Oracle tests: gmres, lgmres and gcrotmk against SciPy 1.17's.

Same system through scipy.sparse.linalg and mlx_sparse.sparse.linalg: x within a
dtype tolerance, info equal, callbacks called as often (iteration counts equal) and
with matching values; SciPy's errors; b = 0; maxiter exact; results independent of
how often the solver reads back to the host (check_every).
"""
import warnings

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp
import scipy.sparse.linalg as sla

import mlx_sparse.sparse as msp
import mlx_sparse.sparse.linalg as mla

DTYPES = ("float32", "float64", "complex64")


def convection_diffusion(m, c=0.4):
    """Nonsymmetric 5-point convection-diffusion operator on an m x m grid."""
    T = ssp.diags([-1 - c, 4.0, -1 + c], [-1, 0, 1], shape=(m, m))
    S = ssp.diags([-1 - c / 2, 0.0, -1 + c / 2], [-1, 0, 1], shape=(m, m))
    return (ssp.kron(ssp.eye(m), T) + ssp.kron(S, ssp.eye(m))).tocsr()


def poisson2d(m):
    T = ssp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(m, m))
    return (ssp.kron(ssp.eye(m), T) + ssp.kron(T, ssp.eye(m))).tocsr()


PROBLEMS = {"convdiff": lambda: convection_diffusion(8),
            "poisson": lambda: poisson2d(8)}


def system(problem, dtype, rng):
    A = PROBLEMS[problem]().astype(dtype)
    n = A.shape[0]
    b = rng.standard_normal(n)
    if np.dtype(dtype).kind == "c":
        A = (A + 0.2j * ssp.eye(n)).astype(dtype).tocsr()
        b = b + 1j * rng.standard_normal(n)
    return A, b.astype(dtype)


def tol(dtype):
    return 1e-9 if np.dtype(dtype) == np.float64 else 2e-3


def rtol_for(dtype):
    """A tolerance well above the dtype's rounding, so both libraries stop at the
    same iteration."""
    return 1e-8 if np.dtype(dtype) == np.float64 else 1e-3


def assert_x_close(x_ours, x_scipy, dtype):
    assert isinstance(x_ours, (mx.array, np.ndarray))
    got = np.asarray(x_ours)
    scale = max(1.0, np.abs(x_scipy).max())
    np.testing.assert_allclose(got, x_scipy, rtol=0, atol=tol(dtype) * scale)


def both(name, A, b, **kw):
    """Run solver `name` on both libraries; returns ((x, info, calls), (x, info, calls))
    with the callback arguments recorded as host copies."""
    out = []
    for lib, AA, bb in ((sla, A, b), (mla, msp.csr_array(A), b)):
        calls = []
        extra = {}
        if "callback_type" in kw or name != "gmres":
            extra["callback"] = lambda v: calls.append(np.array(v, copy=True))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            x, info = getattr(lib, name)(AA, bb, **kw, **extra)
        out.append((x, info, calls))
    return out


# ---- gmres ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("callback_type", ["legacy", "pr_norm", "x"])
@pytest.mark.parametrize("opts", [{}, {"restart": 5}, {"restart": 7, "maxiter": 2},
                                  {"restart": 3, "maxiter": 4}])
def test_gmres_matches_scipy(dtype, problem, callback_type, opts, rng):
    A, b = system(problem, dtype, rng)
    kw = dict(rtol=rtol_for(dtype), callback_type=callback_type, **opts)
    (xs, is_, cs), (xm, im, cm) = both("gmres", A, b, **kw)
    assert im == is_
    assert len(cm) == len(cs)
    if callback_type == "x":
        for a, c in zip(cm, cs):
            assert_x_close(a, c, dtype)
    else:
        np.testing.assert_allclose(cm, cs, rtol=1e-6 if dtype == "float64" else 1e-2,
                                   atol=1e-12 if dtype == "float64" else 1e-5)
    assert_x_close(xm, xs, dtype)
    assert xm.dtype == getattr(mx, dtype)


@pytest.mark.parametrize("maxiter", [1, 3, 7])
def test_gmres_maxiter_exact(maxiter, rng):
    A, b = system("convdiff", "float64", rng)
    # legacy: maxiter counts inner iterations; pr_norm: restart cycles
    for ct, expected in (("legacy", maxiter), ("pr_norm", 5 * maxiter)):
        (xs, is_, cs), (xm, im, cm) = both("gmres", A, b, rtol=1e-14, restart=5,
                                           maxiter=maxiter, callback_type=ct)
        assert is_ == im == maxiter
        assert len(cs) == len(cm) == expected
        assert_x_close(xm, xs, "float64")


def test_gmres_no_callback_x0_and_preconditioner(rng):
    A, b = system("convdiff", "float64", rng)
    x0 = rng.standard_normal(A.shape[0])
    Mj = ssp.diags(1.0 / A.diagonal()).tocsr()
    xs, is_ = sla.gmres(A, b, x0=x0, M=Mj, rtol=1e-10, restart=4)
    xm, im = mla.gmres(msp.csr_array(A), mx.array(b, dtype=mx.float64),
                       x0=mx.array(x0, dtype=mx.float64), M=msp.csr_array(Mj),
                       rtol=1e-10, restart=4)
    assert im == is_ == 0
    assert_x_close(xm, xs, "float64")


@pytest.mark.parametrize("every", [2, 3, 8])
def test_results_do_not_depend_on_check_every(every, rng):
    A, b = system("convdiff", "float64", rng)
    ref = {}
    for ce in (None, every):
        mla.set_check_every(ce)
        try:
            for name, kw in (("gmres", dict(restart=6, callback_type="pr_norm")),
                             ("lgmres", dict(inner_m=6)), ("gcrotmk", dict(m=6, k=3))):
                calls = []
                cb = (lambda v: calls.append(float(v))) if name == "gmres" else \
                    (lambda v: calls.append(np.array(v)))
                x, info = getattr(mla, name)(msp.csr_array(A), b, rtol=1e-10,
                                             callback=cb, **kw)
                ref.setdefault(name, []).append((np.array(x), info, len(calls)))
        finally:
            mla.set_check_every(None)
    for name, ((x1, i1, n1), (x2, i2, n2)) in ref.items():
        assert (i1, n1) == (i2, n2), name
        np.testing.assert_allclose(x2, x1, rtol=0, atol=1e-12)


def test_gmres_legacy_deprecation_warning(rng):
    A, b = system("poisson", "float64", rng)
    with pytest.warns(DeprecationWarning):
        mla.gmres(msp.csr_array(A), b, callback=lambda r: None)


# ---- lgmres / gcrotmk ----------------------------------------------------------------
LGMRES_OPTS = [{}, {"inner_m": 5}, {"inner_m": 5, "maxiter": 2},
               {"inner_m": 4, "prepend_outer_v": True},
               {"inner_m": 4, "store_outer_Av": False}, {"inner_m": 3, "outer_k": 1}]
GCROT_OPTS = [{}, {"m": 5}, {"m": 5, "k": 3, "maxiter": 2},
              {"m": 4, "k": 2, "truncate": "smallest"}, {"m": 4, "discard_C": True}]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("name,opts", [("lgmres", o) for o in LGMRES_OPTS]
                         + [("gcrotmk", o) for o in GCROT_OPTS])
def test_lgmres_gcrotmk_match_scipy(dtype, problem, name, opts, rng):
    A, b = system(problem, dtype, rng)
    (xs, is_, cs), (xm, im, cm) = both(name, A, b, rtol=rtol_for(dtype), **opts)
    assert im == is_
    assert len(cm) == len(cs)
    assert_x_close(xm, xs, dtype)
    assert xm.dtype == getattr(mx, dtype)


def test_lgmres_outer_v_and_gcrotmk_cu_reuse(rng):
    A, b = system("convdiff", "float64", rng)
    b2 = rng.standard_normal(A.shape[0])
    # vectors kept from a first solve speed up a second one, identically in both
    ov_s, ov_m = [], []
    cu_s, cu_m = [], []
    for rhs in (b, b2):
        xs, is_ = sla.lgmres(A, rhs, inner_m=4, outer_v=ov_s, rtol=1e-10)
        xm, im = mla.lgmres(msp.csr_array(A), rhs, inner_m=4, outer_v=ov_m, rtol=1e-10)
        assert is_ == im and len(ov_s) == len(ov_m)
        assert_x_close(xm, xs, "float64")
        ys, js = sla.gcrotmk(A, rhs, m=4, k=3, CU=cu_s, rtol=1e-10)
        ym, jm = mla.gcrotmk(msp.csr_array(A), rhs, m=4, k=3, CU=cu_m, rtol=1e-10)
        assert js == jm and len(cu_s) == len(cu_m)
        assert_x_close(ym, ys, "float64")


def test_recycled_vectors_given_as_numpy(rng):
    # CU / outer_v filled by SciPy (NumPy vectors) are accepted; the recycled
    # space is re-orthonormalized (pivoted QR, U := U P R^-1) as SciPy does, so the
    # next solve follows SciPy's iterates (default rtol: x agrees far below it)
    A, b = system("convdiff", "float64", rng)
    cu, ov = [], []
    sla.gcrotmk(A, b, CU=cu, m=3, k=2)
    sla.lgmres(A, b, outer_v=ov, inner_m=3)
    cu_np = [(None if c is None else np.array(c), np.array(u)) for c, u in cu]
    ov_np = [(np.array(v), None if av is None else np.array(av)) for v, av in ov]
    rhs = rng.standard_normal(A.shape[0])
    xs, is_ = sla.gcrotmk(A, rhs, CU=cu, m=3, k=2)
    xm, im = mla.gcrotmk(msp.csr_array(A), rhs, CU=cu_np, m=3, k=2)
    assert is_ == im and len(cu) == len(cu_np)
    np.testing.assert_allclose(np.asarray(xm), xs, rtol=0, atol=1e-12)
    xs, is_ = sla.lgmres(A, rhs, outer_v=ov, inner_m=3)
    xm, im = mla.lgmres(msp.csr_array(A), rhs, outer_v=ov_np, inner_m=3)
    assert is_ == im
    np.testing.assert_allclose(np.asarray(xm), xs, rtol=0, atol=1e-12)


# ---- edge cases and errors -----------------------------------------------------------
@pytest.mark.parametrize("name", ["gmres", "lgmres", "gcrotmk"])
def test_zero_rhs(name):
    A = convection_diffusion(4)
    xs, is_ = getattr(sla, name)(A, np.zeros(16))
    xm, im = getattr(mla, name)(msp.csr_array(A), np.zeros(16))
    assert is_ == im == 0
    assert isinstance(xm, mx.array) and not np.asarray(xm).any()


@pytest.mark.parametrize("name", ["gmres", "lgmres", "gcrotmk"])
def test_shape_errors(name):
    A = convection_diffusion(3)
    n = A.shape[0]
    cases = [
        (ssp.random(4, 5, density=0.5, random_state=0), np.ones(4), {}),  # non-square
        (A, np.ones(n + 1), {}),                                          # b length
        (A, np.ones(n), {"x0": np.ones(n - 1)}),                          # x0 shape
        (A, np.ones(n), {"M": ssp.eye(n + 1)}),                           # M shape
        (A, np.ones(n), {"atol": -1.0}),                                  # bad atol
    ]
    for AA, bb, kw in cases:
        with pytest.raises(ValueError):
            getattr(sla, name)(AA, bb, **kw)
        with pytest.raises(ValueError):
            getattr(mla, name)(msp.csr_array(AA), bb, **kw)


def test_specific_errors():
    A = convection_diffusion(3)
    Am = msp.csr_array(A)
    b = np.ones(9)
    with pytest.raises(ValueError, match="callback_type"):
        mla.gmres(Am, b, callback_type="bogus")
    with pytest.raises(ValueError, match="truncate"):
        mla.gcrotmk(Am, b, truncate="bogus")
    bad = b.copy()
    bad[0] = np.nan
    for name in ("lgmres", "gcrotmk"):
        with pytest.raises(ValueError, match="finite"):
            getattr(mla, name)(Am, bad)
    with pytest.raises(TypeError, match="complex128"):
        mla.gmres(Am, b.astype(np.complex128))


def test_linear_operator_and_dense_inputs(rng):
    A, b = system("convdiff", "float64", rng)
    xs, is_ = sla.gmres(A, b, rtol=1e-10)
    op = mla.LinearOperator(A.shape, matvec=lambda v: msp.csr_array(A) @ v,
                            dtype=np.float64)
    for AA in (op, A.toarray(), mx.array(A.toarray(), dtype=mx.float64), A):
        xm, im = mla.gmres(AA, b, rtol=1e-10)
        assert im == is_
        assert_x_close(xm, xs, "float64")


# ---- the MLX-ops Krylov basis (the GPU path), run on the CPU --------------------------------
@pytest.mark.parametrize("every", [1, 4])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,opts", [
    ("gmres", {"restart": 6, "callback_type": "pr_norm"}),
    ("gmres", {"restart": 4, "callback_type": "legacy", "maxiter": 9}),
    ("lgmres", {"inner_m": 5}),
    ("gcrotmk", {"m": 5, "k": 2})])
def test_mlx_ops_basis_matches_scipy(name, opts, dtype, every, rng, monkeypatch):
    from mlx_sparse.sparse.linalg._isolve import _gmres
    monkeypatch.setattr(_gmres, "USE_HOST_BASIS", False)
    A, b = system("convdiff", dtype, rng)
    mla.set_check_every(every)
    try:
        (xs, is_, cs), (xm, im, cm) = both(name, A, b, rtol=rtol_for(dtype), **opts)
    finally:
        mla.set_check_every(None)
    assert im == is_
    assert len(cm) == len(cs)
    assert_x_close(xm, xs, dtype)
