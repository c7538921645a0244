"""Krylov solvers for A x = b: cg, bicg, bicgstab, cgs, qmr (SciPy 1.17's
scipy.sparse.linalg._isolve.iterative, same signatures, defaults, results and info
codes).

Each solver is one ``step`` function, the body of SciPy's loop written with MLX ops
(vectors and scalars stay lazy on the solver's device), run by ``utils.iterate``,
which reads the stop flags back every few iterations and still returns SciPy's x,
info and iteration count exactly. Stop flags follow SciPy's tests in SciPy's order:
converged (info 0), breakdowns (info -10, -11, ...), otherwise info = maxiter.
"""
import mlx.core as mx

from .utils import (CONTINUE, CONVERGED, IdentityOperator, LinearOperator, _identity,
                    aslinearoperator, dot, eps, flag_where, get_atol_rtol, iterate,
                    make_system, norm, solver_device, sumsq)

__all__ = ["bicg", "bicgstab", "cg", "cgs", "qmr"]

_CONVERGED_MID = 3  # bicgstab: converged half-way through an iteration


def _setup(name, A, b, x0, rtol, atol, maxiter, M, residual=True):
    """make_system, ||b|| (one host read), atol and the initial residual (None when
    b = 0; not formed when residual is False)."""
    A, M, x, b = make_system(A, M, x0, b)
    dev = solver_device(x.dtype)
    with mx.stream(dev):
        bnrm2 = norm(b).item()
        atol, _ = get_atol_rtol(name, bnrm2, atol, rtol)
        if maxiter is None:
            maxiter = int(b.shape[0]) * 10
        if bnrm2 == 0:
            return A, M, x, b, dev, atol, maxiter, None
        r = _residual(A, x, b) if residual else b
    return A, M, x, b, dev, atol, maxiter, r


def _residual(A, x, b):
    # SciPy skips the product for a zero start (it matters with inf/NaN in A).
    return b - A.matvec(x) if mx.any(x != 0).item() else b


def _conj(a):
    return mx.conj(a) if a.dtype == mx.complex64 else a


def _solve(step, state, maxiter, callback, dev, outcomes=None):
    with mx.stream(dev):
        x, info, _ = iterate(step, state, maxiter, lambda s: s[0], callback, dev,
                             outcomes)
    return x, info


def cg(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None, M=None, callback=None):
    """Conjugate Gradient iteration for Hermitian positive definite A (SciPy's cg).

    Returns ``(x, info)``: info 0 on convergence, maxiter when it did not converge.
    """
    A, M, x, b, dev, atol, maxiter, r = _setup("cg", A, b, x0, rtol, atol, maxiter, M,
                                               residual=False)
    if r is None:
        return b, 0
    # The native loop forms its own residual: the Python one is built only here.
    native = _native_cg(A, M, x, b, dev, atol, maxiter, callback)
    if native is not None:
        return native
    with mx.stream(dev):
        r = _residual(A, x, b)
    fused = _fused_cg_step(A, M, x, dev)
    if fused is not None:
        with mx.stream(dev):
            atol_arr = mx.array(atol, dtype=x.dtype)

        def fused_step(state, it):
            x, r, p, sums, prev = state
            x_new, r, p, sums, scal = fused(x, r, p, sums, prev)
            return (x_new, r, p, sums, scal), _cg_stop(scal, atol_arr), x
        return _solve(fused_step, (x, r, None, None, None), maxiter, callback, dev)
    matvec, psolve = A.matvec, M.matvec
    # Without a preconditioner z = r, and r.z is the r.r the norm test already
    # summed: reuse it (the same reduction of the same data, so the same value).
    plain = isinstance(M, IdentityOperator)

    def step(state, it):
        x, r, p, rho_prev, rr = state
        flag = flag_where((mx.sqrt(rr) < atol, CONVERGED))
        if plain:
            z, rho = r, rr
        else:
            z = psolve(r)
            rho = dot(r, z)
        p = z if it == 0 else _cg_direction(z, p, rho, rho_prev)
        q = matvec(p)
        x_new, r, rr = _cg_update(x, r, p, q, rho)
        return (x_new, r, p, rho, rr), flag, x

    with mx.stream(dev):
        rr0 = sumsq(r)
    return _solve(step, (x, r, None, None, rr0), maxiter, callback, dev)


