"""Elementwise methods on stored values (SciPy's _data.py): scalar arithmetic, the
ufunc-like methods, abs/neg/round/power, and max/min/argmax/argmin.

Result dtypes follow NumPy exactly: they are found by applying the NumPy operation to
a one-element array of the stored dtype (bfloat16 probes as float16)."""
import math
import operator

import mlx.core as mx
import numpy as np

from .. import _ops
from .._dtypes import MX_TO_NP, NP_TO_MX
from ._sputils import asmx, getdtype, isscalarlike, to_host, validateaxis


def reduction_axis(axis):
    """SciPy's validateaxis for 2-D reductions: an int, or a tuple of distinct axes
    ((0, 1) is all of them: None)."""
    if not isinstance(axis, tuple):
        return validateaxis(axis)
    if axis == ():
        raise ValueError("sparse does not accept 0D axis (). Either use toarray (for "
                         "dense) or copy (for sparse).")
    canon = [validateaxis(a) for a in axis]
    if len(set(canon)) != len(canon):
        raise ValueError("duplicate value in axis")
    if len(canon) > 2:
        raise ValueError("axis tuple has too many elements")
    return None if len(canon) == 2 else canon[0]


def np_probe(dt):
    return np.float16 if dt == mx.bfloat16 else MX_TO_NP[dt]


def result_dtype(np_op, *dtypes_or_scalars):
    """The MLX dtype NumPy gives for np_op over arrays of these dtypes / these scalars
    (np_op None: plain promotion, SciPy's upcast). NumPy's own error is raised where
    NumPy refuses (bool subtract, negative integer powers, out-of-range Python ints)."""
    args = []
    bf16 = False
    for a in dtypes_or_scalars:
        if isinstance(a, mx.Dtype):
            bf16 |= a == mx.bfloat16
            args.append(np.ones(1, np_probe(a)))
        else:
            args.append(a)
    with np.errstate(all="ignore"):
        res = np.result_type(*args) if np_op is None else np.asarray(np_op(*args)).dtype
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


def host_scalar(x):
    """A scalar operand as NumPy sees it: an MLX 0-d array becomes a NumPy 0-d array
    (typed, so it promotes like one); Python and NumPy scalars stay as they are."""
    return to_host(x) if isinstance(x, mx.array) else x


def scalar_array(x, dt):
    """Scalar x as a 0-d MLX array of dtype dt (through NumPy: exact for float64)."""
    v = np.asarray(host_scalar(x))
    if dt == mx.bfloat16:
        return mx.array(v.astype(np.float32)).astype(dt)
    return mx.array(v.astype(MX_TO_NP[dt]), dtype=dt)


def elementwise(np_f, data, mx_f, *args):
    """np_f(data, *args) as NumPy computes it: result dtype (and NumPy's errors) probed
    on one element, values by mx_f(data cast to that dtype, dtype) on the device; by
    NumPy on the host for float64 (MLX's CPU float64 math is only float32-accurate)
    and where mx_f is None (MLX lacks the operation)."""
    dt = result_dtype(np_f, data.dtype, *args)
    if mx_f is not None and mx.float64 not in (dt, data.dtype):
        return mx_f(data.astype(dt), dt)
    with np.errstate(all="ignore"):
        out = np.asarray(np_f(to_host(data), *args))
    return asmx(out.astype(np.complex64) if out.dtype == np.complex128 else out, dt)


def _sign(a):
    # MLX's sign(nan) is 0; NumPy's is nan
    return mx.where(mx.isnan(a), a, mx.sign(a)) if _inexact(a.dtype) else mx.sign(a)


# NumPy function -> MLX function; every one has f(0) == 0, so only stored values
# change.
_UFUNCS = {
    "sqrt": (np.sqrt, mx.sqrt), "sin": (np.sin, mx.sin), "tan": (np.tan, mx.tan),
    "arcsin": (np.arcsin, mx.arcsin), "arctan": (np.arctan, mx.arctan),
    "sinh": (np.sinh, mx.sinh), "tanh": (np.tanh, mx.tanh),
    "arcsinh": (np.arcsinh, mx.arcsinh), "arctanh": (np.arctanh, mx.arctanh),
    "expm1": (np.expm1, mx.expm1), "log1p": (np.log1p, mx.log1p),
    "deg2rad": (np.deg2rad, mx.radians), "rad2deg": (np.rad2deg, mx.degrees),
    "floor": (np.floor, mx.floor), "ceil": (np.ceil, mx.ceil),
    "trunc": (np.trunc, lambda a: mx.where(a < 0, mx.ceil(a), mx.floor(a))),
    "rint": (np.rint, mx.round), "sign": (np.sign, _sign),
}
_MX_LACKS = {"expm1": (mx.complex64,)}  # MLX has no complex expm1


