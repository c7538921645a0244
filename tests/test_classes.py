"""The public classes beyond what SciPy can check: float16 / bfloat16 data
(compared with SciPy on float32), storage immutability, float64 on the CPU,
to_scipy() round trips, and the documented differences from SciPy."""
import os
import sys

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

import mlx_sparse.sparse as msp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "scipy_compat_tests"))
from oracle import (SPECS, Case, assert_matches_scipy, assert_values_equal,  # noqa: E402
                    dtype_of, host, snapshot, spec_params, test_seed, _snap_equal)

FORMATS = ("coo", "csr", "csc")
COMPRESSED = ("csr", "csc")
KINDS = ("array", "matrix")
LOWP = {"float16": mx.float16, "bfloat16": mx.bfloat16}

_BASE_SEED = int(os.environ.get("MLX_SPARSE_TEST_SEED") or
                 int.from_bytes(os.urandom(4), "little"))


@pytest.fixture
def rng(request):
    seed = test_seed(_BASE_SEED, request.node.nodeid)
    # shown with the captured output of a failing test
    print(f"random seed {seed}; reproduce with MLX_SPARSE_TEST_SEED={_BASE_SEED}")
    return np.random.default_rng(seed)


@pytest.fixture
def case(spec, rng):
    return Case(spec, rng)


def _cls(lib, fmt, kind="array"):
    return getattr(lib, f"{fmt}_{kind}")


# ======================================================================================
# float16 and bfloat16: SciPy has neither, so compare with SciPy run on float32
# ======================================================================================
FLOAT_SPECS = [s for s in SPECS if s.dtype == "float32" or
               (s.dtype == "float64" and s.messy)]


def _lowp_case(case, lowp):
    """The case's values rounded to `lowp` (so float32 holds them exactly): returns
    (float32 NumPy data for SciPy, the same values as an MLX `lowp` array)."""
    d32 = case.data.astype(np.float32)
    if d32.size:
        d32 = np.clip(d32, -1000, 1000)
    lo = mx.array(d32).astype(LOWP[lowp])
    return np.asarray(lo.astype(mx.float32)), lo


def _build(lib, fmt, kind, data, case):
    """fmt/kind object of `case`'s structure with `data` (any array) as values."""
    if fmt == "coo":
        return _cls(lib, fmt, kind)((data, (case.row.copy(), case.col.copy())),
                                    shape=case.shape)
    from oracle import compress
    order_data, ind, ptr = compress(np.arange(case.row.size), case.row, case.col,
                                    case.shape, 0 if fmt == "csr" else 1)
    d = data[mx.array(order_data)] if isinstance(data, mx.array) else data[order_data]
    return _cls(lib, fmt, kind)((d, ind, ptr), shape=case.shape)


def assert_lowp_matches(ours, theirs, lowp):
    """Our float16/bfloat16 result against SciPy's float32 one: same structure,
    values to lowp precision, and the lowp dtype kept."""
    if ssp.issparse(theirs):
        assert ours.format == theirs.format and tuple(ours.shape) == theirs.shape
        assert ours.data.dtype == LOWP[lowp], f"dtype {ours.data.dtype} != {lowp}"
        want = np.float16 if lowp == "float16" else mx.bfloat16
        assert ours.dtype == want
        names = ("row", "col") if theirs.format == "coo" else ("indptr", "indices")
        for nm in names:
            assert_values_equal(getattr(ours, nm), getattr(theirs, nm), what=nm)
            assert dtype_of(getattr(ours, nm)) == getattr(theirs, nm).dtype
        assert_values_equal(ours.data, theirs.data, dtype=want, what="data")
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, mx.array) and ours.dtype == LOWP[lowp], ours
        assert_values_equal(ours, theirs, dtype=mx.bfloat16, what="dense")
    elif isinstance(theirs, tuple):
        for o, t in zip(ours, theirs):
            assert_lowp_matches(o, t, lowp)
    else:
        assert ours == theirs, (ours, theirs)


LOWP_OPS = {
    "construct": lambda A: A,
    "tocoo": lambda A: A.tocoo(),
    "tocsr": lambda A: A.tocsr(),
    "tocsc": lambda A: A.tocsc(),
    "transpose": lambda A: A.T,
    "toarray": lambda A: A.toarray(),
    "diagonal": lambda A: (A.diagonal(), A.diagonal(1), A.diagonal(-2)),
    "copy": lambda A: A.copy(),
    "nnz-shape": lambda A: (A.nnz, A.shape),
}


def _inplace(name):
    def op(A):
        getattr(A, name)()
        return A
    return op


