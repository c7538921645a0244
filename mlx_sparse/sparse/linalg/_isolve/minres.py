"""MINimum RESidual iteration for symmetric (possibly indefinite) systems (SciPy
1.17's minres), with its vectors and scalar recurrences lazy on the solver's device
(see utils.iterate)."""
import math

import mlx.core as mx
import numpy as np

from .utils import MX_TO_NP, iterate, make_system, norm, real_dtype, solver_device

__all__ = ["minres"]

_ISTOP_MSG = {
    -1: " beta2 = 0.  If M = I, b and x are eigenvectors    ",
    0: " beta1 = 0.  The exact solution is x0          ",
    1: " A solution to Ax = b was found, given rtol        ",
    2: " A least-squares solution was found, given rtol    ",
    3: " Reasonable accuracy achieved, given eps           ",
    4: " x has converged to an eigenvector                 ",
    5: " acond has exceeded 0.1/eps                        ",
    6: " The iteration limit was reached                   ",
}

_STOP = 2          # istop in {-1, 1, 2, 3, 4}: stop after this iteration, info 0
_STOP_LIMIT = 6    # istop 6: iteration limit, info = maxiter
_NONSYM = 7        # beta < 0 inside the iteration: ValueError


def _inner(a, b):
    # SciPy's minres uses numpy.inner (no conjugation)
    return mx.sum(a * b)


def _re(a):
    return mx.real(a) if a.dtype == mx.complex64 else a


def minres(A, b, x0=None, *, rtol=1e-5, shift=0.0, maxiter=None, M=None,
           callback=None, show=False, check=False):
    """Solve (A - shift I) x = b for symmetric A with MINRES (SciPy's minres).

    M must be symmetric positive definite. ``check=True`` first tests that A and M
    are symmetric (ValueError otherwise). Returns ``(x, info)``: 0 when a stopping
    test held, maxiter when the iteration limit was reached.
    """
    A, M, x, b = make_system(A, M, x0, b)
    matvec, psolve = A.matvec, M.matvec
    n = A.shape[0]
    if maxiter is None:
        maxiter = 5 * n
    dev = solver_device(x.dtype)
    rdt = real_dtype(x.dtype)
    eps = float(np.finfo(MX_TO_NP[rdt]).eps)
    big = float(np.finfo(MX_TO_NP[rdt]).max)
    if show:
        print("Enter minres.   Solution of symmetric Ax = b")
        print(f"Enter minres.   n      =  {n:3g}     shift  =  {shift:23.14e}")
        print(f"Enter minres.   itnlim =  {maxiter:3g}     rtol   =  {rtol:11.2e}")
        print()

    with mx.stream(dev):
        r1 = b if x0 is None else b - A @ x
        y = psolve(r1)
        beta1 = _re(_inner(r1, y)).item()
        if beta1 < 0:
            raise ValueError("indefinite preconditioner")
        elif beta1 == 0:
            return x, 0
        if norm(b).item() == 0:
            return b, 0
        beta1 = math.sqrt(beta1)

        if check:
            w = matvec(y)
            r2 = matvec(w)
            s, t = _re(_inner(w, w)).item(), _re(_inner(y, r2)).item()
            if abs(s - t) > (s + eps) * eps ** (1.0 / 3.0):
                raise ValueError("non-symmetric matrix")
            r2 = psolve(y)
            s, t = _re(_inner(y, y)).item(), _re(_inner(r1, r2)).item()
            if abs(s - t) > (s + eps) * eps ** (1.0 / 3.0):
                raise ValueError("non-symmetric preconditioner")

        def sc(v):
            return mx.array(v, dtype=rdt)

        zero = mx.zeros((n,), dtype=x.dtype)
        state0 = dict(x=x, y=y, r1=r1, r2=r1, w=zero, w2=zero, beta=sc(beta1),
                      oldb=sc(0.), dbar=sc(0.), epsln=sc(0.), phibar=sc(beta1),
                      rhs1=sc(beta1), rhs2=sc(0.), tnorm2=sc(0.), gmax=sc(0.),
                      gmin=sc(big), cs=sc(-1.), sn=sc(0.), Anorm=sc(0.), Acond=sc(0.),
                      rnorm=sc(0.), ynorm=sc(0.), Arnorm=sc(0.), istop=mx.array(0))

        def step(st, it):
            itn = it + 1
            beta, r1, r2 = st["beta"], st["r1"], st["r2"]
            v = (1.0 / beta) * st["y"]
            y = matvec(v)
            y = y - shift * v
            if itn >= 2:
                y = y - (beta / st["oldb"]) * r1
            alfa = _re(_inner(v, y))
            y = y - (alfa / beta) * r2
            r1, r2 = r2, y
            y = psolve(r2)
            oldb = beta
            beta2 = _re(_inner(r2, y))
            nonsym = beta2 < 0
            beta = mx.sqrt(beta2)
            tnorm2 = st["tnorm2"] + alfa ** 2 + oldb ** 2 + beta ** 2
            early = (beta / beta1 <= 10 * eps) if itn == 1 else mx.array(False)
            cs, sn, dbar = st["cs"], st["sn"], st["dbar"]
            oldeps = st["epsln"]
            delta = cs * dbar + sn * alfa
            gbar = sn * dbar - cs * alfa
            epsln = sn * beta
            dbar = -cs * beta
            root = mx.sqrt(gbar ** 2 + dbar ** 2)
            Arnorm = st["phibar"] * root
            gamma = mx.maximum(mx.sqrt(gbar ** 2 + beta ** 2), eps)
            cs = gbar / gamma
            sn = beta / gamma
            phi = cs * st["phibar"]
            phibar = sn * st["phibar"]
            w1, w2 = st["w2"], st["w"]
            w = (v - oldeps * w1 - delta * w2) * (1.0 / gamma)
            x = st["x"] + phi * w
            gmax = mx.maximum(st["gmax"], gamma)
            gmin = mx.minimum(st["gmin"], gamma)
            z = st["rhs1"] / gamma
            rhs1 = st["rhs2"] - delta * z
            rhs2 = -epsln * z
            Anorm = mx.sqrt(tnorm2)
            ynorm = norm(x)
            epsx = Anorm * ynorm * eps
            rnorm = phibar
            inf = mx.array(np.inf, dtype=rdt)
            test1 = mx.where((ynorm == 0) | (Anorm == 0), inf, rnorm / (Anorm * ynorm))
            test2 = mx.where(Anorm == 0, inf, root / Anorm)
            Acond = gmax / gmin
            # SciPy's tests, the last true one wins
            istop = mx.array(0)
            for cond, code in ((1 + test2 <= 1, 2), (1 + test1 <= 1, 1),
                               (mx.array(itn >= maxiter), 6),
                               (Acond >= 0.1 / eps, 4), (epsx >= beta1, 3),
                               (test2 <= rtol, 2), (test1 <= rtol, 1)):
                istop = mx.where(cond, code, istop)
            istop = mx.where(early, -1, istop)
            flag = mx.where(nonsym, _NONSYM,
                            mx.where(istop == 6, _STOP_LIMIT,
                                     mx.where(istop != 0, _STOP, 0))).astype(mx.int32)
            new = dict(x=x, y=y, r1=r1, r2=r2, w=w, w2=w2, beta=beta, oldb=oldb,
                       dbar=dbar, epsln=epsln, phibar=phibar, rhs1=rhs1, rhs2=rhs2,
                       tnorm2=tnorm2, gmax=gmax, gmin=gmin, cs=cs, sn=sn, Anorm=Anorm,
                       Acond=Acond, rnorm=rnorm, ynorm=ynorm, Arnorm=Arnorm,
                       istop=istop, test1=test1, test2=test2, gbar=gbar, itn=itn)
            return new, flag, st["x"]

        shown = {}  # id of an iteration's x -> its state (show=True)

        def x_of(st):
            if show:
                shown[id(st["x"])] = st
            return st["x"]

        if show:
            # SciPy's per-iteration lines, printed as each iteration's callback comes
            print()
            print()
            print("   Itn     x(1)     Compatible    LS       norm(A)  cond(A) gbar/|A|")
            user_callback = callback

            def callback(xk):
                _show_iteration(shown[id(xk)], xk, n, maxiter, eps, rtol)
                if user_callback is not None:
                    user_callback(xk)

        outcomes = {_STOP_LIMIT: (maxiter, True),
                    _NONSYM: (ValueError("non-symmetric matrix"), False)}
        x, info, itn = iterate(step, state0, maxiter, x_of, callback, dev, outcomes)
    if show:  # the state of the iteration that stopped (later ones may have run)
        _show_exit(shown.get(id(x)), itn, info, maxiter)
    return x, info


