"""Tests of the plain-MLX product, binary-op and reduction kernels against
SciPy / NumPy."""

import importlib
import importlib.util
import pathlib
import warnings
import zlib

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as sp


def _load():
    try:
        return importlib.import_module("mlx_sparse._ops.mlx_products")
    except ImportError:
        root = pathlib.Path(__file__).parents[1] / "mlx_sparse" / "_ops"
        spec = importlib.util.spec_from_file_location("_mlx_products_under_test", root / "mlx_products.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod


P = _load()

# name -> (mlx dtype, numpy dtype the reference is computed in)
VALUE_DTYPES = {
    "bool": (mx.bool_, np.bool_),
    "int8": (mx.int8, np.int8),
    "int64": (mx.int64, np.int64),
    "uint8": (mx.uint8, np.uint8),
    "float16": (mx.float16, np.float32),
    "bfloat16": (mx.bfloat16, np.float32),
    "float32": (mx.float32, np.float32),
    "float64": (mx.float64, np.float64),
    "complex64": (mx.complex64, np.complex64),
}
# MLX has no float64 on any GPU: on a GPU default device those cases are left out.
ON_GPU = mx.default_device().type == mx.DeviceType.gpu
F64 = mx.float32 if ON_GPU else mx.float64
if ON_GPU:
    del VALUE_DTYPES["float64"]
INDEX_DTYPES = {"int32": mx.int32, "int64": mx.int64}
# (n_major, n_minor)
SHAPES = [(0, 0), (0, 3), (3, 0), (1, 7), (7, 1), (6, 9), (25, 13)]

vdt_params = pytest.mark.parametrize("vname", list(VALUE_DTYPES))
idt_params = pytest.mark.parametrize("iname", list(INDEX_DTYPES))
fmt_params = pytest.mark.parametrize("fmt", ["csr", "csc"])


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _values(rng, n, vname):
    """Random values exactly representable in the tested dtype, with zeros."""
    _, ref = VALUE_DTYPES[vname]
    if vname == "bool":
        v = rng.random(n) < 0.6
    elif vname in ("int8", "int64"):
        v = rng.integers(-100, 100, n)  # int8 products and sums wrap
    elif vname == "uint8":
        v = rng.integers(0, 200, n)
    elif vname == "complex64":
        v = rng.integers(-4, 5, n) + 1j * rng.integers(-4, 5, n)
    else:
        v = rng.integers(-8, 9, n) / 4.0  # exact in bf16/f16, and so are sums
    v = np.asarray(v).astype(ref)
    if n:
        v[rng.random(n) < 0.2] = 0  # explicit zeros
    return v


def _raw(rng, n_major, n_minor, vname, canonical=False):
    """Compressed (ptr, idx, vals) NumPy arrays: some empty slices; unless
    ``canonical``, duplicates and unsorted slices."""
    if n_major * n_minor == 0:
        return np.zeros(n_major + 1, np.int64), np.zeros(0, np.int64), _values(rng, 0, vname)
    pool = rng.choice(n_major, size=max(1, (2 * n_major) // 3), replace=False)
    if canonical:
        mask = np.zeros((n_major, n_minor), bool)
        mask[pool] = rng.random((pool.size, n_minor)) < 0.4
        major, idx = np.nonzero(mask)
    else:
        nnz = int(rng.integers(0, 2 * n_major * n_minor + 2))
        major = np.sort(rng.choice(pool, nnz))
        idx = rng.integers(0, n_minor, nnz)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(major, minlength=n_major))]).astype(np.int64)
    if not canonical:
        for r in range(n_major):
            rng.shuffle(idx[ptr[r] : ptr[r + 1]])
    return ptr, idx.astype(np.int64), _values(rng, idx.size, vname)


def _to_mx(a, dt):
    if dt in (mx.bfloat16, mx.float16):
        return mx.array(np.asarray(a, np.float32)).astype(dt)
    return mx.array(np.asarray(a), dtype=dt)


def _to_np(a):
    if a.dtype in (mx.bfloat16, mx.float16):
        a = a.astype(mx.float32)
    return np.array(a)


