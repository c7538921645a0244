"""Argument helpers mirroring scipy.sparse._sputils, on MLX arrays."""
import operator

import mlx.core as mx
import numpy as np

from .._dtypes import MX_TO_NP, NP_TO_MX, SUPPORTED_NAMES, to_mx_dtype

INT32_MAX = np.iinfo(np.int32).max
INT32_MIN = np.iinfo(np.int32).min


def get_index_dtype(arrays=(), maxval=None, check_contents=False):
    """int32 unless maxval or the arrays need int64 (SciPy's rule). Returns a NumPy
    dtype type, as SciPy does."""
    dtype = np.int64 if (maxval is not None and maxval > INT32_MAX) else np.int32
    if dtype is np.int64:
        return np.int64
    if isinstance(arrays, (np.ndarray, mx.array)):
        arrays = (arrays,)
    for arr in arrays:
        dt = _np_dtype_of(arr)
        if not np.can_cast(dt, np.int32):
            if check_contents:
                size = arr.size if hasattr(arr, "size") else len(arr)
                if size == 0:
                    continue
                if np.issubdtype(dt, np.integer):
                    a = arr if isinstance(arr, mx.array) else np.asarray(arr)
                    if INT32_MIN <= int(a.min()) and int(a.max()) <= INT32_MAX:
                        continue
            return np.int64
    return dtype


def _np_dtype_of(arr):
    if isinstance(arr, mx.array):
        if arr.dtype == mx.bfloat16:
            return np.dtype(np.float32)
        from .._dtypes import MX_TO_NP
        return MX_TO_NP[arr.dtype]
    return np.asarray(arr).dtype


def mx_index_dtype(np_dtype):
    return mx.int64 if np.dtype(np_dtype) == np.int64 else mx.int32


def index_dtype_for(is_array, arrays=(), maxval=None, check_contents=False):
    """MLX index dtype as SciPy's _spbase._get_index_dtype picks it: *_array classes
    never narrow int64 indices by their contents, *_matrix classes may."""
    return mx_index_dtype(get_index_dtype(arrays, maxval,
                                          check_contents and not is_array))


def isintlike(x):
    if np.ndim(x) != 0:
        return False
    try:
        operator.index(x)
    except (TypeError, ValueError):
        try:
            loose_int = bool(int(x) == x)
        except (TypeError, ValueError):
            return False
        if loose_int:
            raise ValueError("Inexact indices into sparse matrices are not allowed")
        return loose_int
    return True


def isscalarlike(x):
    if isinstance(x, (mx.array, np.ndarray)):  # 0-d arrays are scalars (SciPy)
        return x.ndim == 0
    return np.isscalar(x)


def isshape(x, nonneg=False):
    """True for a tuple of two integers (SciPy's 2-D rule)."""
    if not isinstance(x, tuple) or len(x) != 2:
        return False
    for d in x:
        if not isintlike(d) or (isinstance(d, (mx.array, np.ndarray)) and d.ndim):
            return False
    if nonneg and any(d < 0 for d in x):
        return False
    return True


def check_shape(args, current_shape=None):
    """Normalise a 2-D shape argument; SciPy's errors for bad shapes."""
    if len(args) == 0:
        raise TypeError("function missing 1 required positional argument: 'shape'")
    if len(args) == 1:
        try:
            shape_iter = iter(args[0])
        except TypeError:
            new_shape = (operator.index(args[0]),)
        else:
            new_shape = tuple(operator.index(arg) for arg in shape_iter)
    else:
        new_shape = tuple(operator.index(arg) for arg in args)

    if current_shape is None:
        if len(new_shape) != 2:
            if len(new_shape) in (1,) or len(new_shape) > 2:
                raise ValueError(
                    f"mlx_sparse supports 2-D sparse arrays only; got shape {new_shape} "
                    "(SciPy's 1-D and n-D sparse arrays are not supported yet)")
            raise ValueError(f"shape must have length 2. Got new_shape={new_shape}")
        if any(d < 0 for d in new_shape):
            raise ValueError("'shape' elements cannot be negative")
    else:
        current_size = int(np.prod(current_shape))
        negative = [i for i, x in enumerate(new_shape) if x < 0]
        if not negative:
            if int(np.prod(new_shape)) != current_size:
                raise ValueError(f"cannot reshape array of size {current_size} "
                                 f"into shape {new_shape}")
        elif len(negative) == 1:
            skip = negative[0]
            specified = int(np.prod(new_shape[:skip] + new_shape[skip + 1:]))
            unspecified, remainder = divmod(current_size, specified) if specified else (0, 1)
            if remainder != 0:
                err_shape = tuple("newshape" if x < 0 else x for x in new_shape)
                raise ValueError(f"cannot reshape array of size {current_size} "
                                 f"into shape {err_shape}")
            new_shape = new_shape[:skip] + (unspecified,) + new_shape[skip + 1:]
        else:
            raise ValueError("can only specify one unknown dimension")
        if len(new_shape) != 2:
            raise ValueError(f"shape must have length 2. Got new_shape={new_shape}")
    return new_shape


