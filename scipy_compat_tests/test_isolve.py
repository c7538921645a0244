"""Krylov solvers cg, bicg, bicgstab, cgs, qmr, minres, tfqmr against SciPy's on the
same systems: x (to a dtype tolerance), info and the iteration count (callback
calls) must agree; plus x0 / M / callbacks / maxiter / b = 0 / NaN / breakdown /
errors, the check interval (results independent of it) and the preconditioners
(jacobi, ilu0, ic0: beyond SciPy)."""
import warnings

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp
import scipy.sparse.linalg as sla

import mlx_sparse.sparse as msp
import mlx_sparse.sparse.linalg as mla
from mlx_sparse.sparse.linalg import preconditioners as pre


# ---- problems ---------------------------------------------------------------------------
def poisson1d(n=40):
    return ssp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(n, n)).tocsr()


def poisson2d(k=10):
    T = poisson1d(k)
    I = ssp.eye_array(k)
    return (ssp.kron(T, I) + ssp.kron(I, T)).tocsr()


def convdiff(k=10, c=0.4):
    """2-D convection-diffusion (upwind-free central differences): nonsymmetric."""
    T = poisson1d(k)
    D = ssp.diags_array([-c, c], offsets=[-1, 1], shape=(k, k))
    I = ssp.eye_array(k)
    return (ssp.kron(T + D, I) + ssp.kron(I, T + 0.5 * D)).tocsr()


def indefinite(k=10, shift=1.3):
    return (poisson2d(k) - shift * ssp.eye_array(k * k)).tocsr()


PROBLEMS = {"poisson1d": poisson1d, "poisson2d": poisson2d, "convdiff": convdiff,
            "indefinite": indefinite}

SOLVERS = {  # solver -> problems it is meant for
    "cg": ("poisson1d", "poisson2d"),
    "bicg": ("poisson2d", "convdiff"),
    "bicgstab": ("poisson2d", "convdiff"),
    "cgs": ("poisson2d", "convdiff"),
    "qmr": ("poisson2d", "convdiff"),
    "tfqmr": ("poisson2d", "convdiff"),
    "minres": ("poisson2d", "indefinite"),
}
DTYPES = ("float32", "float64", "complex64")
TOL = {"float32": 2e-3, "float64": 1e-9, "complex64": 2e-3}


def rhs(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(n)
    if np.dtype(dtype).kind == "c":
        b = b + 1j * rng.standard_normal(n)
    return b.astype(dtype)


def system(problem, dtype):
    A = PROBLEMS[problem]()
    if np.dtype(dtype).kind == "c":
        # a complex system of the same kind: A + i*alpha*I keeps the structure
        A = (A + 0.3j * ssp.eye_array(A.shape[0])).tocsr() if problem == "convdiff" \
            else A.astype(np.complex128)
    return A.astype(dtype), rhs(A.shape[0], dtype)


def run_both(name, A, b, **kw):
    """Both solvers; returns ((x, info, count) SciPy, (x, info, count) ours)."""
    out = []
    for lib, AA in ((sla, A), (mla, msp.csr_array(A))):
        xs = []
        kw2 = dict(kw)
        if name not in ("gmres",):
            kw2["callback"] = lambda x: xs.append(np.array(x, copy=True))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            x, info = getattr(lib, name)(AA, b, **kw2)
        out.append((np.asarray(x), info, len(xs), xs))
    return out


def rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30)


def assert_same(s, o, dtype, count_slack=0, tol=None):
    (xs, infos, ns, _), (xo, infoo, no, _) = s, o
    assert infoo == infos, (infoo, infos)
    assert abs(no - ns) <= count_slack, (no, ns)
    tol = TOL[str(dtype)] if tol is None else tol
    assert rel(xo, xs) <= tol * (1 + count_slack * 10), rel(xo, xs)


# ---- oracle: every solver, its problems, every dtype SciPy supports ------------------------
CASES = [(s, p, d) for s, ps in SOLVERS.items() for p in ps for d in DTYPES
         if not (s == "minres" and d == "complex64")]


