"""GMRES(m): restarted Generalized Minimal RESidual (SciPy 1.17's
scipy.sparse.linalg.gmres: same signature, defaults, callback_type semantics,
inner/outer tolerance control, iteration counting and info codes).

Algorithm: Y. Saad and M. H. Schultz, "GMRES: A generalized minimal residual
algorithm for solving nonsymmetric linear systems", SIAM J. Sci. Stat. Comput. 7(3),
1986; left preconditioning; Arnoldi with Gram-Schmidt orthogonalization; Givens
rotations of the Hessenberg matrix; the adaptive inner tolerance of gh-8400 in SciPy.

Where the work happens
----------------------
Every matvec and preconditioner solve takes and returns mx.arrays on the solver's
device (float64/complex data of float64 precision: the CPU stream). The Hessenberg
matrix, its Givens rotations and the small triangular solve (O(restart^2) numbers)
are host NumPy work. The Krylov basis has two implementations (``_make_basis``):

- GPU streams (``_DeviceBasis``): the basis is a list of mx.arrays and modified
  Gram-Schmidt (SciPy's variant) runs as lazy MLX ops. Host reads: one small array
  per ``check_every`` Arnoldi columns (``utils.get_check_every``: 8 on a GPU). The
  Arnoldi process needs no host value (each normalization uses the norm as an MLX
  scalar), so a batch of columns is built lazily and its Hessenberg entries
  (h_0..h_j, ||w|| before and after orthogonalization) come back in one read; the
  host then applies the rotations column by column and stops exactly where SciPy
  does (columns built past that point are discarded: at most check_every - 1
  wasted matvecs per solve).
- The CPU stream (``_HostBasis``, when the dispatch table has the native solver
  kernels ``gram_schmidt``/``combine_rows``): the basis is one mx.array buffer
  orthogonalized in place through its zero-copy NumPy view by one native call per
  column (classical Gram-Schmidt, reorthogonalized when needed) on the extension's
  own threads; MLX's CPU reductions and float64 matrix-vector products are an order
  of magnitude slower, and a threaded BLAS would leave its threads spinning against
  our sparse products between steps. A host "read" costs nothing there, so each
  column's coefficients are host numbers at once.

Each restart adds one read of ||b - A x|| (SciPy's outer test), which also
evaluates x.
"""
import warnings

import mlx.core as mx
import numpy as np
from scipy.linalg import get_lapack_funcs

from ...._dtypes import MX_TO_NP
from ...._ops import optional_kernel
from .utils import dot, get_check_every, get_atol_rtol, make_system, norm, solver_device

__all__ = ["gmres"]


def _arnoldi_column(w, bases):
    """Orthogonalize w against each list of basis vectors in ``bases`` in turn
    (modified Gram-Schmidt, lazily on the device).

    Returns ``(w_next, coefs)``: coefs the lazy MLX scalars
    ``[||w||, <b_0, w>, <b_1, w'>, ..., ||w_final||]`` (one list for all bases, in
    order) and w_next = w_final / ||w_final|| (left unscaled when 1 / ||w_final|| is
    not finite, as at a breakdown).
    """
    coefs = [norm(w)]
    for basis in bases:
        for v in basis:
            t = dot(v, w)
            coefs.append(t)
            w = w - t * v
    h = norm(w)
    coefs.append(h)
    inv = 1.0 / h
    w_next = w * mx.where(mx.isfinite(inv), inv, mx.array(1.0, dtype=inv.dtype))
    return w_next, coefs


def _read_columns(columns, dtype):
    """One host read of the lazy coefficient lists of several Arnoldi columns;
    returns one NumPy array (of dtype) per column."""
    sizes = [len(c) for c in columns]
    flat = mx.stack([c.astype(dtype) for col in columns for c in col])
    host = np.array(flat)
    out, at = [], 0
    for s in sizes:
        out.append(host[at:at + s])
        at += s
    return out


# Set to False to run the CPU stream through the MLX-ops (device) basis as well
# (the tests do, to cover that path without a GPU).
USE_HOST_BASIS = True


