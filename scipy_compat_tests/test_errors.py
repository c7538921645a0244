"""Errors: SciPy's exception type for each bad input, raised by the same call
through both libraries; a failed call of ours leaves its inputs unchanged."""
import numpy as np
import pytest

from oracle import Input, SPECS, Case, assert_same_exception, on_both

FORMATS = ("coo", "csr", "csc")
COMPRESSED = ("csr", "csc")
KINDS = ("array", "matrix")


def _cls(sp, fmt, kind="array"):
    return getattr(sp, f"{fmt}_{kind}")


D2 = np.array([1.0, 2.0])


# ---- shapes -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", [(-1, 3), (3, -2), (-1, -1)], ids=str)
def test_negative_shape(fmt, kind, shape):
    assert_same_exception(lambda sp: _cls(sp, fmt, kind)(shape))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_negative_shape_argument(fmt, kind):
    assert_same_exception(
        lambda sp: _cls(sp, fmt, kind)((D2, ([0, 1], [0, 1])), shape=(-2, 2)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", COMPRESSED)
def test_three_dimensional_shape_tuple(fmt, kind):
    # (1, 2, 3) is read as (data, indices, indptr) and fails
    assert_same_exception(lambda sp: _cls(sp, fmt, kind)((1, 2, 3)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_inexact_shape(fmt, kind):
    if fmt == "coo":
        return  # SciPy's COO reads (2.5, 3) as (data, coords): an unrelated TypeError
    assert_same_exception(lambda sp: _cls(sp, fmt, kind)((2.5, 3)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", COMPRESSED)
def test_shape_not_a_tuple(fmt, kind):
    assert_same_exception(
        lambda sp: _cls(sp, fmt, kind)((D2, np.array([0, 1]), np.array([0, 1, 2])),
                                       shape=5))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_dense_with_inconsistent_shape(fmt, kind):
    assert_same_exception(lambda sp: _cls(sp, fmt, kind)(np.eye(3), shape=(4, 4)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", COMPRESSED)
def test_sparse_with_inconsistent_shape(fmt, kind):
    assert_same_exception(
        lambda sp, A: _cls(sp, fmt, kind)(A, shape=(4, 4)),
        Input(lambda sp: _cls(sp, fmt, kind)(np.eye(3))))


@pytest.mark.parametrize("fmt", FORMATS)
def test_matrix_from_3d_dense(fmt):
    assert_same_exception(lambda sp: _cls(sp, fmt, "matrix")(np.ones((2, 2, 2))))


@pytest.mark.parametrize("fmt", COMPRESSED)
def test_compressed_array_from_3d_dense(fmt):
    assert_same_exception(lambda sp: _cls(sp, fmt, "array")(np.ones((2, 2, 2))))


# ---- COO coordinates ---------------------------------------------------------------------
COO_BAD = {
    "negative-row": (D2, ([0, -1], [0, 1]), (3, 3)),
    "negative-col": (D2, ([0, 1], [-3, 1]), (3, 3)),
    "row-too-big": (D2, ([0, 3], [0, 1]), (3, 3)),
    "col-too-big": (D2, ([0, 1], [0, 5]), (3, 3)),
    "row-too-big-for-empty-rows": (D2, ([0, 0], [0, 1]), (0, 3)),
    "data-longer": (np.ones(3), ([0, 1], [0, 1]), (3, 3)),
    "row-longer": (D2, ([0, 1, 2], [0, 1]), (3, 3)),
    "col-longer": (D2, ([0, 1], [0, 1, 1]), (3, 3)),
    "data-2d": (np.ones((2, 1)), ([0, 1], [0, 1]), (3, 3)),
    "three-index-arrays": (D2, ([0, 1], [0, 1], [0, 1]), (3, 3)),
    "one-index-array": (D2, ([0, 1],), (3, 3)),
    "uint8-index-overflowing-shape": (D2, (np.array([200, 0], np.uint8),
                                           np.array([0, 1], np.uint8)), (3, 3)),
    "int64-index-beyond-int32": (D2, (np.array([0, 2**33], np.int64),
                                      np.array([0, 1], np.int64)), (3, 3)),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(COO_BAD))
def test_bad_triplets(fmt, kind, name):
    data, coords, shape = COO_BAD[name]
    assert_same_exception(
        lambda sp, d: _cls(sp, fmt, kind)((d, tuple(np.asarray(c) for c in coords)),
                                          shape=shape), data)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_triplets_cannot_infer_shape_from_empty(fmt, kind):
    e = np.zeros(0, np.int32)
    assert_same_exception(lambda sp: _cls(sp, fmt, kind)((np.zeros(0), (e, e))))


@pytest.mark.parametrize("kind", KINDS)
def test_coo_invalid_input_format(kind):
    assert_same_exception(lambda sp: _cls(sp, "coo", kind)((D2,)))
    assert_same_exception(lambda sp: _cls(sp, "coo", kind)((D2, 5)))


# ---- compressed buffers -----------------------------------------------------------------------
CS_BAD = {
    # name: (data, indices, indptr) for shape (3, 3)
    "indptr-too-short": (D2, [0, 1], [0, 1, 2]),
    "indptr-too-long": (D2, [0, 1], [0, 1, 2, 2, 2]),
    "indptr-not-starting-at-0": (D2, [0, 1], [1, 1, 2, 2]),
    "indptr-last-too-big": (D2, [0, 1], [0, 1, 2, 3]),
    "data-longer-than-indices": (np.ones(3), [0, 1], [0, 1, 2, 2]),
    "indices-longer-than-data": (D2, [0, 1, 2], [0, 1, 2, 2]),
    "indices-2d": (D2, np.array([[0, 1]]), [0, 1, 2, 2]),
    "indptr-2d": (D2, [0, 1], np.array([[0, 1, 2, 2]])),
    "data-2d": (np.ones((2, 1)), [0, 1], [0, 1, 2, 2]),
    "empty-indptr": (np.zeros(0), np.zeros(0, int), np.zeros(0, int)),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", COMPRESSED)
@pytest.mark.parametrize("name", list(CS_BAD))
def test_bad_buffers(fmt, kind, name):
    data, indices, indptr = CS_BAD[name]
    assert_same_exception(
        lambda sp, d, i, p: _cls(sp, fmt, kind)((d, i, p), shape=(3, 3)),
        np.asarray(data), np.asarray(indices), np.asarray(indptr))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", COMPRESSED)
def test_buffers_cannot_infer_shape(fmt, kind):
    z = np.zeros(0, np.int32)
    assert_same_exception(
        lambda sp: _cls(sp, fmt, kind)((np.zeros(0), z, np.zeros(4, np.int32))))


FULL_CHECK_BAD = {
    "index-too-big": ([0, 5], [0, 1, 2, 2]),
    "index-equal-to-dim": ([0, 3], [0, 1, 2, 2]),
    "negative-index": ([0, -1], [0, 1, 2, 2]),
    "decreasing-indptr": ([0, 1], [0, 2, 1, 2]),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", COMPRESSED)
@pytest.mark.parametrize("name", list(FULL_CHECK_BAD))
def test_check_format_full(fmt, kind, name):
    # the constructor's cheap check accepts these; check_format() finds them
    indices, indptr = FULL_CHECK_BAD[name]

    def build(sp):
        return _cls(sp, fmt, kind)((D2.copy(), np.array(indices), np.array(indptr)),
                                   shape=(3, 3))

    on_both(lambda sp, A: A.nnz, Input(build))  # construction succeeds in both
    assert_same_exception(lambda sp, A: A.check_format(full_check=True), Input(build))
    assert_same_exception(lambda sp, A: A.check_format(), Input(build))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", COMPRESSED)
def test_check_format_accepts_valid(fmt, kind):
    def f(sp, A):
        return A.check_format(full_check=True), A.check_format(full_check=False), A

    for spec in SPECS[:6]:
        case = Case(spec, np.random.default_rng(0))
        on_both(f, case.input(fmt, kind))


# ---- unrecognised input ------------------------------------------------------------------------
UNRECOGNISED = {
    "string": "hello",
    "object": object(),
    "dict": {1: 2},
    "4-tuple": (1, 2, 3, 4),
    "1-tuple": (D2,),
    "None": None,
    "string-array": np.array([["a", "b"]]),
    "object-array": np.array([[1, None]], dtype=object),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(UNRECOGNISED))
def test_unrecognised_constructor_input(fmt, kind, name):
    arg = UNRECOGNISED[name]
    if fmt == "coo" and name == "4-tuple":
        return  # SciPy's COO reads a 4-tuple as a 4-D shape (n-D: not supported here)
    assert_same_exception(lambda sp: _cls(sp, fmt, kind)(arg))


@pytest.mark.parametrize("dtype", [object, "U3", "S2", "datetime64[s]", "xyz"], ids=str)
@pytest.mark.parametrize("fmt", FORMATS)
def test_unsupported_dtype_argument(fmt, dtype):
    assert_same_exception(lambda sp: _cls(sp, fmt)((2, 2), dtype=dtype))
    assert_same_exception(lambda sp: _cls(sp, fmt)(np.eye(2), dtype=dtype))


@pytest.mark.parametrize("dtype", [object, "U3"], ids=str)
@pytest.mark.parametrize("fmt", FORMATS)
def test_astype_unsupported(fmt, dtype):
    assert_same_exception(lambda sp, A: A.astype(dtype),
                          Input(lambda sp: _cls(sp, fmt)(np.eye(2))))


@pytest.mark.parametrize("casting", ["safe", "same_kind", "no", "equiv"])
@pytest.mark.parametrize("pair", [("float64", "int32"), ("float64", "float32"),
                                  ("int64", "int8"), ("complex64", "float32"),
                                  ("int32", "uint8"), ("float32", "bool")], ids=str)
@pytest.mark.parametrize("fmt", FORMATS)
def test_astype_casting_refused(fmt, pair, casting):
    src, dst = pair
    if np.can_cast(src, dst, casting=casting):
        return

    def build(sp):
        return _cls(sp, fmt)(np.array([[1, 0], [0, 2]], dtype=src))

    assert_same_exception(lambda sp, A: A.astype(dst, casting=casting), Input(build))


# ---- axis ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [2, -3, 5, (0, 1), "x"], ids=str)
@pytest.mark.parametrize("fmt", FORMATS)
def test_count_nonzero_bad_axis(fmt, axis, rng):
    case = Case(SPECS[3], rng)  # messy: duplicates, zeros, unsorted
    assert_same_exception(lambda sp, A: A.count_nonzero(axis=axis), case.input(fmt))


@pytest.mark.parametrize("axis", [2, -3, (0, 1)], ids=str)
@pytest.mark.parametrize("fmt", FORMATS)
def test_getnnz_bad_axis(fmt, axis, rng):
    if fmt == "coo" and axis == -3:
        return  # SciPy's coo_matrix.getnnz(axis=-3) fails by accident (IndexError)
    case = Case(SPECS[3], rng)
    assert_same_exception(lambda sp, A: A.getnnz(axis=axis), case.input(fmt, "matrix"))


# ---- other methods ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_transpose_axes(fmt, kind):
    A = Input(lambda sp: _cls(sp, fmt, kind)(np.arange(6.0).reshape(2, 3)))
    for axes in ((0, 1), (1, 1), (2, 0)):
        if fmt == "coo" and kind == "array":
            continue  # n-D COO arrays (SciPy) permute any axes: see test_attributes
        assert_same_exception(lambda sp, A: A.transpose(axes=axes), A)


@pytest.mark.parametrize("fmt", FORMATS)
def test_toarray_bad_order_and_out(fmt):
    A = Input(lambda sp: _cls(sp, fmt)(np.eye(3)))
    assert_same_exception(lambda sp, A: A.toarray(order="X"), A)
    assert_same_exception(lambda sp, A: A.toarray(out=np.zeros((2, 2))), A)
    assert_same_exception(lambda sp, A: A.toarray(out=np.zeros((3, 3), np.float32)), A)
    assert_same_exception(lambda sp, A: A.toarray(order="C", out=np.zeros((3, 3))), A)


@pytest.mark.parametrize("fmt", FORMATS)
def test_asformat_unknown(fmt):
    assert_same_exception(lambda sp, A: A.asformat("xyz"),
                          Input(lambda sp: _cls(sp, fmt)(np.eye(3))))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_reshape_bad_size(fmt, kind):
    A = Input(lambda sp: _cls(sp, fmt, kind)(np.eye(3)))
    assert_same_exception(lambda sp, A: A.reshape((2, 4)), A)
    assert_same_exception(lambda sp, A: A.reshape((-1, -1)), A)


@pytest.mark.parametrize("fmt", FORMATS)
def test_set_shape(fmt):
    A = Input(lambda sp: _cls(sp, fmt, "matrix")(np.eye(3)))
    assert_same_exception(lambda sp, A: A.set_shape((2, 2)), A)
    B = Input(lambda sp: _cls(sp, fmt, "array")(np.eye(3)))
    assert_same_exception(lambda sp, A: setattr(A, "shape", (1, 9)), B)


@pytest.mark.parametrize("fmt", FORMATS)
def test_diagonal_bad_k(fmt):
    assert_same_exception(lambda sp, A: A.diagonal(k=0.5),
                          Input(lambda sp: _cls(sp, fmt)(np.eye(3))))


@pytest.mark.parametrize("fmt", FORMATS)
def test_getnnz_absent_from_arrays(fmt):
    assert_same_exception(lambda sp, A: A.getnnz(),
                          Input(lambda sp: _cls(sp, fmt)(np.eye(3))))
