"""GCROT(m, k): flexible GMRES with recycled/truncated outer subspaces (SciPy's
scipy.sparse.linalg.gcrotmk), and the flexible-GMRES inner solver ``_fgmres`` that
lgmres shares.

Algorithm: J. E. Hicken and D. W. Zingg, "A simplified and flexible variant of
GCROT for solving nonsymmetric linear systems", SIAM J. Sci. Comput. 32(3), 2010;
E. de Sturler, "Truncation strategies for optimal Krylov subspace methods", SIAM J.
Numer. Anal. 36(3), 1999 (the 'smallest' truncation).

Where the work happens: every vector (V, Z, the recycled C and U) is an mx.array on
the solver's device and every matvec / preconditioner solve an MLX product there;
the Hessenberg matrix, kept as a QR factorization updated one column at a time, its
least-squares solve and the small truncation SVD are host work of size m. The
Arnoldi basis is ``_gmres._make_basis``'s: lazy MLX modified Gram-Schmidt on a GPU,
BLAS on the buffer's zero-copy view on the CPU stream.

Host reads: on a GPU ``_fgmres`` builds ``check_every`` Arnoldi columns lazily and
reads their coefficients (projections on C, Hessenberg column, norms) in one small
array; the host updates the QR factorization column by column and stops exactly
where checking every column would (later columns are discarded). The outer loop
reads ||r|| and ||c|| once per outer iteration. Re-orthogonalizing a user-supplied
CU at the start of a call (pivoted QR of C) is done once on the host.
"""
import mlx.core as mx
import numpy as np
from numpy.linalg import LinAlgError
from scipy.linalg import lstsq, qr, qr_insert, solve, svd

from ...._dtypes import MX_TO_NP
from ._gmres import _make_basis
from .utils import (_as_vector, dot, get_atol_rtol, get_check_every, make_system, norm,
                    solver_device)

__all__ = ["gcrotmk"]


def _fgmres(matvec, v0, m, atol, lpsolve=None, rpsolve=None, cs=(), outer_v=(),
            prepend_outer_v=False):
    """Flexible GMRES Arnoldi process with optional outer vectors and projection
    on the orthonormal vectors ``cs`` (the inner solver of lgmres and gcrotmk).

    Builds ``L A Z = C B + V H`` with ``L = lpsolve``, ``Z`` columns
    ``rpsolve(v_j)`` (or the z of an outer pair), stopping at m (+ len(outer_v))
    columns, when the least-squares residual drops below atol, or at a breakdown.

    Returns ``(Q, R, B, vs, zs, y, res)``: H = Q R (host NumPy), B the projection
    coefficients (host), vs / zs lists of mx.array vectors, y the least-squares
    solution of ``||Q R y - e_1||`` (host) and res its residual. Raises LinAlgError
    on non-finite results.
    """
    if lpsolve is None:
        def lpsolve(x):
            return x
    if rpsolve is None:
        def rpsolve(x):
            return x

    ndt = MX_TO_NP[v0.dtype]
    eps = float(np.finfo(ndt).eps)
    dev = solver_device(v0.dtype)
    cs = list(cs)
    n_outer = len(outer_v)
    m = m + n_outer

    V = _make_basis(v0, m + 1, dev, get_check_every(dev))
    zs = []
    B = np.zeros((len(cs), m), dtype=ndt)
    Q = np.ones((1, 1), dtype=ndt)
    R = np.zeros((1, 0), dtype=ndt)
    res = np.nan
    breakdown = False

    def next_w(j):
        """The vector to orthogonalize for column j (its z goes to zs): a new
        Krylov direction, or an outer pair."""
        if prepend_outer_v and j < n_outer:
            z, w = outer_v[j]
        elif prepend_outer_v and j == n_outer:
            z, w = rpsolve(v0), None
        elif not prepend_outer_v and j >= m - n_outer:
            z, w = outer_v[j - (m - n_outer)]
        else:
            z, w = rpsolve(V[j]), None
        z = _vec(z, v0.dtype)
        zs.append(z)
        return lpsolve(matvec(z)) if w is None else _vec(w, v0.dtype)

    j = -1
    done = False
    while not done and j + 1 < m:
        k = min(V.batch, m - (j + 1))
        for c in V.extend(k, next_w, extra=cs):
            j += 1
            w_norm = abs(c[0])
            B[:, j] = c[1:1 + len(cs)]
            hcur = np.array(c[1 + len(cs):], dtype=ndt)  # j + 2 entries
            hcur[-1] = hcur[-1].real
            if not (hcur[-1].real > eps * w_norm):
                # w (numerically) in the span of the basis, or NaN: stop after
                # updating the QR factorization
                breakdown = True
            Q2 = np.zeros((j + 2, j + 2), dtype=ndt, order="F")
            Q2[:j + 1, :j + 1] = Q
            Q2[j + 1, j + 1] = 1
            R2 = np.zeros((j + 2, j), dtype=ndt, order="F")
            R2[:j + 1, :] = R
            Q, R = qr_insert(Q2, R2, hcur, j, which="col", overwrite_qru=True,
                             check_finite=False)
            res = abs(Q[0, -1])
            if res < atol or breakdown:
                done = True
                break
    # columns built past the stopping point are dropped
    V.truncate(j + 2)
    del zs[j + 1:]
    vs = V[0:j + 2]

    if not np.isfinite(R[j, j]):
        raise LinAlgError()
    # R may be badly conditioned (or singular at a breakdown): least squares
    y, _, _, _ = lstsq(R[:j + 1, :j + 1], Q[0, :j + 1].conj())
    return Q, R, B[:, :j + 1], vs, zs, y, res