@pytest.mark.parametrize("name,problem,dtype", CASES)
def test_oracle(name, problem, dtype, request):
    if (name, problem, dtype) == ("cgs", "convdiff", "complex64") and \
            mx.default_device().type == mx.DeviceType.gpu:
        # (strict=False: passes when it converges as SciPy's does)
        request.applymarker(pytest.mark.xfail(reason=(
            "cgs in complex64 is rounding-sensitive on this problem: SciPy itself diverges "
            "for 1 of 29 last-bit changes of b (tools/cgs_sensitivity.py); on an H200 the "
            "GPU's summation order diverges"), strict=False))
    A, b = system(problem, dtype)
    s, o = run_both(name, A, b)
    # float32 recurrences (minres's scalar ones, cgs's squared ones) may round
    # differently; on the indefinite problem roundoff grows for both libraries.
    slack = 0 if dtype == "float64" else {"minres": 8, "cgs": 3}.get(name, 1)
    tol = 1e-7 if (problem == "indefinite" and dtype == "float64") else None
    assert_same(s, o, dtype, slack, tol)
    x, _ = getattr(mla, name)(msp.csr_array(A), b)
    assert isinstance(x, mx.array) and x.dtype == mx.array(np.zeros(1, dtype)).dtype \
        or dtype == "float64"
    assert x.shape == (A.shape[0],)


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_check_interval_does_not_change_results(name):
    """Reading the stop test back every k iterations returns exactly what reading
    it every iteration does: same x (bit for bit), info, count and callbacks."""
    A, b = system(SOLVERS[name][-1], "float64")
    runs = []
    for k in (1, 3, 8):
        mla.set_check_every(k)
        try:
            runs.append(run_both(name, A, b)[1])
            runs.append(run_both(name, A, b, maxiter=10)[1])
        finally:
            mla.set_check_every(None)
    for o in runs[2:]:
        ref = runs[0] if o[1] == runs[0][1] and o[2] == runs[0][2] else runs[1]
        assert o[1] == ref[1] and o[2] == ref[2]
        assert np.array_equal(o[0], ref[0])
        for xo, xr in zip(o[3], ref[3]):
            assert np.array_equal(xo, xr)
    assert runs[1][1] == 10 and runs[1][2] == 10


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_x0_rtol_atol_maxiter(name):
    A, b = system(SOLVERS[name][0], "float64")
    x0 = np.linspace(-1, 1, A.shape[0])
    assert_same(*run_both(name, A, b, x0=x0), "float64")
    assert_same(*run_both(name, A, b, x0=x0[:, None]), "float64")
    assert_same(*run_both(name, A, b, rtol=1e-9), "float64")
    kw = dict(atol=1e-3, rtol=0.0) if name != "minres" else dict(rtol=1e-3)
    assert_same(*run_both(name, A, b, **kw), "float64")
    for m in (1, 3, 7):
        s, o = run_both(name, A, b, maxiter=m)
        assert_same(s, o, "float64")
        assert o[1] == s[1]
    s, o = run_both(name, A, b[:, None])
    assert_same(s, o, "float64")


@pytest.mark.parametrize("name", ["cg", "bicg", "bicgstab", "cgs", "tfqmr", "minres"])
def test_preconditioner_M_forms(name):
    A, b = system(SOLVERS[name][0], "float64")
    Md = ssp.diags_array(1.0 / A.diagonal()).tocsr()
    # M as a sparse matrix, a dense array, a LinearOperator
    for Ms, Mo in ((Md, msp.csr_array(Md)), (Md.toarray(), Md.toarray()),
                   (sla.aslinearoperator(Md), mla.aslinearoperator(msp.csr_array(Md))),
                   (Md, pre.jacobi(msp.csr_array(A)))):
        xs_, ns = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            xs, infos = getattr(sla, name)(A, b, M=Ms, callback=xs_.append)
            xo, infoo = getattr(mla, name)(msp.csr_array(A), b, M=Mo,
                                           callback=ns.append)
        assert infoo == infos and len(ns) == len(xs_)
        assert rel(np.asarray(xo), xs) < 1e-9
    if name != "minres":
        s, o = run_both(name, A, b, M=Md, x0="Mb")
        assert_same(s, o, "float64")


