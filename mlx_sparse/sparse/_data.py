"""Elementwise methods on stored values (SciPy's _data.py): scalar arithmetic, the
ufunc-like methods, abs/neg/round/power, and max/min/argmax/argmin.

Result dtypes follow NumPy exactly: they are found by applying the NumPy operation to
a one-element array of the stored dtype (bfloat16 probes as float16)."""
import math

import mlx.core as mx
import numpy as np

from .. import _ops
from .._dtypes import MX_TO_NP, NP_TO_MX
from ._sputils import asmx, isscalarlike, validateaxis


def np_probe(dt):
    return np.float16 if dt == mx.bfloat16 else MX_TO_NP[dt]


def result_dtype(np_op, *dtypes_or_scalars):
    """The MLX dtype NumPy gives for np_op over arrays of these dtypes / these scalars."""
    args = []
    bf16 = False
    for a in dtypes_or_scalars:
        if isinstance(a, mx.Dtype):
            bf16 |= a == mx.bfloat16
            args.append(np.ones(1, np_probe(a)))
        else:
            args.append(a)
    with np.errstate(all="ignore"):
        res = np.asarray(np_op(*args)).dtype
    if res == np.complex128:
        res = np.dtype(np.complex64)  # MLX has no complex128
    out = NP_TO_MX[res]
    return mx.bfloat16 if bf16 and out == mx.float16 else out


def scalar_value(x):
    """A Python/NumPy scalar from a 0-d MLX/NumPy array or a scalar."""
    if isinstance(x, mx.array):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.item()
    return x


# NumPy function -> (MLX function, whether f(0) == 0 so only stored values change)
_UFUNCS = {
    "sqrt": (np.sqrt, mx.sqrt), "sin": (np.sin, mx.sin), "tan": (np.tan, mx.tan),
    "arcsin": (np.arcsin, mx.arcsin), "arctan": (np.arctan, mx.arctan),
    "sinh": (np.sinh, mx.sinh), "tanh": (np.tanh, mx.tanh),
    "arcsinh": (np.arcsinh, mx.arcsinh), "arctanh": (np.arctanh, mx.arctanh),
    "expm1": (np.expm1, mx.expm1), "log1p": (np.log1p, mx.log1p),
    "deg2rad": (np.deg2rad, mx.radians), "rad2deg": (np.rad2deg, mx.degrees),
    "floor": (np.floor, mx.floor), "ceil": (np.ceil, mx.ceil),
    "trunc": (np.trunc, lambda a: mx.where(a < 0, mx.ceil(a), mx.floor(a))),
    "rint": (np.rint, mx.round), "sign": (np.sign, mx.sign),
}


def _make_ufunc(name):
    np_f, mx_f = _UFUNCS[name]

    def method(self):
        data = self._deduped_data()
        dt = result_dtype(np_f, data.dtype)
        if dt == data.dtype and mx.issubdtype(dt, mx.integer) and name in (
                "floor", "ceil", "trunc", "rint"):
            return self._with_data(data)  # identity on integers, as NumPy
        return self._with_data(mx_f(data.astype(dt)))

    method.__name__ = name
    method.__doc__ = f"Element-wise {name} of the stored values (f(0) == 0)."
    return method


