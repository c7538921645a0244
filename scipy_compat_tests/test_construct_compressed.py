"""csr_array / csr_matrix / csc_array / csc_matrix constructors: shape tuple, dense
input (NumPy, MLX, lists, array API), another sparse object (ours and SciPy's,
every format), (data, (row, col)), (data, indices, indptr) with and without shape;
shape=, dtype=, copy=; index dtype selection."""
import itertools

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

from inputs import spec_dense_params, to_kind
from oracle import (SMALL_SPECS, SPECS, Input, assert_matches_scipy, compress,
                    on_both, spec_params, variant)

KINDS = ("array", "matrix")
FORMATS = ("csr", "csc")
SHAPES = [(0, 0), (0, 3), (3, 0), (1, 1), (1, 5), (5, 1), (4, 6), (70000, 3)]
CTOR_DTYPES = [None, "float32", np.float64, "int8", np.int64, bool, np.uint8,
               "uint64", np.complex64, "int32"]


def _cls(sp, fmt, kind):
    return getattr(sp, f"{fmt}_{kind}")


# ---- shape tuple ------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_from_shape(fmt, shape, kind):
    for dtype in CTOR_DTYPES:
        def f(sp):
            A = _cls(sp, fmt, kind)(shape, dtype=dtype)
            return A, A.nnz, A.toarray()

        with variant(dtype=dtype):
            on_both(f)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt, shape", [("csr", (3, 2**31 + 7)), ("csc", (2**31 + 7, 3)),
                                        ("csr", (5, 2**31 - 1))], ids=str)
def test_from_shape_index_dtype(fmt, shape, kind):
    # int64 indices exactly when a dimension does not fit int32 (indptr stays short)
    def f(sp):
        return _cls(sp, fmt, kind)(shape)

    on_both(f)


# ---- dense input ----------------------------------------------------------------------
@pytest.mark.parametrize("spec, dense_kind", spec_dense_params(SPECS))
def test_from_dense(case, dense_kind):
    a = case.dense()
    for fmt in FORMATS:
        def f(sp, M):
            A = _cls(sp, fmt, case.spec.kind)(M)
            return A, A.has_sorted_indices, A.has_canonical_format

        with variant(fmt=fmt):
            on_both(f, Input(lambda lib: to_kind(a, dense_kind)))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("src_dtype", ["float64", "int32", "bool"])
def test_from_dense_with_dtype(rng, fmt, src_dtype, kind):
    a = rng.choice([0, 0, 0.25, 1.5, -2.0, 3.0], size=(5, 6)).astype(src_dtype)
    for dtype in [None, np.float32, np.int8, np.int64, bool, np.complex64, np.uint8]:
        def f(sp, M):
            return _cls(sp, fmt, kind)(M, dtype=dtype)

        with variant(dtype=dtype):
            on_both(f, Input(lambda lib: a.copy()))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_from_dense_nan_inf(fmt, dtype):
    a = np.zeros((4, 5), dtype)
    a[0, 1], a[2, 2], a[3, 0], a[1, 4] = np.nan, np.inf, -np.inf, -0.0

    def f(sp, M):
        return _cls(sp, fmt, "array")(M)

    on_both(f, Input(lambda lib: a.copy()))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dense_kind", ["numpy", "list", "mlx"])
def test_matrix_from_1d_and_0d(fmt, dense_kind):
    for a in (np.array([1.0, 0.0, 3.0]), np.array([0.0, 0.0]), np.array(5.0)):
        def f(sp, M):
            return _cls(sp, fmt, "matrix")(M)

        on_both(f, Input(lambda lib: to_kind(a, dense_kind)))