def test_qmr_M1_M2():
    A, b = system("convdiff", "float64")
    d = A.diagonal()
    M1 = ssp.diags_array(1 / np.sqrt(d)).tocsr()
    M2 = ssp.diags_array(1 / np.sqrt(d)).tocsr()
    xs, infos = sla.qmr(A, b, M1=sla.aslinearoperator(M1), M2=sla.aslinearoperator(M2))
    xo, infoo = mla.qmr(msp.csr_array(A), b, M1=msp.csr_array(M1), M2=msp.csr_array(M2))
    assert infoo == infos and rel(np.asarray(xo), xs) < 1e-9
    xo, infoo = mla.qmr(msp.csr_array(A), b, M1=mla.aslinearoperator(msp.csr_array(M1)),
                        M2=pre.jacobi(msp.csr_array(ssp.diags_array(np.sqrt(d)))))
    assert infoo == infos and rel(np.asarray(xo), xs) < 1e-9


def test_minres_shift_and_check():
    A, b = system("poisson2d", "float64")
    assert_same(*run_both("minres", A, b, shift=0.7), "float64")
    assert_same(*run_both("minres", A, b, check=True), "float64")
    N = convdiff()
    for lib, AA in ((sla, N), (mla, msp.csr_array(N))):
        with pytest.raises(ValueError, match="non-symmetric matrix"):
            lib.minres(AA, b, check=True)


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_b_zero(name):
    A, _ = system(SOLVERS[name][0], "float64")
    b = np.zeros(A.shape[0])
    x, info = getattr(mla, name)(msp.csr_array(A), b)
    xs, infos = getattr(sla, name)(A, b)
    assert info == infos == 0
    assert np.all(np.asarray(x) == 0) and isinstance(x, mx.array)


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_nan_terminates_like_scipy(name):
    A, b = system(SOLVERS[name][-1], "float64")
    b = b.copy()
    b[3] = np.nan
    s, o = run_both(name, A, b, maxiter=25)
    assert o[1] == s[1] and o[2] == s[2]
    A2 = A.copy()
    A2.data[5] = np.nan
    s, o = run_both(name, A2, system(SOLVERS[name][-1], "float64")[1], maxiter=25)
    assert o[1] == s[1] and o[2] == s[2]


@pytest.mark.parametrize("name,A,b", [
    ("bicg", np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1.0, 0.0])),
    ("bicgstab", np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1.0, 0.0])),
    ("cgs", np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1.0, 0.0])),
    ("qmr", np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1.0, 0.0])),
    ("tfqmr", np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1.0, 0.0])),
    ("cg", np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1.0, 0.0])),
    ("bicgstab", np.array([[1.0, 1.0], [-1.0, 1.0]]), np.array([1.0, 0.0])),
])
def test_breakdown_codes(name, A, b):
    s, o = run_both(name, ssp.csr_array(A), b, maxiter=20)
    assert o[1] == s[1], (o[1], s[1])
    assert o[2] == s[2]
    np.testing.assert_allclose(o[0], s[0], equal_nan=True)


def test_callback_gets_mx_arrays():
    A, b = system("poisson2d", "float32")
    seen = []
    mla.cg(msp.csr_array(A), b, callback=seen.append)
    assert seen and all(isinstance(x, mx.array) for x in seen)


def test_linear_operator_and_mx_inputs():
    A, b = system("poisson2d", "float64")
    op = mla.LinearOperator(A.shape, matvec=lambda v: msp.csr_array(A) @ v,
                            dtype=np.float64)
    x, info = mla.cg(op, mx.array(b, dtype=mx.float64))
    xs, _ = sla.cg(A, b)
    assert info == 0 and rel(np.asarray(x), xs) < 1e-9
    # SciPy sparse A and a dense A are accepted as they are
    x, info = mla.cg(A, b)
    assert rel(np.asarray(x), xs) < 1e-9
    x, info = mla.cg(A.toarray(), b)
    assert rel(np.asarray(x), xs) < 1e-9
    # integer systems work in float64, as SciPy's
    Ai = poisson1d(10).astype(np.int64)
    bi = np.arange(10)
    x, info = mla.cg(msp.csr_array(Ai), bi)
    xs, infos = sla.cg(Ai, bi)
    assert x.dtype == mx.float64 and info == infos and rel(np.asarray(x), xs) < 1e-9