class _data_mixin:
    """Methods that act on stored values only."""

    def _deduped_data(self):
        self.sum_duplicates()
        return self._s.data

    def __abs__(self):
        data = self._deduped_data()
        if data.dtype == mx.bool_:
            return self._with_data(data)
        return self._with_data(mx.abs(data))

    def __round__(self, ndigits=0):
        data = self._deduped_data()
        return self._with_data(mx.round(data, ndigits) if mx.issubdtype(data.dtype, mx.inexact)
                               else data)

    def __neg__(self):
        if self._s.data.dtype == mx.bool_:
            raise NotImplementedError("negating a boolean sparse array is not supported")
        return self._with_data(-self._s.data)

    def _mul_scalar(self, other):
        other = scalar_value(other)
        dt = result_dtype(np.multiply, self._s.data.dtype, other)
        return self._with_data(self._s.data.astype(dt) * mx.array(other).astype(dt))

    def _divide_scalar(self, other):
        other = scalar_value(other)
        dt = result_dtype(np.true_divide, self._s.data.dtype, other)
        return self._with_data(self._s.data.astype(dt) / mx.array(other).astype(dt))

    def power(self, n, dtype=None):
        """Element-wise power of stored values (n a scalar, n != 0)."""
        if not isscalarlike(n):
            raise NotImplementedError("input is not scalar")
        n = scalar_value(n)
        if not n:
            raise NotImplementedError(
                "zero power is not supported as it would densify the matrix.\n"
                "Use `np.ones(A.shape, dtype=A.dtype)` for this case.")
        data = self._deduped_data()
        if dtype is not None:
            data = data.astype(asmx(np.zeros(0, dtype)).dtype)
        dt = result_dtype(np.power, data.dtype, n)
        return self._with_data(mx.power(data.astype(dt), mx.array(n).astype(dt)))

    def astype_like(self, dt):
        return self._with_data(self._s.data.astype(dt))


for _name in _UFUNCS:
    setattr(_data_mixin, _name, _make_ufunc(_name))


class _minmax_mixin:
    """max/min/nanmax/nanmin/argmax/argmin counting implicit zeros (SciPy's rules)."""

    def _min_or_max(self, axis, out, kind, explicit, nan_aware):
        if out is not None:
            raise ValueError("Sparse arrays do not support an 'out' parameter.")
        if self._s.data.dtype == mx.complex64:
            raise TypeError(f"{kind}() is not supported for complex values")
        axis = validateaxis(axis)
        M, N = self.shape
        if axis is None:
            if M * N == 0:
                raise ValueError("zero-size array to reduction operation")
            A = self.tocsr()
            A.sum_duplicates()
            data = A._s.data
            zero = mx.zeros((), data.dtype)
            if data.size == 0:
                return zero
            vals = _nan_strip(data, kind) if nan_aware else data
            m = mx.max(vals) if kind == "max" else mx.min(vals)
            if not explicit and A.nnz < M * N:
                m = mx.maximum(m, zero) if kind == "max" else mx.minimum(m, zero)
            return m
        if self.shape[axis] == 0:
            raise ValueError("zero-size array to reduction operation")
        if self._is_array:
            raise NotImplementedError(
                f"{kind}(axis={axis}) returns a 1-D sparse array in SciPy, and mlx_sparse "
                "supports 2-D sparse arrays only; use A.toarray()."
                f"{kind}(axis={axis}) for a dense result")
        # Reduce along `axis` in the layout whose major axis is the other one.
        A = self.tocsc() if axis == 0 else self.tocsr()
        A.sum_duplicates()
        s = A._s
        data = _nan_strip(s.data, kind) if nan_aware else s.data
        r = _ops.compressed_reduce_major(kind, s.n_major, s.indptr, data)
        if not explicit:
            full = (s.indptr[1:] - s.indptr[:-1]) == s.n_minor
            zero = mx.zeros((), r.dtype)
            r = mx.where(full, r, mx.maximum(r, zero) if kind == "max" else mx.minimum(r, zero))
        from ._coo import coo_matrix
        shape = (1, N) if axis == 0 else (M, 1)
        dense = r.reshape(shape)
        return coo_matrix(dense)

    def max(self, axis=None, out=None, *, explicit=False):
        return self._min_or_max(axis, out, "max", explicit, nan_aware=False)

    def min(self, axis=None, out=None, *, explicit=False):
        return self._min_or_max(axis, out, "min", explicit, nan_aware=False)

    def nanmax(self, axis=None, out=None, *, explicit=False):
        return self._min_or_max(axis, out, "max", explicit, nan_aware=True)

    def nanmin(self, axis=None, out=None, *, explicit=False):
        return self._min_or_max(axis, out, "min", explicit, nan_aware=True)

    def _arg_min_or_max(self, axis, out, kind, explicit):
        if out is not None:
            raise ValueError("Sparse types do not support an 'out' parameter.")
        axis = validateaxis(axis)
        M, N = self.shape
        if axis is None:
            if M * N == 0:
                raise ValueError("Cannot apply the operation to an empty matrix.")
            A = self.tocsr()
            A.sum_duplicates()
            return int(_arg_extreme_slices(A._s, kind, explicit, whole=True)[0].item())
        if self.shape[axis] == 0:
            raise ValueError("Cannot apply the operation along a zero-sized dimension.")
        A = self.tocsc() if axis == 0 else self.tocsr()
        A.sum_duplicates()
        res = _arg_extreme_slices(A._s, kind, explicit, whole=False)
        if not self._is_array:
            res = res.reshape((1, N) if axis == 0 else (M, 1))
        return res

    def argmax(self, axis=None, out=None, *, explicit=False):
        return self._arg_min_or_max(axis, out, "max", explicit)

    def argmin(self, axis=None, out=None, *, explicit=False):
        return self._arg_min_or_max(axis, out, "min", explicit)


