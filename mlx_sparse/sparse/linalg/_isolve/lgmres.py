"""LGMRES: restarted GMRES augmented with approximations of the error from previous
restart cycles (SciPy's scipy.sparse.linalg.lgmres).

Algorithm: A. H. Baker, E. R. Jessup and T. Manteuffel, "A technique for
accelerating the convergence of restarted GMRES", SIAM J. Matrix Anal. Appl. 26(4),
2005. The inner solver is the flexible GMRES of ``_gcrotmk._fgmres``.

Where the work happens and host reads: as in ``_gcrotmk`` (vectors and their
products on the solver's device, the m-sized least-squares problem on the host; one
read per ``check_every`` inner columns), plus per outer iteration one read each of
||r||, ||M r|| and ||dx||.
"""
import mlx.core as mx
import numpy as np
from numpy.linalg import LinAlgError

from ._gcrotmk import _combine, _fgmres
from .utils import get_atol_rtol, make_system, norm, solver_device

__all__ = ["lgmres"]


def lgmres(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=1000, M=None, callback=None,
           inner_m=30, outer_k=3, outer_v=None, store_outer_Av=True,
           prepend_outer_v=False):
    """Solve ``A x = b`` with LGMRES (SciPy's lgmres).

    ``inner_m`` inner GMRES iterations per outer one; ``outer_k`` error
    approximations kept; ``outer_v`` a list of (v, A v) pairs reused and updated in
    place across calls; ``store_outer_Av`` keeps A v too; ``prepend_outer_v`` puts
    them first in the Krylov space. Convergence: ``||b - A x|| <= max(rtol ||b||,
    atol)``; ``callback(x)`` once per outer iteration.

    Returns ``(x, info)``: x an mx.array, info 0 on convergence, maxiter when not
    converged, or the outer iteration count at a numerical breakdown.
    """
    A, M, x, b = make_system(A, M, x0, b)
    dev = solver_device(x.dtype)
    matvec, psolve = A.matvec, M.matvec
    if outer_v is None:
        outer_v = []
    with mx.stream(dev):
        if not mx.all(mx.isfinite(b)).item():
            raise ValueError("RHS must contain only finite numbers")
        b_norm = norm(b).item()
        atol, rtol = get_atol_rtol("lgmres", b_norm, atol, rtol)
        if b_norm == 0:
            return b, 0

        ptol_max_factor = 1.0
        for k_outer in range(maxiter):
            r_outer = matvec(x) - b
            if callback is not None:
                callback(x)
            r_norm = norm(r_outer).item()
            if r_norm <= max(atol, rtol * b_norm):
                break

            v0 = -psolve(r_outer)
            inner_res_0 = norm(v0).item()
            if inner_res_0 == 0:
                raise RuntimeError("Preconditioner returned a zero vector; "
                                   f"|v| ~ {r_norm:.1g}, |M v| = 0")
            v0 = v0 * (1.0 / inner_res_0)
            ptol = min(ptol_max_factor, max(atol, rtol * b_norm) / r_norm)

            try:
                Q, R, B, vs, zs, y, pres = _fgmres(matvec, v0, inner_m, lpsolve=psolve,
                                                   atol=ptol, outer_v=outer_v,
                                                   prepend_outer_v=prepend_outer_v)
                y *= inner_res_0
                if not np.isfinite(y).all():
                    raise LinAlgError()
            except LinAlgError:
                # over/underflow or non-finite products: report failure
                return x, k_outer + 1

            # adapt the inner tolerance to how the last cycle went
            if pres > ptol:
                ptol_max_factor = min(1.0, 1.5 * ptol_max_factor)
            else:
                ptol_max_factor = max(1e-16, 0.25 * ptol_max_factor)

            dx = _combine(zs, y)
            nx = norm(dx).item()
            if nx > 0:
                if store_outer_Av:
                    q = Q.dot(R.dot(y))
                    ax = _combine(vs, q)
                    outer_v.append((dx * (1.0 / nx), ax * (1.0 / nx)))
                else:
                    outer_v.append((dx * (1.0 / nx), None))
            while len(outer_v) > outer_k:
                del outer_v[0]
            x = x + dx
        else:
            return x, maxiter
        return x, 0
