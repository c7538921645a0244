"""Unit tests of the C++ kernels in mlx_sparse._native, against NumPy/SciPy oracles.

Every kernel runs on every value type (bool .. complex128, bfloat16 as raw uint16 bits)
and both index dtypes, on shapes with 0x0, 1xN, Nx1, empty rows, duplicates, explicit
zeros and unsorted entries. One test forces several threads on a problem above the
parallel threshold and checks the results are bit-identical to one thread.
"""
import importlib.util
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES

import numpy as np
import pytest
import scipy.sparse as sp


def _load_native():
    """mlx_sparse._native, loaded from its file so the package itself need not import."""
    spec = importlib.util.find_spec("mlx_sparse")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for suffix in EXTENSION_SUFFIXES:
            path = os.path.join(folder, "_native" + suffix)
            if os.path.exists(path):
                ext_spec = importlib.util.spec_from_file_location("mlx_sparse._native", path)
                module = importlib.util.module_from_spec(ext_spec)
                ext_spec.loader.exec_module(module)
                return module
    from mlx_sparse import _native  # e.g. a layout find_spec does not show

    return _native


native = _load_native()

VTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "bfloat16", "float32", "float64", "complex64", "complex128"]
INDEX_DTYPES = [np.int32, np.int64]
# (n_major, n_minor, nnz): empty, single row/column, empty rows, many duplicates
SHAPES = [(0, 0, 0), (1, 7, 12), (9, 1, 14), (6, 5, 0), (13, 11, 60), (40, 3, 150), (3, 50, 80)]


# ----------------------------------------------------------------- values per vtype

def storage_dtype(vtype):
    return np.dtype(np.uint16 if vtype == "bfloat16" else vtype)


