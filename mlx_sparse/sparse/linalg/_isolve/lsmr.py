"""LSMR: sparse least squares by Golub-Kahan bidiagonalization, minimizing
||A^H r|| monotonically (SciPy's scipy.sparse.linalg.lsmr).

Algorithm: D. C.-L. Fong and M. A. Saunders, "LSMR: An iterative algorithm for
sparse least-squares problems", SIAM J. Sci. Comput. 33(5), 2011. Solves
min ||b - A x||^2 + damp^2 ||x||^2 (shifted by x0 when given).

Device residency: u, v, h, hbar and x are 1-D mx.arrays on the solver's device; the
rotations and the norm/condition estimates are O(1) host work.
Host reads: ONE per iteration. Iteration k reads beta_k, alpha_k (normalized on the
device) together with ||x_{k-1}||, which the stopping test of iteration k - 1 needs.
So the test of iteration k - 1 is completed at the read of iteration k; when it
stops, the bidiagonalization step already queued for iteration k is discarded (one
extra A/A^H product pair at the end of a solve) and x_{k-1}, istop and itn are
exactly those of checking every iteration. The last allowed iteration reads ||x||
at once.
"""
import math

import mlx.core as mx
import numpy as np

from .lsqr import (_STOP_REASONS, _cast, _lsq_setup, _lsq_start, _np_dtype, _read,
                   _result_dtype, _sym_ortho)
from .utils import norm, real_dtype

__all__ = ["lsmr"]