class _DeviceBasis:
    """Krylov basis as a list of mx.arrays; Gram-Schmidt as lazy MLX ops, columns
    built ``batch`` at a time with one host read of their coefficients."""

    def __init__(self, v0, capacity, batch):
        self.vs = [v0]
        self.dtype = v0.dtype
        self.batch = batch  # columns built per host read

    def reset(self, v0):
        self.vs = [v0]

    def __len__(self):
        return len(self.vs)

    def __getitem__(self, j):
        return self.vs[j]

    def extend(self, count, make_w, extra=()):
        """Append up to count orthonormalized vectors; ``make_w(j)`` gives the
        vector to orthogonalize for column j (it may use self[j]). Returns the
        coefficient arrays (host) of the new columns: [||w||, <extra>, <V>, h]."""
        columns = []
        start = len(self.vs) - 1
        for j in range(start, start + count):
            w_next, coefs = _arnoldi_column(make_w(j), [extra, self.vs[:j + 1]])
            self.vs.append(w_next)
            columns.append(coefs)
        return _read_columns(columns, self.dtype)

    def truncate(self, size):
        del self.vs[size:]

    def release(self):
        pass

    def combine(self, y, count):
        """sum_i y[i] * v_i over the first count vectors (an mx.array)."""
        out = None
        for i in range(count):
            yi = y[i].item()
            if yi != 0 or out is None:
                t = self.vs[i] * yi
                out = t if out is None else out + t
        return out


_REORTH = 1e-2

# One basis buffer kept from the last gmres solve: allocating (restart + 1) * n
# fresh memory costs as much as several iterations. Holds at most one buffer.
_POOL = {}


def clear_cache():
    """Free the basis buffer gmres keeps for reuse."""
    _POOL.clear()


class _HostBasis:
    """CPU-stream Krylov basis: one mx.array buffer of shape (capacity, n), written
    in place through its zero-copy NumPy view by the native solver kernels
    (``gram_schmidt``: see ``extend`` for the variant). Vectors handed out
    (``self[j]``) are mx.arrays reading the buffer; a row is only written after
    every product that read it was evaluated.
    Host reads cost nothing on the CPU: each column's coefficients are exact host
    numbers at once."""

    def __init__(self, v0, capacity, gram_schmidt, combine_rows, pooled=False):
        self.dtype = v0.dtype
        self.batch = 1  # host numbers come at once: building ahead only wastes work
        n = int(v0.shape[0])
        key = (v0.dtype, capacity, n)
        self.pool_key = key if pooled else None
        buf = None
        if pooled and _POOL.get("key") == key:
            buf = _POOL.pop("buf", None)  # taken: a nested solve allocates its own
            _POOL.clear()
        self.buf = buf if buf is not None else mx.zeros((capacity, n), dtype=v0.dtype)
        mx.eval(self.buf, v0)
        self.V = np.asarray(self.buf)
        assert self.V.flags.writeable and self.V.flags.c_contiguous
        self.gram_schmidt, self.combine_rows = gram_schmidt, combine_rows
        self.reset(v0)

    def reset(self, v0):
        """Start again from v0 (every product that read the old rows has been
        evaluated: combine() returns host-computed vectors)."""
        mx.eval(v0)
        self.V[0] = np.asarray(v0)
        self.size = 1

    def __len__(self):
        return self.size

    def __getitem__(self, j):
        if isinstance(j, slice):
            return [self.buf[i] for i in range(*j.indices(self.size))]
        return self.buf[j]

    def _host(self, a):
        """a as a 1-D NumPy vector of the basis dtype (a view where it can be)."""
        if isinstance(a, mx.array):
            a = a if a.dtype == self.dtype else a.astype(self.dtype)
            mx.eval(a)
        return np.ascontiguousarray(a, dtype=self.V.dtype).reshape(-1)

    def extend(self, count, make_w, extra=()):
        out = []
        ext = [self._host(c) for c in extra]
        for j in range(self.size - 1, self.size - 1 + count):
            src = self._host(make_w(j))
            row = self.V[j + 1]  # the basis' own copy of w, orthogonalized in place
            if np.may_share_memory(src, self.V):  # e.g. an identity operator's V[j]
                row[...] = src
                src = row
            coefs = []
            for v in ext:  # projections on the extra vectors (few): one by one
                t, before, _ = self.gram_schmidt(v[None], src, row, 0.0, False)
                coefs.extend([before, t[0]] if not coefs else [t[0]])
                src = row
            # Classical Gram-Schmidt (2 passes over V instead of the 2 (j + 1) of
            # modified Gram-Schmidt), repeated once when the norm dropped by more
            # than _REORTH (the Daniel-Gragg-Kaufman-Stewart test). One pass leaves a
            # component ~ eps * (before / after) along V, so the new vector stays
            # orthogonal to ~1e-13 (MGS's loss grows with the condition of the
            # Krylov basis). The row is then scaled to unit norm when 1 / norm is
            # finite (not at a breakdown).
            h, before, hn = self.gram_schmidt(self.V[:j + 1], src, row, _REORTH, True)
            if not coefs:
                coefs.append(before)
            coefs.extend(h)
            coefs.append(hn)
            self.size = j + 2
            out.append(np.array(coefs, dtype=self.V.dtype))
        return out

    def truncate(self, size):
        self.size = min(self.size, size)

    def release(self):
        """Hand the buffer back for the next solve of the same size (only when
        no array derived from it is still unevaluated: gmres's x comes from
        combine(), computed on the host)."""
        if self.pool_key is not None:
            _POOL.clear()
            _POOL.update(key=self.pool_key, buf=self.buf)

    def combine(self, y, count):
        return mx.array(self.combine_rows(self.V[:count], y[:count]), dtype=self.dtype)


