"""Attributes and simple methods: shape, ndim, nnz, size, dtype, format, the storage
arrays, T / transpose, real / imag / conj, copy, astype, count_nonzero, nonzero,
diagonal, trace, getnnz / get_shape / set_shape / getH (matrices), repr / str,
len, bool, np.asarray, and the issparse family."""
import itertools

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

import mlx_sparse.sparse as msp
from oracle import (SMALL_SPECS, SPECS, VALUE_DTYPES, Input, on_both, spec_params,
                    variant)

FORMATS = ("coo", "csr", "csc")
KINDS = ("array", "matrix")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_basic_attributes(case, fmt):
    def f(sp, A):
        return (A.shape, A.ndim, A.nnz, A.size, A.dtype, A.format,
                A.shape == case.shape, type(A.shape).__name__)

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_storage_arrays(case, fmt):
    def f(sp, A):
        if fmt == "coo":
            return A.row, A.col, A.data, A.coords
        return A.indptr, A.indices, A.data

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_transpose(case, fmt):
    def f(sp, A):
        return A.T, A.transpose(), A.transpose(copy=True), A.T.T, A

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_transpose_axes_1_0(case, fmt):
    # axes=(1, 0) is the one permutation a 2-D sparse array accepts
    def f(sp, A):
        return A.transpose(axes=(1, 0))

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_coo_array_transpose_identity_axes(case):
    # SciPy's COO arrays take any permutation of their axes; (0, 1) keeps them
    def f(sp, A):
        return A.transpose(axes=(0, 1)), A.transpose(axes=[1, 0])

    on_both(f, case.input("coo", "array"))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_real_imag_conj(case, fmt):
    def f(sp, A):
        return A.real, A.imag, A.conj(), A.conjugate(), A.conj(copy=False)

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_getH(case, fmt):
    if case.spec.kind != "matrix":
        return

    def f(sp, A):
        return A.getH()

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_copy(case, fmt):
    def f(sp, A):
        B = A.copy()
        distinct = B is not A
        B.sum_duplicates()
        B.eliminate_zeros()
        return distinct, A, B

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.shape in ((9, 4), (6, 6))]))
def test_astype(case, fmt):
    for dtype in VALUE_DTYPES:
        def f(sp, A):
            B = A.astype(dtype)
            return B, B is A, A

        with variant(dtype=dtype):
            on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_astype_copy_false(case, fmt):
    def f(sp, A):
        same = A.astype(A.dtype, copy=False)
        other = A.astype(np.float32 if A.dtype != np.float32 else np.float64, copy=False)
        return same is A, other is A, same, other

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.shape in ((4, 9), (9, 4))]))
def test_astype_casting_allowed(case):
    # the casts each rule allows give the same result; refused ones are in test_errors
    src = np.dtype(case.spec.dtype)
    for casting, target in itertools.product(("unsafe", "same_kind", "safe"),
                                             ("float64", "complex64", "int64", "float32")):
        if not np.can_cast(src, target, casting=casting):
            continue

        def f(sp, A):
            return A.astype(target, casting=casting)

        with variant(casting=casting, target=target):
            on_both(f, case.input("csr"))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_count_nonzero(case, fmt):
    # SciPy's count_nonzero sums duplicates in place first: compare A afterwards too
    for axis in (None, 0, 1, -1, -2):
        def f(sp, A):
            return A.count_nonzero(axis=axis), A

        with variant(axis=axis):
            on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_nonzero(case, fmt):
    def f(sp, A):
        return A.nonzero(), A

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_diagonal(case, fmt):
    m, n = case.shape

    def f(sp, A):
        return tuple(A.diagonal(k) for k in range(-m - 1, n + 2)) + (A.diagonal(),)

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_trace(case, fmt):
    m, n = case.shape

    def f(sp, A):
        return tuple(A.trace(offset=k) for k in (-m, -1, 0, 1, n)) + (A.trace(),)

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.kind == "matrix"]))
def test_getnnz(case, fmt):
    for axis in (None, 0, 1, -1, -2):
        def f(sp, A):
            return A.getnnz(axis=axis), A.getnnz(), A

        with variant(axis=axis):
            on_both(f, case.input(fmt))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_which_attributes_exist(fmt, kind):
    # matrix-only methods are absent from arrays (and format-specific ones elsewhere)
    names = ("getnnz", "get_shape", "set_shape", "getH", "getformat", "getmaxprint",
             "asfptype", "check_format", "prune", "sort_indices", "sorted_indices",
             "has_sorted_indices", "row", "col", "coords", "indices", "indptr")

    def f(sp):
        A = getattr(sp, f"{fmt}_{kind}")(np.eye(3))
        return {name: hasattr(A, name) for name in names}

    ours, theirs = on_both(f, check=False)
    assert ours == theirs, {k: (ours[k], theirs[k]) for k in names if ours[k] != theirs[k]}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.kind == "matrix"]))
