"""scipy.sparse.linalg.LaplacianNd: the grid Laplacian in N dimensions as a
LinearOperator (products by shifts of the grid, on the operand's device), with its
known eigenvalues and eigenvectors (closed forms, computed on the host in float64)
and its dense and sparse forms."""
import mlx.core as mx
import numpy as np

from ._interface import LinearOperator

__all__ = ["LaplacianNd"]

_BOUNDARIES = ("dirichlet", "neumann", "periodic")


class LaplacianNd(LinearOperator):
    """The N-dimensional grid Laplacian of SciPy (negative semi-definite, entries -2N
    + boundary terms on the diagonal, 1 between grid neighbours), for grid_shape and
    boundary_conditions 'neumann' (default), 'dirichlet' or 'periodic'; dtype int8 by
    default, as SciPy. eigenvalues / eigenvectors / toarray return mx.arrays, tosparse
    one of our sparse arrays (SciPy's format)."""

    def __init__(self, grid_shape, *, boundary_conditions="neumann", dtype=np.int8):
        if boundary_conditions not in _BOUNDARIES:
            raise ValueError(
                f"Unknown value {boundary_conditions!r} is given for "
                "'boundary_conditions' parameter. The valid options are "
                "'dirichlet', 'periodic', and 'neumann' (default).")
        self.grid_shape = grid_shape
        self.boundary_conditions = boundary_conditions
        n = np.prod(grid_shape)
        super().__init__(dtype=dtype, shape=(n, n))

    # ---- spectrum (closed forms per grid direction, summed over directions) ----------
    def _index_grid(self, m):
        """The grid of eigen-indices the m largest eigenvalues come from (SciPy takes the
        smaller of grid_shape and (m, ..., m) as tuples, i.e. lexicographically)."""
        shape = tuple(self.grid_shape)
        return shape if m is None else min(shape, (m,) * len(shape))

    def _eigen_order(self, m):
        """(eigenvalues ascending, their flat indices in the index grid), the last m."""
        grid = self._index_grid(m)
        total = np.zeros(grid)
        for j, n in zip(np.indices(grid), self.grid_shape):
            if self.boundary_conditions == "dirichlet":
                angle = np.pi * (j + 1) / (2 * (n + 1))
            elif self.boundary_conditions == "neumann":
                angle = np.pi * j / (2 * n)
            else:  # periodic: cos and sin modes of one frequency pair up
                angle = np.pi * np.floor((j + 1) / 2) / n
            total += -4 * np.sin(angle) ** 2
        flat = total.ravel()
        order = np.argsort(flat)
        values = flat[order]
        if m is not None:
            values, order = values[-m:], order[-m:]
        return values, order, grid

    def eigenvalues(self, m=None):
        """The m largest (smallest in magnitude) eigenvalues, or all, ascending."""
        return mx.array(self._eigen_order(m)[0], dtype=mx.float64)

    def _mode(self, j, n):
        """Eigenvector j of the 1-D Laplacian on n points (unit norm)."""
        bc = self.boundary_conditions
        if bc == "dirichlet":
            v = np.sqrt(2.0 / (n + 1.0)) * np.sin(np.pi * (np.arange(n) + 1) / (n + 1) * (j + 1))
        elif bc == "neumann":
            v = np.sqrt((1.0 if j == 0 else 2.0) / n) * np.cos(np.pi * (np.arange(n) + 0.5) / n * j)
        elif j == 0:
            v = np.full(n, np.sqrt(1.0 / n))
        elif j + 1 == n and n % 2 == 0:  # the alternating mode
            v = np.sqrt(1.0 / n) * np.tile([1.0, -1.0], n // 2)
        else:
            phase = np.pi * (np.arange(n) + 0.5) / n
            v = np.sqrt(2.0 / n) * (np.sin(phase * (j + 1)) if (j + 1) % 2 == 0
                                    else np.cos(phase * j))
        v[np.abs(v) < np.finfo(np.float64).eps] = 0.0
        return v

    def eigenvectors(self, m=None):
        """The eigenvectors (columns, unit norm) of eigenvalues(m), in their order:
        tensor products of 1-D modes."""
        _, order, grid = self._eigen_order(m)
        columns = []
        for k in zip(*np.unravel_index(order, grid)):
            v = np.ones(1)
            for j, n in zip(k, self.grid_shape):
                v = np.multiply.outer(v, self._mode(int(j), n)).ravel()
            columns.append(v)
        return mx.array(np.column_stack(columns), dtype=mx.float64)

    # ---- explicit forms ------------------------------------------------------------------
    def tosparse(self):
        """The matrix as a sparse array: per direction the 1-D Laplacian (tridiagonal,
        plus corners when periodic) in int8, Kronecker products with identities, summed,
        cast to dtype (SciPy's construction, hence its format)."""
        from .. import dia_array, eye_array, kron
        shape = tuple(self.grid_shape)
        p = int(np.prod(shape))
        total = dia_array((p, p), dtype=np.int8)
        for i, dim in enumerate(shape):
            bands = np.ones((3, dim), dtype=np.int8)
            bands[1] = -2
            if self.boundary_conditions == "neumann":
                bands[1, 0] = bands[1, -1] = -1
            L = dia_array((bands, [-1, 0, 1]), shape=(dim, dim), dtype=np.int8)
            if self.boundary_conditions == "periodic":
                corners = dia_array((dim, dim), dtype=np.int8)
                corners.setdiag([1], k=-dim + 1)
                corners.setdiag([1], k=dim - 1)
                L = L + corners
            for j in range(i):
                L = kron(eye_array(shape[j], dtype=np.int8), L)
            for j in range(i + 1, len(shape)):
                L = kron(L, eye_array(shape[j], dtype=np.int8))
            total = total + L
        return total.astype(self.dtype)

    def toarray(self):
        """The dense (n, n) matrix, of dtype."""
        return self.tosparse().toarray()

    # ---- products -----------------------------------------------------------------------
    def _matvec(self, x):
        shape = tuple(self.grid_shape)
        N = len(shape)
        X = x.reshape(shape + (-1,))
        Y = -2 * N * X
        for i in range(N):
            ahead, behind = mx.roll(X, 1, axis=i), mx.roll(X, -1, axis=i)
            Y = Y + ahead + behind
            if self.boundary_conditions != "periodic":
                first = (slice(None),) * i + (slice(0, 1),)
                last = (slice(None),) * i + (slice(shape[i] - 1, shape[i]),)
                # no neighbour across the boundary: take the wrapped-around terms out
                Y[first] = Y[first] - ahead[first]
                Y[last] = Y[last] - behind[last]
                if self.boundary_conditions == "neumann":  # and a zero-flux boundary
                    Y[first] = Y[first] + X[first]
                    Y[last] = Y[last] + X[last]
        return Y.reshape(-1, X.shape[-1])

    def _matmat(self, x):
        return self._matvec(x)

    def _adjoint(self):
        return self

    def _transpose(self):
        return self
