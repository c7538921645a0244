"""LSQR: sparse least squares by Golub-Kahan bidiagonalization (SciPy's
scipy.sparse.linalg.lsqr).

Algorithm: C. C. Paige and M. A. Saunders, "LSQR: An algorithm for sparse linear
equations and sparse least squares", ACM TOMS 8(1), 1982, and "Algorithm 583", ACM
TOMS 8(2), 1982. Solves min ||b - A x||^2 + damp^2 ||x - x0||^2.

Device residency: u, v, w, x (and var) are 1-D mx.arrays on the solver's device
(float64/complex data of float64 precision on the CPU stream). The scalar recurrences
(plane rotations, norm and condition estimates, stopping tests) are O(1) host work.
Host reads: ONE per iteration. The bidiagonalization step is built lazily with its
normalizations on the device (u / beta, v / alpha with beta and alpha still MLX
scalars), and beta, alpha and ||w||^2 (for the ||dk||^2 term of the condition
estimate, dk = w / rho) come back together in one small array; the x and w updates
of iteration k are then queued with host coefficients and evaluated with the read of
iteration k + 1.
"""
import math

import mlx.core as mx
import numpy as np

from ...._dtypes import MX_TO_NP, NP_TO_MX, device_for
from .._interface import aslinearoperator
from .utils import _as_vector, norm, real_dtype

__all__ = ["lsqr"]

_EPS = float(np.finfo(np.float64).eps)

# istop meanings (Paige & Saunders' numbering), used by show=True
_STOP_REASONS = (
    "x = 0 (or x0) is the exact solution",
    "the residual ||b - A x|| is within atol/btol",
    "the least-squares optimality measure is within atol",
    "the condition estimate of Abar exceeded conlim",
    "the residual is as small as this machine allows",
    "the least-squares solution is as good as this machine allows",
    "cond(Abar) is too large for this machine",
    "the iteration limit was reached",
)


def _sym_ortho(a, b):
    """Plane rotation (c, s, r) with [c s; -s c] [a; b] = [r; 0] and r >= 0
    where possible; stable for any magnitudes (divides by the larger entry)."""
    # NumPy scalars keep their precision (float32 problems rotate in float32, as
    # SciPy's do); Python floats stay float64.
    if b == 0:
        return np.sign(a), 0, abs(a)
    if a == 0:
        return 0, np.sign(b), abs(b)
    if abs(a) >= abs(b):
        t = b / a
        c = np.sign(a) / math.sqrt(1 + t * t)
        return c, c * t, a / c
    t = a / b
    s = np.sign(b) / math.sqrt(1 + t * t)
    return s * t, s, b / s


def _np_dtype(dt):
    return MX_TO_NP[dt]


def _lsq_setup(A, b, x0):
    """Operator, right-hand side, working dtype and device of a least-squares
    solve. The working dtype is SciPy's promotion of A's, b's (and x0's) dtypes to
    an inexact type; complex128 (absent from MLX) is reported as a TypeError."""
    A = aslinearoperator(A)
    b = _as_vector(b)
    if b.ndim == 0:
        b = b.reshape(1)
    elif b.ndim > 1:
        b = b.squeeze()
    dts = [b.dtype if b.dtype not in (mx.bool_,) else mx.int8]
    nps = [_np_dtype(d) for d in dts]
    if getattr(A, "dtype", None) is not None:
        nps.append(np.dtype(A.dtype))
    if x0 is not None:
        x0 = _as_vector(x0)
        nps.append(_np_dtype(x0.dtype))
    work = np.result_type(*nps)
    if work.kind not in "fc":
        work = np.result_type(work, np.float64)
    if work == np.complex128:
        raise TypeError("the working dtype of this problem is complex128, which MLX "
                        "does not have; use complex64 for A, b and x0")
    if work.kind == "f" and work.itemsize < 4:
        work = np.dtype(np.float32)
    wdt = NP_TO_MX[work]
    return A, b, x0, wdt, device_for(wdt)


def _result_dtype(base, wdt):
    """SciPy's dtype of the returned x: base (float64 unless given by x0) combined
    with the working dtype; complex128 becomes complex64 (MLX has no complex128)."""
    rt = np.result_type(base, _np_dtype(wdt))
    if rt.kind not in "fc":
        rt = np.dtype(np.float64)
    if rt == np.complex128:
        rt = np.dtype(np.complex64)
    return NP_TO_MX[rt]


def _cast(a, dt):
    """a as dtype dt, computed on dt's device (float64 results of a float32 GPU
    solve are made on the CPU stream)."""
    return a if a.dtype == dt else a.astype(dt, stream=device_for(dt))