def _cg_operands(A, M, x):
    """(indptr, indices, data, dinv) where a fused cg applies: float32/float64, a CSR
    matrix of x's dtype and index dtype, no preconditioner (dinv None) or the Jacobi
    one (its 1 / diag(A) in x's dtype). None otherwise."""
    from ..._csr import _csr_base
    from ..preconditioners import JacobiPreconditioner
    mat = getattr(A, "A", None)
    if not isinstance(mat, _csr_base) or x.dtype not in (mx.float32, mx.float64):
        return None
    indptr, indices, data = mat.indptr, mat.indices, mat.data
    if data.dtype != x.dtype or indptr.dtype != indices.dtype:
        return None
    if isinstance(M, IdentityOperator):
        return indptr, indices, data, None
    if type(M) is JacobiPreconditioner and M._dinv.dtype in (x.dtype, mx.float32):
        # float32 -> float64 is exact: the Python loop's mixed product upcasts the same way
        return indptr, indices, data, M._dinv.astype(x.dtype)
    return None


def _native_cg(A, M, x, b, dev, atol, maxiter, callback):
    """The iteration with the whole loop in one fused call (the dispatch table's
    compressed_cg: C++ on the CPU), where it applies (_cg_operands, no callback).
    None otherwise."""
    from ...._ops import optional_kernel
    kernel = optional_kernel("compressed_cg", dev)
    operands = _cg_operands(A, M, x) if kernel is not None and callback is None else None
    if operands is None:
        return None
    with mx.stream(dev):
        x, converged, _, _ = kernel(*operands[:3], b, x, atol, maxiter, operands[3])
    return x, 0 if converged else maxiter


def _fused_cg_step(A, M, x, dev):
    """The dispatch table's cg_step (GPU: an iteration in two launches) for this
    system, where it applies (_cg_operands; the kernel may decline the matrix), or None."""
    from ...._ops import optional_kernel
    kernel = optional_kernel("cg_step", dev)
    operands = _cg_operands(A, M, x) if kernel is not None else None
    if operands is None:
        return None
    with mx.stream(dev):
        return kernel(*operands)


@mx.compile
def _cg_stop(scal, atol):
    # SciPy's test of the fused step's r.r (scal[1]) as cg's flag, in one launch
    return mx.where(mx.sqrt(scal[1]) < atol, CONVERGED, CONTINUE).astype(mx.int32)


# cg's vector updates, compiled so MLX fuses the elementwise passes (fewer sweeps
# over memory per iteration); same operations, in SciPy's order.
@mx.compile
def _cg_direction(z, p, rho, rho_prev):
    return p * (rho / rho_prev) + z


@mx.compile
def _cg_update(x, r, p, q, rho):
    alpha = rho / dot(p, q)
    r = r - alpha * q
    return x + alpha * p, r, sumsq(r)


def bicg(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None, M=None, callback=None):
    """BIConjugate Gradient iteration (SciPy's bicg): info -10 on a rho breakdown,
    -11 when the p~ . A p product vanishes."""
    A, M, x, b, dev, atol, maxiter, r = _setup("bicg", A, b, x0, rtol, atol, maxiter, M)
    if r is None:
        return b, 0
    matvec, rmatvec = A.matvec, A.rmatvec
    psolve, rpsolve = M.matvec, M.rmatvec
    rhotol = eps(x.dtype) ** 2

    def step(state, it):
        x, r, rt, p, pt, rho_prev = state
        rnorm = norm(r)
        z, zt = psolve(r), rpsolve(rt)
        rho = dot(rt, z)
        if it == 0:
            p, pt = z, zt
        else:
            beta = rho / rho_prev
            p, pt = p * beta + z, pt * _conj(beta) + zt
        q, qt = matvec(p), rmatvec(pt)
        rv = dot(pt, q)
        flag = flag_where((rnorm < atol, CONVERGED), (mx.abs(rho) < rhotol, -10),
                          (rv == 0, -11))
        alpha = rho / rv
        state = (x + alpha * p, r - alpha * q, rt - _conj(alpha) * qt, p, pt, rho)
        return state, flag, x

    return _solve(step, (x, r, r, None, None, None), maxiter, callback, dev)