# ---- errors ------------------------------------------------------------------------------
def exc(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as e:  # noqa: BLE001
        return type(e), str(e)
    return None, None


@pytest.mark.parametrize("name", sorted(SOLVERS))
@pytest.mark.parametrize("bad", ["nonsquare", "b_len", "b_2d", "x0", "M", "atol"])
def test_errors(name, bad):
    A = poisson1d(6)
    b = np.ones(6)
    kw = {}
    if bad == "nonsquare":
        A = ssp.csr_array(np.ones((6, 5)))
    elif bad == "b_len":
        b = np.ones(5)
    elif bad == "b_2d":
        b = np.ones((6, 2))
    elif bad == "x0":
        kw["x0"] = np.ones(5)
    elif bad == "M":
        if name == "qmr":
            kw["M1"] = ssp.eye_array(5)
            kw["M2"] = ssp.eye_array(5)
        else:
            kw["M"] = ssp.eye_array(5)
    elif bad == "atol":
        if name == "minres":
            pytest.skip("minres has no atol")
        kw["atol"] = -1.0
    es, ms = exc(lambda: getattr(sla, name)(A, b, **kw))
    eo, mo = exc(lambda: getattr(mla, name)(msp.csr_array(A), b, **kw))
    assert es is not None
    if bad == "M" and name == "qmr":
        # SciPy's qmr takes LinearOperators only (AttributeError on a matrix); ours
        # takes matrices too and checks their shape
        assert eo is ValueError and "different shapes" in mo
        return
    assert eo is es, (eo, mo, es, ms)
    assert mo == ms


def test_complex128_rejected():
    A = msp.csr_array(poisson1d(5).astype(np.complex64))
    with pytest.raises(TypeError, match="complex128"):
        mla.cg(A, np.ones(5, dtype=np.complex128))


# ---- preconditioners -------------------------------------------------------------------------
def _ilu0_dense(Ad):
    a = Ad.astype(np.complex128 if np.iscomplexobj(Ad) else np.float64).copy()
    n, pat = a.shape[0], Ad != 0
    for i in range(1, n):
        for k in range(i):
            if pat[i, k]:
                a[i, k] /= a[k, k]
                for j in range(k + 1, n):
                    if pat[i, j]:
                        a[i, j] -= a[i, k] * a[k, j]
    return np.tril(a, -1) + np.eye(n), np.triu(a)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_ilu0_ic0_jacobi_apply(dtype):
    N = convdiff(5)
    if dtype == "complex64":
        N = N + 0.5j * ssp.eye_array(25)
    N = N.astype(dtype).toarray()
    L, U = _ilu0_dense(N)
    r = rhs(25, dtype, 3)
    tol = 1e-10 if dtype == "float64" else 1e-4
    P = pre.ilu0(msp.csr_array(N))
    np.testing.assert_allclose(np.asarray(P @ r), np.linalg.solve(L @ U, r), rtol=tol,
                               atol=tol)
    np.testing.assert_allclose(np.asarray(P.H @ r),
                               np.linalg.solve((L @ U).conj().T, r), rtol=tol, atol=tol)
    np.testing.assert_allclose(np.asarray(P.matmat(np.stack([r, 2 * r], 1)))[:, 1],
                               np.linalg.solve(L @ U, 2 * r), rtol=tol, atol=tol)
    S = poisson2d(5).astype(dtype).toarray()
    L, U = _ilu0_dense(S)
    Q = pre.ic0(msp.csr_array(S))
    np.testing.assert_allclose(np.asarray(Q @ r), np.linalg.solve(L @ U, r), rtol=tol,
                               atol=tol)
    J = pre.jacobi(msp.csr_array(N))
    np.testing.assert_allclose(np.asarray(J @ r), r / np.diag(N), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,kind", [("cg", "jacobi"), ("cg", "ic0"), ("minres", "ic0"),
                                       ("bicgstab", "ilu0"), ("bicg", "ilu0"),
                                       ("cgs", "ilu0"), ("tfqmr", "ilu0")])
