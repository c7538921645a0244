"""coo_array / coo_matrix constructors: shape tuple, dense input (NumPy, MLX, lists,
array API), another sparse object (ours and SciPy's, every format), (data, (row,
col)), (data, coords); shape=, dtype=, copy=; index dtype selection."""
import itertools

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

from inputs import spec_dense_params, to_kind
from oracle import (SMALL_SPECS, SPECS, Input, assert_matches_scipy, on_both,
                    spec_params, variant)

KINDS = ("array", "matrix")
SHAPES = [(0, 0), (0, 3), (3, 0), (1, 1), (1, 5), (5, 1), (4, 6), (70000, 3)]
CTOR_DTYPES = [None, "float32", np.float64, "int8", np.int64, bool, np.uint8,
               "uint64", np.complex64, "int32"]


def _coo(sp, kind):
    return getattr(sp, f"coo_{kind}")


# ---- shape tuple ----------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_from_shape(shape, kind):
    for dtype in CTOR_DTYPES:
        def f(sp):
            A = _coo(sp, kind)(shape, dtype=dtype)
            return A, A.nnz, A.has_canonical_format

        with variant(dtype=dtype):
            on_both(f)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(3, 2**31 + 7), (2**31, 1), (2**31 - 1, 2)], ids=str)
def test_from_shape_index_dtype(shape, kind):
    # int64 indices exactly when a dimension does not fit int32
    def f(sp):
        A = _coo(sp, kind)(shape)
        return A, A.row.dtype == np.int64 if sp is ssp else A.row.dtype == mx.int64

    on_both(f)