def _show_iteration(st, x, n, maxiter, eps, rtol):
    """SciPy's line for one iteration, when SciPy prints one."""
    v = {k: float(st[k].item()) for k in ("test1", "test2", "Anorm", "Acond", "gbar",
                                          "rnorm", "ynorm")}
    itn, istop = st["itn"], int(st["istop"].item())
    qrnorm, epsx = v["rnorm"], v["Anorm"] * v["ynorm"] * eps
    epsr = v["Anorm"] * v["ynorm"] * rtol
    if not (n <= 40 or itn <= 10 or itn >= maxiter - 10 or itn % 10 == 0
            or qrnorm <= 10 * epsx or qrnorm <= 10 * epsr or v["Acond"] <= 1e-2 / eps
            or istop != 0):
        return
    x0 = np.asarray(x[0]).item()
    ratio = v["gbar"] / v["Anorm"] if v["Anorm"] else float("nan")
    print(f"{itn:6g} {x0:12.5e} {v['test1']:10.3e}" + f" {v['test2']:10.3e}"
          + f" {v['Anorm']:8.1e} {v['Acond']:8.1e} {ratio:8.1e}")
    if itn % 10 == 0:
        print()


def _show_exit(st, itn, info, maxiter):
    if st is None:
        return
    istop = int(st["istop"].item()) if info != maxiter else 6
    vals = {k: float(st[k].item()) for k in ("Anorm", "Acond", "rnorm", "ynorm",
                                              "Arnorm")}
    last = "Exit  minres.   "
    print()
    print(last + f" istop   =  {istop:3g}               itn   ={itn:5g}")
    print(last + f" Anorm   =  {vals['Anorm']:12.4e}      Acond =  {vals['Acond']:12.4e}")
    print(last + f" rnorm   =  {vals['rnorm']:12.4e}      ynorm =  {vals['ynorm']:12.4e}")
    print(last + f" Arnorm  =  {vals['Arnorm']:12.4e}")
    print(last + _ISTOP_MSG.get(istop, ""))