def _vec(v, dtype):
    """A user-supplied outer vector (NumPy or MLX) as a 1-D mx.array of dtype."""
    v = _as_vector(v).reshape(-1)
    return v if v.dtype == dtype else v.astype(dtype)


def _combine(vectors, coefs):
    """sum_i coefs[i] * vectors[i] (lazy; coefs host numbers)."""
    out = vectors[0] * coefs[0].item()
    for v, c in zip(vectors[1:], coefs[1:]):
        out = out + v * c.item()
    return out


def gcrotmk(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=1000, M=None, callback=None,
            m=20, k=None, CU=None, discard_C=False, truncate="oldest"):
    """Solve ``A x = b`` with flexible GCROT(m, k) (SciPy's gcrotmk).

    ``m`` inner GMRES iterations per outer one, ``k`` (default m) outer vectors kept;
    ``CU``: a list of (c, u) pairs (c = A u, or None) reused and updated in place
    across calls; ``discard_C`` drops the c vectors on return; ``truncate`` 'oldest'
    or 'smallest'. Convergence: ``||b - A x|| <= max(rtol ||b||, atol)``;
    ``callback(x)`` once per outer iteration.

    Returns ``(x, info)``: x an mx.array, info 0 on convergence, else the number of
    outer iterations done.
    """
    A, M, x, b = make_system(A, M, x0, b)
    dev = solver_device(x.dtype)
    with mx.stream(dev):
        if not mx.all(mx.isfinite(b)).item():
            raise ValueError("RHS must contain only finite numbers")
        if truncate not in ("oldest", "smallest"):
            raise ValueError(f"Invalid value for 'truncate': {truncate!r}")
        return _gcrotmk(A, M, x, b, x0, rtol, atol, maxiter, callback, m, k, CU,
                        discard_C, truncate)