def test_matrix_shape_methods(case, fmt):
    m, n = case.shape

    def f(sp, A):
        out = [A.get_shape(), A.getformat(), A.getmaxprint()]
        if m * n:
            A.set_shape((n, m))
            out += [A.get_shape(), A.toarray()]
            A.shape = (1, m * n)
            out += [A.shape, A.format, A.toarray()]
        return tuple(out)

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_repr_str(case, fmt):
    def f(sp, A):
        return repr(A), str(A)

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("maxprint", [None, 1, 4, 7])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_str_truncated(rng, fmt, kind, maxprint):
    # more entries than maxprint: the first and last halves around "  :\t:"
    a = np.where(rng.random((12, 11)) < 0.5, rng.standard_normal((12, 11)), 0)

    def f(sp, M):
        kw = {} if maxprint is None else {"maxprint": maxprint}
        A = getattr(sp, f"{fmt}_{kind}")(M, **kw)
        return str(A), repr(A)

    on_both(f, Input(lambda lib: a.copy()))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_len_raises_type_error(fmt, kind):
    from oracle import assert_same_exception

    assert_same_exception(lambda sp: len(getattr(sp, f"{fmt}_{kind}")(np.eye(3))))


@pytest.mark.parametrize("value", [[[0.0]], [[2.5]], [[-1]], [[True]], [[False]]])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_bool_of_1x1(fmt, kind, value):
    def f(sp):
        return bool(getattr(sp, f"{fmt}_{kind}")(value))

    on_both(f)


@pytest.mark.parametrize("fmt", FORMATS)
def test_bool_of_1x1_explicit_zero_and_duplicates(fmt):
    def f(sp):
        z = sp.coo_array(([0.0], ([0], [0])), shape=(1, 1)).asformat(fmt)
        d = sp.coo_array(([1.0, -1.0], ([0, 0], [0, 0])), shape=(1, 1))
        e = sp.coo_array((1, 1)).asformat(fmt)
        return bool(z), bool(d), bool(e)

    on_both(f)


@pytest.mark.parametrize("shape", [(2, 2), (1, 3), (3, 1), (0, 0), (0, 1)], ids=str)
@pytest.mark.parametrize("fmt", FORMATS)
def test_bool_ambiguous(fmt, shape):
    from oracle import assert_same_exception

    assert_same_exception(lambda sp: bool(getattr(sp, f"{fmt}_array")(shape)))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_np_asarray(case, fmt):
    # a sparse object is not silently densified: NumPy wraps it as a 0-d object array
    def f(sp, A):
        a = np.asarray(A)
        return a.shape, a.dtype, a.item() is A

    on_both(f, case.input(fmt))


# ---- issparse and friends ------------------------------------------------------------
PREDICATES = ("issparse", "isspmatrix", "isspmatrix_coo", "isspmatrix_csr",
              "isspmatrix_csc")


@pytest.mark.parametrize("pred", PREDICATES)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_predicates_on_own_objects(pred, fmt, kind):
    def f(sp):
        A = getattr(sp, f"{fmt}_{kind}")(np.eye(2))
        return (getattr(sp, pred)(A), isinstance(A, sp.sparray),
                isinstance(A, sp.spmatrix))

    on_both(f)


@pytest.mark.parametrize("pred", PREDICATES)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_predicates_accept_scipy_objects(pred, fmt, kind):
    # ours answers for SciPy's objects exactly as SciPy does
    S = getattr(ssp, f"{fmt}_{kind}")(np.eye(2))
    assert getattr(msp, pred)(S) == getattr(ssp, pred)(S)


@pytest.mark.parametrize("pred", PREDICATES)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_predicates_on_ours_match_scipy_on_theirs(pred, fmt, kind):
    ours = getattr(msp, f"{fmt}_{kind}")(np.eye(2))
    theirs = getattr(ssp, f"{fmt}_{kind}")(np.eye(2))
    assert getattr(msp, pred)(ours) == getattr(ssp, pred)(theirs)


@pytest.mark.parametrize("pred", PREDICATES)
@pytest.mark.parametrize("x", [np.eye(2), mx.eye(2), [[1, 0]], 3.0, None, "csr"],
                         ids=["numpy", "mlx", "list", "scalar", "None", "str"])
def test_predicates_on_non_sparse(pred, x):
    def f(sp):
        return getattr(sp, pred)(x)

    on_both(f)


def test_format_names_and_classes():
    for fmt in FORMATS:
        for kind in KINDS:
            def f(sp):
                cls = getattr(sp, f"{fmt}_{kind}")
                return cls.__name__, cls((2, 2)).format

            on_both(f)


@pytest.mark.parametrize("args, kw", [
    ((), {}), ((), {"maxval": 2**31 - 1}), ((), {"maxval": 2**31}),
    (([np.array([1, 2], np.int64)],), {}),
    (([np.array([1, 2], np.int64)],), {"check_contents": True}),
    (([np.array([2**40], np.int64)],), {"check_contents": True}),
    (([np.array([1], np.int32), np.array([2], np.int16)],), {"maxval": 5}),
    (([np.array([], np.int64)],), {"check_contents": True}),
    (([np.array([1], np.uint64)],), {"check_contents": True}),
], ids=str)
def test_get_index_dtype(args, kw):
    def f(sp):
        return sp.get_index_dtype(*args, **kw)

    on_both(f)