LOWP_OPS.update({n: _inplace(n) for n in ("sum_duplicates", "eliminate_zeros")})


@pytest.mark.parametrize("op", list(LOWP_OPS))
@pytest.mark.parametrize("lowp", list(LOWP))
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(FLOAT_SPECS))
def test_low_precision_ops(case, fmt, lowp, op):
    d32, lo = _lowp_case(case, lowp)
    theirs = LOWP_OPS[op](_build(ssp, fmt, case.spec.kind, d32, case))
    ours = LOWP_OPS[op](_build(msp, fmt, case.spec.kind, lo, case))
    assert_lowp_matches(ours, theirs, lowp)


@pytest.mark.parametrize("lowp", list(LOWP))
@pytest.mark.parametrize("fmt", COMPRESSED)
@pytest.mark.parametrize("spec", spec_params(FLOAT_SPECS))
def test_low_precision_sort_indices(case, fmt, lowp):
    d32, lo = _lowp_case(case, lowp)
    S = _build(ssp, fmt, case.spec.kind, d32, case)
    A = _build(msp, fmt, case.spec.kind, lo, case)
    assert A.has_sorted_indices == S.has_sorted_indices
    S.sort_indices()
    A.sort_indices()
    assert A.has_sorted_indices
    assert_values_equal(A.indices, S.indices)
    assert_values_equal(A.toarray(), S.toarray(), dtype=mx.bfloat16)


@pytest.mark.parametrize("lowp", list(LOWP))
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(FLOAT_SPECS))
def test_low_precision_counts(case, fmt, lowp):
    d32, lo = _lowp_case(case, lowp)
    S = _build(ssp, fmt, case.spec.kind, d32, case)
    A = _build(msp, fmt, case.spec.kind, lo, case)
    assert_matches_scipy(A.nonzero(), S.nonzero())
    for axis in (None, 0, 1):
        assert_matches_scipy(A.count_nonzero(axis=axis), S.count_nonzero(axis=axis))


@pytest.mark.parametrize("lowp", list(LOWP))
@pytest.mark.parametrize("fmt", FORMATS)
def test_low_precision_dtype_arguments(fmt, lowp):
    # dtype= accepts the MLX dtype and its name (and numpy.float16 for float16)
    names = [LOWP[lowp], lowp] + ([np.float16, "float16"] if lowp == "float16" else [])
    for dt in names:
        A = _cls(msp, fmt)((3, 4), dtype=dt)
        assert A.data.dtype == LOWP[lowp] and A.nnz == 0 and A.shape == (3, 4)
        B = _cls(msp, fmt)(np.array([[0.5, 0], [0, -2.0]]), dtype=dt)
        assert B.data.dtype == LOWP[lowp]
        assert_values_equal(B.toarray().astype(mx.float32), np.array([[0.5, 0], [0, -2.0]]))
        C = _cls(msp, fmt)(np.eye(2)).astype(dt)
        assert C.data.dtype == LOWP[lowp]


@pytest.mark.parametrize("lowp", list(LOWP))
@pytest.mark.parametrize("fmt", FORMATS)
def test_low_precision_from_mlx_dense(fmt, lowp):
    a = np.array([[0, 1.5, 0], [-3, 0, 0.25]], np.float32)
    A = _cls(msp, fmt)(mx.array(a).astype(LOWP[lowp]))
    assert A.data.dtype == LOWP[lowp]
    assert_lowp_matches(A, _cls(ssp, fmt)(a), lowp)


@pytest.mark.parametrize("lowp", list(LOWP))
@pytest.mark.parametrize("fmt", FORMATS)
def test_low_precision_repr_str(fmt, lowp):
    a = np.array([[0, 1.5, 0], [-3, 0, 0.25]], np.float32)
    A = _cls(msp, fmt)(mx.array(a).astype(LOWP[lowp]))
    S = _cls(ssp, fmt)(a)
    assert repr(A) == repr(S).replace("'float32'", f"'{lowp}'")
    assert str(A) == str(S).replace("'float32'", f"'{lowp}'")


@pytest.mark.parametrize("lowp", list(LOWP))
@pytest.mark.parametrize("fmt", FORMATS)
def test_low_precision_astype_round_trip(fmt, lowp):
    a = np.array([[0, 1.5, 0], [-3, 0, 0.25]], np.float32)
    A = _cls(msp, fmt)(a)
    B = A.astype(LOWP[lowp])
    assert B.data.dtype == LOWP[lowp]
    C = B.astype(np.float32)
    assert C.dtype == np.float32
    assert_matches_scipy(C, _cls(ssp, fmt)(a))


