"""Matrix functions of scipy.sparse.linalg: matrix_power."""
from .._sputils import isintlike

__all__ = ["matrix_power"]


def matrix_power(A, power):
    """A**power for square sparse A and an integer power >= 0, by SciPy's recursion
    (A^p = A^(p//2) @ A^(p//2), times A first for odd p, so that products pair as
    SciPy's do); power 0 gives eye_array(M, dtype=A.dtype), 1 a copy of A."""
    M, N = A.shape
    if M != N:
        raise TypeError("sparse matrix is not square")
    if not isintlike(power):
        raise ValueError("exponent must be an integer")
    power = int(power)
    if power < 0:
        raise ValueError("exponent must be >= 0")
    if power == 0:
        from .. import eye_array
        return eye_array(M, dtype=A.dtype)
    if power == 1:
        return A.copy()
    half = matrix_power(A, power // 2)
    return A @ half @ half if power % 2 else half @ half
