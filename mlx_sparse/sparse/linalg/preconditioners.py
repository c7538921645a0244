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

How they run: the factorisations are computed once on the host with NumPy (a plain
row-by-row loop: fine for problems up to ~10^6 rows, a few seconds there). The
triangular solves run on the device with MLX ops, scheduled by levels: rows whose
dependencies are already solved form a level and are solved together (gather, a
multiply-sum over a padded (rows x width) block, a slice update), so one solve costs
a few ops per level; a 2-D 5-point Poisson matrix on a k x k grid has 2k levels.
The factors are stored in the matrix dtype (float32 / float64 / complex64; integer
matrices are factored in float64); vectors stay on the solver's device (float64 on
the CPU).
"""
import mlx.core as mx
import numpy as np

from .._base import issparse, _ours
from ..._dtypes import MX_TO_NP, device_for, to_mx_dtype
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


def _ilu0_host(n, indptr, indices, data, dt):
    """ILU(0) in place on a copy of the CSR values: returns (indptr, indices, LU
    values, diagonal positions); L (unit, strictly lower) and U share the pattern."""
    a = data.astype(_work_dtype(dt), copy=True)
    diag = np.full(n, -1, dtype=np.int64)
    rows = np.repeat(np.arange(n), np.diff(indptr))
    on_diag = np.flatnonzero(indices == rows)
    diag[rows[on_diag]] = on_diag
    if np.any(diag < 0):
        raise ValueError(f"zero pivot: row {int(np.flatnonzero(diag < 0)[0])} has no "
                         "stored diagonal entry")
    for i in range(n):
        lo, hi, d = indptr[i], indptr[i + 1], diag[i]
        cols_i = indices[lo:hi]
        for kk in range(lo, d):
            k = indices[kk]
            piv = a[diag[k]]
            if piv == 0:
                raise ValueError(f"zero pivot in row {k}")
            a[kk] /= piv
            # a_ij -= a_ik a_kj for j > k stored in both row i and row k
            ks, ke = diag[k] + 1, indptr[k + 1]
            if ks == ke:
                continue
            cols_k = indices[ks:ke]
            pos = np.searchsorted(cols_i, cols_k)
            pos_ok = pos < cols_i.size
            hit = np.zeros(cols_k.size, dtype=bool)
            hit[pos_ok] = cols_i[pos[pos_ok]] == cols_k[pos_ok]
            if hit.any():
                a[lo + pos[hit]] -= a[kk] * a[ks:ke][hit]
        if a[d] == 0:
            raise ValueError(f"zero pivot in row {i}")
    return a, diag


def _split(n, indptr, indices, vals, diag):
    """Strictly lower (L) and upper-with-diagonal (U) parts as row lists."""
    rows = np.repeat(np.arange(n), np.diff(indptr))
    lower = indices < rows
    upper = ~lower
    return (rows[lower], indices[lower], vals[lower]), (rows[upper], indices[upper],
                                                       vals[upper])


class _TriangularSolve:
    """Level-scheduled sparse triangular solve T y = r, applied with MLX ops.

    T is given by its off-diagonal entries (row, col, val) and its diagonal (None
    for unit diagonal); lower=True means col < row for every entry."""

    def __init__(self, n, rows, cols, vals, diag, lower, mx_dtype):
        order = np.argsort(rows, kind="stable")
        rows, cols, vals = rows[order], cols[order], vals[order]
        # level of each row: 1 + max level of its dependencies
        level = np.zeros(n, dtype=np.int64)
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(ptr, rows + 1, 1)
        ptr = np.cumsum(ptr)
        seq = range(n) if lower else range(n - 1, -1, -1)
        for i in seq:
            s, e = ptr[i], ptr[i + 1]
            if e > s:
                level[i] = level[cols[s:e]].max() + 1
        nlev = int(level.max()) + 1 if n else 0
        perm = np.argsort(level, kind="stable")        # new position -> old row
        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)                        # old row -> new position
        bounds = np.searchsorted(level[perm], np.arange(nlev + 1))
        counts = np.diff(ptr)
        self.n = n
        self.perm = mx.array(perm.astype(np.int32 if n < 2**31 else np.int64))
        self.inv = mx.array(inv.astype(np.int32 if n < 2**31 else np.int64))
        npdt = MX_TO_NP[mx_dtype]
        dinv = None
        if diag is not None:
            dinv = (1.0 / diag[perm]).astype(npdt)
        self.levels = []
        for lv in range(nlev):
            s, e = int(bounds[lv]), int(bounds[lv + 1])
            rows_old = perm[s:e]
            width = int(counts[rows_old].max()) if e > s else 0
            entry = None
            if width:
                C = np.full((e - s, width), n, dtype=np.int64)  # n: the zero slot
                V = np.zeros((e - s, width), dtype=npdt)
                for t in range(width):
                    has = counts[rows_old] > t
                    src = ptr[rows_old[has]] + t
                    C[has, t] = inv[cols[src]]
                    V[has, t] = vals[src]
                entry = (mx.array(C.astype(np.int32)), mx.array(V, dtype=mx_dtype))
            d = mx.array(dinv[s:e], dtype=mx_dtype) if dinv is not None else None
            self.levels.append((s, e, entry, d))
        self.dtype = mx_dtype
        # one compiled graph per input shape: the per-level ops are many and small
        self._compiled = mx.compile(self._apply)

    def __call__(self, r):
        """y with T y = r, for r of shape (n,) or (n, k)."""
        return self._compiled(r.astype(self.dtype))

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
        L = _TriangularSolve(n, lr, lc, lv, None, True, mdt)
        U = _TriangularSolve(n, ur[off], uc[off], uv[off], udiag, False, mdt)
        # adjoints: U^H is lower with diagonal conj(udiag), L^H is unit upper
        UH = _TriangularSolve(n, uc[off], ur[off], _conj(uv[off]), _conj(udiag), True,
                              mdt)
        LH = _TriangularSolve(n, lc, lr, _conj(lv), None, False, mdt)
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
        L = _TriangularSolve(n, lr, lc, lv, sq, True, mdt)
        LH = _TriangularSolve(n, lc, lr, _conj(lv), sq, False, mdt)
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