def _check_values(got, want, vname, dtype=None):
    assert got.dtype == (dtype or VALUE_DTYPES[vname][0])
    g = _to_np(got)
    want = np.asarray(want)
    assert g.shape == want.shape
    if vname in ("float16", "bfloat16"):
        tol = 1e-3 if vname == "float16" else 1e-2
        np.testing.assert_allclose(g, want, rtol=tol, atol=tol)
    elif vname in ("float32", "complex64"):
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(g, want)


def _check_index(got, want, idt):
    assert got.dtype == idt
    np.testing.assert_array_equal(np.array(got), np.asarray(want))


def _mx_arrays(ptr, idx, vals, vname, iname):
    it = INDEX_DTYPES[iname]
    return _to_mx(ptr, it), _to_mx(idx, it), _to_mx(vals, VALUE_DTYPES[vname][0])


def _scipy(fmt, ptr, idx, vals, n_major, n_minor):
    """The matrix the compressed arrays describe (copies: SciPy may rewrite)."""
    if fmt == "csr":
        return sp.csr_array((vals.copy(), idx.copy(), ptr.copy()), shape=(n_major, n_minor))
    return sp.csc_array((vals.copy(), idx.copy(), ptr.copy()), shape=(n_minor, n_major))


# --------------------------------------------------------------------------
# sparse x dense
# --------------------------------------------------------------------------


@vdt_params
@idt_params
@fmt_params
def test_matvec_and_matmat(vname, iname, fmt):
    for n_major, n_minor in SHAPES:
        rng = _rng("mv", vname, iname, fmt, n_major, n_minor)
        ptr, idx, vals = _raw(rng, n_major, n_minor, vname)
        a = _scipy(fmt, ptr, idx, vals, n_major, n_minor)
        # "major" product: A @ x for CSR, A.T @ x for CSC (and _t the other).
        fwd, bwd = (a, a.T) if fmt == "csr" else (a.T, a)
        args = (n_major, n_minor) + _mx_arrays(ptr, idx, vals, vname, iname)
        mdt = VALUE_DTYPES[vname][0]
        x_minor = _values(rng, n_minor, vname)
        x_major = _values(rng, n_major, vname)
        _check_values(P.compressed_matvec(*args, _to_mx(x_minor, mdt)), fwd @ x_minor, vname)
        _check_values(P.compressed_matvec_t(*args, _to_mx(x_major, mdt)), bwd @ x_major, vname)
        for k in (0, 1, 3):
            X_minor = _values(rng, n_minor * k, vname).reshape(n_minor, k)
            X_major = _values(rng, n_major * k, vname).reshape(n_major, k)
            _check_values(P.compressed_matmat(*args, _to_mx(X_minor, mdt)), fwd @ X_minor, vname)
            _check_values(P.compressed_matmat_t(*args, _to_mx(X_major, mdt)), bwd @ X_major, vname)


def test_matvec_bool_is_or_of_and():
    # 300 duplicates: an 8-bit sum would wrap, OR stays True.
    ptr = mx.array([0, 300, 301])
    idx = mx.zeros((301,), mx.int32)
    data = mx.ones((301,), mx.bool_)
    y = P.compressed_matvec(2, 1, ptr, idx, data, mx.array([True]))
    assert y.dtype == mx.bool_ and y.tolist() == [True, True]
    y = P.compressed_matvec(2, 1, ptr, idx, data, mx.array([False]))
    assert y.tolist() == [False, False]
    y = P.compressed_matvec_t(2, 1, ptr, idx, data, mx.array([True, False]))
    assert y.tolist() == [True]


def test_matvec_shape_errors():
    ptr, idx, data = mx.array([0, 1]), mx.array([0]), mx.array([1.0])
    with pytest.raises(ValueError, match="x"):
        P.compressed_matvec(1, 2, ptr, idx, data, mx.ones((3,)))
    with pytest.raises(ValueError, match="X"):
        P.compressed_matmat_t(1, 2, ptr, idx, data, mx.ones((2, 2)))