def test_preconditioned_solves_match_scipy_with_the_same_M(name, kind):
    problem = "poisson2d" if name in ("cg", "minres") else "convdiff"
    A, b = system(problem, "float64")
    P = getattr(pre, kind)(msp.csr_array(A))
    Ms = sla.LinearOperator(A.shape, matvec=lambda v: np.asarray(P @ v),
                            rmatvec=lambda v: np.asarray(P.H @ v), dtype=np.float64)
    xs_, xo_ = [], []
    xs, infos = getattr(sla, name)(A, b, M=Ms, callback=xs_.append)
    xo, infoo = getattr(mla, name)(msp.csr_array(A), b, M=P, callback=xo_.append)
    assert infoo == infos == 0 and len(xo_) == len(xs_)
    assert rel(np.asarray(xo), xs) < 1e-8
    # and it preconditions: fewer iterations than without
    n0 = []
    sla_x, _ = getattr(sla, name)(A, b, callback=n0.append)
    assert len(xo_) < len(n0) or (kind == "jacobi" and len(xo_) == len(n0))


def test_preconditioner_errors():
    with pytest.raises(ValueError, match="zero diagonal"):
        pre.jacobi(msp.csr_array(np.array([[0.0, 1.0], [1.0, 1.0]])))
    with pytest.raises(ValueError, match="pivot"):
        pre.ilu0(msp.csr_array(np.array([[0.0, 1.0], [1.0, 1.0]])))
    with pytest.raises(ValueError, match="nonpositive pivot"):
        pre.ic0(msp.csr_array(np.array([[-2.0, 1.0], [1.0, 1.0]])))
    with pytest.raises(ValueError, match="square"):
        pre.ilu0(msp.csr_array(np.ones((2, 3))))


# ---- make_system (shared by every solver) ----------------------------------------------------
@pytest.mark.parametrize("adt,bdt", [("float32", "float32"), ("float32", "float64"),
                                     ("float64", "float32"), ("int64", "int32"),
                                     ("float32", "int64"), ("complex64", "float32"),
                                     ("complex64", "complex64"), ("int8", "float32")])
def test_make_system_dtypes(adt, bdt):
    from scipy.sparse.linalg._isolve.utils import make_system as sms
    from mlx_sparse.sparse.linalg._isolve.utils import make_system as mms
    A = poisson1d(5).astype(adt)
    b = np.arange(5).astype(bdt)
    _, _, xs, bs = sms(A, None, None, b)
    Ao, Mo, xo, bo = mms(msp.csr_array(A), None, None, b)
    assert np.asarray(xo).dtype == xs.dtype and np.asarray(bo).dtype == bs.dtype
    assert isinstance(xo, mx.array) and xo.shape == (5,) and bo.shape == (5,)
    np.testing.assert_array_equal(np.asarray(bo), bs)
    assert Mo.shape == Ao.shape == (5, 5)


def test_make_system_x0_Mb_and_psolve():
    from mlx_sparse.sparse.linalg._isolve.utils import make_system as mms
    A = poisson1d(5)
    b = np.arange(5.0)
    M = ssp.diags_array(np.full(5, 0.5))
    _, _, x, _ = mms(msp.csr_array(A), msp.csr_array(M), "Mb", b)
    np.testing.assert_allclose(np.asarray(x), 0.5 * b)
    _, _, x, _ = mms(A, None, mx.array(np.ones((5, 1))), b)
    assert x.shape == (5,)

    class WithPsolve:
        shape = (5, 5)
        dtype = np.dtype(np.float64)

        def matvec(self, v):
            return np.asarray(A @ np.asarray(v))

        def psolve(self, v):
            return 2 * np.asarray(v)
    op = WithPsolve()
    _, Mo, _, _ = mms(op, None, None, b)
    np.testing.assert_allclose(np.asarray(Mo.matvec(b)), 2 * b)
    xs, infos = sla.cg(op, b)
    xo, infoo = mla.cg(op, b)
    assert infoo == infos and rel(np.asarray(xo), xs) < 1e-9
    with pytest.raises(TypeError, match="complex128"):
        mms(msp.csr_array(A.astype(np.complex64)), None, None, b)