# ---- another sparse object ------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("src_fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("spec", spec_params())
def test_from_sparse_same_library(case, fmt, src_fmt):
    for copy in (False, True):
        def f(sp, S):
            A = _cls(sp, fmt, case.spec.kind)(S, copy=copy)
            return A, S, A is S

        with variant(copy=copy):
            on_both(f, case.input(src_fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("src_fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_scipy_sparse(case, fmt, src_fmt):
    # both libraries take the same SciPy object (array or matrix, into either)
    for src_kind, dst_kind in itertools.product(KINDS, KINDS):
        def f(sp, S):
            return _cls(sp, fmt, dst_kind)(S)

        with variant(src_kind=src_kind, dst_kind=dst_kind):
            on_both(f, Input(lambda lib: case.make(ssp, src_fmt, src_kind)))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("src_fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_sparse_other_kind(case, fmt, src_fmt):
    # array <-> matrix through the constructor, inside one library
    for src_kind, dst_kind in itertools.product(KINDS, KINDS):
        def f(sp, S):
            return _cls(sp, fmt, dst_kind)(S)

        with variant(src_kind=src_kind, dst_kind=dst_kind):
            on_both(f, case.input(src_fmt, src_kind))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("src_fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_sparse_with_dtype(case, fmt, src_fmt):
    for dtype in ["float32", np.int64, bool, np.complex64, "uint8"]:
        def f(sp, S):
            return _cls(sp, fmt, case.spec.kind)(S, dtype=dtype), S

        with variant(dtype=dtype):
            on_both(f, case.input(src_fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("src_fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_sparse_copy_is_independent(case, fmt, src_fmt):
    def f(sp, S):
        A = _cls(sp, fmt, case.spec.kind)(S, copy=True)
        A.sum_duplicates()
        A.eliminate_zeros()
        return S, A

    on_both(f, case.input(src_fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_sparse_with_same_shape(case, fmt):
    def f(sp, S):
        return _cls(sp, fmt, case.spec.kind)(S, shape=case.shape)

    on_both(f, case.input(fmt))


# ---- (data, (row, col)) -------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_from_triplets(case, fmt):
    # duplicates are summed and the result is canonical
    def f(sp, data, row, col):
        A = _cls(sp, fmt, case.spec.kind)((data, (row, col)), shape=case.shape)
        return A, A.has_canonical_format

    on_both(f, case.data, case.row, case.col)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SMALL_SPECS if 0 not in s.shape]))
def test_from_triplets_without_shape(case, fmt):
    def f(sp, data, row, col):
        return _cls(sp, fmt, case.spec.kind)((data, (row, col)))

    on_both(f, case.data, case.row, case.col)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_triplets_with_dtype(case, fmt):
    for dtype in [None, "float32", np.int64, bool, np.complex64]:
        def f(sp, data, row, col):
            return _cls(sp, fmt, case.spec.kind)((data, (row, col)), shape=case.shape,
                                                 dtype=dtype)

        with variant(dtype=dtype):
            on_both(f, case.data, case.row, case.col)


# ---- (data, indices, indptr) ----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_from_buffers(case, fmt):
    # the buffers are kept as given: unsorted indices and duplicates stay
    def f(sp, buffers):
        A = _cls(sp, fmt, case.spec.kind)(buffers, shape=case.shape)
        return A, A.nnz, A.toarray()

    on_both(f, Input(lambda lib: case.buffers(fmt)))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if 0 not in s.shape]))
def test_from_buffers_without_shape(case, fmt):
    # shape inferred: (len(indptr) - 1, max(indices) + 1), swapped for CSC
    if case.row.size == 0:
        return

    def f(sp, buffers):
        return _cls(sp, fmt, case.spec.kind)(buffers)

    on_both(f, Input(lambda lib: case.buffers(fmt)))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_buffers_with_dtype(case, fmt):
    for dtype in [None, "float32", np.int64, bool, np.complex64, "int8", "uint64"]:
        def f(sp, buffers):
            return _cls(sp, fmt, case.spec.kind)(buffers, shape=case.shape, dtype=dtype)

        with variant(dtype=dtype):
            on_both(f, Input(lambda lib: case.buffers(fmt)))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_buffers_copy(case, fmt):
    for copy in (False, True):
        def f(sp, buffers):
            return _cls(sp, fmt, case.spec.kind)(buffers, shape=case.shape, copy=copy)

        with variant(copy=copy):
            on_both(f, Input(lambda lib: case.buffers(fmt)))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_buffers_copy_true_is_independent(case, fmt):
    data, indices, indptr = case.buffers(fmt)
    if data.size == 0:
        return

    def f(sp):
        A = _cls(sp, fmt, case.spec.kind)((data, indices, indptr), shape=case.shape,
                                          copy=True)
        before = A.toarray()
        with np.errstate(over="ignore"):  # (small integer dtypes wrap, in both runs)
            data[0] = data[0] * 2 + 1
        after = A.toarray()
        data[0] = case.buffers(fmt)[0][0]
        return before, after

    on_both(f)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("buffer_kind", ["numpy", "mlx", "list", "array_api"])
@pytest.mark.parametrize("kind", KINDS)
def test_buffers_of_other_kinds(rng, fmt, buffer_kind, kind):
    data = rng.standard_normal(5)
    row, col = np.array([0, 0, 2, 3, 3]), np.array([3, 1, 0, 2, 3])
    d, ind, ptr = compress(data, row, col, (4, 4), 0 if fmt == "csr" else 1, np.int32)

    def f(sp, d, ind, ptr):
        return _cls(sp, fmt, kind)((d, ind, ptr), shape=(4, 4))

    mk = (lambda a: Input(lambda lib: to_kind(a, buffer_kind)))
    on_both(f, mk(d), mk(ind), mk(ptr))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("index_dtype", ["int8", "uint8", "int16", "int32", "int64",
                                         "uint32", "uint64"])
def test_buffers_index_dtype(fmt, kind, index_dtype):
    # which index dtype the constructor picks from the buffers it is given
    d = np.arange(1.0, 6.0)
    ind = np.array([1, 3, 0, 2, 3], index_dtype)
    ptr = np.array([0, 2, 2, 3, 5], index_dtype)

    def f(sp):
        A = _cls(sp, fmt, kind)((d.copy(), ind.copy(), ptr.copy()), shape=(4, 4))
        return A, A.indptr.dtype == (np.int64 if sp is ssp else mx.int64)

    on_both(f)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_buffers_huge_minor_dimension(fmt, kind):
    # a dimension beyond int32 forces int64 indices
    big = 2**31 + 10
    shape = (3, big) if fmt == "csr" else (big, 3)
    d = np.array([1.0, 2.0, 3.0])
    ind = np.array([big - 1, 0, 7], np.int64)
    ptr = np.array([0, 2, 2, 3], np.int64)

    def f(sp):
        A = _cls(sp, fmt, kind)((d.copy(), ind.copy(), ptr.copy()), shape=shape)
        B = A.tocoo()
        return A, B, A.T, A.copy(), A.has_sorted_indices

    on_both(f)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.shape == (9, 4)]))
def test_from_buffers_every_dtype(case, fmt):
    def f(sp, buffers):
        A = _cls(sp, fmt, case.spec.kind)(buffers, shape=case.shape)
        return A, A.toarray()

    ours, _ = on_both(f, Input(lambda lib: case.buffers(fmt)))
    assert_matches_scipy(ours[1], case.dense())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_float_buffers(fmt, kind):
    # SciPy casts integral float indices / indptr to its index dtype
    def f(sp):
        return _cls(sp, fmt, kind)((np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 1.0]),
                                    np.array([0.0, 1.0, 1.0, 3.0])),
                                   shape=(3, 2) if fmt == "csr" else (2, 3))

    on_both(f)
