"""Preconditioners for the iterative solvers (beyond SciPy): LinearOperators that
approximate A^-1, passed as ``M=`` to cg, bicg, bicgstab, cgs, gmres, minres, ...

    >>> import mlx_sparse.sparse.linalg as spla
    >>> from mlx_sparse.sparse.linalg.preconditioners import jacobi, ilu0, ic0
    >>> x, info = spla.cg(A, b, M=ic0(A))

``jacobi(A)``
    M = D^-1 with D the diagonal of A (zero diagonal entries raise ValueError).
    Applying it is one elementwise multiply on the device. Symmetric.

``ilu0(A)``
    Incomplete LU factorisation with zero fill, A ~ L U (L unit lower, U upper),
    on the sparsity pattern of A (every diagonal entry must be stored and nonzero
    pivots must arise, else ValueError). ``M @ r`` solves L y = r, then U x = y.
    ``M.H`` applies U^-H L^-H (the adjoint), so bicg/qmr can use it.

``ic0(A)``
    Incomplete Cholesky with zero fill for Hermitian positive definite A,
    A ~ L L^H on the lower triangle's pattern (a nonpositive pivot raises
    ValueError). ``M @ r`` solves L y = r, then L^H x = y; M is Hermitian, as cg and
    minres need.

How they run: the factorisations are computed once on the host with NumPy,
vectorised over the levels of the lower dependency graph (rows of one level are
independent), about 1-2 s for a 2-D Poisson matrix with 90 000 rows. The
triangular solves run through the optional kernel triangular_solve: by substitution,
row by row, in C++ on the CPU (with the extension); on an NVIDIA GPU in one sync-free
kernel launch (a thread per row, waiting for the rows it reads). Elsewhere they are
scheduled by the same kind of levels: a level's rows are solved together (a gather,
a multiply-sum over a padded rows x width block, a slice write) — a NumPy loop on the
CPU without the extension, one compiled MLX graph per input shape on Metal. A 2-D
5-point matrix on a k x k grid has 2k levels, a 3-D one 3k; matrices whose
dependency chains are as long as the matrix (banded/tridiagonal: ~n levels) factor
slowly (seconds at n = 10^5), and apply slowly where the solves are level-scheduled:
``jacobi`` suits them better there.
The factors are stored in the matrix dtype (float32 / float64 / complex64; integer
matrices are factored in float64); vectors stay on the solver's device (float64 on
the CPU).
"""
import mlx.core as mx
import numpy as np

from .._base import issparse, _ours
from ..._dtypes import MX_TO_NP, device_for, to_mx_dtype
from ..._ops import optional_kernel
from ._interface import LinearOperator, _as_mx

__all__ = ["jacobi", "ilu0", "ic0", "JacobiPreconditioner", "ILU0Preconditioner",
           "IC0Preconditioner"]


# ---- host helpers ---------------------------------------------------------------------
def _host_csr(A):
    """(n, indptr, indices, data) of square A on the host, sorted, duplicates summed,
    in a floating dtype (float32/float64/complex64; others become float64)."""
    if not issparse(A):
        a = np.asarray(A)
        if a.ndim != 2:
            raise ValueError("expected a 2-D matrix")
        import mlx_sparse.sparse as _sp
        A = _sp.csr_array(a)
    A = _ours(A).tocsr()
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"expected square matrix, but got shape={A.shape}")
    A = A.copy()
    A.sum_duplicates()
    A.sort_indices()
    dt = np.dtype(A.dtype) if not isinstance(A.dtype, mx.Dtype) else np.dtype("f")
    if dt.char not in "fdF":
        dt = np.dtype("d")
    indptr = np.asarray(A.indptr).astype(np.int64)
    indices = np.asarray(A.indices).astype(np.int64)
    data = np.array(A.data.astype(mx.float32) if A.data.dtype == mx.bfloat16
                    else A.data)
    return A.shape[0], indptr, indices, data, dt


def _work_dtype(dt):
    return np.complex128 if dt.kind == "c" else np.float64


def _ranges(starts, counts):
    """Concatenated aranges [starts[i], starts[i] + counts[i]) and, for each element,
    the index i of the range it came from."""
    owner = np.repeat(np.arange(counts.size), counts)
    first = np.cumsum(counts) - counts
    return starts[owner] + (np.arange(owner.size) - first[owner]), owner