# ---- dense input ------------------------------------------------------------------
@pytest.mark.parametrize("spec, dense_kind", spec_dense_params(SPECS))
def test_from_dense(case, dense_kind):
    a = case.dense()

    def f(sp, M):
        A = _coo(sp, case.spec.kind)(M)
        return A, A.has_canonical_format, A.nnz

    on_both(f, Input(lambda lib: to_kind(a, dense_kind)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [None, np.float32, np.int8, np.int64, bool,
                                   np.complex64, np.uint8], ids=str)
@pytest.mark.parametrize("src_dtype", ["float64", "int32", "bool", "float32"])
def test_from_dense_with_dtype(rng, src_dtype, dtype, kind):
    # values that become zero by the cast (0.25 -> 0) are stored explicitly by SciPy
    a = rng.choice([0, 0, 0.25, 1.5, -2.0, 3.0], size=(5, 6)).astype(src_dtype)

    def f(sp, M):
        return _coo(sp, kind)(M, dtype=dtype)

    on_both(f, Input(lambda lib: a.copy()))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_from_dense_nan_inf(rng, dtype, kind):
    a = np.zeros((4, 5), dtype)
    a[0, 1], a[2, 2], a[3, 0], a[1, 4] = np.nan, np.inf, -np.inf, -0.0

    def f(sp, M):
        return _coo(sp, kind)(M)

    on_both(f, Input(lambda lib: a.copy()))


@pytest.mark.parametrize("dense_kind", ["numpy", "list", "mlx"])
def test_matrix_from_1d_and_0d(dense_kind):
    # *_matrix makes 1-D input a row and a scalar 1x1 (np.atleast_2d)
    for a in (np.array([1.0, 0.0, 3.0]), np.array([0.0, 0.0]), np.array(5.0)):
        def f(sp, M):
            return sp.coo_matrix(M)

        on_both(f, Input(lambda lib: to_kind(a, dense_kind)))


@pytest.mark.parametrize("kind", KINDS)
def test_from_dense_with_consistent_shape(kind):
    a = np.arange(12.0).reshape(3, 4) % 3

    def f(sp):
        return _coo(sp, kind)(a, shape=(3, 4))

    on_both(f)


# ---- another sparse object --------------------------------------------------------------
@pytest.mark.parametrize("src_fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("spec", spec_params())
def test_from_sparse_same_library(case, src_fmt):
    for copy in (False, True):
        def f(sp, S):
            A = _coo(sp, case.spec.kind)(S, copy=copy)
            return A, S

        with variant(copy=copy):
            on_both(f, case.input(src_fmt))


@pytest.mark.parametrize("src_fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_scipy_sparse(case, src_fmt):
    # both libraries take the same SciPy object (array or matrix, into either)
    for src_kind, dst_kind in itertools.product(KINDS, KINDS):
        def f(sp, S):
            return _coo(sp, dst_kind)(S)

        with variant(src_kind=src_kind, dst_kind=dst_kind):
            on_both(f, Input(lambda lib: case.make(ssp, src_fmt, src_kind)))


@pytest.mark.parametrize("src_fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_sparse_other_kind(case, src_fmt):
    # array <-> matrix through the constructor, inside one library
    for src_kind, dst_kind in itertools.product(KINDS, KINDS):
        def f(sp, S):
            return _coo(sp, dst_kind)(S)

        with variant(src_kind=src_kind, dst_kind=dst_kind):
            on_both(f, case.input(src_fmt, src_kind))


@pytest.mark.parametrize("src_fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_sparse_with_dtype(case, src_fmt):
    for dtype in ["float32", np.int64, bool, np.complex64, "uint8"]:
        def f(sp, S):
            return _coo(sp, case.spec.kind)(S, dtype=dtype), S

        with variant(dtype=dtype):
            on_both(f, case.input(src_fmt))


@pytest.mark.parametrize("src_fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_sparse_copy_is_independent(case, src_fmt):
    # an in-place change of the copy leaves the source as it was
    def f(sp, S):
        A = _coo(sp, case.spec.kind)(S, copy=True)
        A.sum_duplicates()
        A.eliminate_zeros()
        return S, A

    on_both(f, case.input(src_fmt))


# ---- (data, (row, col)) and (data, coords) -------------------------------------------------
@pytest.mark.parametrize("with_shape", [True, False])
@pytest.mark.parametrize("spec", spec_params())
def test_from_triplets(case, with_shape):
    if not with_shape and case.row.size == 0:
        # the shape cannot be inferred from empty coordinates: both raise
        with_shape = True

    def f(sp, data, row, col):
        kw = {"shape": case.shape} if with_shape else {}
        A = _coo(sp, case.spec.kind)((data, (row, col)), **kw)
        return A, A.has_canonical_format

    on_both(f, case.data, case.row, case.col)


@pytest.mark.parametrize("coords_form", ["tuple", "list", "2d-array"])
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_data_coords(case, coords_form):
    def coords():
        if coords_form == "tuple":
            return (case.row.copy(), case.col.copy())
        if coords_form == "list":
            return [case.row.copy(), case.col.copy()]
        return np.stack([case.row, case.col])

    def f(sp, data, coords):
        return _coo(sp, case.spec.kind)((data, coords), shape=case.shape)

    on_both(f, case.data, Input(lambda lib: coords()))


@pytest.mark.parametrize("kind", KINDS)
def test_from_python_lists(kind):
    def f(sp):
        return _coo(sp, kind)(([1.5, 2, -3], ([0, 2, 2], [1, 0, 1])), shape=(3, 4))

    on_both(f)
    on_both(lambda sp: _coo(sp, kind)(([1, 2, 3], ([0, 2, 0], [1, 0, 1]))))
    on_both(lambda sp: _coo(sp, kind)(([True, False], ([0, 1], [1, 0]))))


@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_triplets_with_dtype(case):
    for dtype in [None, "float32", np.int64, bool, np.complex64, "int8", "uint64"]:
        def f(sp, data, row, col):
            return _coo(sp, case.spec.kind)((data, (row, col)), shape=case.shape,
                                            dtype=dtype)

        with variant(dtype=dtype):
            on_both(f, case.data, case.row, case.col)


@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_triplets_copy_true_is_independent(case):
    data, row, col = case.data.copy(), case.row.copy(), case.col.copy()
    if data.size == 0:
        return

    def f(sp):
        A = _coo(sp, case.spec.kind)((data, (row, col)), shape=case.shape, copy=True)
        before = A.toarray()
        data[0] = data[0] * 2 + 1  # the caller changes its arrays afterwards
        row[0] = (row[0] + 1) % case.shape[0]
        after = A.toarray()
        data[0], row[0] = case.data[0], case.row[0]
        return before, after

    on_both(f)


@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_from_triplets_copy_values(case):
    for copy in (False, True):
        def f(sp, data, row, col):
            return _coo(sp, case.spec.kind)((data, (row, col)), shape=case.shape,
                                            copy=copy)

        with variant(copy=copy):
            on_both(f, case.data, case.row, case.col)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("row_dtype", ["int8", "uint8", "int16", "int32", "int64",
                                       "uint32", "uint64"])
def test_from_triplets_index_dtype(row_dtype, kind):
    # which index dtype a constructor picks from the index arrays it is given
    row = np.array([0, 3, 1, 3], row_dtype)
    col = np.array([2, 0, 1, 2], row_dtype)

    def f(sp):
        A = _coo(sp, kind)((np.arange(1.0, 5.0), (row.copy(), col.copy())), shape=(4, 3))
        return A, A.row.dtype == (np.int64 if sp is ssp else mx.int64)

    on_both(f)


@pytest.mark.parametrize("kind", KINDS)
def test_from_triplets_huge_shape_int64(kind):
    # a dimension beyond int32 forces int64 indices (and nothing of that size is built)
    shape = (4, 2**31 + 10)
    row = np.array([0, 3, 1, 3], np.int32)
    col = np.array([2**31 + 9, 0, 5, 2**31 + 9], np.int64)

    def f(sp):
        A = _coo(sp, kind)((np.arange(1.0, 5.0), (row.copy(), col.copy())), shape=shape)
        B = A.tocsr()
        return A, B, B.tocoo(), A.T

    on_both(f, order="exact")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("index_kind", ["numpy", "mlx", "list"])
def test_index_arrays_of_other_kinds(kind, index_kind):
    data = np.array([1.0, 2.0, 3.0])
    row = np.array([0, 2, 2], np.int32)
    col = np.array([1, 0, 1], np.int32)

    def f(sp, d, r, c):
        return _coo(sp, kind)((d, (r, c)), shape=(3, 3))

    mk = (lambda a: Input(lambda lib: to_kind(a, index_kind)))
    on_both(f, mk(data), mk(row), mk(col))


@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.shape == (9, 4)]))
def test_from_triplets_every_dtype(case):
    def f(sp, data, row, col):
        A = _coo(sp, case.spec.kind)((data, (row, col)), shape=case.shape)
        return A, A.toarray()

    ours, _ = on_both(f, case.data, case.row, case.col)
    # and the dense view sums the duplicates, as SciPy's does
    assert_matches_scipy(ours[1], case.dense())


@pytest.mark.parametrize("kind", KINDS)
def test_float_coordinates_with_shape(kind):
    # SciPy casts integral float coordinates to its index dtype when shape is given
    def f(sp):
        return _coo(sp, kind)((np.array([1.0, 2.0, 3.0]),
                               (np.array([0.0, 2.0, 1.0]), np.array([1.0, 0.0, 1.0]))),
                              shape=(3, 2))

    on_both(f)