def bf16_to_f32(bits):
    return (np.asarray(bits).astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(x):
    """Round float32 to bfloat16 bits, to nearest even (nan stays nan)."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(x, dtype=np.float32))
    return np.where(nan, ((bits >> 16) | 0x40).astype(np.uint16), rounded)


def random_values(rng, vtype, n):
    """Values with explicit zeros (and -0.0, nan for floats) in them."""
    if vtype == "bool":
        return rng.random(n) < 0.5
    dt = storage_dtype(vtype)
    if vtype in ("float16", "float32", "float64", "bfloat16"):
        x = rng.integers(-8, 9, n) / 4.0 + (rng.random(n) < 0.5) * rng.standard_normal(n)
        x[rng.random(n) < 0.15] = 0.0
        x[rng.random(n) < 0.05] = -0.0
        if vtype == "bfloat16":
            return f32_to_bf16(x.astype(np.float32))
        return x.astype(dt)
    if vtype.startswith("complex"):
        re = rng.integers(-3, 4, n).astype(np.float64) + rng.standard_normal(n)
        im = rng.integers(-2, 3, n).astype(np.float64)
        re[rng.random(n) < 0.3] = 0.0
        return (re + 1j * im).astype(dt)
    info = np.iinfo(dt)
    lo, hi = max(info.min, -(2**62)), min(info.max, 2**62)
    x = rng.integers(lo, hi, n, dtype=dt, endpoint=True)  # full range: sums wrap
    x[rng.random(n) < 0.2] = 0
    return x


def as_float(values, vtype):
    """Comparable values: bfloat16 bits as float32, others unchanged."""
    return bf16_to_f32(values) if vtype == "bfloat16" else np.asarray(values)


def is_nonzero(values, vtype):
    if vtype == "bfloat16":
        return (values & 0x7FFF) != 0
    return values != 0


def assert_values_equal(got, want, vtype, n_terms=1):
    """Exact, except bfloat16 (oracle sums in float64) within the rounding of n_terms adds."""
    assert got.dtype == storage_dtype(vtype)
    if vtype == "bfloat16":
        np.testing.assert_allclose(as_float(got, vtype), want, rtol=2.0**-7 * n_terms, atol=1e-30)
    else:
        np.testing.assert_array_equal(got, want)


def dup_sum(groups, values, n_groups, vtype):
    """Per-group sums in input order (np.add.at); float64 sums for bfloat16."""
    if vtype == "bfloat16":
        out = np.zeros(n_groups, np.float64)
        np.add.at(out, groups, bf16_to_f32(values).astype(np.float64))
        return out
    out = np.zeros(n_groups, values.dtype)
    np.add.at(out, groups, values)
    return out


def random_coo(rng, n_major, n_minor, nnz, idx_dtype, vtype):
    if n_major == 0 or n_minor == 0:
        nnz = 0
    # few distinct rows and columns, so there are plenty of duplicates and empty rows
    major = rng.integers(0, max(n_major, 1), nnz)
    if n_major > 4:
        major = np.where(major % 4 == 1, major - 1, major)
    minor = rng.integers(0, max(n_minor, 1), nnz)
    return major.astype(idx_dtype), minor.astype(idx_dtype), random_values(rng, vtype, nnz)


def random_compressed(rng, n_major, n_minor, nnz, idx_dtype, vtype):
    """Unsorted compressed arrays with duplicates (COO entries grouped by major, stably)."""
    major, minor, values = random_coo(rng, n_major, n_minor, nnz, idx_dtype, vtype)
    order = np.argsort(major, kind="stable")
    indptr = np.zeros(n_major + 1, idx_dtype)
    np.cumsum(np.bincount(major, minlength=n_major)[:n_major], out=indptr[1:])
    return indptr, minor[order], values[order]


def canonical_oracle(n_major, n_minor, major, minor, values, vtype):
    key = major.astype(np.int64) * max(n_minor, 1) + minor.astype(np.int64)
    uniq, groups = np.unique(key, return_inverse=True)
    sums = dup_sum(groups, values, len(uniq), vtype)
    rows = uniq // max(n_minor, 1)
    indptr = np.zeros(n_major + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n_major)[:n_major], out=indptr[1:])
    counts = np.bincount(groups, minlength=len(uniq))
    return indptr, uniq % max(n_minor, 1), sums, counts.max(initial=1)


# ----------------------------------------------------------------- kernels on every dtype

@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_coo_to_compressed(vtype, idx_dtype):
    rng = np.random.default_rng(1)
    for n_major, n_minor, nnz in SHAPES:
        major, minor, values = random_coo(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        indptr, indices, data = native.coo_to_compressed(n_major, n_minor, major, minor, values, vtype)
        want_ptr, want_idx, want_val, dups = canonical_oracle(n_major, n_minor, major, minor, values, vtype)
        assert indptr.dtype == idx_dtype and indices.dtype == idx_dtype
        np.testing.assert_array_equal(indptr, want_ptr)
        np.testing.assert_array_equal(indices, want_idx)
        assert_values_equal(data, want_val, vtype, dups)


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_compressed_transpose(vtype, idx_dtype):
    rng = np.random.default_rng(2)
    for n_major, n_minor, nnz in SHAPES:
        indptr, indices, values = random_compressed(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        tp, ti, td = native.compressed_transpose(n_major, n_minor, indptr, indices, values, vtype)
        major = np.repeat(np.arange(n_major), np.diff(indptr))
        order = np.argsort(indices, kind="stable")
        want_ptr = np.zeros(n_minor + 1, np.int64)
        np.cumsum(np.bincount(indices, minlength=n_minor)[:n_minor], out=want_ptr[1:])
        assert tp.dtype == idx_dtype and ti.dtype == idx_dtype and td.dtype == values.dtype
        np.testing.assert_array_equal(tp, want_ptr)
        np.testing.assert_array_equal(ti, major[order])
        np.testing.assert_array_equal(td, values[order])


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_sort_indices_and_sum_duplicates(vtype, idx_dtype):
    rng = np.random.default_rng(3)
    for n_major, n_minor, nnz in SHAPES:
        indptr, indices, values = random_compressed(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        major = np.repeat(np.arange(n_major), np.diff(indptr))
        si, sd = native.sort_indices(indptr, indices, values, vtype)
        order = np.lexsort((indices, major))  # stable
        np.testing.assert_array_equal(si, indices[order])
        np.testing.assert_array_equal(sd, values[order])
        assert si.dtype == idx_dtype and sd.dtype == values.dtype

        ptr, idx, val = native.sum_duplicates(indptr, si, sd, vtype)
        want_ptr, want_idx, want_val, dups = canonical_oracle(n_major, n_minor, major[order], si, sd, vtype)
        np.testing.assert_array_equal(ptr, want_ptr)
        np.testing.assert_array_equal(idx, want_idx)
        assert_values_equal(val, want_val, vtype, dups)

        # fused: sort and sum in one pass, same bits as the two calls
        fused = native.sum_duplicates(indptr, indices, values, vtype, assume_sorted=False)
        for got, want in zip(fused, (ptr, idx, val)):
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_sum_duplicates_merges_adjacent_only(vtype, idx_dtype):
    indptr = np.array([0, 5, 5, 7], idx_dtype)
    indices = np.array([2, 2, 0, 2, 2, 1, 1], idx_dtype)
    values = random_values(np.random.default_rng(4), vtype, 7)
    ptr, idx, val = native.sum_duplicates(indptr, indices, values, vtype)
    np.testing.assert_array_equal(ptr, [0, 3, 3, 4])
    np.testing.assert_array_equal(idx, [2, 0, 2, 1])
    groups = np.array([0, 0, 1, 2, 2, 3, 3])
    assert_values_equal(val, dup_sum(groups, values, 4, vtype), vtype, 2)


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_eliminate_zeros(vtype, idx_dtype):
    rng = np.random.default_rng(5)
    for n_major, n_minor, nnz in SHAPES:
        indptr, indices, values = random_compressed(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        if vtype in ("float32", "float64") and len(values):
            values[::7] = np.nan  # nan is not zero
        ptr, idx, val = native.eliminate_zeros(indptr, indices, values, vtype)
        keep = is_nonzero(values, vtype)
        major = np.repeat(np.arange(n_major), np.diff(indptr))
        want_ptr = np.zeros(n_major + 1, np.int64)
        np.cumsum(np.bincount(major[keep], minlength=n_major)[:n_major], out=want_ptr[1:])
        np.testing.assert_array_equal(ptr, want_ptr)
        np.testing.assert_array_equal(idx, indices[keep])
        np.testing.assert_array_equal(val.view(np.uint8), values[keep].view(np.uint8))  # bits, nan too


def test_eliminate_zeros_complex_and_signed_zero():
    indptr = np.array([0, 5], np.int32)
    indices = np.arange(5, dtype=np.int32)
    values = np.array([0j, -0.0 + 0j, 1j, complex(0, -0.0), 2 + 0j], np.complex64)
    _, idx, val = native.eliminate_zeros(indptr, indices, values, "complex64")
    np.testing.assert_array_equal(idx, [2, 4])
    values16 = np.array([0.0, -0.0, np.nan, 1.0], np.float16)
    _, idx, _ = native.eliminate_zeros(np.array([0, 4]), np.arange(4), values16, "float16")
    np.testing.assert_array_equal(idx, [2, 3])


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_to_dense(vtype, idx_dtype):
    rng = np.random.default_rng(6)
    for n_major, n_minor, nnz in SHAPES:
        major, minor, values = random_coo(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        want = dup_sum(major.astype(np.int64) * n_minor + minor, values, n_major * n_minor, vtype)
        want = want.reshape(n_major, n_minor)
        dups = np.bincount(major.astype(np.int64) * n_minor + minor).max(initial=1)

        dense = native.coo_to_dense(n_major, n_minor, major, minor, values, vtype)
        assert dense.shape == (n_major, n_minor) and dense.flags.c_contiguous
        assert_values_equal(dense, want, vtype, dups)

        order = np.argsort(major, kind="stable")
        indptr = np.zeros(n_major + 1, idx_dtype)
        np.cumsum(np.bincount(major, minlength=n_major)[:n_major], out=indptr[1:])
        dense = native.compressed_to_dense(n_major, n_minor, indptr, minor[order], values[order], vtype)
        assert dense.shape == (n_major, n_minor)
        assert_values_equal(dense, want, vtype, dups)


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", ["int32", "int64"])
def test_dense_to_compressed(vtype, idx_dtype):
    rng = np.random.default_rng(7)
    for shape in [(0, 0), (0, 4), (4, 0), (1, 9), (9, 1), (12, 17)]:
        dense = random_values(rng, vtype, shape[0] * shape[1]).reshape(shape)
        if vtype == "float64" and dense.size:
            dense.flat[::5] = np.nan  # nan is not zero
        indptr, indices, data = native.dense_to_compressed(dense, vtype, idx_dtype)
        rows, cols = np.nonzero(is_nonzero(dense, vtype))
        want_ptr = np.zeros(shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=shape[0]), out=want_ptr[1:])
        assert indptr.dtype == idx_dtype and indices.dtype == idx_dtype and data.dtype == dense.dtype
        np.testing.assert_array_equal(indptr, want_ptr)
        np.testing.assert_array_equal(indices, cols)
        np.testing.assert_array_equal(data.view(np.uint8), dense[rows, cols].view(np.uint8))


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_compressed_diagonal(vtype, idx_dtype):
    rng = np.random.default_rng(8)
    for n_major, n_minor, nnz in SHAPES:
        major, minor, values = random_coo(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        order = np.argsort(major, kind="stable")
        indptr = np.zeros(n_major + 1, idx_dtype)
        np.cumsum(np.bincount(major, minlength=n_major)[:n_major], out=indptr[1:])
        dense = dup_sum(major.astype(np.int64) * n_minor + minor, values, n_major * n_minor, vtype)
        dense = dense.reshape(n_major, n_minor)
        dups = np.bincount(major.astype(np.int64) * n_minor + minor).max(initial=1)
        for k in (-n_major - 1, -3, -1, 0, 1, 2, n_minor, n_minor + 5):
            diag = native.compressed_diagonal(k, n_major, n_minor, indptr, minor[order], values[order], vtype)
            want = np.diagonal(dense, k)  # empty when k is off the matrix
            assert diag.shape == want.shape
            assert_values_equal(diag, want, vtype, dups)


@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_expand_indptr(idx_dtype):
    for counts in ([], [0], [3], [0, 2, 0, 0, 5, 1, 0], [1] * 20):
        indptr = np.zeros(len(counts) + 1, idx_dtype)
        np.cumsum(counts, out=indptr[1:])
        major = native.expand_indptr(indptr, int(indptr[-1]))
        assert major.dtype == idx_dtype
        np.testing.assert_array_equal(major, np.repeat(np.arange(len(counts)), counts))


@pytest.mark.parametrize("vtype", ["bool", "uint8", "float16", "float64"])
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
@pytest.mark.parametrize("reverse", [False, True])
def test_take_minor(vtype, idx_dtype, reverse):
    # positions in any order with repeats: every entry once per position of its minor
    # index (increasing), in storage order; reverse: each slice back to front
    rng = np.random.default_rng(29)
    for n_major, n_minor, nnz in SHAPES:
        indptr, indices, values = random_compressed(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        for pos in ([], rng.integers(0, max(n_minor, 1), 2 * n_minor + 1)):
            pos = np.asarray(pos, np.int64) if n_minor else np.zeros(0, np.int64)
            ptr, idx, val = native.take_minor(n_minor, indptr, indices, values, pos, reverse, vtype)
            assert ptr.dtype == np.int64 and idx.dtype == idx_dtype and val.dtype == values.dtype
            want_ptr, want_idx, want_val = [0], [], []
            for r in range(n_major):
                ri, rv = [], []
                for p in range(indptr[r], indptr[r + 1]):
                    for k in np.flatnonzero(pos == indices[p]):
                        ri.append(k)
                        rv.append(values[p])
                if reverse:
                    ri, rv = ri[::-1], rv[::-1]
                want_idx += ri
                want_val += rv
                want_ptr.append(len(want_idx))
            np.testing.assert_array_equal(ptr, want_ptr)
            np.testing.assert_array_equal(idx, np.asarray(want_idx, np.int64))
            np.testing.assert_array_equal(val, np.asarray(want_val, values.dtype))
    with pytest.raises(IndexError, match="pos"):
        native.take_minor(2, indptr, indices, values, np.array([2], np.int64), False, vtype)


@pytest.mark.parametrize("vtype", ["bool", "int16", "float32", "complex64"])
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_sample_values(vtype, idx_dtype):
    # cells with duplicates (summed, bool: OR), absent cells (zero), repeated queries;
    # unsorted slices scanned, sorted ones bisected
    rng = np.random.default_rng(23)
    for n_major, n_minor, nnz in SHAPES:
        if n_major == 0 or n_minor == 0:
            continue
        indptr, indices, values = random_compressed(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        rows = rng.integers(0, n_major, 40).astype(np.int64)
        cols = rng.integers(0, n_minor, 40).astype(np.int64)
        ref = sp.csr_array((values.astype(np.int64) if vtype == "bool" else values, indices, indptr),
                           shape=(n_major, n_minor))
        want = np.asarray(ref[rows, cols]).ravel()
        if vtype == "bool":
            want = want != 0
        got = native.sample_values(indptr, indices, values, rows, cols, False, vtype)
        assert got.dtype == values.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6)
        order = np.lexsort((indices, np.repeat(np.arange(n_major), np.diff(indptr))))
        got = native.sample_values(indptr, indices[order], values[order], rows, cols, True, vtype)
        np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(IndexError, match="rows"):
        native.sample_values(indptr, indices, values, np.array([-1]), np.array([0]), False, vtype)


@pytest.mark.parametrize("vtype", ["bool", "int8", "bfloat16", "float64", "complex64"])
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_take_major(vtype, idx_dtype):
    # slices in any order, repeated, none; unsorted slices with duplicates kept as stored
    rng = np.random.default_rng(19)
    for n_major, n_minor, nnz in SHAPES:
        indptr, indices, values = random_compressed(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        for rows in ([], list(range(n_major))[::-1], rng.integers(0, max(n_major, 1), 2 * n_major)):
            rows = np.asarray(rows, np.int64) if n_major else np.zeros(0, np.int64)
            ptr, idx, val = native.take_major(indptr, indices, values, rows, vtype)
            assert ptr.dtype == np.int64 and idx.dtype == idx_dtype and val.dtype == values.dtype
            lens = indptr[rows + 1] - indptr[rows]
            np.testing.assert_array_equal(ptr, np.concatenate([[0], np.cumsum(lens)]))
            take = np.concatenate([np.arange(indptr[r], indptr[r + 1]) for r in rows] + [np.zeros(0, int)])
            np.testing.assert_array_equal(idx, indices[take])
            np.testing.assert_array_equal(val, values[take])
    with pytest.raises(IndexError, match="rows"):
        native.take_major(indptr, indices, values, np.array([n_major], np.int64), vtype)
    with pytest.raises(TypeError, match="int64"):
        native.take_major(indptr, indices, values, np.array([0], np.int32), vtype)


@pytest.mark.parametrize("vtype", ["bool", "int64", "float16", "float64", "complex64"])
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_stack_minor(vtype, idx_dtype):
    # hstack of CSR blocks (some with no columns or no entries, unsorted, duplicates)
    # against SciPy's
    rng = np.random.default_rng(17)
    for n_major in (0, 1, 9):
        widths = [int(w) for w in rng.integers(0, 6, 5)]
        blocks = [random_compressed(rng, n_major, w, int(rng.integers(0, 3 * w + 1)) if w else 0,
                                    idx_dtype, vtype) for w in widths]
        offsets = np.cumsum([0] + widths)[:-1].tolist()
        ptr, idx, val = native.stack_minor(n_major, [b[0] for b in blocks], [b[1] for b in blocks],
                                           [b[2] for b in blocks], offsets, vtype)
        assert ptr.dtype == idx.dtype == idx_dtype and val.dtype == blocks[0][2].dtype
        bits = (lambda v: v.view(np.uint16)) if vtype == "float16" else (lambda v: v)  # SciPy: no float16
        want = sp.hstack([sp.csr_array((bits(b[2]), b[1], b[0]), shape=(n_major, w))
                          for b, w in zip(blocks, widths)], format="csr") if n_major else None
        if want is None:
            np.testing.assert_array_equal(ptr, [0])
            continue
        np.testing.assert_array_equal(ptr, want.indptr)
        np.testing.assert_array_equal(idx, want.indices)
        np.testing.assert_array_equal(bits(val), want.data)
    with pytest.raises(ValueError, match="n_major"):
        native.stack_minor(3, [np.zeros(3, idx_dtype)], [np.zeros(0, idx_dtype)],
                           [np.zeros(0, blocks[0][2].dtype)], [0], vtype)
    with pytest.raises(ValueError, match="one length"):
        native.stack_minor(2, [], [], [], [], vtype)


@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_hypersparse(idx_dtype):
    """Far more slices than entries (many empty slices, wide key ranges)."""
    rng = np.random.default_rng(13)
    n, m, nnz = 300000, 200000, 3000
    major = rng.integers(0, n, nnz).astype(idx_dtype)
    minor = rng.integers(0, m, nnz).astype(idx_dtype)
    values = rng.standard_normal(nnz)
    indptr, indices, data = native.coo_to_compressed(n, m, major, minor, values, "float64")
    ref = sp.coo_array((values, (major, minor)), shape=(n, m)).tocsr()
    np.testing.assert_array_equal(indptr, ref.indptr)
    np.testing.assert_array_equal(indices, ref.indices)
    np.testing.assert_array_equal(data, ref.data)  # no 3-way duplicates at this density
    tp, ti, td = native.compressed_transpose(n, m, indptr, indices, data, "float64")
    csc = ref.tocsc()
    np.testing.assert_array_equal(tp, csc.indptr)
    np.testing.assert_array_equal(ti, csc.indices)
    np.testing.assert_array_equal(td, csc.data)


def test_matches_scipy():
    """The same conversions through scipy.sparse (float64, int32)."""
    rng = np.random.default_rng(9)
    n, m, nnz = 300, 200, 5000
    row = rng.integers(0, n, nnz).astype(np.int32)
    col = rng.integers(0, m, nnz).astype(np.int32)
    val = rng.standard_normal(nnz)
    ref = sp.coo_array((val, (row, col)), shape=(n, m)).tocsr()
    indptr, indices, data = native.coo_to_compressed(n, m, row, col, val, "float64")
    np.testing.assert_array_equal(indptr, ref.indptr)
    np.testing.assert_array_equal(indices, ref.indices)
    np.testing.assert_allclose(data, ref.data, rtol=1e-13)  # SciPy sums duplicates in another order
    ref = sp.csr_array((data, indices, indptr), shape=(n, m))
    tp, ti, td = native.compressed_transpose(n, m, indptr, indices, data, "float64")
    csc = ref.tocsc()
    np.testing.assert_array_equal(tp, csc.indptr)
    np.testing.assert_array_equal(ti, csc.indices)
    np.testing.assert_array_equal(td, csc.data)
    np.testing.assert_array_equal(native.compressed_to_dense(n, m, indptr, indices, data, "float64"), ref.toarray())
    for k in (-5, 0, 7):
        np.testing.assert_array_equal(native.compressed_diagonal(k, n, m, indptr, indices, data, "float64"),
                                      ref.diagonal(k))
    dense = ref.toarray()
    dp, di, dd = native.dense_to_compressed(dense, "float64", "int32")
    fd = sp.csr_array(dense)
    np.testing.assert_array_equal(dp, fd.indptr)
    np.testing.assert_array_equal(di, fd.indices)
    np.testing.assert_array_equal(dd, fd.data)


# ----------------------------------------------------------------- arithmetic details

def test_integer_and_bool_sums():
    major = np.zeros(3, np.int32)
    minor = np.zeros(3, np.int32)
    _, _, d = native.coo_to_compressed(1, 1, major, minor, np.array([100, 100, 100], np.int8), "int8")
    assert d[0] == np.int8(44)  # 300 wraps
    _, _, d = native.coo_to_compressed(1, 1, major, minor, np.array([2**63 - 1, 1, 0], np.int64), "int64")
    assert d[0] == np.iinfo(np.int64).min
    _, _, d = native.coo_to_compressed(1, 1, major, minor, np.array([True, True, False]), "bool")
    assert d.dtype == bool and d[0]
    _, _, d = native.coo_to_compressed(1, 1, major, minor, np.array([False, False, False]), "bool")
    assert d.tolist() == [False]  # zero sums are kept


def _pairs(a, b, vtype):
    """Sums a[i] + b[i] through coo_to_compressed (each pair one duplicate)."""
    n = len(a)
    major = np.repeat(np.arange(n, dtype=np.int32), 2)
    minor = np.zeros(2 * n, np.int32)
    values = np.stack([a, b], axis=1).reshape(-1)
    _, _, d = native.coo_to_compressed(n, 1, major, minor, values, vtype)
    return d


def _special_floats(rng, n):
    x = np.concatenate([
        rng.standard_normal(n) * 10.0 ** rng.integers(-9, 6, n),  # normals, subnormals, overflow
        [0.0, -0.0, np.inf, -np.inf, np.nan, 65504.0, 65520.0, 6e-8, 3e-8, 1e-5, 3.3895e38],
    ])
    return x


def test_float16_rounding_matches_numpy():
    rng = np.random.default_rng(10)
    with np.errstate(over="ignore", invalid="ignore"):
        a = _special_floats(rng, 20000).astype(np.float16)
        b = rng.permutation(_special_floats(rng, 20000)).astype(np.float16)
        want = a + b  # NumPy: float32 add, rounded to float16
    got = _pairs(a, b, "float16")
    assert got.dtype == np.float16
    same = (got.view(np.uint16) == want.view(np.uint16)) | (np.isnan(got) & np.isnan(want))
    assert same.all(), (a[~same][:5], b[~same][:5], got[~same][:5], want[~same][:5])


def test_bfloat16_rounding():
    rng = np.random.default_rng(11)
    x = _special_floats(rng, 20000).astype(np.float32)
    a = f32_to_bf16(x)
    b = f32_to_bf16(rng.permutation(x))
    with np.errstate(over="ignore", invalid="ignore"):
        want = f32_to_bf16(bf16_to_f32(a) + bf16_to_f32(b))
    got = _pairs(a, b, "bfloat16")
    assert got.dtype == np.uint16
    nan = np.isnan(bf16_to_f32(want))
    np.testing.assert_array_equal(got[~nan], want[~nan])
    assert np.isnan(bf16_to_f32(got[nan])).all()
    # ties go to even: 1 + 2^-8 is halfway between two bfloat16 values
    got = _pairs(f32_to_bf16(np.float32([1.0, 1.0 + 2**-7])), f32_to_bf16(np.float32([2**-8, 2**-8])), "bfloat16")
    np.testing.assert_array_equal(bf16_to_f32(got), np.float32([1.0, 1.0 + 2**-6]))


# ----------------------------------------------------------------- threading

def test_threads_bit_identical():
    """Above the parallel threshold: any thread count gives the same bits as one thread."""
    rng = np.random.default_rng(12)
    n, m, nnz = 5000, 600, 400000
    row = rng.integers(0, n, nnz).astype(np.int64)
    row[rng.random(nnz) < 0.3] = 7  # one long row
    col = rng.integers(0, m, nnz).astype(np.int64)
    val = rng.standard_normal(nnz).astype(np.float32)
    val[::9] = 0

    def run_all():
        out = {}
        out["coo"] = native.coo_to_compressed(n, m, row, col, val, "float32")
        ip, ix, dv = out["coo"]
        out["tr"] = native.compressed_transpose(n, m, ip, ix, dv, "float32")
        order = np.argsort(row, kind="stable")
        out["sort"] = native.sort_indices(ip_unsorted, col[order], val[order], "float32")
        out["sum"] = native.sum_duplicates(ip_unsorted, *out["sort"], "float32")
        out["sort_sum"] = native.sum_duplicates(ip_unsorted, col[order], val[order], "float32", assume_sorted=False)
        out["elim"] = native.eliminate_zeros(ip, ix, dv, "float32")
        out["diag"] = native.compressed_diagonal(3, n, m, ip, ix, dv, "float32")
        out["expand"] = native.expand_indptr(ip, int(ip[-1]))
        out["dense"] = native.compressed_to_dense(n, m, ip_unsorted, col[order], val[order], "float32")
        out["coo_dense"] = native.coo_to_dense(n, m, row, col, val, "float32")
        out["coo_dense_sorted"] = native.coo_to_dense(n, m, row[order], col[order], val[order], "float32")
        out["fromdense"] = native.dense_to_compressed(out["dense"], "float32", "int64")
        return out

    ip_unsorted = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=ip_unsorted[1:])
    saved = native.num_threads()
    try:
        native.set_num_threads(1)
        one = run_all()
        for threads in (2, 3):
            native.set_num_threads(threads)
            assert native.num_threads() == threads
            many = run_all()
            for key in one:
                for a, b in zip(_tuple(one[key]), _tuple(many[key])):
                    assert a.dtype == b.dtype and a.shape == b.shape, key
                    assert a.tobytes() == b.tobytes(), (key, threads)
    finally:
        native.set_num_threads(saved)

    # and the results are right
    ip, ix, dv = one["coo"]
    ref = sp.coo_array((val.astype(np.float64), (row, col)), shape=(n, m)).tocsr()
    np.testing.assert_array_equal(ip, ref.indptr)
    np.testing.assert_array_equal(ix, ref.indices)
    np.testing.assert_allclose(dv, ref.data, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(one["sum"][0], ip)
    np.testing.assert_array_equal(one["sum"][1], ix)
    np.testing.assert_array_equal(one["sum"][2], dv)  # both sum in input order
    for got, want in zip(one["sort_sum"], one["sum"]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(one["dense"], one["coo_dense"])
    np.testing.assert_array_equal(one["coo_dense_sorted"], one["coo_dense"])
    np.testing.assert_array_equal(one["expand"], np.repeat(np.arange(n), np.diff(ip)))
    fp, fi, fd = one["fromdense"]
    np.testing.assert_array_equal(fd, one["dense"][one["dense"] != 0])


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


def test_num_threads_setting():
    saved = native.num_threads()
    try:
        native.set_num_threads(3)
        assert native.num_threads() == 3
        with pytest.raises(ValueError):
            native.set_num_threads(0)
    finally:
        native.set_num_threads(saved)
    assert saved >= 1


def test_num_threads_from_environment():
    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('mlx_sparse._native', sys.argv[1]); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); print(m.num_threads())")
    env = dict(os.environ, MLX_SPARSE_NUM_THREADS="5")
    out = subprocess.run([sys.executable, "-c", code, native.__file__], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "5"


# ----------------------------------------------------------------- bad input

def test_bad_arguments():
    i32 = np.array([0, 1], np.int32)
    f64 = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="vtype"):
        native.coo_to_compressed(2, 2, i32, i32, f64, "float128")
    with pytest.raises(TypeError, match="does not match vtype"):
        native.coo_to_compressed(2, 2, i32, i32, f64, "float32")
    with pytest.raises(TypeError, match="same dtype"):
        native.coo_to_compressed(2, 2, i32, i32.astype(np.int64), f64, "float64")
    with pytest.raises(TypeError, match="int32 or int64"):
        native.coo_to_compressed(2, 2, i32.astype(np.uint32), i32.astype(np.uint32), f64, "float64")
    with pytest.raises(ValueError, match="same length"):
        native.coo_to_compressed(2, 2, i32, i32[:1], f64, "float64")
    with pytest.raises(ValueError, match="out of range"):
        native.coo_to_compressed(1, 2, i32, i32, f64, "float64")
    with pytest.raises(ValueError, match="out of range"):
        native.coo_to_compressed(2, 2, i32, np.array([0, -1], np.int32), f64, "float64")
    with pytest.raises(ValueError, match="out of range"):
        native.coo_to_dense(2, 1, i32, i32, f64, "float64")
    with pytest.raises(ValueError, match=">= 0"):
        native.coo_to_dense(-1, 2, i32, i32, f64, "float64")
    with pytest.raises(ValueError, match="C-contiguous"):
        native.coo_to_compressed(2, 2, np.zeros(4, np.int32)[::2], i32, f64, "float64")
    with pytest.raises(ValueError, match="1-D"):
        native.coo_to_compressed(2, 2, i32.reshape(1, 2), i32, f64, "float64")

    indptr = np.array([0, 1, 2], np.int32)
    with pytest.raises(ValueError, match="non-decreasing"):
        native.sort_indices(np.array([0, 2, 1], np.int32), i32, f64, "float64")
    with pytest.raises(ValueError, match="indptr\\[0\\]"):
        native.sum_duplicates(np.array([1, 1, 2], np.int32), i32, f64, "float64")
    with pytest.raises(ValueError, match="exceeds"):
        native.eliminate_zeros(np.array([0, 1, 3], np.int32), i32, f64, "float64")
    with pytest.raises(ValueError, match="n_major \\+ 1"):
        native.compressed_transpose(3, 2, indptr, i32, f64, "float64")
    with pytest.raises(ValueError, match="out of range"):
        native.compressed_transpose(2, 1, indptr, i32, f64, "float64")
    with pytest.raises(ValueError, match="out of range"):
        native.compressed_to_dense(2, 1, indptr, i32, f64, "float64")
    with pytest.raises(ValueError, match="nnz"):
        native.expand_indptr(indptr, 3)
    with pytest.raises(ValueError, match="index_dtype"):
        native.dense_to_compressed(np.zeros((2, 2)), "float64", "int16")
    with pytest.raises(ValueError, match="2-D"):
        native.dense_to_compressed(np.zeros(3), "float64", "int32")


@pytest.mark.parametrize("length", [20, 30, 200])
@pytest.mark.parametrize("span", [50, 2**40])
def test_sort_long_slices(length, span):
    """Each slice-sort path: short (rank), medium (insertion), long (packed keys, or a
    permutation when int64 indices span more than 2**32)."""
    rng = np.random.default_rng(14)
    counts = [length, 0, 1, length]
    indptr = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = rng.integers(-span, span, indptr[-1])
    ties = indices[1::3]
    indices[::3][: ties.size] = ties  # ties: stability (indices[::3] may be one longer)
    values = np.arange(indptr[-1], dtype=np.float64)
    si, sd = native.sort_indices(indptr, indices, values, "float64")
    major = np.repeat(np.arange(len(counts)), counts)
    order = np.lexsort((indices, major))
    np.testing.assert_array_equal(si, indices[order])
    np.testing.assert_array_equal(sd, values[order])
    fused = native.sum_duplicates(indptr, indices, values, "float64", assume_sorted=False)
    two_step = native.sum_duplicates(indptr, si, sd, "float64")
    for a, b in zip(fused, two_step):
        np.testing.assert_array_equal(a, b)


def test_entries_past_indptr_end_are_ignored():
    indptr = np.array([0, 2, 3], np.int32)
    indices = np.array([1, 0, 1, 9, 9], np.int32)
    data = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    si, sd = native.sort_indices(indptr, indices, data, "float64")
    np.testing.assert_array_equal(si, [0, 1, 1])
    np.testing.assert_array_equal(sd, [2.0, 1.0, 3.0])
    ptr, idx, val = native.sum_duplicates(indptr, indices, data, "float64")
    np.testing.assert_array_equal(idx, [1, 0, 1])


# ----------------------------------------------------------------- products (products.hpp)
# Oracles compute in NumPy in the kernels' accumulation type (float32 for float16 and
# bfloat16, rounded once at the end), in the kernels' summation order, so results agree
# to the bit (floats within a few ulps, for safety against reassociation).

def _compute(values, vtype):
    """Values in the accumulation dtype."""
    if vtype == "bfloat16":
        return bf16_to_f32(values)
    if vtype == "float16":
        return values.astype(np.float32)
    return values


def _store(x, vtype):
    """Accumulated values rounded back to the stored dtype."""
    if vtype == "bfloat16":
        return f32_to_bf16(x)
    return np.asarray(x).astype(storage_dtype(vtype))


def _assert_close(got, want, vtype):
    assert got.dtype == storage_dtype(vtype) and got.shape == want.shape
    if vtype in ("float32", "complex64"):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    elif vtype in ("float64", "complex128"):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    else:  # exact: integers wrap, bool is OR of ANDs, halves round once (-0.0 == 0.0)
        np.testing.assert_array_equal(as_float(got, vtype), as_float(want, vtype))


def _products(a, b, vtype):
    with np.errstate(all="ignore"):
        return _compute(a, vtype) * _compute(b, vtype)


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_matvec_matmat(vtype, idx_dtype):
    rng = np.random.default_rng(20)
    for n_major, n_minor, nnz in SHAPES:
        indptr, indices, values = random_compressed(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        major = np.repeat(np.arange(n_major), np.diff(indptr))
        acc_dt = _compute(values[:0], vtype).dtype
        for k in (None, 3):
            for transposed in (False, True):
                n_in, n_out = (n_major, n_minor) if transposed else (n_minor, n_major)
                X = random_values(rng, vtype, n_in * (k or 1))
                X = X if k is None else X.reshape(n_in, k)
                pos_in, pos_out = (major, indices) if transposed else (indices, major)
                prods = _products(values if k is None else values[:, None], X[pos_in], vtype)
                want = np.zeros((n_out,) if k is None else (n_out, k), acc_dt)
                with np.errstate(all="ignore"):
                    np.add.at(want, pos_out, prods)
                name = ("compressed_matvec" if k is None else "compressed_matmat") + ("_t" if transposed else "")
                got = getattr(native, name)(n_major, n_minor, indptr, indices, values, X, vtype)
                _assert_close(got, _store(want, vtype), vtype)


def _matmul_oracle(n_major, n_minor, a, b, vtype):
    """All products in Gustavson's order, summed per (row, col) in that order; zero sums dropped."""
    (ap, ai, av), (bp, bi, bv) = a, b
    rows, cols, prods = [], [], []
    a_major = np.repeat(np.arange(n_major), np.diff(ap))
    for p in range(len(ai)):
        k = ai[p]
        s, e = bp[k], bp[k + 1]
        rows.append(np.full(e - s, a_major[p]))
        cols.append(bi[s:e])
        prods.append(_products(av[p:p + 1], bv[s:e], vtype))
    acc_dt = _compute(av[:0], vtype).dtype
    if rows:
        rows, cols, prods = np.concatenate(rows), np.concatenate(cols), np.concatenate(prods).astype(acc_dt)
    else:
        rows, cols, prods = np.zeros(0, int), np.zeros(0, int), np.zeros(0, acc_dt)
    key = rows.astype(np.int64) * max(n_minor, 1) + cols
    uniq, inv = np.unique(key, return_inverse=True)
    sums = np.zeros(len(uniq), acc_dt)
    with np.errstate(all="ignore"):
        np.add.at(sums, inv, prods)
    sums = _store(sums, vtype)
    keep = is_nonzero(sums, vtype)
    uniq, sums = uniq[keep], sums[keep]
    indptr = np.zeros(n_major + 1, np.int64)
    np.cumsum(np.bincount(uniq // max(n_minor, 1), minlength=n_major)[:n_major], out=indptr[1:])
    return indptr, uniq % max(n_minor, 1), sums


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_matmul(vtype, idx_dtype):
    rng = np.random.default_rng(21)
    for n_major, n_inner, nnz in SHAPES:
        n_minor = int(rng.integers(1, 9))
        a = random_compressed(rng, n_major, n_inner, nnz, idx_dtype, vtype)  # unsorted, duplicates
        b = random_compressed(rng, n_inner, n_minor, int(rng.integers(0, 40)), idx_dtype, vtype)
        ptr, idx, val = native.compressed_matmul(n_major, n_inner, n_minor, *a, *b, vtype)
        want_ptr, want_idx, want_val = _matmul_oracle(n_major, n_minor, a, b, vtype)
        assert ptr.dtype == idx_dtype and idx.dtype == idx_dtype
        np.testing.assert_array_equal(ptr, want_ptr)
        np.testing.assert_array_equal(idx, want_idx)
        _assert_close(val, want_val, vtype)


def test_matmul_matches_scipy():
    rng = np.random.default_rng(22)
    A = sp.random_array((300, 200), density=0.03, rng=rng, format="csr")
    B = sp.random_array((200, 250), density=0.03, rng=rng, format="csr")
    C = (A @ B).tocsr()
    C.sort_indices()
    ptr, idx, val = native.compressed_matmul(300, 200, 250, A.indptr, A.indices, A.data,
                                             B.indptr, B.indices, B.data, "float64")
    np.testing.assert_array_equal(ptr, C.indptr)
    np.testing.assert_array_equal(idx, C.indices)
    np.testing.assert_allclose(val, C.data, rtol=1e-13)
    # exact cancellation: not stored (as SciPy)
    one = np.array([0, 2], np.int32)
    ptr, idx, val = native.compressed_matmul(1, 2, 1, one, np.array([0, 1], np.int32), np.array([1.0, -1.0]),
                                             np.array([0, 1, 2], np.int32), np.array([0, 0], np.int32),
                                             np.array([2.0, 2.0]), "float64")
    assert ptr.tolist() == [0, 0] and idx.size == 0 and val.size == 0


def _canonical(rng, n_major, n_minor, nnz, idx_dtype, vtype):
    major, minor, values = random_coo(rng, n_major, n_minor, nnz, idx_dtype, vtype)
    return native.coo_to_compressed(n_major, n_minor, major, minor, values, vtype)


def _dense_of(n_major, n_minor, ptr, idx, val):
    """(values as a dense array, mask of stored positions) of a canonical matrix."""
    d = np.zeros((n_major, n_minor), val.dtype)
    m = np.zeros((n_major, n_minor), bool)
    major = np.repeat(np.arange(n_major), np.diff(ptr))
    d[major, idx] = val
    m[major, idx] = True
    return d, m


def _binop_oracle(op, a, b, vtype):
    x, y = _compute(a, vtype), _compute(b, vtype)
    with np.errstate(all="ignore"):
        if vtype == "bool" and op in ("add", "sub", "mul"):
            return {"add": x | y, "sub": x != y, "mul": x & y}[op]
        if op in ("add", "sub", "mul"):
            return _store({"add": np.add, "sub": np.subtract, "mul": np.multiply}[op](x, y), vtype)
        if op == "maximum":
            return np.where(x < y, b, a)
        if op == "minimum":
            return np.where(y < x, b, a)
        return {"ne": np.not_equal, "lt": np.less, "gt": np.greater, "le": np.less_equal,
                "ge": np.greater_equal}[op](x, y)


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_binop(vtype, idx_dtype):
    rng = np.random.default_rng(23)
    for n_major, n_minor, nnz in SHAPES:
        a = _canonical(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        b = _canonical(rng, n_major, n_minor, int(rng.integers(0, nnz + 1)), idx_dtype, vtype)
        if len(b[1]) and len(a[1]):  # some positions with equal values (sub/ne give zero)
            b[2][: min(3, len(b[2]))] = a[2][: min(3, len(b[2]))]
        da, ma = _dense_of(n_major, n_minor, *a)
        db, mb = _dense_of(n_major, n_minor, *b)
        union = ma | mb
        # complex values order lexicographically (NumPy's comparisons and maximum)
        for op in ("add", "sub", "mul", "maximum", "minimum", "ne", "lt", "gt", "le", "ge"):
            ptr, idx, val = native.compressed_binop(op, n_major, n_minor, *a, *b, vtype)
            res = _binop_oracle(op, da, db, vtype)
            keep = union & is_nonzero(res, "bool" if res.dtype == bool else vtype)
            rows, cols = np.nonzero(keep)
            want_ptr = np.zeros(n_major + 1, np.int64)
            np.cumsum(np.bincount(rows, minlength=n_major)[:n_major], out=want_ptr[1:])
            np.testing.assert_array_equal(ptr, want_ptr, err_msg=op)
            np.testing.assert_array_equal(idx, cols, err_msg=op)
            assert ptr.dtype == idx_dtype and idx.dtype == idx_dtype
            want = res[rows, cols]
            if want.dtype == bool:
                assert val.dtype == bool and val.all()
            else:
                _assert_close(val, want, vtype)


def _reduce_oracle(op, n, groups, values, vtype):
    x = _compute(values, vtype)
    if op == "sum":
        out = np.zeros(n, x.dtype)
        with np.errstate(all="ignore"):
            np.add.at(out, groups, x)
        return _store(out, vtype)
    if x.dtype.kind in "fc":
        init = -np.inf if op == "max" else np.inf
    elif x.dtype == bool:
        init = op != "max"
    else:
        info = np.iinfo(x.dtype)
        init = info.min if op == "max" else info.max
    out = np.full(n, init, x.dtype)
    with np.errstate(invalid="ignore"):
        (np.maximum if op == "max" else np.minimum).at(out, groups, x)
    out[np.bincount(groups, minlength=n)[:n] == 0] = 0
    return _store(out, vtype)


@pytest.mark.parametrize("vtype", VTYPES)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_reduce(vtype, idx_dtype):
    rng = np.random.default_rng(24)
    for n_major, n_minor, nnz in SHAPES:
        indptr, indices, values = random_compressed(rng, n_major, n_minor, nnz, idx_dtype, vtype)
        if vtype in ("float32", "float64", "float16") and len(values):
            values[::11] = np.nan  # max/min propagate nan
        major = np.repeat(np.arange(n_major), np.diff(indptr))
        for op in ("sum", "max", "min"):  # complex: lexicographic order, as NumPy
            got = native.compressed_reduce_major(op, n_major, indptr, values, vtype)
            _assert_close(got, _reduce_oracle(op, n_major, major, values, vtype), vtype)
            got = native.compressed_reduce_minor(op, n_minor, indices, values, vtype)
            _assert_close(got, _reduce_oracle(op, n_minor, indices, values, vtype), vtype)


def test_products_match_scipy_and_threads_bit_identical():
    """Above the parallel thresholds: SciPy's results, and the same bits for 1 and 2 threads."""
    rng = np.random.default_rng(25)
    A = sp.random_array((3000, 2000), density=0.03, rng=rng, format="csr")
    A.data[::7] *= -1
    x = rng.standard_normal(2000)
    X = rng.standard_normal((2000, 4))
    xt = rng.standard_normal(3000)
    Xt = rng.standard_normal((3000, 4))
    args = (3000, 2000, A.indptr, A.indices, A.data)
    calls = {
        "matvec": (lambda: native.compressed_matvec(*args, x, "float64"), A @ x),
        "matvec_t": (lambda: native.compressed_matvec_t(*args, xt, "float64"), A.T @ xt),
        "matmat": (lambda: native.compressed_matmat(*args, X, "float64"), A @ X),
        "matmat_t": (lambda: native.compressed_matmat_t(*args, Xt, "float64"), A.T @ Xt),
        "row sums": (lambda: native.compressed_reduce_major("sum", 3000, A.indptr, A.data, "float64"), A.sum(1)),
        "col sums": (lambda: native.compressed_reduce_minor("sum", 2000, A.indices, A.data, "float64"), A.sum(0)),
        "col max": (lambda: native.compressed_reduce_minor("max", 2000, A.indices, A.data, "float64"),
                    A.max(axis=0, explicit=True).toarray().ravel()),
        "A@A.T": (lambda: native.compressed_matmul(3000, 2000, 3000, A.indptr, A.indices, A.data,
                                                   *(lambda T: (T.indptr, T.indices, T.data))(A.T.tocsr()),
                                                   "float64")[2],
                  (lambda C: (C.sort_indices(), C.data)[1])((A @ A.T).tocsr())),
        "A+B": (lambda: native.compressed_binop("add", 3000, 2000, A.indptr, A.indices, A.data,
                                                A.indptr, A.indices, 2 * A.data, "float64")[2], 3 * A.data),
    }
    before = native.num_threads()
    try:
        for name, (f, want) in calls.items():
            native.set_num_threads(1)
            one = f()
            native.set_num_threads(2)
            two = f()
            assert one.tobytes() == two.tobytes(), name
            np.testing.assert_allclose(one, np.asarray(want), rtol=1e-12, atol=1e-12, err_msg=name)
    finally:
        native.set_num_threads(before)


def test_product_bad_arguments():
    ptr, idx, val = np.array([0, 1], np.int32), np.array([5], np.int32), np.array([1.0])
    with pytest.raises(ValueError):  # index beyond n_minor
        native.compressed_matvec(1, 2, ptr, idx, val, np.ones(2), "float64")
    with pytest.raises(ValueError):  # x of the wrong length
        native.compressed_matvec(1, 9, ptr, idx, val, np.ones(2), "float64")
    with pytest.raises(TypeError):  # x of another dtype
        native.compressed_matvec(1, 9, ptr, idx, val, np.ones(9, np.float32), "float64")
    with pytest.raises(ValueError):
        native.compressed_binop("div", 1, 9, ptr, idx, val, ptr, idx, val, "float64")
    with pytest.raises(ValueError):
        native.compressed_reduce_major("prod", 1, ptr, val, "float64")
    with pytest.raises(ValueError):  # B's indptr does not match n_inner
        native.compressed_matmul(1, 9, 3, ptr, idx, val, ptr, idx, val, "float64")


# ----------------------------------------------------------------- conjugate gradients (cg.hpp)

def _poisson(side):
    T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(side, side))
    eye = sp.eye_array(side)
    return (sp.kron(T, eye) + sp.kron(eye, T)).tocsr()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("jacobi", [False, True])
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_cg_matches_scipy(dtype, jacobi, idx_dtype):
    from scipy.sparse.linalg import cg

    A = _poisson(20).astype(dtype)
    A.data[A.indices == 0] *= 1.5  # an uneven diagonal, so Jacobi changes the iteration
    A = ((A + A.T) / 2).tocsr()
    rng = np.random.default_rng(30)
    b = rng.standard_normal(A.shape[0]).astype(dtype)
    dinv = (1 / A.diagonal()).astype(dtype) if jacobi else None
    M = sp.diags_array(dinv) if jacobi else None
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    count = []
    want, info = cg(A, b, rtol=rtol, maxiter=1000, M=M, callback=lambda xk: count.append(1))
    assert info == 0
    x, ok, its, res = native.compressed_cg(A.indptr.astype(idx_dtype), A.indices.astype(idx_dtype), A.data.astype(dtype), b,
                                np.zeros_like(b), rtol * np.linalg.norm(b), 1000, dinv, np.dtype(dtype).name)
    assert ok and x.dtype == dtype
    assert abs(its - len(count)) <= (0 if dtype == np.float64 else 3)
    assert np.linalg.norm(b - A @ x) < 2 * rtol * np.linalg.norm(b)
    np.testing.assert_allclose(x, want, rtol=1e-3 if dtype == np.float32 else 1e-7, atol=1e-6)
    # maxiter reached: not converged, the partial solution returned
    x2, ok2, its2, _ = native.compressed_cg(A.indptr, A.indices, A.data.astype(dtype), b, np.zeros_like(b), 0.0, 3, None,
                                 np.dtype(dtype).name)
    assert not ok2 and its2 == 3


def test_cg_threads_bit_identical_and_errors():
    A = _poisson(120)  # 14400 rows, 72000 entries: above the parallel threshold
    b = np.random.default_rng(31).standard_normal(A.shape[0])
    before = native.num_threads()
    try:
        out = []
        for t in (1, 2):
            native.set_num_threads(t)
            out.append(native.compressed_cg(A.indptr, A.indices, A.data, b, np.zeros_like(b), 1e-8, 50, None, "float64"))
    finally:
        native.set_num_threads(before)
    assert out[0][0].tobytes() == out[1][0].tobytes() and out[0][2] == out[1][2]
    with pytest.raises(TypeError):
        native.compressed_cg(A.indptr, A.indices, A.data.astype(np.complex128), b.astype(np.complex128),
                  np.zeros_like(b, np.complex128), 1e-8, 5, None, "complex128")
    with pytest.raises(ValueError):
        native.compressed_cg(A.indptr, A.indices, A.data, b[:-1], np.zeros_like(b), 1e-8, 5, None, "float64")


# ----------------------------------------------------------------- Arnoldi steps (arnoldi.hpp)

def _rand(rng, dt, *shape):
    a = rng.standard_normal(shape)
    return (a + 1j * rng.standard_normal(shape) if np.dtype(dt).kind == "c" else a).astype(dt)


@pytest.mark.parametrize("vtype", ["float32", "float64", "complex64", "complex128"])
def test_gram_schmidt_and_combine_rows(vtype):
    dt = np.dtype(vtype)
    single = dt in (np.float32, np.complex64)
    tol = 1e-5 if single else 1e-13
    rng = np.random.default_rng(32)
    n, k = 3001, 6
    Q = np.ascontiguousarray(np.linalg.qr(_rand(rng, np.complex128 if dt.kind == "c" else np.float64, n, k))[0]
                             .T.astype(dt))  # orthonormal rows
    w = _rand(rng, dt, n)
    out = np.empty(n, dt)
    h, before, after = native.gram_schmidt(Q, w, out, 0.0, False, vtype)  # one pass, not scaled
    want_h = Q.conj() @ w
    assert h.dtype == dt and out.dtype == dt
    scale = np.linalg.norm(w)
    np.testing.assert_allclose(h, want_h, atol=tol * scale)
    np.testing.assert_allclose(out, w - Q.T @ want_h, atol=tol * scale)
    assert abs(before - scale) <= tol * scale and abs(after - np.linalg.norm(out)) <= tol * scale

    # w nearly in the span: the norm drops below reorth |w|, so the pass repeats; in place,
    # scaled to unit norm, and orthogonal to the basis to rounding
    c = _rand(rng, dt, k)
    w2 = (c @ Q + (1e-4 if single else 1e-6) * _rand(rng, dt, n)).astype(dt)
    row = w2.copy()
    h2, b2, a2 = native.gram_schmidt(Q, row, row, 1e-2, True, vtype)
    assert a2 < 1e-2 * b2
    assert abs(np.linalg.norm(row) - 1) < 10 * tol
    assert np.abs(Q.conj() @ row).max() < (1e-4 if single else 1e-12)
    np.testing.assert_allclose(h2, Q.conj() @ w2, atol=tol * b2)
    np.testing.assert_allclose(native.combine_rows(Q, c, vtype), c @ Q, atol=tol * np.abs(c).sum())
    # k = 0: nothing to project; normalize only
    h0, b0, a0 = native.gram_schmidt(Q[:0], w, out, 1e-2, True, vtype)
    assert h0.shape == (0,) and b0 == a0
    np.testing.assert_allclose(out, w / scale, atol=tol)


def test_gram_schmidt_threads_bit_identical_and_errors():
    rng = np.random.default_rng(33)
    n, k = 60001, 9  # above the parallel threshold, chunks not a multiple of n
    Q = np.ascontiguousarray(np.linalg.qr(rng.standard_normal((n, k)))[0].T)
    w = rng.standard_normal(n)
    before = native.num_threads()
    try:
        res = []
        for t in (1, 2, 3):
            native.set_num_threads(t)
            out = np.empty(n)
            h, b, a = native.gram_schmidt(Q, w, out, 1.0, True, "float64")  # reorth 1: two passes
            res.append((out.tobytes(), h.tobytes(), b, a, native.combine_rows(Q, h, "float64").tobytes()))
    finally:
        native.set_num_threads(before)
    assert res[0] == res[1] == res[2]
    out = np.empty(n)
    with pytest.raises(TypeError):
        native.gram_schmidt(Q, w, out, 0.0, False, "int64")
    with pytest.raises(TypeError):
        native.gram_schmidt(Q, w.astype(np.float32), out, 0.0, False, "float64")
    with pytest.raises(ValueError):  # wrong length
        native.gram_schmidt(Q, w[:-1], out, 0.0, False, "float64")
    with pytest.raises(ValueError):  # out is a basis row
        native.gram_schmidt(Q, w, Q[2], 0.0, False, "float64")
    readonly = np.empty(n)
    readonly.flags.writeable = False
    with pytest.raises(ValueError):
        native.gram_schmidt(Q, w, readonly, 0.0, False, "float64")
    with pytest.raises(ValueError):
        native.combine_rows(Q, np.ones(k + 1), "float64")