def _levels(n, rows, deps):
    """Level of each of n rows when row rows[p] depends on row deps[p]: 0 for rows
    without dependencies, else 1 + the largest level among its dependencies (rows
    of one level are independent). Kahn's algorithm, one vectorised step per level.
    (rows, deps) pairs must be unique and acyclic (a triangular pattern)."""
    level = np.zeros(n, dtype=np.int64)
    if rows.size == 0:
        return level
    indeg = np.bincount(rows, minlength=n)
    order = np.argsort(deps, kind="stable")
    dependents = rows[order]
    start = np.searchsorted(deps[order], np.arange(n + 1))
    frontier = np.flatnonzero(indeg == 0)
    lv, done = 0, 0
    while frontier.size:
        level[frontier] = lv
        done += frontier.size
        if lv >= 32 and done < 32 * lv:
            # long thin dependency chains (banded matrices): one row at a time
            # costs less than one vectorised step per level
            return _levels_by_row(n, rows, deps)
        nxt, _ = _ranges(start[frontier], start[frontier + 1] - start[frontier])
        if nxt.size == 0:
            break
        u, c = np.unique(dependents[nxt], return_counts=True)
        indeg[u] -= c
        frontier = u[indeg[u] == 0]
        lv += 1
    return level


def _levels_by_row(n, rows, deps):
    """_levels for a triangular pattern, row by row in dependency order."""
    lower = bool(np.all(deps < rows))
    order = np.argsort(rows, kind="stable")
    r, d = rows[order], deps[order]
    ptr = np.searchsorted(r, np.arange(n + 1))
    level = [0] * n
    d = d.tolist()
    ptr = ptr.tolist()
    for i in (range(n) if lower else range(n - 1, -1, -1)):
        s, e = ptr[i], ptr[i + 1]
        if e > s:
            level[i] = max(level[k] for k in d[s:e]) + 1
    return np.asarray(level, dtype=np.int64)


def _ilu0_host(n, indptr, indices, data, dt):
    """ILU(0) on a copy of the CSR values: returns (LU values, diagonal positions);
    L (unit, strictly lower) and U share A's pattern.

    Vectorised by levels: all rows of one level of the lower dependency graph are
    independent, so the t-th lower entry of every row in the level is eliminated in
    one step (division by the pivot, then a_ij -= a_ik a_kj on the stored
    positions), t = 0, 1, ...: the order of SciPy-free textbook IKJ ILU(0) per row.
    """
    a = data.astype(_work_dtype(dt), copy=True)
    counts = np.diff(indptr)
    rows = np.repeat(np.arange(n), counts)
    diag = np.full(n, -1, dtype=np.int64)
    on_diag = np.flatnonzero(indices == rows)
    diag[rows[on_diag]] = on_diag
    if np.any(diag < 0):
        raise ValueError(f"zero pivot: row {int(np.flatnonzero(diag < 0)[0])} has no "
                         "stored diagonal entry")
    lower = indices < rows
    level = _levels(n, rows[lower], indices[lower])
    ent = np.flatnonzero(lower)                       # lower entries e = (i, k)
    if ent.size == 0:
        if np.any(a[diag] == 0):
            raise ValueError(f"zero pivot in row {int(np.flatnonzero(a[diag] == 0)[0])}")
        return a, diag
    e_row, e_col = rows[ent], indices[ent]
    e_t = ent - indptr[e_row]                         # t-th lower entry of its row
    # update pairs: for e = (i, k), every stored (k, j) with j > k that is also
    # stored in row i: target position (i, j), source position (k, j)
    ks = diag[e_col] + 1
    src, owner = _ranges(ks, indptr[e_col + 1] - ks)
    keys = rows * np.int64(n) + indices               # sorted (CSR rows, sorted cols)
    want = e_row[owner] * np.int64(n) + indices[src]
    pos = np.minimum(np.searchsorted(keys, want), keys.size - 1)
    hit = keys[pos] == want
    tgt, src, owner = pos[hit], src[hit], owner[hit]
    # steps ordered by (level of the row, t)
    step_of_e = level[e_row] * (int(e_t.max()) + 1) + e_t
    order_e = np.argsort(step_of_e, kind="stable")
    step_sorted = step_of_e[order_e]
    order_p = np.argsort(step_of_e[owner], kind="stable")
    tgt, src, owner = tgt[order_p], src[order_p], owner[order_p]
    step_p = step_of_e[owner]
    steps = np.unique(step_sorted)
    e_bounds = np.searchsorted(step_sorted, np.append(steps, steps[-1] + 1))
    p_bounds = np.searchsorted(step_p, np.append(steps, steps[-1] + 1))
    for si in range(steps.size):
        es = ent[order_e[e_bounds[si]:e_bounds[si + 1]]]
        piv = a[diag[indices[es]]]
        if np.any(piv == 0):
            raise ValueError(f"zero pivot in row {int(indices[es][piv == 0][0])}")
        a[es] /= piv
        p0, p1 = p_bounds[si], p_bounds[si + 1]
        if p1 > p0:
            a[tgt[p0:p1]] -= a[ent[owner[p0:p1]]] * a[src[p0:p1]]
    if np.any(a[diag] == 0):
        raise ValueError(f"zero pivot in row {int(np.flatnonzero(a[diag] == 0)[0])}")
    return a, diag