def bicgstab(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None, M=None,
             callback=None):
    """BIConjugate Gradient STABilized iteration (SciPy's bicgstab): info -10 on a
    rho breakdown, -11 on an omega breakdown."""
    A, M, x, b, dev, atol, maxiter, r = _setup("bicgstab", A, b, x0, rtol, atol,
                                               maxiter, M)
    if r is None:
        return b, 0
    matvec, psolve = A.matvec, M.matvec
    rhotol = eps(x.dtype) ** 2
    omegatol = rhotol
    rt = r

    def step(state, it):
        x, r, p, v, rho_prev, omega, alpha = state
        rnorm = norm(r)
        rho = dot(rt, r)
        if it == 0:
            p = r
            omega_bad = mx.array(False)
        else:
            omega_bad = mx.abs(omega) < omegatol
            beta = (rho / rho_prev) * (alpha / omega)
            p = (p - omega * v) * beta + r
        phat = psolve(p)
        v = matvec(phat)
        rv = dot(rt, v)
        alpha = rho / rv
        s = r - alpha * v
        snorm = norm(s)
        x_half = x + alpha * phat
        flag = flag_where((rnorm < atol, CONVERGED), (mx.abs(rho) < rhotol, -10),
                          (omega_bad, -11), (rv == 0, -11),
                          (snorm < atol, _CONVERGED_MID))
        shat = psolve(s)
        t = matvec(shat)
        omega = dot(t, s) / dot(t, t)
        state = (x_half + omega * shat, s - omega * t, p, v, rho, omega, alpha)
        return state, flag, {None: x, _CONVERGED_MID: x_half}

    return _solve(step, (x, r, None, None, None, None, None), maxiter, callback, dev,
                  {_CONVERGED_MID: (0, False)})


def cgs(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None, M=None, callback=None):
    """Conjugate Gradient Squared iteration (SciPy's cgs): info -10 on a rho
    breakdown, -11 when r~ . A p vanishes."""
    A, M, x, b, dev, atol, maxiter, r = _setup("cgs", A, b, x0, rtol, atol, maxiter, M)
    if r is None:
        return b, 0
    matvec, psolve = A.matvec, M.matvec
    rhotol = eps(x.dtype) ** 2
    rt = r

    def step(state, it):
        x, r, p, u, q, rho_prev = state
        rnorm = norm(r)
        rho = dot(rt, r)
        if it == 0:
            p = u = r
        else:
            beta = rho / rho_prev
            u = r + beta * q
            p = (p * beta + q) * beta + u
        phat = psolve(p)
        vhat = matvec(phat)
        rv = dot(rt, vhat)
        flag = flag_where((rnorm < atol, CONVERGED), (mx.abs(rho) < rhotol, -10),
                          (rv == 0, -11))
        alpha = rho / rv
        q = u - alpha * vhat
        uhat = psolve(u + q)
        x_new = x + alpha * uhat
        return (x_new, b - matvec(x_new), p, u, q, rho), flag, x

    return _solve(step, (x, r, None, None, None, None), maxiter, callback, dev)