def _make_ufunc(name):
    np_f, mx_f = _UFUNCS[name]

    def method(self):
        data = self._deduped_data()
        dt = result_dtype(np_f, data.dtype)
        if dt == data.dtype and not mx.issubdtype(dt, mx.inexact) and name in (
                "floor", "ceil", "trunc", "rint"):
            return self._with_data(data)  # identity on integers, as NumPy
        f = None if dt in _MX_LACKS.get(name, ()) else (lambda a, dt: mx_f(a))
        if dt == mx.complex64 and mx.default_device().type != mx.DeviceType.cpu:
            # MLX's CUDA backend lacks several complex unary ops (arcsinh, ...) and
            # says so only when the result is evaluated, after this call returned
            with mx.stream(mx.cpu):
                return self._with_data(elementwise(np_f, data, f))
        return self._with_data(elementwise(np_f, data, f))

    method.__name__ = name
    method.__doc__ = f"Element-wise {name} of the stored values (f(0) == 0)."
    return method


def _mx_round(ndigits, dt):
    if mx.issubdtype(dt, mx.inexact):
        return lambda a, dt: mx.round(a, ndigits)
    # integers: unchanged for ndigits >= 0; else NumPy (MLX rounds them in float32)
    return (lambda a, dt: a) if ndigits >= 0 else None


class _data_mixin:
    """Methods that act on stored values only (SciPy's _data_matrix)."""

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
        return self._with_data(elementwise(lambda a: np.around(a, decimals=ndigits),
                                           data, _mx_round(ndigits, data.dtype)))

    def __neg__(self):
        if self._s.data.dtype == mx.bool_:
            raise NotImplementedError("negating a boolean sparse array is not supported")
        return self._with_data(-self._s.data)

    def _mul_scalar(self, other):
        other = host_scalar(other)
        return self._with_data(elementwise(
            np.multiply, self._s.data, lambda a, dt: a * scalar_array(other, dt), other))

    def _divide_scalar(self, other):
        """A / s as SciPy: A.astype(float64) * (1 / s) where the values cast to float64
        safely (duplicates summed in float64), else A * (1 / s); 1 / 0 raises
        ZeroDivisionError as in Python."""
        recip = 1 / host_scalar(other)
        if self._s.data.dtype == mx.complex64:
            return self._mul_scalar(recip)
        # (astype sums the duplicates, in float64)
        A = self if self._s.data.dtype == mx.float64 else self.astype(mx.float64)
        return A._mul_scalar(recip)

    def _scale_inplace(self, factor):
        """self.data *= factor with NumPy's same_kind casting (its error included)."""
        src = self._s.data.dtype
        probe = np.ones(1, np_probe(src))
        probe *= factor  # raises NumPy's UFuncTypeError where the cast is unsafe
        self._s = self._s.with_(data=self._mul_scalar(factor)._s.data.astype(src))
        return self

    def __imul__(self, other):
        if isscalarlike(other):
            return self._scale_inplace(host_scalar(other))
        return NotImplemented

    def __itruediv__(self, other):
        if isscalarlike(other):
            return self._scale_inplace(1.0 / host_scalar(other))
        return NotImplemented

    def power(self, n, dtype=None):
        """Element-wise power of stored values (n a scalar, n != 0)."""
        if not isscalarlike(n):
            raise NotImplementedError("input is not scalar")
        n = host_scalar(n)
        if not n:
            raise NotImplementedError(
                "zero power is not supported as it would densify the matrix.\n"
                "Use `np.ones(A.shape, dtype=A.dtype)` for this case.")
        data = self._deduped_data()
        if dtype is not None:
            data = data.astype(getdtype(dtype))
        # `data ** n` as SciPy: NumPy's operator (bool ** 2 is int8, np.power's int64)
        return self._with_data(elementwise(
            operator.pow, data, lambda a, dt: mx.power(a, scalar_array(n, dt)), n))