def _split(n, indptr, indices, vals, diag):
    """Strictly lower (L) and upper-with-diagonal (U) parts as row lists."""
    rows = np.repeat(np.arange(n), np.diff(indptr))
    lower = indices < rows
    upper = ~lower
    return (rows[lower], indices[lower], vals[lower]), (rows[upper], indices[upper],
                                                       vals[upper])


class _TriangularSolve:
    """Sparse triangular solve T y = r: by the dispatch table's triangular_solve where
    it has one (C++ substitution on the CPU, the sync-free kernel on CUDA); else
    level-scheduled (NumPy level loop on the CPU, compiled MLX ops elsewhere), its
    levels planned on first use.

    T is given as CSR MLX arrays (from_entries: host entries in any order) and its
    diagonal (None for unit diagonal): its entries left of the diagonal (lower=True),
    else right of it; entries on the diagonal or the other side are not read."""

    _NATIVE = (mx.float32, mx.float64, mx.complex64)  # the kernels' value types

    def __init__(self, n, indptr, indices, data, diag, lower, mx_dtype):
        self.n, self.lower, self.dtype = n, lower, mx_dtype
        self._npdt = MX_TO_NP[mx_dtype]
        with mx.stream(device_for(mx_dtype)):
            dinv = None if diag is None else 1 / diag.astype(mx_dtype)
            self._csr = (indptr, indices, data.astype(mx_dtype), dinv)
        self._host_levels = None  # the level plan, made on first use
        self._compiled = None  # the MLX-ops version, built on first use off the CPU

    @classmethod
    def from_entries(cls, n, rows, cols, vals, diag, lower, mx_dtype):
        """From host arrays: entries (row, col, val) in any order, diagonal or None."""
        if rows.size and np.any(rows[1:] < rows[:-1]):
            order = np.argsort(rows, kind="stable")
            rows, cols, vals = rows[order], cols[order], vals[order]
        ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
        return cls(n, mx.array(ptr.astype(np.int64)), mx.array(cols.astype(np.int64)),
                   mx.array(vals, dtype=mx_dtype),
                   None if diag is None else mx.array(diag, dtype=mx_dtype), lower, mx_dtype)

    def _plan(self):
        """The level schedule: rows grouped by level (1 + the largest level among their
        dependencies), each level's entries padded to its widest row."""
        n = self.n
        ptr, cols, vals, dinv = (None if a is None else np.asarray(a) for a in self._csr)
        rows = np.repeat(np.arange(n), np.diff(ptr.astype(np.int64)))
        cols = cols.astype(np.int64)
        strict = cols < rows if self.lower else cols > rows
        if not strict.all():
            rows, cols, vals = rows[strict], cols[strict], vals[strict]
        ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
        level = _levels(n, rows, cols)
        nlev = int(level.max()) + 1 if n else 0
        perm = np.argsort(level, kind="stable")        # new position -> old row
        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)                        # old row -> new position
        bounds = np.searchsorted(level[perm], np.arange(nlev + 1))
        counts = np.diff(ptr)
        npdt = self._npdt
        dinv = None if dinv is None else dinv[perm]
        # every row's entries padded to the widest row, rows in level order;
        # (width, n) so that one slot of one level is a contiguous slice
        wmax = int(counts.max()) if counts.size else 0
        CT = np.full((wmax, n), n, dtype=np.int64)     # n: the zero slot of y
        VT = np.zeros((wmax, n), dtype=npdt)
        if rows.size:
            t = np.arange(rows.size) - ptr[rows]
            CT[t, inv[rows]] = inv[cols]
            VT[t, inv[rows]] = vals
        cperm = counts[perm]
        self._host_levels = []
        for lv in range(nlev):
            s, e = int(bounds[lv]), int(bounds[lv + 1])
            width = int(cperm[s:e].max()) if e > s else 0
            host_entry = None
            if width:
                host_entry = (CT[:width, s:e].T, VT[:width, s:e].T,
                              [CT[t, s:e] for t in range(width)],
                              [VT[t, s:e] for t in range(width)])
            self._host_levels.append((s, e, host_entry,
                                      dinv[s:e] if dinv is not None else None))
        self._perm_np, self._inv_np = perm, inv

    def _build_device(self):
        """MLX arrays of every level and the compiled level loop (GPU path)."""
        idx = np.int32 if self.n < 2**31 else np.int64
        self.perm = mx.array(self._perm_np.astype(idx))
        self.inv = mx.array(self._inv_np.astype(idx))
        self.levels = []
        for s, e, host_entry, d in self._host_levels:
            entry = None
            if host_entry is not None:
                entry = (mx.array(np.ascontiguousarray(host_entry[0], dtype=idx)),
                         mx.array(np.ascontiguousarray(host_entry[1]), dtype=self.dtype))
            dd = mx.array(d, dtype=self.dtype) if d is not None else None
            self.levels.append((s, e, entry, dd))
        # one compiled graph per input shape: the per-level ops are many and small
        self._compiled = mx.compile(self._apply)

    def __call__(self, r):
        """y with T y = r, for r of shape (n,) or (n, k)."""
        r = r.astype(self.dtype)
        dev = device_for(self.dtype)
        kernel = optional_kernel("triangular_solve", dev)
        if kernel is not None and self.dtype in self._NATIVE and self.n:
            return kernel(*self._csr, r.reshape(self.n, -1), self.lower).reshape(r.shape)
        if self._host_levels is None:
            self._plan()
        if dev.type == mx.DeviceType.cpu:
            # On the CPU the arrays are host memory: the same level loop in NumPy on
            # zero-copy views costs microseconds per level where MLX ops cost more.
            return self._apply_host(r)
        if self._compiled is None:
            self._build_device()
        return self._compiled(r)

    def _apply_host(self, r):
        a = np.asarray(r)
        if a.ndim == 1:
            return mx.array(self._apply_host_1d(a), dtype=self.dtype)
        squeeze = False
        R = a.reshape(self.n, -1)[self._perm_np]
        y = np.zeros((self.n + 1, R.shape[1]), dtype=self._npdt)
        for s, e, entry, d in self._host_levels:
            v = R[s:e]
            if entry is not None:
                C, V = entry[:2]
                v = v - np.einsum("ij,ijk->ik", V, y[C])
            if d is not None:
                v = v * d[:, None]
            y[s:e] = v
        out = y[:self.n][self._inv_np]
        return mx.array(out.reshape(-1) if squeeze else out, dtype=self.dtype)

    def _apply_host_1d(self, a):
        R = a[self._perm_np]
        y = np.zeros(self.n + 1, dtype=self._npdt)
        for s, e, entry, d in self._host_levels:
            if entry is None:
                v = R[s:e] * d if d is not None else R[s:e]
            else:
                cols, vals = entry[2], entry[3]
                v = vals[0] * y[cols[0]]
                for t in range(1, len(cols)):
                    v += vals[t] * y[cols[t]]
                np.subtract(R[s:e], v, out=v)
                if d is not None:
                    v *= d
            y[s:e] = v
        return y[:self.n][self._inv_np]

    def _apply(self, r):
        squeeze = r.ndim == 1
        R = r.reshape(self.n, -1)[self.perm]
        y = mx.zeros((self.n + 1, R.shape[1]), dtype=self.dtype)
        for s, e, entry, d in self.levels:
            v = R[s:e]
            if entry is not None:
                C, V = entry
                v = v - (V[:, :, None] * y[C]).sum(axis=1)
            if d is not None:
                v = v * d[:, None]
            y[s:e] = v
        out = y[:self.n][self.inv]
        return out.reshape(-1) if squeeze else out