def test_get_atol_rtol():
    from scipy.sparse.linalg._isolve.iterative import _get_atol_rtol as s
    from mlx_sparse.sparse.linalg._isolve.utils import get_atol_rtol as m
    assert m("cg", 2.0, 0.0, 1e-3) == s("cg", 2.0, 0.0, 1e-3)
    assert m("cg", 2.0, 1.0, 1e-3) == s("cg", 2.0, 1.0, 1e-3)
    for bad in (None, -1.0, "legacy"):
        with pytest.raises(ValueError) as e1:
            s("cg", 1.0, bad)
        with pytest.raises(ValueError) as e2:
            m("cg", 1.0, bad)
        assert str(e1.value) == str(e2.value)


def test_set_check_every():
    assert mla.get_check_every(mx.cpu) == 1
    mla.set_check_every(5)
    try:
        assert mla.get_check_every(mx.cpu) == 5 and mla.get_check_every(mx.gpu) == 5
    finally:
        mla.set_check_every(None)
    assert mla.get_check_every(mx.gpu) == 8
    with pytest.raises(ValueError):
        mla.set_check_every(0)


# ---- on a GPU (skipped without one): float32 on the device, float64 routed to the CPU ----
HAS_GPU = mx.cuda.is_available() or mx.metal.is_available()


@pytest.mark.skipif(not HAS_GPU, reason="no GPU (MLX CUDA or Metal backend)")
@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_on_gpu(name):
    problem = SOLVERS[name][0]
    old = mx.default_device()
    mx.set_default_device(mx.gpu)
    try:
        for dtype in ("float32", "float64"):
            A, b = system(problem, dtype)
            s, o = run_both(name, A, b)
            assert_same(s, o, dtype, 0 if dtype == "float64" else 2)
            mla.set_check_every(1)
            try:
                o1 = run_both(name, A, b)[1]
            finally:
                mla.set_check_every(None)
            assert o1[1] == o[1] and abs(o1[2] - o[2]) <= (0 if dtype == "float64" else 1)
    finally:
        mx.set_default_device(old)


@pytest.mark.parametrize("n, maxiter", [(30, None), (60, 12), (80, 25)])
def test_minres_show_prints_scipys_lines(n, maxiter, rng, capsys):
    # show=True: header, the iterations SciPy prints (all for n <= 40, else the first
    # and last ten and every tenth), exit summary; SPD, so the numbers agree exactly
    # at these few iterations
    A = (ssp.diags_array([-np.ones(n - 1), np.full(n, 4.0), -np.ones(n - 1)],
                         offsets=[-1, 0, 1]) + ssp.diags_array(rng.uniform(0, 1, n))).tocsr()
    b = rng.standard_normal(n)
    sla.minres(A, b, show=True, maxiter=maxiter)
    want = capsys.readouterr().out.splitlines()
    mla.minres(msp.csr_array(A), mx.array(b, dtype=mx.float64), show=True, maxiter=maxiter)
    got = capsys.readouterr().out.splitlines()
    assert len(got) == len(want) and len(want) > 8
    for g, w in zip(got, want):
        assert g == w or _same_numbers(g, w), f"\n ours: {g}\nscipy: {w}"


def _same_numbers(a, b, rtol=1e-3):
    """Two printed lines with the same words and numbers equal to rtol (printing
    rounds the last digit of values that differ in their last bits)."""
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb):
        return False
    for x, y in zip(wa, wb):
        if x == y:
            continue
        try:
            fx, fy = float(x), float(y)
        except ValueError:
            return False
        if not np.isclose(fx, fy, rtol=rtol, atol=1e-12):
            return False
    return True
