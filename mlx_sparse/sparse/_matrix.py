"""Every difference of the *_matrix classes from the *_array classes, in one place
(as SciPy's _matrix.py)."""


class spmatrix:
    """Mixin for the SciPy sparse-matrix API."""

    @property
    def _is_array(self):
        return False

    # `*` is the matrix product for *_matrix classes (elementwise for arrays)
    def __mul__(self, other):
        from ._sputils import isscalarlike
        if isscalarlike(other):
            return self._mul_scalar(other)
        return self._matmul_dispatch(other)

    def __rmul__(self, other):
        from ._sputils import isscalarlike
        if isscalarlike(other):
            return self._mul_scalar(other)
        return self._rmatmul_dispatch(other)

    def __pow__(self, power):
        """Matrix power (repeated products), as SciPy's spmatrix."""
        from ._sputils import isintlike, isscalarlike
        M, N = self.shape
        if M != N:
            raise TypeError("sparse matrix is not square")
        if isintlike(power):
            power = int(power)
            if power < 0:
                raise ValueError("exponent must be >= 0")
            if power == 0:
                from ._construct import identity
                return identity(M, dtype=self.dtype, format="csr")
            result = self
            base = self
            power -= 1
            while power:  # square-and-multiply
                if power & 1:
                    result = result @ base
                base = base @ base
                power >>= 1
            return result
        if isscalarlike(power):
            raise ValueError("exponent must be an integer")
        return NotImplemented

    def get_shape(self):
        return self._s.shape

    def set_shape(self, shape):
        new = self.reshape(shape, copy=False).asformat(self.format)
        self._s = new._s

    shape = property(fget=get_shape, fset=set_shape)

    def getformat(self):
        return self.format

    def getmaxprint(self):
        return self.maxprint

    def getnnz(self, axis=None):
        return self._getnnz(axis=axis)

    def getrow(self, i):
        """Row i as a (1 x n) sparse matrix (csr_matrix, as SciPy, for every format)."""
        from ._index import getrow
        return getrow(self, i)

    def getcol(self, j):
        """Column j as an (m x 1) sparse matrix (csc_matrix for CSC, else csr_matrix)."""
        from ._index import getcol
        return getcol(self, j)

    def getH(self):
        return self.conjugate().transpose()

    @property
    def H(self):
        """Conjugate transpose (older SciPy's spmatrix.H)."""
        return self.getH()

    def asfptype(self):
        """Upcast to a floating type (SciPy's spmatrix.asfptype)."""
        import mlx.core as mx
        dt = self._s.data.dtype
        if mx.issubdtype(dt, mx.inexact):
            return self
        from .._dtypes import MX_TO_NP
        import numpy as np
        for target in (np.float32, np.float64):
            if np.can_cast(MX_TO_NP[dt], target):
                return self.astype(target)
        raise TypeError(f"cannot upcast [{dt}] to a floating point format")