def lsmr(A, b, damp=0.0, atol=1e-6, btol=1e-6, conlim=1e8,
         maxiter=None, show=False, x0=None):
    """Iterative solver for least-squares problems (SciPy's
    scipy.sparse.linalg.lsmr, same signature and results).

    Minimizes ``||b - A x||_2^2 + damp^2 ||x - x0||_2^2`` for A of any shape (sparse,
    dense or a LinearOperator with matvec and rmatvec); maxiter defaults to
    min(A.shape).

    Returns ``(x, istop, itn, normr, normar, norma, conda, normx)``: x an mx.array;
    istop 0..7 as in lsqr (0: x = 0 (or x0) is the exact solution, 1: Ax - b small
    given atol/btol, 2: least-squares solution good given atol, 3: cond(Abar) >
    conlim, 4-6: the same at machine precision, 7: maxiter reached); itn the
    iteration count; normr = ||b - A x||; normar = ||A^H (b - A x)||; norma, conda
    estimates of the Frobenius norm and condition of Abar = [A; damp I]; normx =
    ||x||.

    x has SciPy's dtype (A's, b's and x0's types promoted with float64; complex
    problems return complex64, MLX having no complex128). One host read per
    iteration.
    """
    A, b, x0, wdt, dev = _lsq_setup(A, b, x0)
    m, n = A.shape
    if maxiter is None:
        maxiter = min(m, n)
    base = np.float64 if x0 is None else np.result_type(_np_dtype(x0.dtype), np.float64)
    xdt = _result_dtype(base, wdt)
    rdt = real_dtype(wdt)
    damp = float(damp)

    if show:
        print()
        print("LSMR: least-squares solution of A x = b")
        print(f"A has {m} rows and {n} columns; damp = {damp:.14e}")
        print(f"atol = {atol:.2e}, btol = {btol:.2e}, conlim = {conlim:.2e}, "
              f"maxiter = {maxiter}")

    with mx.stream(dev):
        b, normb, x, u, beta, v, alpha = _lsq_start(A, b, x0, n, wdt)

        itn = 0
        zetabar = alpha * beta
        alphabar = alpha
        rho = rhobar = cbar = 1
        sbar = 0
        h = v
        hbar = mx.zeros((n,), dtype=wdt)

        # ||r|| estimate state
        betadd = beta
        betad = 0
        rhodold = 1
        tautildeold = thetatilde = zeta = 0
        d = 0

        # ||A|| and cond(A) estimate state
        normA2 = alpha * alpha
        maxrbar = 0
        minrbar = 1e100
        normA = math.sqrt(normA2)
        condA = 1
        normx = 0

        istop = 0
        ctol = 1 / conlim if conlim > 0 else 0
        normr = beta
        normar = alpha * beta

        def result(xv):
            return (_cast(xv, xdt), istop, itn, normr,
                    normar, normA, condA, normx)

        if normar == 0:
            if show:
                print(_STOP_REASONS[0])
            return result(x)
        if normb == 0:
            return result(mx.zeros((n,), dtype=wdt))

        if show:
            print(f"{'itn':>6} {'x[0]':>12} {'norm r':>10} {'norm Ar':>10} "
                  f"{'compatible':>10} {'LS':>8} {'norm A':>8} {'cond A':>8}")

        pending = None  # stopping test of the previous iteration, waiting for ||x||

        def finish_tests(p, nx):
            """istop of an iteration from its estimates p and ||x|| = nx."""
            it, nr, nar, nA, cA = p
            test1 = nr / normb
            test2 = nar / (nA * nr) if (nA * nr) != 0 else math.inf
            test3 = 1 / cA
            t1 = test1 / (1 + nA * nx / normb)
            rtol = btol + atol * nA * nx / normb
            stop = 0
            # later tests take precedence (user tolerances over machine limits)
            if it >= maxiter:
                stop = 7
            if 1 + test3 <= 1:
                stop = 6
            if 1 + test2 <= 1:
                stop = 5
            if 1 + t1 <= 1:
                stop = 4
            if test3 <= ctol:
                stop = 3
            if test2 <= atol:
                stop = 2
            if test1 <= rtol:
                stop = 1
            if show and (n <= 40 or it <= 10 or it >= maxiter - 10 or it % 10 == 0
                         or test3 <= 1.1 * ctol or test2 <= 1.1 * atol
                         or test1 <= 1.1 * rtol or stop != 0):
                x0v = x_prev[0].item()
                print(f"{it:6d} {x0v:12.5e} {nr:10.3e} {nar:10.3e} {test1:10.1e} "
                      f"{test2:8.1e} {nA:8.1e} {cA:8.1e}")
            return stop

        x_prev = x
        while itn < maxiter:
            itn += 1
            # Bidiagonalization step, normalizations on the device:
            #   beta u = A v - alpha u,   alpha v = A^H u - beta v.
            u_raw = A.matvec(v).astype(wdt) - u * float(alpha)
            beta_d = norm(u_raw)
            u_new = u_raw * mx.where(beta_d > 0, 1.0 / beta_d, 1.0).astype(rdt)
            v_raw = A.rmatvec(u_new).astype(wdt) - beta_d.astype(wdt) * v
            alpha_d = norm(v_raw)
            if pending is not None:
                beta_n, alpha_n, normx = _read(beta_d, alpha_d, norm(x))
                istop = finish_tests(pending, normx)
                if istop:
                    itn -= 1  # the step just queued is discarded
                    break
            else:
                beta_n, alpha_n = _read(beta_d, alpha_d)
            beta = beta_n
            if beta > 0:
                u = u_new
                alpha = alpha_n
                v = v_raw * float(1 / alpha) if alpha > 0 else v_raw
            else:
                u = u_raw

            # Rotation removing damp, then Q_k turning B_k into R_k.
            chat, shat, alphahat = _sym_ortho(alphabar, damp)
            rhoold = rho
            c, s, rho = _sym_ortho(alphahat, beta)
            thetanew = s * alpha
            alphabar = c * alpha

            # Qbar_k turning R_k^T into Rbar_k.
            rhobarold = rhobar
            zetaold = zeta
            thetabar = sbar * rho
            rhotemp = cbar * rho
            cbar, sbar, rhobar = _sym_ortho(cbar * rho, thetanew)
            zeta = cbar * zetabar
            zetabar = -sbar * zetabar

            # h, hbar and x updates (queued on the device).
            hbar = h + hbar * float(-(thetabar * rho / (rhoold * rhobarold)))
            x = x + hbar * float(zeta / (rho * rhobar))
            h = v + h * float(-(thetanew / rho))

            # ||r|| estimate: rotations Qhat, Q and Qtilde applied to (betadd, 0).
            betaacute = chat * betadd
            betacheck = -shat * betadd
            betahat = c * betaacute
            betadd = -s * betaacute
            thetatildeold = thetatilde
            ctildeold, stildeold, rhotildeold = _sym_ortho(rhodold, thetabar)
            thetatilde = stildeold * rhobar
            rhodold = ctildeold * rhobar
            betad = -stildeold * betad + ctildeold * betahat
            tautildeold = (zetaold - thetatildeold * tautildeold) / rhotildeold
            taud = (zeta - thetatilde * tautildeold) / rhodold
            d = d + betacheck * betacheck
            normr = math.sqrt(d + (betad - taud) ** 2 + betadd * betadd)

            # ||A|| and cond(A) estimates.
            normA2 = normA2 + beta * beta
            normA = math.sqrt(normA2)
            normA2 = normA2 + alpha * alpha
            maxrbar = max(maxrbar, rhobarold)
            with np.errstate(over="ignore"):  # 1e100 vs float32 scalars
                if itn > 1:
                    minrbar = min(minrbar, rhobarold)
                condA = max(maxrbar, rhotemp) / min(minrbar, rhotemp)
            normar = abs(zetabar)

            pending = (itn, normr, normar, normA, condA)
            x_prev = x
            mx.async_eval(x, h, hbar)
            if itn >= maxiter:
                normx, = _read(norm(x))
                istop = finish_tests(pending, normx)
                break

        if show:
            print()
            print(f"LSMR stopped (istop = {istop}): {_STOP_REASONS[istop]}")
            print(f"itn = {itn}, normr = {normr:.1e}, normar = {normar:.1e}, "
                  f"normA = {normA:.1e}, condA = {condA:.1e}, normx = {normx:.1e}")
        return result(x_prev)