def _gcrotmk(A, M, x, b, x0, rtol, atol, maxiter, callback, m, k, CU, discard_C,
             truncate):
    matvec, psolve = A.matvec, M.matvec
    if CU is None:
        CU = []
    if k is None:
        k = m

    r = b if x0 is None else b - matvec(x)
    b_norm = norm(b).item()
    atol, rtol = get_atol_rtol("gcrotmk", b_norm, atol, rtol)
    if b_norm == 0:
        return b, 0

    if discard_C:
        CU[:] = [(None, u) for c, u in CU]

    if CU:
        # Re-orthonormalize the recycled space: C = Q R P^T (pivoted QR, on the
        # host once per call), U := U P R^-1.
        CU.sort(key=lambda cu: cu[0] is not None)
        cols, us = [], []
        while CU:
            c, u = CU.pop(0)
            u = _vec(u, x.dtype)
            c = matvec(u) if c is None else _vec(c, x.dtype)
            cols.append(np.asarray(c.astype(x.dtype)))
            us.append(u)
        Cq, Rc, P = qr(np.stack(cols, axis=1), mode="economic", pivoting=True)
        new_cs, new_us = [], []
        for j in range(Cq.shape[1]):
            u = us[P[j]]
            for i in range(j):  # back substitution: uses the new u_i
                u = u - new_us[i] * Rc[i, j].item()
            if abs(Rc[j, j]) < 1e-12 * abs(Rc[0, 0]):
                break  # the rest is (numerically) dependent
            new_us.append(u * (1.0 / Rc[j, j]).item())
            new_cs.append(mx.array(np.ascontiguousarray(Cq[:, j]), dtype=x.dtype))
        CU[:] = list(zip(new_cs, new_us))[::-1]

    if CU:
        # Start from the best x in the recycled space: y = C^H r, x += U y.
        for c, u in CU:
            yc = dot(c, r)
            x = x + yc * u
            r = r - yc * c

    j_outer = -1
    for j_outer in range(maxiter):
        if callback is not None:
            callback(x)
        beta = norm(r).item()
        beta_tol = max(atol, rtol * b_norm)
        if beta <= beta_tol and (j_outer > 0 or CU):
            # recompute the residual to avoid accumulated rounding
            r = b - matvec(x)
            beta = norm(r).item()
        if beta <= beta_tol:
            j_outer = -1
            break

        ml = m + max(k - len(CU), 0)
        cs = [c for c, u in CU]
        try:
            Q, R, B, vs, zs, y, pres = _fgmres(matvec, r * (1.0 / beta), ml,
                                               rpsolve=psolve,
                                               atol=max(atol, rtol * b_norm) / beta,
                                               cs=cs)
            y *= beta
        except LinAlgError:
            # over/underflow or non-finite products: report failure
            break

        # [A U, A Z] = [C, V] [[I, B], [0, H]]; the new outer pair is
        # ux = (Z - U B) y, cx = V H y = A ux.
        ux = _combine(zs, y)
        by = B.dot(y)
        for (c, u), byc in zip(CU, by):
            ux = ux - u * byc.item()
        with np.errstate(invalid="ignore"):
            hy = Q.dot(R.dot(y))
        cx = _combine(vs, hy)

        cnorm = norm(cx).item()
        with np.errstate(divide="ignore"):
            alpha = 1.0 / cnorm if cnorm != 0 else np.inf
        if not np.isfinite(alpha):
            continue  # cannot extend the outer space this time
        cx = cx * alpha
        ux = ux * alpha

        gamma = dot(cx, r)
        r = r - gamma * cx
        x = x + gamma * ux
        mx.eval(x, r)

        if truncate == "oldest":
            while len(CU) >= k and CU:
                del CU[0]
        elif truncate == "smallest":
            if len(CU) >= k and CU:
                # keep the k - 1 directions of largest singular values of
                # D = (R^-1 B^T)^T
                D = solve(R[:-1, :].T, B.T).T
                W, sigma, Vh = svd(D)
                new_CU = []
                for j, wcol in enumerate(W[:, :k - 1].T):
                    c, u = CU[0]
                    c = c * wcol[0].item()
                    u = u * wcol[0].item()
                    for (cp, up), wp in zip(CU[1:], wcol[1:]):
                        c = c + cp * wp.item()
                        u = u + up * wp.item()
                    # re-orthogonalize against the pairs kept so far
                    for cp, up in new_CU:
                        a = dot(cp, c)
                        c = c - a * cp
                        u = u - a * up
                    a = norm(c)
                    c = c / a
                    u = u / a
                    new_CU.append((c, u))
                CU[:] = new_CU

        CU.append((cx, ux))

    CU.append((None, x))
    if discard_C:
        CU[:] = [(None, uz) for cz, uz in CU]
    return x, j_outer + 1