@pytest.mark.parametrize("fmt", FORMATS)
def test_low_precision_rounding_is_lowp(fmt):
    # summing duplicates happens in the low precision type, not silently wider
    d = mx.array([1.0, 2.0**-11], dtype=mx.float16)  # 1 + 2^-11 rounds to 1 in float16
    A = _cls(msp, fmt)((d, (np.array([0, 0]), np.array([0, 0]))), shape=(1, 1))
    A.sum_duplicates()
    assert A.data.dtype == mx.float16
    assert A.nnz == 1
    assert float(A.data[0].item()) in (1.0, 1.0 + 2.0**-10)


@pytest.mark.parametrize("lowp", list(LOWP))
@pytest.mark.parametrize("fmt", FORMATS)
def test_low_precision_to_scipy(fmt, lowp):
    a = np.array([[0, 1.5, 0], [-3, 0, 0.25]], np.float32)
    A = _cls(msp, fmt)(mx.array(a).astype(LOWP[lowp]))
    S = A.to_scipy()
    assert S.format == fmt and isinstance(S, ssp.sparray)
    # bfloat16 has no NumPy dtype: it becomes float32. SciPy refuses float16 in most
    # operations, so float16 may come back as float16 or float32, but usable
    assert S.dtype == np.float32 or (lowp == "float16" and S.dtype == np.float16)
    np.testing.assert_array_equal(S.toarray().astype(np.float32), a)
    np.testing.assert_array_equal(S.tocsr().tocoo().toarray().astype(np.float32), a)


# ======================================================================================
# storage immutability
# ======================================================================================
def _on_cpu(make):
    """make() on the CPU stream: the test's own MLX ops (float64 has no GPU)."""
    with mx.stream(mx.cpu):
        return make()


def _arrays_of(storage):
    return {name: host(getattr(storage, name)) for name in
            ("row", "col", "data", "indptr", "indices") if hasattr(storage, name)}


def _same_arrays(a, b):
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and
        np.array_equal(a[k], b[k], equal_nan=True) for k in a)


INPLACE = {
    "sum_duplicates": lambda A: A.sum_duplicates(),
    "eliminate_zeros": lambda A: A.eliminate_zeros(),
    "sort_indices": lambda A: A.sort_indices(),
    "prune": lambda A: A.prune(),
    "count_nonzero": lambda A: A.count_nonzero(),
    "has_canonical_format": lambda A: A.has_canonical_format,
    "has_sorted_indices": lambda A: A.has_sorted_indices,
    "set-has_sorted_indices": lambda A: setattr(A, "has_sorted_indices", False),
    "set-has_canonical_format": lambda A: setattr(A, "has_canonical_format", True),
    "set-data": lambda A: setattr(A, "data", _on_cpu(lambda: A.data * 2)),
    "set_shape": lambda A: A.set_shape((A.shape[1], A.shape[0])),
}


@pytest.mark.parametrize("op", list(INPLACE))
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.messy and 0 not in s.shape]))
def test_inplace_methods_swap_storage_never_mutate(case, fmt, op):
    A = case.make(msp, fmt)
    if not hasattr(A, op.split("-")[-1]) and op not in ("set-data",):
        return
    if op == "set_shape" and case.spec.kind != "matrix":
        return
    old = A._s
    before = _arrays_of(old)
    views = [v for v in (A.T, A.copy(), A.tocoo(), A.tocsr(), A.tocsc()) if v is not A]
    view_state = [_arrays_of(v._s) for v in views]
    held = {k: getattr(A, k) for k in ("data", "indices", "indptr", "row", "col")
            if hasattr(A, k)}
    held_np = {k: host(v) for k, v in held.items()}
    INPLACE[op](A)
    # the storage object the method started from is untouched ...
    assert _same_arrays(_arrays_of(old), before), f"{op} mutated the old storage's arrays"
    # ... and so is everything that shared buffers with it
    for v, st in zip(views, view_state):
        assert _same_arrays(_arrays_of(v._s), st), f"{op} changed a view/copy of A"
    for k, v in held.items():
        assert np.array_equal(host(v), held_np[k], equal_nan=True), (
            f"{op} changed an array the caller held (A.{k})")
    # a change of contents comes with a new storage object
    if not _same_arrays(_arrays_of(A._s), before) or A._s.shape != old.shape:
        assert A._s is not old


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.messy]))
def test_storage_is_frozen(case, fmt):
    A = case.make(msp, fmt)
    with pytest.raises(Exception):
        A._s.data = mx.zeros(3)
    with pytest.raises(Exception):
        A._s.shape = (1, 1)