for _name in _UFUNCS:
    setattr(_data_mixin, _name, _make_ufunc(_name))


class _minmax_mixin:
    """max/min/nanmax/nanmin/argmax/argmin counting implicit zeros (SciPy's rules)."""

    def _min_or_max(self, axis, out, kind, explicit, nan_aware):
        if out is not None:
            raise ValueError("Sparse min/max does not support an 'out' parameter.")
        axis = reduction_axis(axis)
        M, N = self.shape
        if axis is None:
            if M * N == 0:
                raise ValueError("zero-size array to reduction operation")
            A = self if self.format in ("coo", "csr", "csc") else self.tocsr()
            if A.nnz == 0:
                return mx.zeros((), A._s.data.dtype)
            data = A._deduped_data()
            m = _slice_extremes(mx.array([0, data.size]), data, 1, kind, nan_aware)[0]
            if not explicit and A.nnz != M * N:
                m = _with_zero(m, kind, nan_aware)
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
        r = _slice_extremes(s.indptr, s.data, s.n_major, kind, nan_aware)
        if not explicit:
            full = (s.indptr[1:] - s.indptr[:-1]) == s.n_minor
            r = mx.where(full, r, _with_zero(r, kind, nan_aware))
        from ._coo import coo_matrix
        return coo_matrix(r.reshape((1, N) if axis == 0 else (M, 1)))

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
        axis = reduction_axis(axis)
        M, N = self.shape
        if axis is None:
            if M * N == 0:
                raise ValueError(f"Cannot apply arg{kind} to an empty matrix.")
            if self.nnz == 0:
                if explicit:
                    raise ValueError(f"Cannot apply arg{kind} to zero matrix when "
                                     "explicit=True.")
                return 0
            A = self.tocsr()
            A.sum_duplicates()
            return int(_arg_extreme_slices(A._s, kind, explicit, whole=True)[0].item())
        if self.shape[axis] == 0:
            raise ValueError(f"Cannot apply arg{kind} along a zero-sized dimension.")
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


def _inexact(dt):
    return mx.issubdtype(dt, mx.inexact)


def _slice_extremes(indptr, data, n, kind, nan_aware):
    """max/min of the values of each of the n slices indptr delimits (0 for an empty
    one): nan propagates (np.maximum.reduce); nan_aware skips nan unless a slice holds
    only nan (np.fmax.reduce)."""
    if not (nan_aware and _inexact(data.dtype)):
        return _ops.compressed_reduce_major(kind, n, indptr, data)
    nan = mx.isnan(data)
    fill = mx.array(-math.inf if kind == "max" else math.inf, data.dtype)
    r = _ops.compressed_reduce_major(kind, n, indptr, mx.where(nan, fill, data))
    any_number = _ops.compressed_reduce_major("max", n, indptr, mx.logical_not(nan))
    only_nan = (indptr[1:] != indptr[:-1]) & mx.logical_not(any_number)
    return mx.where(only_nan, mx.array(math.nan, data.dtype), r)


def _with_zero(r, kind, nan_aware):
    """r combined with an implicit zero: np.maximum/np.minimum (nan wins), or
    np.fmax/np.fmin when nan_aware (nan loses)."""
    zero = mx.zeros((), r.dtype)
    m = mx.maximum(r, zero) if kind == "max" else mx.minimum(r, zero)
    return mx.where(mx.isnan(r), zero, m) if nan_aware and _inexact(r.dtype) else m


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
    big = mx.array(seg_len, mx.int64)
    if nnz:
        best = _ops.compressed_reduce_major(kind, n_seg, seg_ptr, data)
        hit = data == best[seg_of]
        if _inexact(data.dtype):  # a nan is the extreme (np.argmax): its first one
            hit = hit | (mx.isnan(data) & mx.isnan(best)[seg_of])
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
    # SciPy's rule: the stored extreme wins when it beats 0 (a nan does not) or the
    # slice is full; a tie with 0 takes the earlier; otherwise the first implicit zero.
    zero = mx.zeros((), best.dtype)
    beats_zero = (best > zero) if kind == "max" else (best < zero)
    res = mx.where(best == zero, mx.minimum(gap, first_hit), gap)
    res = mx.where(beats_zero | mx.logical_not(has_gap), first_hit, res)
    return mx.where(empty, mx.zeros_like(res), res)