def _read(*scalars):
    """One host read of several lazy real MLX scalars, as NumPy scalars of their
    precision (so host recurrences of a float32 problem round as SciPy's do)."""
    vals = mx.stack(list(scalars)) if len(scalars) > 1 else scalars[0].reshape(1)
    return list(np.array(vals))


def _lsq_start(A, b, x0, n, wdt):
    """The first bidiagonalization step of lsqr and lsmr, in the working dtype:
    returns (b, ||b||, x, u, beta, v, alpha) with beta u = b - A x and
    alpha v = A^H u (u, v normalized where beta, alpha > 0; v = x when beta = 0,
    where both solvers stop at once)."""
    b = b.astype(wdt)
    bnorm, = _read(norm(b))
    if x0 is None:
        x = mx.zeros((n,), dtype=wdt)
        u = b
        beta = bnorm
    else:
        x = x0.reshape(-1).astype(wdt)
        u = b - A.matvec(x).astype(wdt)
        beta, = _read(norm(u))
    if beta > 0:
        u = u * float(1 / beta)
        v = A.rmatvec(u).astype(wdt)
        alpha, = _read(norm(v))
    else:
        v = x
        alpha = 0.0
    if alpha > 0:
        v = v * float(1 / alpha)
    return b, bnorm, x, u, beta, v, alpha


