"""Every difference of the *_matrix classes from the *_array classes, in one place
(as SciPy's _matrix.py)."""


class spmatrix:
    """Mixin for the SciPy sparse-matrix API."""

    @property
    def _is_array(self):
        return False

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