def test_products_under_compile():
    rng = _rng("compile")
    ptr, idx, vals = _raw(rng, 8, 5, "float32")
    x, X = mx.array(_values(rng, 5, "float32")), mx.array(_values(rng, 10, "float32").reshape(5, 2))
    a = (mx.array(ptr), mx.array(idx), mx.array(vals))
    for fn, arg in [(P.compressed_matvec, x), (P.compressed_matmat, X)]:
        f = mx.compile(lambda p, i, d, v, fn=fn: fn(8, 5, p, i, d, v))
        assert f(*a, arg).tolist() == fn(8, 5, *a, arg).tolist()
    f = mx.compile(lambda p, d: P.compressed_reduce_major("max", 8, p, d))
    assert f(a[0], a[2]).tolist() == P.compressed_reduce_major("max", 8, a[0], a[2]).tolist()


# --------------------------------------------------------------------------
# sparse x sparse
# --------------------------------------------------------------------------

MATMUL_SHAPES = [(0, 0, 0), (0, 3, 2), (3, 0, 2), (2, 3, 0), (1, 7, 5), (7, 1, 6), (6, 9, 1), (20, 13, 17)]


@vdt_params
@idt_params
@fmt_params
def test_matmul(vname, iname, fmt):
    mdt, ref = VALUE_DTYPES[vname]
    it = INDEX_DTYPES[iname]
    for m, k, n in MATMUL_SHAPES:
        rng = _rng("mm", vname, iname, fmt, m, k, n)
        a_ptr, a_idx, a_val = _raw(rng, m, k, vname)
        b_ptr, b_idx, b_val = _raw(rng, k, n, vname)
        a = sp.csr_array((a_val, a_idx, a_ptr), shape=(m, k))
        b = sp.csr_array((b_val, b_idx, b_ptr), shape=(k, n))
        want = a @ b
        if fmt == "csr":
            got = P.compressed_matmul(
                m, k, n,
                *_mx_arrays(a_ptr, a_idx, a_val, vname, iname),
                *_mx_arrays(b_ptr, b_idx, b_val, vname, iname),
            )
        else:
            # CSC: C = A @ B is stored as C.T = B.T @ A.T, the CSC arrays of
            # B and A read as CSR.
            ac, bc = a.tocsc(), b.tocsc()
            got = P.compressed_matmul(
                n, k, m,
                *_mx_arrays(bc.indptr, bc.indices, bc.data, vname, iname),
                *_mx_arrays(ac.indptr, ac.indices, ac.data, vname, iname),
            )
            want = want.tocsc()
        want.sort_indices()  # SciPy's SpGEMM leaves slices unsorted
        assert not np.any(want.data == 0)
        _check_index(got[0], want.indptr, it)
        _check_index(got[1], want.indices, it)
        _check_values(got[2], want.data, vname)


def test_matmul_drops_cancelled_zeros_like_scipy():
    # SciPy 1.17: csr [[1, 1]] @ [[1], [-1]] has nnz 0.
    a = sp.csr_array(np.array([[1.0, 1.0]]))
    b = sp.csr_array(np.array([[1.0], [-1.0]]))
    assert (a @ b).nnz == 0
    ptr, idx, data = P.compressed_matmul(
        1, 2, 1, mx.array(a.indptr), mx.array(a.indices), mx.array(a.data),
        mx.array(b.indptr), mx.array(b.indices), mx.array(b.data),
    )
    assert ptr.tolist() == [0, 0] and idx.size == 0 and data.size == 0
    # Explicit zeros in the inputs give no entries either; NaN is kept.
    ptr, idx, data = P.compressed_matmul(
        2, 1, 2, mx.array([0, 1, 2]), mx.array([0, 0]), mx.array([0.0, np.nan]),
        mx.array([0, 2]), mx.array([1, 0]), mx.array([2.0, 3.0]),
    )
    assert ptr.tolist() == [0, 0, 2] and idx.tolist() == [0, 1]
    assert np.isnan(np.array(data)).all()