def lsqr(A, b, damp=0.0, atol=1e-6, btol=1e-6, conlim=1e8,
         iter_lim=None, show=False, calc_var=False, x0=None):
    """Find the least-squares solution of ``A x = b`` (optionally damped).

    Minimizes ``||b - A x||^2 + damp^2 ||x - x0||^2`` for a sparse or dense A of any
    shape, or a LinearOperator with matvec and rmatvec (SciPy's
    scipy.sparse.linalg.lsqr, same signature and results).

    Returns ``(x, istop, itn, r1norm, r2norm, anorm, acond, arnorm, xnorm, var)``:
    x an mx.array; istop 0..7 the reason for stopping (0: x = 0 is the exact
    solution, 1: Ax - b small given atol/btol, 2: least-squares solution good given
    atol, 3: cond(Abar) > conlim, 4-6: the same as 1-3 at machine precision, 7:
    iter_lim reached); itn the iteration count; r1norm = ||b - A x||; r2norm =
    sqrt(r1norm^2 + damp^2 ||x - x0||^2); anorm, acond estimates of the Frobenius
    norm and condition of Abar = [A; damp I]; arnorm = ||Abar^H (b - A x)||
    estimate; xnorm = ||x||; var the diagonal of (Abar^H Abar)^-1 when calc_var
    (zeros otherwise), as an mx.array.

    The returned x has SciPy's dtype: float64 for real problems without x0 (MLX
    has no complex128: complex problems return complex64). The iteration runs in
    the working dtype of A and b on its device, one host read per iteration.
    """
    A, b, x0, wdt, dev = _lsq_setup(A, b, x0)
    m, n = A.shape
    if iter_lim is None:
        iter_lim = 2 * n
    rdt = real_dtype(wdt)
    xdt = _result_dtype(np.float64 if x0 is None else _np_dtype(x0.dtype), wdt)
    var_dt = _result_dtype(np.float64, wdt)
    damp = float(damp)
    dampsq = damp * damp
    ctol = 1.0 / conlim if conlim > 0 else 0.0

    if show:
        print()
        print("LSQR: least-squares solution of A x = b")
        print(f"A has {m} rows and {n} columns; damp = {damp:.14e}, "
              f"calc_var = {calc_var}")
        print(f"atol = {atol:.2e}, btol = {btol:.2e}, conlim = {conlim:.2e}, "
              f"iter_lim = {iter_lim}")

    with mx.stream(dev):
        b, bnorm, x, u, beta, v, alfa = _lsq_start(A, b, x0, n, wdt)
        w = v
        var = mx.zeros((n,), dtype=wdt)

        itn = 0
        istop = 0
        anorm = acond = ddnorm = res2 = xnorm = xxnorm = z = 0.0
        cs2, sn2 = -1.0, 0.0
        rhobar, phibar = alfa, beta
        rnorm = r1norm = r2norm = beta
        arnorm = alfa * beta

        def result():
            return (_cast(x, xdt), istop, itn, r1norm, r2norm, anorm, acond, arnorm,
                    xnorm, _cast(var, var_dt))

        if arnorm == 0:
            if show:
                print(_STOP_REASONS[0])
            return result()

        if show:
            print(f"{'itn':>6} {'x[0]':>12} {'r1norm':>10} {'r2norm':>10} "
                  f"{'compatible':>10} {'LS':>8} {'norm A':>8} {'cond A':>8}")

        while itn < iter_lim:
            itn += 1
            # Bidiagonalization step, normalizations on the device:
            #   beta u = A v - alfa u,   alfa v = A^H u - beta v.
            u_raw = A.matvec(v).astype(wdt) - u * float(alfa)
            beta_d = norm(u_raw)
            u_new = u_raw * mx.where(beta_d > 0, 1.0 / beta_d, 1.0).astype(rdt)
            v_raw = A.rmatvec(u_new).astype(wdt) - beta_d.astype(wdt) * v
            alfa_d = norm(v_raw)
            w_sq = norm(w) ** 2
            mx.eval(x, var)
            beta, alfa_new, w_sq = _read(beta_d, alfa_d, w_sq)
            if beta > 0:
                u = u_new
                anorm = math.sqrt(anorm ** 2 + alfa ** 2 + beta ** 2 + dampsq)
                alfa = alfa_new
                v = v_raw * float(1 / alfa) if alfa > 0 else v_raw
            else:
                u = u_raw

            # Remove the damping term with a rotation (changes rhobar).
            if damp > 0:
                rhobar1 = math.sqrt(rhobar ** 2 + dampsq)
                cs1, sn1 = rhobar / rhobar1, damp / rhobar1
                psi = sn1 * phibar
                phibar = cs1 * phibar
            else:
                rhobar1, psi = rhobar, 0.0

            # Rotate the lower bidiagonal to upper bidiagonal form.
            cs, sn, rho = _sym_ortho(rhobar1, beta)
            theta = sn * alfa
            rhobar = -cs * alfa
            phi = cs * phibar
            phibar = sn * phibar
            tau = sn * phi

            # Solution and search direction updates (queued on the device).
            x = x + w * float(phi / rho)
            if calc_var:
                dk = w * float(1 / rho)
                var = var + dk * dk
            w = v + w * float(-theta / rho)
            ddnorm = ddnorm + w_sq / rho ** 2

            # Estimate ||x|| with a rotation eliminating theta.
            delta = sn2 * rho
            gambar = -cs2 * rho
            rhs = phi - delta * z
            zbar = rhs / gambar
            xnorm = math.sqrt(xxnorm + zbar ** 2)
            gamma = math.sqrt(gambar ** 2 + theta ** 2)
            cs2, sn2 = gambar / gamma, theta / gamma
            z = rhs / gamma
            xxnorm += z ** 2

            # Norm and condition estimates, then the stopping tests.
            acond = anorm * math.sqrt(ddnorm)
            res1 = phibar ** 2
            res2 += psi ** 2
            rnorm = math.sqrt(res1 + res2)
            arnorm = alfa * abs(tau)
            if damp > 0:
                r1sq = rnorm ** 2 - dampsq * xxnorm
                r1norm = math.sqrt(abs(r1sq))
                if r1sq < 0:
                    r1norm = -r1norm
            else:
                r1norm = rnorm
            r2norm = rnorm

            test1 = rnorm / bnorm
            test2 = arnorm / (anorm * rnorm + _EPS)
            test3 = 1.0 / (acond + _EPS)
            t1 = test1 / (1.0 + anorm * xnorm / bnorm)
            rtol = btol + atol * anorm * xnorm / bnorm

            # Later tests take precedence (user tolerances over machine limits).
            if itn >= iter_lim:
                istop = 7
            if 1 + test3 <= 1:
                istop = 6
            if 1 + test2 <= 1:
                istop = 5
            if 1 + t1 <= 1:
                istop = 4
            if test3 <= ctol:
                istop = 3
            if test2 <= atol:
                istop = 2
            if test1 <= rtol:
                istop = 1

            if show and (n <= 40 or itn <= 10 or itn >= iter_lim - 10
                         or test3 <= 2 * ctol or test2 <= 10 * atol
                         or test1 <= 10 * rtol or istop != 0):
                x0v = x[0].item()
                print(f"{itn:6d} {x0v:12.5e} {r1norm:10.3e} {r2norm:10.3e} "
                      f"{test1:10.1e} {test2:8.1e} {anorm:8.1e} {acond:8.1e}")
            if istop != 0:
                break

        mx.eval(x, var)
        if show:
            print()
            print(f"LSQR stopped (istop = {istop}): {_STOP_REASONS[istop]}")
            print(f"itn = {itn}, r1norm = {r1norm:.1e}, r2norm = {r2norm:.1e}, "
                  f"anorm = {anorm:.1e}, acond = {acond:.1e}, arnorm = {arnorm:.1e}, "
                  f"xnorm = {xnorm:.1e}")
        return result()
