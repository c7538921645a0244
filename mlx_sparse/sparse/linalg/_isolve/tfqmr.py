"""Transpose-Free Quasi-Minimal Residual method (SciPy 1.17's tfqmr), with vectors
and scalars lazy on the solver's device (see utils.iterate)."""
import mlx.core as mx

from .utils import (CONVERGED_AFTER, dot, flag_where, get_atol_rtol, iterate,
                    make_system, norm, solver_device)

__all__ = ["tfqmr"]


def tfqmr(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None, M=None,
          callback=None, show=False):
    """Solve A x = b with TFQMR (SciPy's tfqmr).

    Returns ``(x, info)``: 0 on convergence (the test is tau * sqrt(k+1) < atol with
    atol = max(atol, rtol * ||r0||)), maxiter when not converged, -1 on a breakdown
    (r* . v = 0). ``maxiter`` defaults to min(10000, 10 n). callback(x) is called
    after every iteration, the last one included.
    """
    A, M, x, b = make_system(A, M, x0, b)
    dev = solver_device(x.dtype)
    with mx.stream(dev):
        if norm(b).item() == 0.:
            return b, 0
        n = A.shape[0]
        if maxiter is None:
            maxiter = min(10000, n * 10)
        r = b if x0 is None else b - A.matvec(x)
        rstar = r
        v = M.matvec(A.matvec(r))
        rho = mx.real(dot(rstar, r))
        r0norm = mx.sqrt(rho).item()
        if r0norm == 0:
            return x, 0
        atol, _ = get_atol_rtol("tfqmr", r0norm, atol, rtol)
        state0 = dict(x=x, u=r, w=r, v=v, uhat=v, d=None, theta=0., eta=0.,
                      tau=r0norm, rho=rho, rho_last=rho, alpha=None, u_next=None)

        def step(st, it):
            st = dict(st)
            even = it % 2 == 0
            cases = []
            if even:
                vtrstar = dot(rstar, st["v"])
                cases.append((vtrstar == 0., -1))
                st["alpha"] = st["rho"] / vtrstar
                st["u_next"] = st["u"] - st["alpha"] * st["v"]
            alpha = st["alpha"]
            w = st["w"] - alpha * st["uhat"]
            if st["d"] is None:
                d = st["u"]  # d starts as the scalar 0
            else:
                d = st["u"] + (st["theta"] ** 2 / alpha) * st["eta"] * st["d"]
            theta = norm(w) / st["tau"]
            c = mx.sqrt(1. / (1 + theta ** 2))
            tau = st["tau"] * theta * c
            eta = (c ** 2) * alpha
            x_new = st["x"] + eta * M.matvec(d)
            cases.append((tau * ((it + 1) ** 0.5) < atol, CONVERGED_AFTER))
            x_old = st["x"]
            st.update(x=x_new, w=w, d=d, theta=theta, tau=tau, eta=eta)
            if not even:
                rho = dot(rstar, w)
                beta = rho / st["rho_last"]
                u = w + beta * st["u"]
                v = beta * st["uhat"] + (beta ** 2) * st["v"]
                uhat = M.matvec(A.matvec(u))
                st.update(rho=rho, u=u, v=v + uhat, uhat=uhat)
            else:
                st.update(uhat=M.matvec(A.matvec(st["u_next"])), u=st["u_next"],
                          rho_last=st["rho"])
            return st, flag_where(*cases), x_old

        x, info, its = iterate(step, state0, maxiter, lambda s: s["x"], callback, dev)
    if show:
        if info == 0:
            print(f"TFQMR: Linear solve converged due to reach TOL iterations {its}")
        else:
            print(f"TFQMR: Linear solve not converged due to reach MAXIT iterations "
                  f"{its}")
    return x, info