def test_matmul_index_dtype():
    i32 = (mx.array([0, 1], mx.int32), mx.array([0], mx.int32), mx.array([2.0]))
    i64 = (mx.array([0, 1], mx.int64), mx.array([0], mx.int64), mx.array([3.0]))
    ptr, idx, data = P.compressed_matmul(1, 1, 1, *i32, *i32)
    assert ptr.dtype == idx.dtype == mx.int32
    ptr, idx, data = P.compressed_matmul(1, 1, 1, *i32, *i64)
    assert ptr.dtype == idx.dtype == mx.int64 and data.tolist() == [6.0]


def test_matmul_wide_minor_dimension():
    # Column indices beyond int32: int64 result, sort key stays exact.
    n = 2**40
    a = (mx.array([0, 2, 3]), mx.array([0, 1, 1]), mx.array([1, 2, 3]))
    b = (mx.array([0, 2, 3]), mx.array([n - 1, 5, n - 1], mx.int64), mx.array([10, 20, 30]))
    ptr, idx, data = P.compressed_matmul(2, 2, n, *a, *b)
    assert ptr.tolist() == [0, 2, 3] and idx.dtype == mx.int64
    assert idx.tolist() == [5, n - 1, n - 1]
    assert data.tolist() == [20, 10 + 2 * 30, 3 * 30]


# --------------------------------------------------------------------------
# elementwise binary ops
# --------------------------------------------------------------------------

_NP_BINOPS = {
    "add": lambda a, b: (a | b) if a.dtype == np.bool_ else a + b,
    "sub": lambda a, b: (a ^ b) if a.dtype == np.bool_ else a - b,
    "mul": lambda a, b: (a & b) if a.dtype == np.bool_ else a * b,
    "maximum": lambda a, b: np.where(a < b, b, a),
    "minimum": lambda a, b: np.where(b < a, b, a),
    "ne": np.not_equal,
    "lt": np.less,
    "gt": np.greater,
    "le": np.less_equal,
    "ge": np.greater_equal,
}
_SCIPY_BINOPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a.multiply(b),
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "gt": lambda a, b: a > b,
}
_CMP = {"ne", "lt", "gt", "le", "ge"}


def _dense(ptr, idx, vals, shape):
    d = np.zeros(shape, vals.dtype)
    stored = np.zeros(shape, bool)
    major = np.repeat(np.arange(shape[0]), np.diff(ptr))
    d[major, idx] = vals  # canonical: no duplicates
    stored[major, idx] = True
    return d, stored


@vdt_params
@idt_params
@pytest.mark.parametrize("op", list(_NP_BINOPS))
def test_binop(vname, iname, op):
    mdt, ref = VALUE_DTYPES[vname]
    it = INDEX_DTYPES[iname]
    out_dt = mx.bool_ if op in _CMP else mdt
    out_name = "bool" if op in _CMP else vname
    for n_major, n_minor in SHAPES:
        rng = _rng("bin", vname, iname, op, n_major, n_minor)
        ra = _raw(rng, n_major, n_minor, vname, canonical=True)
        rb = _raw(rng, n_major, n_minor, vname, canonical=True)
        got = P.compressed_binop(
            op, n_major, n_minor, *_mx_arrays(*ra, vname, iname), *_mx_arrays(*rb, vname, iname)
        )
        # The spec: op over the union of stored positions, nonzero results.
        da, sa = _dense(*ra, (n_major, n_minor))
        db, sb = _dense(*rb, (n_major, n_minor))
        with np.errstate(over="ignore"):
            res = _NP_BINOPS[op](da, db)
        rows, cols = np.nonzero((sa | sb) & (res != 0))
        want_ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_major))])
        _check_index(got[0], want_ptr, it)
        _check_index(got[1], cols, it)
        _check_values(got[2], res[rows, cols], out_name, out_dt)
        # SciPy (CSR; CSC is the same arrays read transposed).
        if op in _SCIPY_BINOPS:
            a = sp.csr_array((ra[2], ra[1], ra[0]), shape=(n_major, n_minor))
            b = sp.csr_array((rb[2], rb[1], rb[0]), shape=(n_major, n_minor))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
                w = _SCIPY_BINOPS[op](a, b)
            w.sort_indices()
            np.testing.assert_array_equal(np.array(got[0]), w.indptr)
            np.testing.assert_array_equal(np.array(got[1]), w.indices)
            _check_values(got[2], w.data, out_name, out_dt)
        elif n_major * n_minor:
            # SciPy's A <= B is ~(A > B): equal to ours on the stored union.
            a = sp.csr_array((ra[2], ra[1], ra[0]), shape=(n_major, n_minor))
            b = sp.csr_array((rb[2], rb[1], rb[0]), shape=(n_major, n_minor))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
                w = (a <= b if op == "le" else a >= b).toarray()
            ours = np.zeros((n_major, n_minor), bool)
            ours[rows, cols] = True
            np.testing.assert_array_equal(ours, w & (sa | sb))


