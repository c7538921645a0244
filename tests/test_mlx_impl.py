"""Tests of the plain-MLX structural kernels against SciPy / NumPy."""

import importlib
import importlib.util
import pathlib

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as sp


def _load():
    try:
        return importlib.import_module("mlx_sparse._ops.mlx_impl")
    except ImportError:
        path = pathlib.Path(__file__).parents[1] / "mlx_sparse" / "_ops" / "mlx_impl.py"
        spec = importlib.util.spec_from_file_location("_mlx_impl_under_test", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod


M = _load()

# name -> (mlx dtype, numpy dtype SciPy computes the reference in)
VALUE_DTYPES = {
    "bool": (mx.bool_, np.bool_),
    "int8": (mx.int8, np.int8),
    "int32": (mx.int32, np.int32),
    "uint64": (mx.uint64, np.uint64),
    "float16": (mx.float16, np.float32),
    "bfloat16": (mx.bfloat16, np.float32),
    "float32": (mx.float32, np.float32),
    "float64": (mx.float64, np.float64),
    "complex64": (mx.complex64, np.complex64),
}
INDEX_DTYPES = {"int32": (mx.int32, np.int32), "int64": (mx.int64, np.int64)}
SHAPES = [(0, 0), (0, 3), (3, 0), (1, 7), (7, 1), (6, 9), (25, 13)]

vdt_params = pytest.mark.parametrize("vname", list(VALUE_DTYPES))


@pytest.fixture(autouse=True)
def _float64_on_the_cpu(request):
    """These call the MLX-ops functions directly, below dispatch: float64 cases run
    on the CPU stream, as dispatch runs them (MLX has no float64 on a GPU)."""
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    if "float64" in params.values():
        with mx.stream(mx.cpu):
            yield
    else:
        yield
idt_params = pytest.mark.parametrize("iname", list(INDEX_DTYPES))
shape_params = pytest.mark.parametrize("shape", SHAPES)


def _values(rng, n, vname):
    """Random values exactly representable in the tested dtype, with zeros."""
    _, ref = VALUE_DTYPES[vname]
    if vname == "bool":
        v = rng.random(n) < 0.6
    elif vname in ("int8", "int32", "uint64"):
        lo = 0 if vname == "uint64" else -100
        v = rng.integers(lo, 100, n)
    elif vname == "complex64":
        v = rng.integers(-4, 5, n) + 1j * rng.integers(-4, 5, n)
    else:
        v = rng.integers(-8, 9, n) / 4.0  # exact in bf16/f16
    v = np.asarray(v).astype(ref)
    if n:
        v[rng.random(n) < 0.2] = 0  # explicit zeros
    return v


def _to_mx(a, dt):
    if dt in (mx.bfloat16, mx.float16):
        return mx.array(np.asarray(a, np.float32)).astype(dt)
    return mx.array(np.asarray(a), dtype=dt)


def _to_np(a):
    if a.dtype in (mx.bfloat16, mx.float16):
        a = a.astype(mx.float32)
    return np.array(a)


def _check_values(got, want, vname):
    mdt, _ = VALUE_DTYPES[vname]
    assert got.dtype == mdt
    g = _to_np(got)
    want = np.asarray(want)
    assert g.shape == want.shape
    if vname in ("float16", "bfloat16"):
        tol = 1e-2 if vname == "float16" else 4e-2
        np.testing.assert_allclose(g, want, rtol=tol, atol=tol)
    elif vname in ("float32", "complex64"):
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(g, want)


def _check_index(got, want, idt):
    assert got.dtype == idt
    np.testing.assert_array_equal(np.array(got), np.asarray(want))


def _random_coo(rng, shape, nnz=None):
    """COO triplets with duplicates and unsorted order (may be empty)."""
    m, n = shape
    if m * n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if nnz is None:
        nnz = int(rng.integers(0, 2 * m * n + 2))
    # Draw from a subset of rows so some rows stay empty.
    rows_pool = rng.choice(m, size=max(1, (2 * m) // 3), replace=False)
    row = rng.choice(rows_pool, nnz)
    col = rng.integers(0, n, nnz)
    return row.astype(np.int64), col.astype(np.int64)


def _random_csr(rng, shape, sorted_=False, dups=True):
    """Scipy csr (no canonical guarantees unless asked) as raw arrays."""
    row, col = _random_coo(rng, shape)
    order = np.argsort(row, kind="stable")
    row, col = row[order], col[order]
    if not dups:
        key = np.unique(row * max(shape[1], 1) + col)
        row, col = key // max(shape[1], 1), key % max(shape[1], 1)
    if sorted_:
        order = np.lexsort((col, row))
        row, col = row[order], col[order]
    indptr = np.zeros(shape[0] + 1, np.int64)
    np.add.at(indptr, row + 1, 1)
    return np.cumsum(indptr), col


def _scipy(vals, idx, ptr, shape):
    # Copies: SciPy's in-place methods would otherwise rewrite our inputs.
    return sp.csr_array((vals.copy(), idx.copy(), ptr.copy()), shape=shape)


# --------------------------------------------------------------------------


@vdt_params
@idt_params
@shape_params
def test_coo_to_compressed(vname, iname, shape):
    rng = np.random.default_rng(hash((vname, iname, shape)) % 2**32)
    mdt, _ = VALUE_DTYPES[vname]
    mit, _ = INDEX_DTYPES[iname]
    row, col = _random_coo(rng, shape)
    vals = _values(rng, row.size, vname)
    want = sp.coo_array((vals, (row, col)), shape=shape).tocsr()
    indptr, indices, data = M.coo_to_compressed(
        shape[0], shape[1], _to_mx(row, mit), _to_mx(col, mit), _to_mx(vals, mdt)
    )
    _check_index(indptr, want.indptr, mit)
    _check_index(indices, want.indices, mit)
    _check_values(data, want.data, vname)
    # CSC is the same call with the axes swapped.
    want_c = sp.coo_array((vals, (row, col)), shape=shape).tocsc()
    indptr, indices, data = M.coo_to_compressed(
        shape[1], shape[0], _to_mx(col, mit), _to_mx(row, mit), _to_mx(vals, mdt)
    )
    _check_index(indptr, want_c.indptr, mit)
    _check_index(indices, want_c.indices, mit)
    _check_values(data, want_c.data, vname)


def test_coo_to_compressed_keeps_zero_sums():
    row = mx.array([1, 0, 1, 1], mx.int32)
    col = mx.array([2, 0, 2, 0], mx.int32)
    data = mx.array([1.5, 0.0, -1.5, 2.0])
    indptr, indices, out = M.coo_to_compressed(2, 3, row, col, data)
    assert indptr.tolist() == [0, 1, 3]
    assert indices.tolist() == [0, 0, 2]
    assert out.tolist() == [0.0, 2.0, 0.0]


def test_coo_to_compressed_bool_is_or():
    # 300 duplicates of True: an 8-bit sum would wrap to 44, OR stays True.
    row = mx.zeros((300,), mx.int32)
    col = mx.zeros((300,), mx.int32)
    _, _, out = M.coo_to_compressed(1, 1, row, col, mx.ones((300,), mx.bool_))
    assert out.dtype == mx.bool_ and out.tolist() == [True]


def test_coo_to_compressed_huge_minor_dim():
    """n_major * n_minor * nnz overflows int64: the rank fallback is taken."""
    rng = np.random.default_rng(0)
    n_minor = 2**62
    row = rng.integers(0, 5, 200)
    col = rng.choice(np.array([0, 7, 2**40, 2**61 + 3, 2**62 - 1]), 200)
    vals = rng.integers(-5, 5, 200).astype(np.int64)
    indptr, indices, data = M.coo_to_compressed(
        5, n_minor, mx.array(row), mx.array(col), mx.array(vals)
    )
    key = row.astype(object) * n_minor + col.astype(object)
    uniq = sorted(set(key))
    want_sum = {u: 0 for u in uniq}
    for kk, v in zip(key, vals):
        want_sum[kk] += int(v)
    assert indices.tolist() == [u % n_minor for u in uniq]
    assert data.tolist() == [want_sum[u] for u in uniq]
    assert indptr.tolist() == list(np.searchsorted([u // n_minor for u in uniq], np.arange(6)))


@vdt_params
@idt_params
@shape_params
def test_compressed_transpose(vname, iname, shape):
    rng = np.random.default_rng(hash(("t", vname, iname, shape)) % 2**32)
    mdt, _ = VALUE_DTYPES[vname]
    mit, _ = INDEX_DTYPES[iname]
    ptr, idx = _random_csr(rng, shape)
    # Unsorted slices with duplicates: shuffle within each row.
    for r in range(shape[0]):
        rng.shuffle(idx[ptr[r] : ptr[r + 1]])
    vals = _values(rng, idx.size, vname)
    major = np.repeat(np.arange(shape[0]), np.diff(ptr))
    order = np.argsort(idx, kind="stable")  # the documented stable order
    want_ptr = np.concatenate([[0], np.cumsum(np.bincount(idx, minlength=shape[1]))])
    indptr_t, indices_t, data_t = M.compressed_transpose(
        shape[0], shape[1], _to_mx(ptr, mit), _to_mx(idx, mit), _to_mx(vals, mdt)
    )
    _check_index(indptr_t, want_ptr, mit)
    _check_index(indices_t, major[order], mit)
    _check_values(data_t, vals[order], vname)
    # Same matrix as SciPy's (tocsc sums duplicates, so compare densely).
    if vname != "bool":
        t = sp.csc_array((vals[order], major[order], want_ptr), shape=shape)
        np.testing.assert_array_equal(t.toarray(), _scipy(vals, idx, ptr, shape).toarray())


def test_compressed_transpose_matches_scipy_canonical():
    rng = np.random.default_rng(1)
    a = sp.random_array((40, 30), density=0.2, format="csr", rng=rng, dtype=np.float64)
    b = a.tocsc()
    with mx.stream(mx.cpu):  # float64: MLX computes it on the CPU only
        indptr, indices, data = M.compressed_transpose(
            40, 30, mx.array(a.indptr), mx.array(a.indices), mx.array(a.data, dtype=mx.float64)
        )
    np.testing.assert_array_equal(np.array(indptr), b.indptr)
    np.testing.assert_array_equal(np.array(indices), b.indices)
    np.testing.assert_array_equal(np.array(data), b.data)


def test_compressed_transpose_under_compile():
    rng = np.random.default_rng(2)
    ptr, idx = _random_csr(rng, (8, 5))
    vals = np.arange(idx.size, dtype=np.float32)
    f = mx.compile(lambda p, i, d: M.compressed_transpose(8, 5, p, i, d))
    got = f(mx.array(ptr), mx.array(idx), mx.array(vals))
    want = M.compressed_transpose(8, 5, mx.array(ptr), mx.array(idx), mx.array(vals))
    for g, w in zip(got, want):
        assert g.tolist() == w.tolist()


@vdt_params
@idt_params
@shape_params
def test_sort_indices(vname, iname, shape):
    rng = np.random.default_rng(hash(("s", vname, iname, shape)) % 2**32)
    mdt, _ = VALUE_DTYPES[vname]
    mit, _ = INDEX_DTYPES[iname]
    ptr, idx = _random_csr(rng, shape)
    for r in range(shape[0]):
        rng.shuffle(idx[ptr[r] : ptr[r + 1]])
    vals = _values(rng, idx.size, vname)
    major = np.repeat(np.arange(shape[0]), np.diff(ptr))
    order = np.lexsort((np.arange(idx.size), idx, major))
    for kw in ({}, {"n_minor": shape[1]}):
        indices, data = M.sort_indices(_to_mx(ptr, mit), _to_mx(idx, mit), _to_mx(vals, mdt), **kw)
        _check_index(indices, idx[order], mit)
        _check_values(data, vals[order], vname)
    if vname == "float64":
        s = _scipy(vals, idx, ptr, shape)
        s.sort_indices()
        np.testing.assert_array_equal(np.array(indices), s.indices)


def test_sort_indices_large_int64_values_and_stability():
    """Unknown bound on int64 indices: the dense-rank path, ties in input order."""
    big = np.array([2**62, 5, 2**62, 2**40, 5, 0, 2**62, 5], np.int64)
    ptr = np.array([0, 5, 5, 8], np.int64)
    vals = np.arange(8, dtype=np.int64)
    indices, data = M.sort_indices(mx.array(ptr), mx.array(big), mx.array(vals))
    major = np.repeat(np.arange(3), np.diff(ptr))
    order = np.lexsort((np.arange(8), big, major))
    assert indices.tolist() == big[order].tolist()
    assert data.tolist() == vals[order].tolist()


def test_lexsort_overflow_paths():
    rng = np.random.default_rng(3)
    n = 500
    a = rng.integers(0, 4, n)
    b = rng.choice(np.array([0, 3, 2**50, 2**62]), n)
    want = np.lexsort((np.arange(n), b, a))
    for bounds in [(4, 2**62 + 1), (4, None), (None, None), (2**62, 2**62 + 1)]:
        perm = M._lexsort([(mx.array(a), bounds[0]), (mx.array(b), bounds[1])], n)
        np.testing.assert_array_equal(np.array(perm), want)
    # The folded key is ranked first (c, d fold; a does not fit on top).
    c = rng.integers(0, 2**20, n)
    d = rng.integers(0, 2**30, n)
    want = np.lexsort((np.arange(n), c, a))
    perm = M._lexsort([(mx.array(a), 2**40), (mx.array(c), 2**20)], n)
    np.testing.assert_array_equal(np.array(perm), want)
    # Both the new key and the folded key get ranked.
    want = np.lexsort((np.arange(n), d, c, b))
    perm = M._lexsort([(mx.array(b), None), (mx.array(c), 2**20), (mx.array(d), 2**30)], n)
    np.testing.assert_array_equal(np.array(perm), want)
    perm = M._lexsort([(mx.array(a), 4), (mx.array(b), None)], n, stable=False)
    want = np.lexsort((b, a))
    got = np.array(perm)
    np.testing.assert_array_equal(a[got], a[want])
    np.testing.assert_array_equal(b[got], b[want])


@vdt_params
@idt_params
@shape_params
def test_sum_duplicates(vname, iname, shape):
    rng = np.random.default_rng(hash(("d", vname, iname, shape)) % 2**32)
    mdt, _ = VALUE_DTYPES[vname]
    mit, _ = INDEX_DTYPES[iname]
    ptr, idx = _random_csr(rng, shape, sorted_=True)
    vals = _values(rng, idx.size, vname)
    want = _scipy(vals, idx, ptr, shape)
    want.sum_duplicates()
    indptr, indices, data = M.sum_duplicates(
        _to_mx(ptr, mit), _to_mx(idx, mit), _to_mx(vals, mdt)
    )
    _check_index(indptr, want.indptr, mit)
    _check_index(indices, want.indices, mit)
    _check_values(data, want.data, vname)


def test_sum_duplicates_without_duplicates_is_identity():
    ptr, idx, vals = mx.array([0, 2, 2, 3]), mx.array([0, 3, 1]), mx.array([0.0, 1.0, 2.0])
    out = M.sum_duplicates(ptr, idx, vals)
    assert [o.tolist() for o in out] == [[0, 2, 2, 3], [0, 3, 1], [0.0, 1.0, 2.0]]


@vdt_params
@idt_params
@shape_params
def test_eliminate_zeros(vname, iname, shape):
    rng = np.random.default_rng(hash(("z", vname, iname, shape)) % 2**32)
    mdt, _ = VALUE_DTYPES[vname]
    mit, _ = INDEX_DTYPES[iname]
    ptr, idx = _random_csr(rng, shape)
    vals = _values(rng, idx.size, vname)
    if vname in ("float32", "float64") and vals.size:
        vals[0] = np.nan
        vals[-1] = -0.0
    want = _scipy(vals.copy(), idx.copy(), ptr.copy(), shape)
    want.eliminate_zeros()
    indptr, indices, data = M.eliminate_zeros(_to_mx(ptr, mit), _to_mx(idx, mit), _to_mx(vals, mdt))
    _check_index(indptr, want.indptr, mit)
    _check_index(indices, want.indices, mit)
    _check_values(data, want.data, vname)


@vdt_params
@idt_params
@shape_params
def test_compressed_to_dense(vname, iname, shape):
    rng = np.random.default_rng(hash(("cd", vname, iname, shape)) % 2**32)
    mdt, _ = VALUE_DTYPES[vname]
    mit, _ = INDEX_DTYPES[iname]
    ptr, idx = _random_csr(rng, shape)
    vals = _values(rng, idx.size, vname)
    want = _scipy(vals, idx, ptr, shape).toarray()
    got = M.compressed_to_dense(shape[0], shape[1], _to_mx(ptr, mit), _to_mx(idx, mit), _to_mx(vals, mdt))
    assert got.shape == shape
    _check_values(got, want, vname)


@vdt_params
@idt_params
@shape_params
def test_coo_to_dense(vname, iname, shape):
    rng = np.random.default_rng(hash(("od", vname, iname, shape)) % 2**32)
    mdt, _ = VALUE_DTYPES[vname]
    mit, _ = INDEX_DTYPES[iname]
    row, col = _random_coo(rng, shape)
    vals = _values(rng, row.size, vname)
    want = sp.coo_array((vals, (row, col)), shape=shape).toarray()
    got = M.coo_to_dense(shape[0], shape[1], _to_mx(row, mit), _to_mx(col, mit), _to_mx(vals, mdt))
    assert got.shape == shape
    _check_values(got, want, vname)


@vdt_params
@idt_params
@shape_params
def test_dense_to_compressed(vname, iname, shape):
    rng = np.random.default_rng(hash(("dc", vname, iname, shape)) % 2**32)
    mdt, _ = VALUE_DTYPES[vname]
    mit, _ = INDEX_DTYPES[iname]
    dense = _values(rng, shape[0] * shape[1], vname).reshape(shape)
    if vname == "float64" and dense.size:
        dense.flat[0] = np.nan
    if dense.shape[0] > 2:
        dense[1] = 0  # an empty row
    want = sp.csr_array(dense)
    indptr, indices, data = M.dense_to_compressed(_to_mx(dense, mdt), mit)
    _check_index(indptr, want.indptr, mit)
    _check_index(indices, want.indices, mit)
    _check_values(data, want.data, vname)


@vdt_params
@shape_params
def test_compressed_diagonal(vname, shape):
    rng = np.random.default_rng(hash(("dg", vname, shape)) % 2**32)
    mdt, _ = VALUE_DTYPES[vname]
    ptr, idx = _random_csr(rng, shape)
    vals = _values(rng, idx.size, vname)
    a = _scipy(vals, idx, ptr, shape)
    for k in range(-shape[0] - 1, shape[1] + 2):
        want = a.diagonal(k)
        got = M.compressed_diagonal(k, shape[0], shape[1], mx.array(ptr), mx.array(idx), _to_mx(vals, mdt))
        _check_values(got, want, vname)


@idt_params
def test_compressed_diagonal_csc(iname):
    """CSC: swap the axes and negate k."""
    mit, _ = INDEX_DTYPES[iname]
    rng = np.random.default_rng(4)
    a = sp.random_array((7, 4), density=0.5, format="csc", rng=rng, dtype=np.float32)
    for k in range(-8, 6):
        got = M.compressed_diagonal(
            -k, 4, 7, mx.array(a.indptr, dtype=mit), mx.array(a.indices, dtype=mit), mx.array(a.data)
        )
        np.testing.assert_allclose(np.array(got), a.diagonal(k))


@idt_params
def test_expand_indptr(iname):
    mit, _ = INDEX_DTYPES[iname]
    for ptr in ([0], [0, 0], [0, 3], [0, 0, 2, 2, 5, 5], [0, 1, 2, 3], [0, 4, 4, 4]):
        ptr = np.array(ptr)
        nnz = int(ptr[-1])
        got = M.expand_indptr(mx.array(ptr, dtype=mit), nnz)
        _check_index(got, np.repeat(np.arange(ptr.size - 1), np.diff(ptr)), mit)