FAILING = {
    "count_nonzero-axis": lambda A: A.count_nonzero(axis=5),
    "count_nonzero-axis-tuple": lambda A: A.count_nonzero(axis=(0, 1)),
    "astype-str": lambda A: A.astype("U3"),
    "astype-complex128": lambda A: A.astype(np.complex128),
    "astype-safe": lambda A: A.astype(np.int8, casting="safe"),
    "reshape": lambda A: A.reshape((A.shape[0] + 1, A.shape[1] + 7)),
    "asformat": lambda A: A.asformat("nope"),
    "transpose-axes": lambda A: A.transpose(axes=(1, 1)),
    "toarray-out": lambda A: A.toarray(out=np.zeros((1, 1))),
    "diagonal-k": lambda A: A.diagonal(k=0.5),
    "set-shape": lambda A: A.set_shape((A.shape[0] + 1, A.shape[1] + 7)),
    "len": lambda A: len(A),
}


@pytest.mark.parametrize("op", list(FAILING))
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.messy and s.dtype in
                                              ("float64", "float32")]))
def test_failed_call_leaves_storage_identical(case, fmt, op):
    A = case.make(msp, fmt, "matrix")
    old = A._s
    before = _arrays_of(old)
    with pytest.raises(Exception):
        FAILING[op](A)
    same = A._s is old
    assert same, f"{op} failed but replaced A's storage"
    assert _same_arrays(_arrays_of(A._s), before)


@pytest.mark.parametrize("fmt", COMPRESSED)
def test_failed_check_format_leaves_storage_identical(fmt):
    A = _cls(msp, fmt)((np.array([1.0, 2.0, 5.0]), np.array([0, 7, 1]),
                        np.array([0, 2, 2, 3, 3])), shape=(4, 4))
    old = A._s
    with pytest.raises(ValueError):
        A.check_format(full_check=True)
    assert A._s is old


@pytest.mark.parametrize("fmt", FORMATS)
def test_setting_arrays_does_not_alias_caller(fmt):
    # SciPy stores NumPy arrays by reference; ours copies into MLX, so a later change
    # of the caller's array never reaches the matrix
    data = np.array([1.0, 2.0, 3.0])
    A = _cls(msp, fmt)((data, (np.array([0, 1, 2]), np.array([2, 1, 0]))), shape=(3, 3))
    before = host(A.toarray())
    data[:] = 99
    np.testing.assert_array_equal(host(A.toarray()), before)


# ======================================================================================
# float64 on the CPU
# ======================================================================================
X64 = np.array([[1 + 2.0**-40, 0, 0], [0, 0, -1e300], [1e-300, 3.0, 0]])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("route", ["dense", "mlx-dense", "triplets", "scipy", "list",
                                   "shape"])
def test_float64_is_kept(fmt, kind, route):
    # mx.array(np_float64) alone gives float32: every route must keep float64
    cls = _cls(msp, fmt, kind)
    if route == "dense":
        A = cls(X64)
    elif route == "mlx-dense":
        A = cls(mx.array(X64, dtype=mx.float64))
    elif route == "triplets":
        r, c = np.nonzero(X64)
        A = cls((X64[r, c], (r, c)), shape=X64.shape)
    elif route == "scipy":
        A = cls(_cls(ssp, fmt, kind)(X64))
    elif route == "list":
        A = cls(X64.tolist())
    else:
        A = cls((2, 2))
        assert A.dtype == np.float64 and A.data.dtype == mx.float64
        return
    assert A.dtype == np.float64 and A.data.dtype == mx.float64
    np.testing.assert_array_equal(host(A.toarray()), X64)
    for B in (A.tocoo(), A.tocsr(), A.tocsc(), A.T.T, A.copy()):
        assert B.data.dtype == mx.float64
        np.testing.assert_array_equal(host(B.toarray()), X64)


@pytest.mark.parametrize("fmt", FORMATS)
def test_float64_sums_in_float64(fmt):
    d = np.array([1.0, 2.0**-40, 2.0**-40])
    A = _cls(msp, fmt)((d, (np.zeros(3, int), np.zeros(3, int))), shape=(1, 1))
    A.sum_duplicates()
    assert A.data.dtype == mx.float64
    assert host(A.data)[0] == 1.0 + 2.0**-39
    assert host(A.toarray())[0, 0] == 1.0 + 2.0**-39
    assert float(A.trace().item()) == 1.0 + 2.0**-39