def test_binop_nan_and_explicit_zeros_like_scipy():
    # Row 0: A = [nan, 1, 0(explicit), 2], B = [1, nan, -, 5]; row 1 empty in A.
    a = (np.array([0, 4, 4]), np.array([0, 1, 2, 3]), np.array([np.nan, 1.0, 0.0, 2.0]))
    b = (np.array([0, 3, 4]), np.array([0, 1, 3, 2]), np.array([1.0, np.nan, 5.0, 4.0]))
    sa = sp.csr_array((a[2], a[1], a[0]), shape=(2, 4))
    sb = sp.csr_array((b[2], b[1], b[0]), shape=(2, 4))
    ma = tuple(mx.array(v) for v in a[:2]) + (mx.array(a[2], F64),)
    mb = tuple(mx.array(v) for v in b[:2]) + (mx.array(b[2], F64),)
    for op, f in _SCIPY_BINOPS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
            w = f(sa, sb)
        w.sort_indices()
        ptr, idx, data = P.compressed_binop(op, 2, 4, *ma, *mb)
        assert ptr.tolist() == w.indptr.tolist(), op
        assert idx.tolist() == w.indices.tolist(), op
        np.testing.assert_array_equal(np.array(data), w.data, err_msg=op)


def test_binop_rejects_unknown_op():
    a = (mx.array([0, 1]), mx.array([0]), mx.array([1.0]))
    with pytest.raises(ValueError, match="op"):
        P.compressed_binop("div", 1, 1, *a, *a)


def test_binop_index_dtype():
    a = (mx.array([0, 1], mx.int32), mx.array([0], mx.int32), mx.array([1.0]))
    b = (mx.array([0, 1], mx.int64), mx.array([0], mx.int64), mx.array([1.0]))
    assert P.compressed_binop("add", 1, 1, *a, *a)[0].dtype == mx.int32
    ptr, idx, data = P.compressed_binop("add", 1, 1, *a, *b)
    assert ptr.dtype == idx.dtype == mx.int64 and data.tolist() == [2.0]


# --------------------------------------------------------------------------
# reductions
# --------------------------------------------------------------------------


def _np_reduce(op, v, dtype):
    if v.size == 0:
        return np.zeros((), dtype)
    if op == "sum":
        return np.any(v) if dtype == np.bool_ else np.sum(v, dtype=dtype)
    return np.max(v) if op == "max" else np.min(v)


@vdt_params
@idt_params
@pytest.mark.parametrize("op", P.REDUCE_OPS)
def test_reduce(vname, iname, op):
    mdt, ref = VALUE_DTYPES[vname]
    for n_major, n_minor in SHAPES:
        rng = _rng("red", vname, iname, op, n_major, n_minor)
        ptr, idx, vals = _raw(rng, n_major, n_minor, vname)
        mptr, midx, mvals = _mx_arrays(ptr, idx, vals, vname, iname)
        with np.errstate(over="ignore"):
            want = [_np_reduce(op, vals[ptr[i] : ptr[i + 1]], ref) for i in range(n_major)]
            _check_values(P.compressed_reduce_major(op, n_major, mptr, mvals), np.array(want, ref), vname)
            want = [_np_reduce(op, vals[idx == j], ref) for j in range(n_minor)]
            _check_values(P.compressed_reduce_minor(op, n_minor, midx, mvals), np.array(want, ref), vname)