def getdtype(dtype, a=None, default=None):
    """MLX dtype for the dtype argument, else a's dtype, else default."""
    if dtype is None:
        if a is not None:
            return a.dtype
        if default is None:
            raise TypeError("could not interpret data type")
        return to_mx_dtype(default)
    if isinstance(dtype, mx.Dtype) or (isinstance(dtype, str) and dtype == "bfloat16"):
        return to_mx_dtype(dtype)
    nd = np.dtype(dtype)  # TypeError for names NumPy does not know, as SciPy
    check_value_dtype(nd)
    return to_mx_dtype(nd)


def check_value_dtype(nd):
    """SciPy's ValueError for non-numeric dtypes (strings, objects, datetimes). Numeric
    dtypes MLX cannot hold (complex128, longdouble) raise TypeError in to_mx_dtype."""
    if nd.kind in "OSUVMm":
        raise ValueError(f"mlx_sparse does not support dtype {nd}. The only supported "
                         "types are: " + ", ".join(SUPPORTED_NAMES) + ".")


def to_host(x):
    """A NumPy view of array-like x (MLX, NumPy, lists, array-API arrays). Objects
    offering __dlpack__ (array_api_strict, torch CPU) go through DLPack."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, mx.array):
        if x.dtype == mx.bfloat16:
            return np.asarray(x.astype(mx.float32))
        return np.asarray(x)
    if hasattr(x, "__dlpack__") and not isinstance(x, (list, tuple)):
        try:
            return np.from_dlpack(x)
        except (TypeError, RuntimeError, BufferError):
            pass
    return np.asarray(x)


def asmx(x, dtype=None):
    """An MLX array from any array-like, keeping its dtype (float64 stays float64;
    mx.array(numpy_float64) alone would give float32)."""
    if isinstance(x, mx.array):
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    a = to_host(x)
    check_value_dtype(a.dtype)
    if dtype is not None and dtype != mx.bfloat16:
        # cast on the host, as SciPy's np.array(obj, dtype=dtype): a complex128 list
        # with dtype=complex64 is accepted
        a = a.astype(MX_TO_NP[dtype], copy=False)
    src = to_mx_dtype(a.dtype)
    if a.dtype.byteorder not in "=|":
        a = a.astype(a.dtype.newbyteorder("="))
    out = mx.array(np.ascontiguousarray(a), dtype=src)
    return out if dtype is None or dtype == src else out.astype(dtype)


def as_index_array(x, dtype):
    """Index array as MLX integer array of dtype (mx.int32 / mx.int64)."""
    a = asmx(x)
    if a.ndim != 1:
        return a.astype(dtype) if mx.issubdtype(a.dtype, mx.integer) else a
    if a.dtype != dtype:
        if not (mx.issubdtype(a.dtype, mx.integer) or a.dtype == mx.bool_):
            if a.size and not bool(mx.all(mx.floor(a) == a).item()):
                raise ValueError("index arrays must hold integers")
        a = a.astype(dtype)
    return a


def upcast(*dtypes):
    """SciPy's result dtype for combining MLX dtypes."""
    from .._dtypes import MX_TO_NP
    # bfloat16 (no NumPy dtype) promotes like float16 with a wider exponent.
    nps = [np.float16 if d == mx.bfloat16 else MX_TO_NP[d] for d in dtypes]
    res = NP_TO_MX[np.result_type(*nps)]
    if res == mx.float16 and any(d == mx.bfloat16 for d in dtypes):
        return mx.float32 if any(d == mx.float16 for d in dtypes) else mx.bfloat16
    return res


def nnz_axis(axis):
    """count_nonzero/getnnz's axis as SciPy checks it: TypeError for a non-integer
    (SciPy's `axis < 0` fails), ValueError outside -2..1; None passes."""
    if axis is None:
        return None
    if axis < 0:
        axis += 2
    if axis not in (0, 1):
        raise ValueError("axis out of bounds")
    return int(axis)


def validateaxis(axis):
    if axis is None:
        return None
    if isinstance(axis, tuple):
        raise TypeError("Tuples are not accepted for the 'axis' parameter. "
                        "Please pass in one of the following: {-2, -1, 0, 1, None}.")
    if not np.issubdtype(np.dtype(type(axis)), np.integer):
        raise TypeError(f"axis must be an integer, not {type(axis).__name__}")
    if not (-2 <= axis <= 1):
        raise ValueError("axis out of range")
    return axis % 2