def test_float64_device_policy():
    from mlx_sparse import _dtypes
    assert _dtypes.device_for(mx.float64).type == mx.DeviceType.cpu
    assert _dtypes.needs_cpu(mx.float64) and not _dtypes.needs_cpu(mx.float32)
    dev = mx.default_device()
    A = msp.csr_array(X64)
    A.sum_duplicates()
    A.tocsc().toarray()
    assert mx.default_device() == dev, "an op changed MLX's default device"


@pytest.mark.parametrize("fmt", FORMATS)
def test_float64_results_live_on_cpu_stream(fmt):
    # results are ordinary arrays usable on the CPU stream with float64 intact
    A = _cls(msp, fmt)(X64)
    with mx.stream(mx.cpu):
        d = A.toarray()
        s = mx.sum(d * 2.0)
    want = float(np.sum(X64 * 2.0))
    assert d.dtype == mx.float64 and float(s.item()) == want


# ======================================================================================
# to_scipy round trips
# ======================================================================================
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_to_scipy_round_trip(case, fmt):
    A = case.make(msp, fmt)
    S = case.make(ssp, fmt)
    T = A.to_scipy()
    # the very object SciPy would have built: same class, structure, order and dtype
    assert type(T) is type(S)
    for nm in (("row", "col", "data") if fmt == "coo" else ("indptr", "indices", "data")):
        np.testing.assert_array_equal(getattr(T, nm), getattr(S, nm), err_msg=nm)
        assert getattr(T, nm).dtype == getattr(S, nm).dtype, nm
    assert T.shape == S.shape
    # and back: ours again, unchanged
    B = _cls(msp, fmt, case.spec.kind)(T)
    assert_matches_scipy(B, S)
    snap = snapshot(A)
    A.to_scipy()
    assert _snap_equal(snap, snapshot(A)), "to_scipy changed its source"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.messy]))
def test_to_scipy_is_a_copy(case, fmt):
    A = case.make(msp, fmt)
    T = A.to_scipy()
    if T.nnz:
        T.data[:] = 0
        T.sum_duplicates()
    assert_matches_scipy(A, case.make(ssp, fmt))


# ======================================================================================
# documented differences from SciPy
# ======================================================================================
@pytest.mark.parametrize("dtype", [np.complex128, np.clongdouble, np.longdouble], ids=str)
@pytest.mark.parametrize("fmt", FORMATS)
def test_unsupported_dtypes_raise_type_error(fmt, dtype):
    if np.dtype(dtype) in (np.dtype(np.float64),):
        return  # platforms where longdouble is float64
    with pytest.raises(TypeError, match="complex128|support"):
        _cls(msp, fmt)((2, 2), dtype=dtype)
    with pytest.raises(TypeError):
        _cls(msp, fmt)(np.eye(2, dtype=dtype))
    with pytest.raises(TypeError):
        _cls(msp, fmt)(np.eye(2)).astype(dtype)
    with pytest.raises(TypeError):
        _cls(msp, fmt)((np.ones(2, dtype), (np.array([0, 1]), np.array([1, 0]))),
                       shape=(2, 2))


@pytest.mark.parametrize("fmt", FORMATS)
def test_complex_python_list_is_complex128(fmt):
    # a list of Python complex numbers is complex128: rejected (say dtype=complex64)
    with pytest.raises(TypeError):
        _cls(msp, fmt)([[1j, 0], [0, 2]])
    A = _cls(msp, fmt)([[1j, 0], [0, 2]], dtype=np.complex64)
    assert A.dtype == np.complex64


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_and_n_dimensional_arrays_rejected(fmt):
    with pytest.raises(ValueError):
        _cls(msp, fmt)(np.ones(3))
    with pytest.raises(ValueError):
        _cls(msp, fmt)((3,))
    with pytest.raises(ValueError):
        _cls(msp, fmt)(np.ones((2, 2, 2)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_matrix_todense_is_mx_array(fmt):
    A = _cls(msp, fmt, "matrix")(np.eye(3))
    d = A.todense()
    assert isinstance(d, mx.array) and d.ndim == 2
    np.testing.assert_array_equal(host(d), np.eye(3))


def test_coo_from_canonical_csr_knows_it_is_canonical():
    A = msp.csr_array(np.array([[0, 1.0], [2.0, 3.0]]))
    C = A.tocoo()
    assert C.has_canonical_format  # (SciPy says False; ours reports the fact)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.shape == (9, 4)]))
def test_dense_results_are_mx_arrays(case, fmt):
    A = case.make(msp, fmt)
    for r in (A.toarray(), A.diagonal(), A.count_nonzero(axis=0), *A.nonzero()):
        assert isinstance(r, mx.array)
    assert type(A.count_nonzero()) is int
    assert isinstance(A.trace(), mx.array) and A.trace().ndim == 0