def test_reduce_nan_propagates_and_empty_is_zero():
    ptr = mx.array([0, 2, 4, 4, 5])
    idx = mx.array([0, 1, 0, 1, 2])
    for vals in ([np.nan, 1.0, 2.0, np.nan, -3.0], [1.0, np.nan, np.nan, 2.0, -3.0]):
        data = mx.array(vals, mx.float32)
        for op in ("max", "min"):
            r = np.array(P.compressed_reduce_major(op, 4, ptr, data))
            assert np.isnan(r[0]) and np.isnan(r[1]) and r[2] == 0 and r[3] == -3.0
            c = np.array(P.compressed_reduce_minor(op, 4, idx, data))
            assert np.isnan(c[0]) and np.isnan(c[1]) and c[2] == -3.0 and c[3] == 0


def test_reduce_extreme_integers():
    data = mx.array(np.array([2**64 - 1, 3], np.uint64))
    ptr, idx = mx.array([0, 1, 2]), mx.array([0, 0])
    assert P.compressed_reduce_major("min", 2, ptr, data).tolist() == [2**64 - 1, 3]
    assert P.compressed_reduce_minor("max", 1, idx, data).tolist() == [2**64 - 1]
    data = mx.array(np.array([-(2**63), -(2**63)], np.int64))
    assert P.compressed_reduce_minor("max", 2, idx, data).tolist() == [-(2**63), 0]


def test_reduce_rejects_unknown_op():
    with pytest.raises(ValueError, match="op"):
        P.compressed_reduce_major("prod", 1, mx.array([0, 1]), mx.array([1.0]))


@pytest.mark.parametrize("vname", ["int64", "uint64"])
def test_64bit_integers_full_range(vname):
    """64-bit integers take the paths without 64-bit scatters (none on CUDA):
    sums wrap modulo 2**64, max/min compare whole values."""
    nd = np.dtype(vname)
    mdt = mx.int64 if vname == "int64" else mx.uint64
    info = np.iinfo(nd)
    rng = _rng("64", vname)
    for n_major, n_minor in SHAPES:
        ptr, idx, _ = _raw(rng, n_major, n_minor, "int64")
        vals = rng.integers(info.min, info.max, idx.size, dtype=nd, endpoint=True)
        if vals.size > 3:  # equal high halves, different low halves
            vals[:3] = np.array([5 << 32 | 7, 5 << 32 | 9, 5 << 32], nd)
        mptr, midx, mvals = mx.array(ptr), mx.array(idx), mx.array(vals)
        dense = np.zeros((n_major, n_minor), nd)
        np.add.at(dense, (np.repeat(np.arange(n_major), np.diff(ptr)), idx), vals)
        x = rng.integers(info.min, info.max, n_minor, dtype=nd, endpoint=True)
        xt = rng.integers(info.min, info.max, n_major, dtype=nd, endpoint=True)
        with np.errstate(over="ignore"):
            assert P.compressed_matvec(n_major, n_minor, mptr, midx, mvals, mx.array(x)).tolist() == (dense @ x).tolist()
            assert P.compressed_matvec_t(n_major, n_minor, mptr, midx, mvals, mx.array(xt)).tolist() == (xt @ dense).tolist()
            for op in P.REDUCE_OPS:
                want = [_np_reduce(op, vals[ptr[i] : ptr[i + 1]], nd) for i in range(n_major)]
                assert P.compressed_reduce_major(op, n_major, mptr, mvals).tolist() == [int(w) for w in want]
                want = [_np_reduce(op, vals[idx == j], nd) for j in range(n_minor)]
                assert P.compressed_reduce_minor(op, n_minor, midx, mvals).tolist() == [int(w) for w in want]