def _conj(v):
    return np.conj(v) if np.iscomplexobj(v) else v


# ---- the operators --------------------------------------------------------------------
class JacobiPreconditioner(LinearOperator):
    """M = diag(A)^-1."""

    def __init__(self, A):
        if issparse(A):
            d = _as_mx(_ours(A).diagonal())
        else:
            d = mx.diagonal(_as_mx(np.asarray(A) if not isinstance(A, mx.array) else A))
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"expected square matrix, but got shape={A.shape}")
        wide = not mx.issubdtype(d.dtype, mx.inexact)
        with mx.stream(device_for(mx.float64 if wide else d.dtype)):
            if wide:
                d = d.astype(mx.float64)
            if bool(mx.any(d == 0).item()):
                raise ValueError("Jacobi preconditioner: A has a zero diagonal entry")
            self._dinv = 1 / d
            self._dinv_h = mx.conj(self._dinv) if d.dtype == mx.complex64 else self._dinv
        super().__init__(MX_TO_NP[d.dtype], A.shape)

    def _matvec(self, x):
        return x * (self._dinv if x.ndim == 1 else self._dinv[:, None])

    def _rmatvec(self, x):
        return x * (self._dinv_h if x.ndim == 1 else self._dinv_h[:, None])

    _matmat = _matvec
    _rmatmat = _rmatvec