def _make_basis(v0, capacity, dev, batch, pooled=False):
    gram_schmidt = optional_kernel("gram_schmidt", dev)
    combine_rows = optional_kernel("combine_rows", dev)
    if USE_HOST_BASIS and gram_schmidt is not None and combine_rows is not None:
        return _HostBasis(v0, capacity, gram_schmidt, combine_rows, pooled=pooled)
    return _DeviceBasis(v0, capacity, batch)


def gmres(A, b, x0=None, *, rtol=1e-5, atol=0., restart=None, maxiter=None, M=None,
          callback=None, callback_type=None):
    """Solve ``A x = b`` with restarted GMRES (SciPy's gmres).

    Parameters are SciPy's: ``restart`` (default 20, at most n) columns per cycle;
    ``maxiter`` (default 10 n) the number of restart cycles, or of inner iterations
    for ``callback_type='legacy'`` with a callback; ``callback_type`` one of
    'legacy' (the default; a callback gets the preconditioned residual norm
    relative to ||b|| every inner iteration), 'pr_norm' (the same, with maxiter
    counting cycles) and 'x' (the current x after every restart cycle).
    Convergence: ``||b - A x|| <= max(rtol ||b||, atol)``.

    Returns ``(x, info)``: x an mx.array, info 0 on convergence, else maxiter.
    """
    if callback is not None and callback_type is None:
        warnings.warn(
            "gmres was called with a callback but no callback_type; it defaults to "
            "'legacy' (an argument of SciPy's kept for compatibility; its default may "
            "change). Pass callback_type='pr_norm', 'x' or 'legacy' explicitly.",
            category=DeprecationWarning, stacklevel=2)
    if callback_type is None:
        callback_type = "legacy"
    if callback_type not in ("x", "pr_norm", "legacy"):
        raise ValueError(f"Unknown callback_type: {callback_type!r}")
    if callback is None:
        callback_type = None

    A, M, x, b = make_system(A, M, x0, b)
    matvec, psolve = A.matvec, M.matvec
    n = int(b.shape[0])
    dev = solver_device(x.dtype)
    ndt = MX_TO_NP[x.dtype]
    with mx.stream(dev):
        bnrm2 = norm(b).item()
        atol, _ = get_atol_rtol("gmres", bnrm2, atol, rtol)
        if bnrm2 == 0:
            return b, 0
        eps = float(np.finfo(ndt).eps)
        if maxiter is None:
            maxiter = n * 10
        if restart is None:
            restart = 20
        restart = min(restart, n)
        lartg = get_lapack_funcs("lartg", dtype=ndt)
        batch = get_check_every(dev)

        Mb_nrm2 = norm(psolve(b)).item()
        # gh-8400 tolerance control: the inner (preconditioned) tolerance follows
        # the true residual of each restart.
        ptol_max_factor = 1.0
        ptol = Mb_nrm2 * min(ptol_max_factor, atol / bnrm2)
        presid = 0.0
        inner_iter = 0
        rnorm = None
        V = None

        for iteration in range(maxiter):
            if iteration == 0:
                r = b - matvec(x) if mx.any(x != 0).item() else b
                if norm(r).item() < atol:
                    return x, 0

            z = psolve(r)
            beta = norm(z)
            S = np.zeros(restart + 1, dtype=ndt)
            S[0] = beta.item()
            if V is None:
                V = _make_basis(z * (1.0 / beta), restart + 1, dev, batch, pooled=True)
            else:
                V.reset(z * (1.0 / beta))
            H = np.zeros((restart, restart + 1), dtype=ndt)  # H[col] = column col
            givens = np.zeros((restart, 2), dtype=ndt)

            def next_w(j):
                return psolve(matvec(V[j]))

            breakdown = False
            stop = False
            col = -1
            while not stop and col + 1 < restart:
                # Build a batch of columns, read their coefficients once.
                k = min(V.batch, restart - (col + 1))
                if callback_type == "legacy":
                    k = max(1, min(k, maxiter - inner_iter))
                for c in V.extend(k, next_w):
                    col += 1
                    h0 = abs(c[0])
                    H[col, :col + 1] = c[1:col + 2]
                    h1 = c[col + 2].real
                    H[col, col + 1] = h1
                    if h1 <= eps * h0:  # the new vector is (numerically) in the span
                        H[col, col + 1] = 0
                        breakdown = True
                    for i in range(col):
                        cs, sn = givens[i]
                        n0, n1 = H[col, i], H[col, i + 1]
                        H[col, i] = cs * n0 + sn * n1
                        H[col, i + 1] = -np.conj(sn) * n0 + cs * n1
                    cs, sn, mag = lartg(H[col, col], H[col, col + 1])
                    givens[col] = cs, sn
                    H[col, col], H[col, col + 1] = mag, 0
                    tmp = -np.conj(sn) * S[col]
                    S[col], S[col + 1] = cs * S[col], tmp
                    presid = abs(tmp)
                    inner_iter += 1
                    if callback_type in ("legacy", "pr_norm"):
                        callback(presid / bnrm2)
                    if callback_type == "legacy" and inner_iter == maxiter:
                        stop = True
                    if presid <= ptol or breakdown:
                        stop = True
                    if stop:
                        break
            V.truncate(col + 2)  # columns built past the stopping point

            # Back substitution with the triangular R (skipping zero entries, so a
            # singular R still yields the least-squares pseudo-solution SciPy gives).
            if H[col, col] == 0:
                S[col] = 0
            y = np.array(S[:col + 1])
            for i in range(col, 0, -1):
                if y[i] != 0:
                    y[i] /= H[i, i]
                    y[:i] -= y[i] * H[i, :i]
            if y[0] != 0:
                y[0] /= H[0, 0]

            x = x + V.combine(y, col + 1)
            r = b - matvec(x)
            rnorm = norm(r).item()  # also evaluates x

            if callback_type == "legacy" and inner_iter == maxiter:
                V.release()
                return x, 0 if rnorm <= atol else maxiter
            if callback_type == "x":
                callback(x)

            if rnorm <= atol:
                break
            if breakdown:
                # exact solution of the Krylov problem, yet the true residual fails
                break
            if presid <= ptol:
                ptol_max_factor = max(eps, 0.25 * ptol_max_factor)
            else:
                ptol_max_factor = min(1.0, 1.5 * ptol_max_factor)
            ptol = presid * min(ptol_max_factor, atol / rnorm)

        if V is not None:
            V.release()
        info = 0 if rnorm is not None and rnorm <= atol else maxiter
        return x, info