def _nan_strip(data, kind):
    """Replace NaN by the identity of the reduction so nanmax/nanmin skip them."""
    if not mx.issubdtype(data.dtype, mx.floating):
        return data
    fill = -math.inf if kind == "max" else math.inf
    return mx.where(mx.isnan(data), mx.array(fill, data.dtype), data)


def _arg_extreme_slices(s, kind, explicit, whole):
    """Index of the first max/min in each major slice of canonical storage s (or in
    the whole matrix, row-major, when whole=True). Implicit zeros count unless explicit.
    Vectorised: segment reductions over the stored entries, no host loop."""
    n_major, n_minor = s.n_major, s.n_minor
    nnz = s.indices.size
    major = _ops.expand_indptr(s.indptr, nnz).astype(mx.int64)
    minor = s.indices.astype(mx.int64)
    if whole:  # one slice holding the whole matrix in row-major (flat) order
        pos = major * n_minor + minor
        seg_ptr = mx.array([0, nnz], mx.int64)
        n_seg, seg_len = 1, n_major * n_minor
        seg_of = mx.zeros((nnz,), mx.int64)
    else:
        pos = minor
        seg_ptr = s.indptr.astype(mx.int64)
        n_seg, seg_len = n_major, n_minor
        seg_of = major
    data = s.data
    if data.dtype == mx.complex64:
        raise TypeError(f"arg{kind}() is not supported for complex values")
    big = mx.array(seg_len, mx.int64)
    if nnz:
        best = _ops.compressed_reduce_major(kind, n_seg, seg_ptr, data)
        hit = data == best[seg_of]
        first_hit = _ops.compressed_reduce_major("min", n_seg, seg_ptr, mx.where(hit, pos, big))
    else:
        best = mx.zeros((n_seg,), data.dtype)
        first_hit = mx.full((n_seg,), seg_len, mx.int64)
    counts = seg_ptr[1:] - seg_ptr[:-1]
    empty = counts == 0
    first_hit = mx.where(empty, big, first_hit)
    if explicit:
        return mx.where(empty, mx.zeros_like(first_hit), first_hit)
    # First implicit zero: the first k in the slice where the k-th stored entry != k.
    if nnz:
        rank = mx.arange(nnz, dtype=mx.int64) - seg_ptr[:-1][seg_of]
        gap = _ops.compressed_reduce_major("min", n_seg, seg_ptr,
                                           mx.where(pos != rank, rank, big))
        gap = mx.where(empty, mx.zeros_like(gap), mx.minimum(gap, counts))
    else:
        gap = mx.zeros((n_seg,), mx.int64)
    has_gap = counts < seg_len
    zero = mx.zeros((), best.dtype)
    zero_better = ((best < zero) if kind == "max" else (best > zero)) & has_gap
    zero_better = zero_better | empty
    tie = (best == zero) & has_gap
    return mx.where(zero_better, gap, mx.where(tie, mx.minimum(gap, first_hit), first_hit))