class _TwoSolves(LinearOperator):
    """M r = second(first(r)); M^H r = first^H(second^H(r))."""

    def _setup(self, n, mdt, first, second, first_h, second_h):
        super().__init__(MX_TO_NP[mdt], (n, n))
        self._solves = (first, second, first_h, second_h)
        self._dev = device_for(mdt)

    def _matvec(self, x):
        first, second, _, _ = self._solves
        with mx.stream(self._dev):
            return second(first(x))

    def _rmatvec(self, x):
        _, _, first_h, second_h = self._solves
        with mx.stream(self._dev):
            return first_h(second_h(x))

    _matmat = _matvec
    _rmatmat = _rmatvec


class ILU0Preconditioner(_TwoSolves):
    """M = (L U)^-1 with L U the zero-fill incomplete LU factorisation of A."""

    def __init__(self, A):
        n, indptr, indices, data, dt = _host_csr(A)
        vals, diag = _ilu0_host(n, indptr, indices, data, dt)
        mdt = to_mx_dtype(dt)
        (lr, lc, lv), (ur, uc, uv) = _split(n, indptr, indices, vals, diag)
        off = ur != uc
        udiag = vals[diag]
        L = _TriangularSolve.from_entries(n, lr, lc, lv, None, True, mdt)
        U = _TriangularSolve.from_entries(n, ur[off], uc[off], uv[off], udiag, False, mdt)
        # adjoints: U^H is lower with diagonal conj(udiag), L^H is unit upper
        UH = _TriangularSolve.from_entries(n, uc[off], ur[off], _conj(uv[off]), _conj(udiag),
                                           True, mdt)
        LH = _TriangularSolve.from_entries(n, lc, lr, _conj(lv), None, False, mdt)
        self._setup(n, mdt, L, U, LH, UH)


class IC0Preconditioner(_TwoSolves):
    """M = (L L^H)^-1 with L the zero-fill incomplete Cholesky factor of A."""

    def __init__(self, A):
        n, indptr, indices, data, dt = _host_csr(A)
        vals, diag = _ilu0_host(n, indptr, indices, data, dt)
        piv = vals[diag]
        if np.any(np.real(piv) <= 0) or (np.iscomplexobj(piv)
                                          and np.any(np.abs(np.imag(piv)) >
                                                     1e-8 * np.abs(piv))):
            raise ValueError("ic0: nonpositive pivot; A is not Hermitian positive "
                             "definite (or IC(0) breaks down on it)")
        sq = np.sqrt(np.real(piv))
        mdt = to_mx_dtype(dt)
        (lr, lc, lv), _ = _split(n, indptr, indices, vals, diag)
        lv = lv * sq[lc]          # L_ic = L_unit diag(sqrt(pivots))
        L = _TriangularSolve.from_entries(n, lr, lc, lv, sq, True, mdt)
        LH = _TriangularSolve.from_entries(n, lc, lr, _conj(lv), sq, False, mdt)
        self._setup(n, mdt, L, LH, L, LH)

    def _adjoint(self):
        return self


def jacobi(A):
    """Jacobi (diagonal) preconditioner: a LinearOperator applying diag(A)^-1."""
    return JacobiPreconditioner(A)


def ilu0(A):
    """ILU(0) preconditioner: a LinearOperator applying (L U)^-1, L U the zero-fill
    incomplete LU factorisation of A."""
    return ILU0Preconditioner(A)


def ic0(A):
    """IC(0) preconditioner for Hermitian positive definite A: a LinearOperator
    applying (L L^H)^-1, L the zero-fill incomplete Cholesky factor."""
    return IC0Preconditioner(A)