def qmr(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None, M1=None, M2=None,
        callback=None):
    """Quasi-Minimal Residual iteration (SciPy's qmr) with left/right
    preconditioners M1, M2. Breakdown codes: -10 rho, -11 beta, -12 gamma,
    -13 delta, -14 epsilon, -15 xi."""
    A_ = A
    A, _, x, b, dev, atol, maxiter, r = _setup("qmr", A, b, x0, rtol, atol, maxiter,
                                               None)
    if r is None:
        return b, 0
    if M1 is None and M2 is None:
        if hasattr(A_, "psolve"):
            M1 = LinearOperator(A.shape, matvec=lambda v: A_.psolve(v, "left"),
                                rmatvec=lambda v: A_.rpsolve(v, "left"))
            M2 = LinearOperator(A.shape, matvec=lambda v: A_.psolve(v, "right"),
                                rmatvec=lambda v: A_.rpsolve(v, "right"))
        else:
            M1 = M2 = _identity_op(A)
    else:
        # SciPy needs LinearOperators here (and fails on an M1 or M2 alone); we
        # also take matrices, and the identity for the one left out.
        M1 = _identity_op(A) if M1 is None else aslinearoperator(M1)
        M2 = _identity_op(A) if M2 is None else aslinearoperator(M2)
        for M_ in (M1, M2):
            if M_.shape != A.shape:
                raise ValueError("matrix and preconditioner have different shapes")
    tol = eps(x.dtype)

    with mx.stream(dev):
        y = M1.matvec(r)
        z = M2.rmatvec(r)
        state0 = dict(x=x, r=r, vt=r, y=y, rho=norm(y), wt=r, z=z, xi=norm(z),
                      gamma=1.0, eta=-1.0, theta=0.0, eps_=None, p=None, q=None,
                      d=None, s=None)

    def step(st, it):
        x, r, rho, xi = st["x"], st["r"], st["rho"], st["xi"]
        rnorm = norm(r)
        v = st["vt"] * (1 / rho)
        y = st["y"] * (1 / rho)
        w = st["wt"] * (1 / xi)
        z = st["z"] * (1 / xi)
        delta = dot(z, y)
        yt = M2.matvec(y)
        zt = M1.rmatvec(z)
        if it == 0:
            p, q = yt, zt
        else:
            ratio = delta / st["eps_"]
            p = yt - (xi * ratio) * st["p"]
            q = zt - (rho * _conj(ratio)) * st["q"]
        pt = A.matvec(p)
        epsilon = dot(q, pt)
        beta = epsilon / delta
        vt = pt - beta * v
        y = M1.matvec(vt)
        rho_new = norm(y)
        wt = w * (-_conj(beta)) + A.rmatvec(q)
        z = M2.rmatvec(wt)
        xi_new = norm(z)
        theta = rho_new / (st["gamma"] * mx.abs(beta))
        gamma = 1 / mx.sqrt(1 + theta ** 2)
        eta = st["eta"] * (-(rho / beta) * (gamma / st["gamma"]) ** 2)
        if it == 0:
            d, s = p * eta, pt * eta
        else:
            c = (st["theta"] * gamma) ** 2
            d, s = st["d"] * c + eta * p, st["s"] * c + eta * pt
        flag = flag_where((rnorm < atol, CONVERGED), (mx.abs(rho) < tol, -10),
                          (mx.abs(xi) < tol, -15), (mx.abs(delta) < tol, -13),
                          (mx.abs(epsilon) < tol, -14), (mx.abs(beta) < tol, -11),
                          (mx.abs(gamma) < tol, -12))
        new = dict(x=x + d, r=r - s, vt=vt, y=y, rho=rho_new, wt=wt, z=z, xi=xi_new,
                   gamma=gamma, eta=eta, theta=theta, eps_=epsilon, p=p, q=q, d=d, s=s)
        return new, flag, x

    with mx.stream(dev):
        x, info, _ = iterate(step, state0, maxiter, lambda s: s["x"], callback, dev)
    return x, info


def _identity_op(A):
    return LinearOperator(A.shape, matvec=_identity, rmatvec=_identity)
