"""Products: A @ x, A @ X, X @ A, x @ A, sparse @ sparse, A.dot, _matrix * x (matmul),
A.T @ x, batched A @ X (beyond SciPy), dimension/scalar errors, and algebraic
properties. Every call runs through scipy.sparse and mlx_sparse.sparse with the same
code; dense results are compared to dtype-appropriate tolerances, sparse results by
entries plus our canonical form (SciPy's SpGEMM leaves indices unsorted).

The helpers below (compare / both / Soft / assert_same / cin / SPEC_FMT ...) are
shared with test_arithmetic.py and test_reductions.py."""
import warnings

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

import mlx_sparse.sparse as msp
from inputs import to_kind
from oracle import (SMALL_SPECS, SPECS, Case, Input, Spec, _materialise, _triplets,
                    assert_same_exception, dtype_of, host, is_ours, on_both,
                    spec_params)

FORMATS = ("coo", "csr", "csc")
KINDS = ("array", "matrix")
DTYPES = ("bool", "int8", "int64", "uint8", "float32", "float64", "complex64")


# ----------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------
def dense(rng, shape, dtype):
    """A random dense operand with small values (zeros included)."""
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if dt.kind == "u":
        return rng.integers(0, 6, size=shape).astype(dt)
    if dt.kind == "i":
        return rng.integers(-5, 6, size=shape).astype(dt)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)


def expected_dtype(dt):
    """SciPy's result dtype as we can hold it (MLX has no complex128)."""
    dt = np.dtype(dt)
    return np.dtype(np.complex64) if dt == np.complex128 else dt


def rtol_of(dt):
    dt = np.dtype(dt)
    if dt.kind in "biu":
        return None
    if dt in (np.float16,):
        return 2e-3
    if dt in (np.float32, np.complex64):
        return 1e-5
    return 1e-12


def assert_close(ours, theirs, *, scale=None, rtol_dtype=None, what="values"):
    """Our dense result against SciPy's: mx.array, shape, dtype, values (exact for
    integers/bool; rtol ~1e-5 single, 1e-12 double precision; atol = rtol * scale)."""
    __tracebackhide__ = True
    t = np.asarray(theirs)
    if t.ndim == 0 and isinstance(ours, mx.array) and tuple(ours.shape) == (1,):
        # SciPy 1.17 quirk, not copied: coo_array of shape (1, n) @ x (and x @ a
        # (n, 1) coo_array) returns a scalar where csr/csc_array return shape (1,).
        t = t.reshape(1)
    assert isinstance(ours, mx.array), (
        f"{type(ours).__name__} returned where SciPy returns {type(theirs).__name__}"
        " (dense results are mx.array)")
    assert tuple(ours.shape) == t.shape, f"shape {tuple(ours.shape)} != SciPy's {t.shape}"
    od, td = dtype_of(ours), expected_dtype(t.dtype)
    assert od == td, f"dtype {od} != SciPy's {t.dtype}"
    assert_values_close(host(ours), t, scale=scale, rtol_dtype=rtol_dtype or td, what=what)


def assert_values_close(o, t, *, scale=None, rtol_dtype=None, what="values"):
    __tracebackhide__ = True
    o, t = np.asarray(o), np.asarray(t)
    assert o.shape == t.shape, f"{what}: shape {o.shape} != {t.shape}"
    # integer and bool results are exact whatever tolerance the caller allows
    rtol = None if t.dtype.kind in "biu" else \
        rtol_of(rtol_dtype if rtol_dtype is not None else t.dtype)
    if rtol is None:
        assert np.array_equal(o, t), f"{what} differ:\n ours  ={o!r}\n scipy={t!r}"
        return
    if t.dtype.kind == "c" and o.dtype.kind == "c":
        # a complex value with a nan part is "nan" (as NumPy's isnan): nan+0j and
        # nan+nanj are the same result
        both_nan = np.isnan(o) & np.isnan(t)
        o, t = np.where(both_nan, np.nan, o), np.where(both_nan, np.nan, t)
    if scale is None:
        fin = np.abs(t[np.isfinite(t)]) if t.size else t
        scale = max(float(fin.max()) if fin.size else 1.0, 1.0)
    np.testing.assert_allclose(o, t, rtol=rtol, atol=rtol * scale, equal_nan=True,
                               err_msg=what)


def bound(A_dense, x):
    """max of |A| @ |x|: the scale of the rounding error of A @ x."""
    a = np.abs(np.asarray(A_dense)).astype(np.float64)
    b = np.abs(np.asarray(x)).astype(np.float64)
    if a.size == 0 or b.size == 0:
        return 1.0
    return max(float(np.max(a @ b)), 1.0)


def assert_canonical(ours):
    """Our sparse result claims canonical form and really is (sorted, no dups)."""
    __tracebackhide__ = True
    assert ours.has_sorted_indices, "result has_sorted_indices is False"
    assert ours.has_canonical_format, "result has_canonical_format is False"
    r, c, _ = _triplets(ours)
    if ours.format == "csc":
        r, c = c, r
    n = max(ours.shape[1] if ours.format != "csc" else ours.shape[0], 1)
    key = r.astype(np.int64) * n + c.astype(np.int64)
    assert np.all(np.diff(key) > 0), "result indices not sorted / duplicated"


def index_dtypes(A):
    names = ("row", "col") if A.format == "coo" else ("indices", "indptr")
    return tuple(str(dtype_of(getattr(A, nm))) for nm in names)


def inputs_agree(*pairs):
    """Whether our inputs hold the index dtypes SciPy's do (our constructors may
    choose differently: test_construct_* covers that, not the products)."""
    return all(index_dtypes(cin(c, f, k).build(msp)) ==
               index_dtypes(cin(c, f, k).build(ssp)) for c, f, k in pairs)


def _entries(A):
    """{(row, col): summed value} of a sparse object (ours or SciPy's)."""
    r, c, d = _triplets(A)
    out = {}
    for i, j, v in zip(r.tolist(), c.tolist(), d.tolist()):
        out[(i, j)] = out.get((i, j), 0) + v
    return out


def _differ_by_noise_only(ours, theirs, dtype, scale=None):
    """For inexact dtypes: the stored coordinates of ours and SciPy's differ only in
    entries whose value is rounding noise (0 < |v| <= rtol * scale), e.g. a sum that
    cancels to exactly 0 in one library (dropped) and to 1e-8 in the other."""
    rtol = rtol_of(dtype)
    if rtol is None:
        return False
    eo, et = _entries(ours), _entries(theirs)
    if scale is None:
        scale = max([abs(v) for v in et.values()] + [1.0])
    extra = [eo[k] for k in eo.keys() - et.keys()] + [et[k] for k in et.keys() - eo.keys()]
    # a stored exact zero on one side only is a structural difference, not noise
    return all(0 < abs(v) <= rtol * scale for v in extra)


def assert_sparse_product(ours, theirs, scale=1.0, check_index=True):
    """Sparse result: class, format, shape, dtype, same entries (order free:
    SciPy's SpGEMM order is unspecified), ours canonical, index dtypes (when the
    inputs' index dtypes agree)."""
    __tracebackhide__ = True
    assert is_ours(ours), f"expected an mlx_sparse object, got {type(ours).__name__}"
    assert type(ours).__name__ == type(theirs).__name__, (
        f"class {type(ours).__name__} != SciPy's {type(theirs).__name__}")
    assert ours.format == theirs.format
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == expected_dtype(theirs.dtype), (
        f"dtype {ours.dtype} != SciPy's {theirs.dtype}")
    t = theirs.copy()
    t.sum_duplicates()
    rd = expected_dtype(theirs.dtype)
    ro, co, do = _triplets(ours)
    rt, ct, dt_ = _triplets(t)
    ko = np.lexsort((co, ro))
    kt = np.lexsort((ct, rt))
    same = ours.nnz == t.nnz and np.array_equal(ro[ko], rt[kt]) and \
        np.array_equal(co[ko], ct[kt])
    if same:
        assert_values_close(do[ko], dt_[kt], scale=scale, rtol_dtype=rd, what="data")
    else:
        assert _differ_by_noise_only(ours, t, rd, scale), (
            f"stored entries differ (nnz {ours.nnz}, SciPy's {t.nnz}):\n"
            f" ours ={sorted(_entries(ours).items())}\n"
            f" scipy={sorted(_entries(t).items())}")
        assert_values_close(host(ours.toarray()), t.toarray(), scale=scale,
                            rtol_dtype=rd, what="toarray()")
    if ours.format in ("csr", "csc"):
        assert_canonical(ours)
    if check_index:
        assert index_dtypes(ours) == index_dtypes(theirs), (
            f"index dtypes {index_dtypes(ours)} != SciPy's {index_dtypes(theirs)}")


def assert_sparse_same(ours, theirs, agree=True, order="exact", tol_dtype=None):
    """Our sparse result against SciPy's: class, shape, dtype, then
    order="exact": the storage arrays, element by element, and the canonical flags;
    order="any":   the same entries as a multiset (SciPy's order unspecified);
    order="dense": the same dense matrix only.
    order="binop": "exact" where SciPy's result is canonical, else "any" (SciPy's
    general binop leaves indices unsorted) with ours canonical.
    Index dtypes are compared when `agree` (our inputs had SciPy's index dtypes)."""
    __tracebackhide__ = True
    if order == "binop":
        if theirs.format in ("csr", "csc") and not theirs.has_canonical_format:
            order = "any"
            if is_ours(ours) and ours.format in ("csr", "csc"):
                assert_canonical(ours)
        else:
            order = "exact"
    assert is_ours(ours), f"expected an mlx_sparse object, got {type(ours).__name__}"
    assert type(ours).__name__ == type(theirs).__name__, (
        f"class {type(ours).__name__} != SciPy's {type(theirs).__name__}")
    assert tuple(ours.shape) == tuple(theirs.shape), (
        f"shape {ours.shape} != SciPy's {theirs.shape}")
    assert ours.dtype == expected_dtype(theirs.dtype), (
        f"dtype {ours.dtype} != SciPy's {theirs.dtype}")
    rd = tol_dtype or expected_dtype(theirs.dtype)
    if order == "exact":
        names = ("row", "col", "data") if theirs.format == "coo" else \
            ("indptr", "indices", "data")
        assert ours.nnz == theirs.nnz, f"nnz {ours.nnz} != SciPy's {theirs.nnz}"
        for nm in names:
            assert_values_close(host(getattr(ours, nm)), getattr(theirs, nm),
                                rtol_dtype=rd if nm == "data" else None,
                                what=f"{theirs.format}.{nm}")
        if theirs.format in ("csr", "csc"):
            assert ours.has_sorted_indices == theirs.has_sorted_indices, (
                f"has_sorted_indices {ours.has_sorted_indices} != SciPy's "
                f"{theirs.has_sorted_indices}")
            assert ours.has_canonical_format == theirs.has_canonical_format, (
                f"has_canonical_format {ours.has_canonical_format} != SciPy's "
                f"{theirs.has_canonical_format}")
        elif theirs.has_canonical_format:
            assert ours.has_canonical_format, "has_canonical_format False (SciPy: True)"
    elif order == "any":
        ro, co, do = _triplets(ours)
        rt, ct, dt_ = _triplets(theirs)
        ko, kt = np.lexsort((co, ro)), np.lexsort((ct, rt))
        same = ours.nnz == theirs.nnz and np.array_equal(ro[ko], rt[kt]) and \
            np.array_equal(co[ko], ct[kt])
        if not same and _differ_by_noise_only(ours, theirs, rd):
            assert_values_close(host(ours.toarray()), theirs.toarray(), rtol_dtype=rd,
                                what="toarray()")
        elif not same:
            assert ours.nnz == theirs.nnz, f"nnz {ours.nnz} != SciPy's {theirs.nnz}"
            raise AssertionError(
                f"stored coordinates differ:\n ours ={list(zip(ro[ko], co[ko]))}\n"
                f" scipy={list(zip(rt[kt], ct[kt]))}")
        elif np.unique(rt.astype(np.int64) * (theirs.shape[1] + 1) + ct).size == rt.size:
            assert_values_close(do[ko], dt_[kt], rtol_dtype=rd, what="data")
        else:  # duplicates: order among equal coordinates is free
            assert_values_close(host(ours.toarray()), theirs.toarray(), rtol_dtype=rd,
                                what="toarray()")
    else:
        assert_values_close(host(ours.toarray()), theirs.toarray(), rtol_dtype=rd,
                            what="toarray()")
    if agree:
        assert index_dtypes(ours) == index_dtypes(theirs), (
            f"index dtypes {index_dtypes(ours)} != SciPy's {index_dtypes(theirs)}")


def assert_same(ours, theirs, agree=True, order="exact", scale=None, tol_dtype=None):
    """Any result of ours against SciPy's: sparse, dense (mx.array for ndarray /
    np.matrix), NumPy scalar (0-d mx.array), Python scalar, tuple, None."""
    __tracebackhide__ = True
    if theirs is None:
        assert ours is None, f"{ours!r} returned where SciPy returns None"
    elif ssp.issparse(theirs):
        assert_sparse_same(ours, theirs, agree, order, tol_dtype)
    elif isinstance(theirs, np.ndarray):
        assert_close(ours, theirs, scale=scale, rtol_dtype=tol_dtype)
    elif isinstance(theirs, np.generic):
        if isinstance(ours, mx.array):
            assert ours.ndim == 0, f"shape {ours.shape} where SciPy returns a scalar"
            od = dtype_of(ours)
        else:
            assert isinstance(ours, (bool, int, float, complex, np.generic)), (
                f"{type(ours).__name__} where SciPy returns {type(theirs).__name__}")
            od = np.asarray(ours).dtype if isinstance(ours, np.generic) else None
        if od is not None:
            assert od == expected_dtype(theirs.dtype), (
                f"dtype {od} != SciPy's {theirs.dtype}")
        assert_values_close(np.asarray(host(ours) if isinstance(ours, mx.array) else ours),
                            np.asarray(theirs), scale=scale,
                            rtol_dtype=tol_dtype or expected_dtype(theirs.dtype),
                            what="scalar")
    elif isinstance(theirs, (bool, int, float, complex)):
        assert type(ours) is type(theirs), (
            f"{ours!r} ({type(ours).__name__}) where SciPy returns "
            f"{type(theirs).__name__} {theirs!r}")
        assert_values_close(np.asarray(ours), np.asarray(theirs), scale=scale,
                            what="scalar")
    elif isinstance(theirs, (tuple, list)):
        assert isinstance(ours, type(theirs)) and len(ours) == len(theirs)
        for i, (o, t) in enumerate(zip(ours, theirs)):
            try:
                assert_same(o, t, agree, order, scale, tol_dtype)
            except AssertionError as e:
                raise AssertionError(f"[{i}] {e}") from None
    else:
        assert ours == theirs, f"{ours!r} != SciPy's {theirs!r}"


def _sparse_warnings(record):
    return sorted({w.category.__name__ for w in record
                   if "Sparse" in w.category.__name__})


def both(f, *args, warns=False):
    """(ours, theirs) of f through both libraries, or None when both raise the same
    exception type; fails when only one raises. With warns=True, also checks that we
    emit the same Sparse*Warning categories (by name) as SciPy."""
    __tracebackhide__ = True
    out = []
    for lib in (ssp, msp):
        objs = _materialise(args, lib)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            try:
                out.append((True, f(lib, *objs), _sparse_warnings(rec)))
            except Exception as e:  # noqa: BLE001
                out.append((False, e, _sparse_warnings(rec)))
    (tok, theirs, tw), (ook, ours, ow) = out
    if not tok:
        if ook:
            raise AssertionError(f"SciPy raised {type(theirs).__name__}({theirs}); "
                                 f"we returned {ours!r}")
        assert isinstance(ours, type(theirs)), (
            f"SciPy raised {type(theirs).__name__}({theirs}); "
            f"we raised {type(ours).__name__}({ours})")
        return None
    if not ook:
        raise AssertionError(f"SciPy returned {type(theirs).__name__}; we raised "
                             f"{type(ours).__name__}({ours})") from ours
    if warns:
        assert ow == tw, f"warnings {ow} != SciPy's {tw}"
    return ours, theirs


class Soft:
    """Collects assertion failures of several checks and reports them all at once."""

    def __init__(self):
        self.errors = []

    def __call__(self, label, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except AssertionError as e:
            self.errors.append(f"{label}: {e}")

    def done(self):
        __tracebackhide__ = True
        if self.errors:
            # the labelled messages say everything; no Python traceback (rendering
            # one parses the whole test module per failure)
            pytest.fail(f"{len(self.errors)} failed:\n" + "\n".join(
                "- " + e for e in self.errors), pytrace=False)


def compare(f, *args, agree=True, order="exact", warns=False, scale=None,
            tol_dtype=None):
    """both(f, ...) and assert_same on what came back (when both returned);
    tol_dtype: compare values at that dtype's tolerance."""
    __tracebackhide__ = True
    res = both(f, *args, warns=warns)
    if res is not None:
        assert_same(res[0], res[1], agree, order, scale, tol_dtype)
    return res


def cin(case, fmt, kind=None):
    """case.input(fmt, kind), built once per library and handed out as .copy():
    cheaper for tests that run many calls on one input (the copy holds the same
    storage and flags as a freshly built object)."""
    cache = case.__dict__.setdefault("_built", {})

    def build(lib):
        key = (lib.__name__, fmt, kind)
        if key not in cache:
            cache[key] = case.make(lib, fmt, kind)
        return cache[key].copy()

    return Input(build, f"{case.spec.id}:{fmt}")


def spec_fmt_params():
    """(spec, fmt) pairs: every spec of SPECS in one format (rotating through coo,
    csr, csc), the SMALL_SPECS in every format."""
    out = []
    for i, spec in enumerate(SPECS):
        for j, fmt in enumerate(FORMATS):
            if j == i % 3 or spec in SMALL_SPECS:
                out.append(pytest.param(spec, fmt, id=f"{spec.id}-{fmt}"))
    return out


SPEC_FMT = spec_fmt_params()


def spec_fmt_kind_params():
    """(spec, fmt, kind): SPEC_FMT in the spec's own kind, and the SMALL_SPECS pairs
    in the other kind too."""
    out = []
    for p in SPEC_FMT:
        spec, fmt = p.values
        for kind in KINDS:
            if kind == spec.kind or spec in SMALL_SPECS:
                out.append(pytest.param(spec, fmt, kind, id=f"{p.id}-{kind}"))
    return out


SPEC_FMT_KIND = spec_fmt_kind_params()


def kind_params():
    return pytest.mark.parametrize("kind", KINDS)


def fmt_params():
    return pytest.mark.parametrize("fmt", FORMATS)


def other_case(rng, shape, like, dtype=None, **flags):
    """A random second operand of the given shape, messy like `like`'s spec."""
    s = like.spec
    spec = Spec(tuple(shape), dtype or s.dtype, index=s.index, dup=s.dup, zeros=s.zeros,
                unsorted=s.unsorted, empty=s.empty, kind=s.kind, **flags)
    return Case(spec, rng)


# ----------------------------------------------------------------------------------
# A @ x, A @ X
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec,fmt,kind", SPEC_FMT_KIND)
def test_matvec(case, rng, fmt, kind):
    x = dense(rng, (case.shape[1],), case.spec.dtype)
    ours, theirs = on_both(lambda sp, A, x: A @ x, case.input(fmt, kind), x, check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), x))


@fmt_params()
@pytest.mark.parametrize("xdt", DTYPES)
@pytest.mark.parametrize("adt", DTYPES)
def test_matvec_mixed_dtypes(rng, adt, xdt, fmt):
    case = Case(Spec((9, 4), adt, dup=True, zeros=True, unsorted=True, empty=True), rng)
    x = dense(rng, (4,), xdt)
    ours, theirs = on_both(lambda sp, A, x: A @ x, case.input(fmt), x, check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), x))
    X = dense(rng, (4, 3), xdt)
    ours, theirs = on_both(lambda sp, A, X: A @ X, case.input(fmt, "matrix"), X,
                           check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), X))


@pytest.mark.parametrize("xkind", ("mlx", "list", "column"))
@fmt_params()
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_matvec_operand_kinds(case, rng, fmt, xkind):
    """A @ x with x an mx.array (ours) / a list (both) / an (n, 1) column."""
    x = dense(rng, (case.shape[1],), case.spec.dtype)
    if xkind == "column":
        x = x.reshape(-1, 1)
        arg = x
    elif xkind == "list":
        if x.dtype.kind == "c":
            pytest.skip("a list of complex numbers is complex128 (not in MLX)")
        arg = Input(lambda lib: x.tolist(), "list")
    else:
        arg = Input(lambda lib: x.copy() if lib is ssp else to_kind(x, "mlx"), "mlx")
    ours, theirs = on_both(lambda sp, A, x: A @ x, case.input(fmt), arg, check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), x))


@pytest.mark.parametrize("spec,fmt,kind", SPEC_FMT_KIND)
def test_matmat(case, rng, fmt, kind):
    k = int(rng.integers(1, 9))
    X = dense(rng, (case.shape[1], k), case.spec.dtype)
    ours, theirs = on_both(lambda sp, A, X: A @ X, case.input(fmt, kind), X, check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), X))


@pytest.mark.parametrize("k", (1, 2, 5, 8))
@fmt_params()
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_matmat_k(case, rng, fmt, k):
    X = dense(rng, (case.shape[1], k), case.spec.dtype)
    ours, theirs = on_both(lambda sp, A, X: A @ X, case.input(fmt), X, check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), X))


@pytest.mark.parametrize("spec,fmt,kind", SPEC_FMT_KIND)
def test_rmatvec_rmatmat(case, rng, fmt, kind):
    """x @ A and X @ A (dense on the left)."""
    m = case.shape[0]
    x = dense(rng, (m,), case.spec.dtype)
    ours, theirs = on_both(lambda sp, A, x: x @ A, case.input(fmt, kind), x, check=False)
    assert_close(ours, theirs, scale=bound(x[None, :], case.dense()))
    X = dense(rng, (int(rng.integers(1, 6)), m), case.spec.dtype)
    ours, theirs = on_both(lambda sp, A, X: X @ A, case.input(fmt, kind), X, check=False)
    assert_close(ours, theirs, scale=bound(X, case.dense()))


@pytest.mark.parametrize("spec,fmt,kind", SPEC_FMT_KIND)
def test_transpose_matvec(case, rng, fmt, kind):
    """A.T @ x, A.T @ X and A.conj().T @ x."""
    x = dense(rng, (case.shape[0],), case.spec.dtype)
    X = dense(rng, (case.shape[0], 3), case.spec.dtype)
    At = case.dense().T
    ours, theirs = on_both(lambda sp, A, x: A.T @ x, case.input(fmt, kind), x, check=False)
    assert_close(ours, theirs, scale=bound(At, x))
    ours, theirs = on_both(lambda sp, A, X: A.T @ X, case.input(fmt, kind), X, check=False)
    assert_close(ours, theirs, scale=bound(At, X))
    ours, theirs = on_both(lambda sp, A, x: A.conj().T @ x, case.input(fmt, kind), x,
                           check=False)
    assert_close(ours, theirs, scale=bound(At, x))


# ----------------------------------------------------------------------------------
# A.dot, _matrix * x
# ----------------------------------------------------------------------------------
@kind_params()
@fmt_params()
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_dot(case, rng, fmt, kind):
    m, n = case.shape
    dt = case.spec.dtype
    x = dense(rng, (n,), dt)
    X = dense(rng, (n, 4), dt)
    ours, theirs = on_both(lambda sp, A, x: A.dot(x), case.input(fmt, kind), x, check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), x))
    ours, theirs = on_both(lambda sp, A, X: A.dot(X), case.input(fmt, kind), X, check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), X))
    # dot with a scalar multiplies (same structure as SciPy)
    ours, theirs = on_both(lambda sp, A: A.dot(3), case.input(fmt, kind), check=False)
    assert_sparse_same(ours, theirs, inputs_agree((case, fmt, kind)))
    # dot with a sparse operand
    B = other_case(rng, (n, 5), case)
    ours, theirs = on_both(lambda sp, A, B: A.dot(B), case.input(fmt, kind),
                           B.input("csr", kind), check=False)
    assert_sparse_product(ours, theirs, scale=bound(case.dense(), B.dense()),
                          check_index=inputs_agree((case, fmt, kind), (B, "csr", kind)))


@fmt_params()
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_matrix_star_is_matmul(case, rng, fmt):
    """spmatrix * x is the matrix product (1-D, 2-D, sparse) and x * spmatrix too."""
    m, n = case.shape
    dt = case.spec.dtype
    x = dense(rng, (n,), dt)
    X = dense(rng, (n, 3), dt)
    y = dense(rng, (m,), dt)
    ours, theirs = on_both(lambda sp, A, x: A * x, case.input(fmt, "matrix"), x,
                           check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), x))
    ours, theirs = on_both(lambda sp, A, X: A * X, case.input(fmt, "matrix"), X,
                           check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), X))
    ours, theirs = on_both(lambda sp, A, y: y * A, case.input(fmt, "matrix"), y,
                           check=False)
    assert_close(ours, theirs, scale=bound(y[None, :], case.dense()))
    B = other_case(rng, (n, 4), case)
    ours, theirs = on_both(lambda sp, A, B: A * B, case.input(fmt, "matrix"),
                           B.input("csr", "matrix"), check=False)
    assert_sparse_product(ours, theirs, scale=bound(case.dense(), B.dense()),
                          check_index=inputs_agree((case, fmt, "matrix"),
                                                   (B, "csr", "matrix")))


def test_matrix_star_mx_operand(rng):
    """spmatrix * mx.array (the MLX user's dense operand) is matmul too."""
    case = Case(Spec((6, 4), "float32", dup=True, unsorted=True), rng)
    x = dense(rng, (4,), "float32")
    arg = Input(lambda lib: x.copy() if lib is ssp else mx.array(x), "x")
    ours, theirs = on_both(lambda sp, A, x: A * x, case.input("csr", "matrix"), arg,
                           check=False)
    assert_close(ours, theirs, scale=bound(case.dense(), x))


# ----------------------------------------------------------------------------------
# sparse @ sparse
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt_b", FORMATS)
@pytest.mark.parametrize("fmt_a", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_spgemm(case, rng, fmt_a, fmt_b):
    """A @ B for every format pair (in the spec's kind; SMALL_SPECS hold both)."""
    kind = case.spec.kind
    p = int(rng.integers(0, 7)) if case.shape[1] else 3
    B = other_case(rng, (case.shape[1], p), case)
    ours, theirs = on_both(lambda sp, A, B: A @ B, case.input(fmt_a, kind),
                           B.input(fmt_b, kind), check=False)
    assert_sparse_product(ours, theirs, scale=bound(case.dense(), B.dense()),
                          check_index=inputs_agree((case, fmt_a, kind), (B, fmt_b, kind)))


@pytest.mark.parametrize("bdt", DTYPES)
@pytest.mark.parametrize("adt", DTYPES)
def test_spgemm_mixed_dtypes(rng, adt, bdt):
    A = Case(Spec((7, 5), adt, dup=True, zeros=True, unsorted=True), rng)
    B = Case(Spec((5, 6), bdt, dup=True, zeros=True, unsorted=True,
                  index="int64" if adt < bdt else "int32"), rng)
    ours, theirs = on_both(lambda sp, A, B: A @ B, A.input("csr"), B.input("csc"),
                           check=False)
    assert_sparse_product(ours, theirs, scale=bound(A.dense(), B.dense()),
                          check_index=inputs_agree((A, "csr", "array"),
                                                   (B, "csc", "array")))


@pytest.mark.parametrize("fmt", FORMATS)
def test_spgemm_cancellation_drops_zeros(fmt):
    """Exact cancellation: SciPy drops the zero sums from the product."""
    a = np.array([[1, 1, 0], [0, 2, -2], [0, 0, 0]], dtype=np.int64)
    b = np.array([[1, 0], [-1, 3], [0, 3]], dtype=np.int64)
    ours, theirs = on_both(lambda sp, A, B: A @ B,
                           Input(lambda lib: getattr(lib, f"{fmt}_array")(a)),
                           Input(lambda lib: getattr(lib, f"{fmt}_array")(b)), check=False)
    assert_sparse_product(ours, theirs)


def test_spgemm_bool():
    """bool @ bool stays bool (logical or of ands), as SciPy."""
    a = np.array([[1, 1, 0], [0, 1, 1]], dtype=bool)
    b = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    ours, theirs = on_both(lambda sp, A, B: A @ B, Input(lambda lib: lib.csr_array(a)),
                           Input(lambda lib: lib.csr_array(b)), check=False)
    assert_sparse_product(ours, theirs)


@pytest.mark.parametrize("kinds", (("array", "matrix"), ("matrix", "array")))
def test_spgemm_mixed_kinds(rng, kinds):
    A = Case(Spec((5, 4), "float64", dup=True, unsorted=True), rng)
    B = Case(Spec((4, 3), "float64", zeros=True), rng)
    ours, theirs = on_both(lambda sp, A, B: A @ B, A.input("csr", kinds[0]),
                           B.input("csc", kinds[1]), check=False)
    assert_sparse_product(ours, theirs, scale=bound(A.dense(), B.dense()))


# ----------------------------------------------------------------------------------
# batched right-hand sides (beyond SciPy)
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lead", ((1,), (3,), (2, 3), (0,)))
@fmt_params()
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_batched_matmat(case, rng, fmt, lead):
    """A @ X for X of shape (*lead, n, k): each batch is SciPy's A @ X[i]."""
    k = int(rng.integers(1, 5))
    X = dense(rng, tuple(lead) + (case.shape[1], k), case.spec.dtype)
    ours = case.make(msp, fmt) @ X
    A = case.make(ssp, fmt)
    flat = X.reshape((int(np.prod(lead)),) + X.shape[-2:])
    per = [np.asarray(A @ flat[i]) for i in range(flat.shape[0])]
    dt = ssp.csr_array((1, 1), dtype=case.spec.dtype) @ np.zeros((1, 1), X.dtype)
    theirs = (np.stack(per) if per else np.zeros((0, case.shape[0], k), dt.dtype))
    theirs = theirs.reshape(tuple(lead) + (case.shape[0], k))
    scale = max([bound(case.dense(), flat[i]) for i in range(flat.shape[0])] + [1.0])
    assert_close(ours, theirs, scale=scale)


@fmt_params()
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_batched_rmatmat(case, rng, fmt):
    """X @ A for X of shape (b, m, M): each batch is SciPy's X[i] @ A."""
    X = dense(rng, (3, 2, case.shape[0]), case.spec.dtype)
    ours = X @ case.make(msp, fmt)
    A = case.make(ssp, fmt)
    theirs = np.stack([np.asarray(X[i] @ A) for i in range(3)])
    assert_close(ours, theirs, scale=max(bound(X[i], case.dense()) for i in range(3)))


def test_batched_mx_operand(rng):
    case = Case(Spec((6, 5), "float32", dup=True, zeros=True), rng)
    X = dense(rng, (4, 5, 2), "float32")
    ours = case.make(msp, "csr") @ mx.array(X)
    A = case.make(ssp, "csr")
    theirs = np.stack([A @ X[i] for i in range(4)])
    assert_close(ours, theirs, scale=max(bound(case.dense(), X[i]) for i in range(4)))


# ----------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------
@kind_params()
@fmt_params()
def test_dimension_mismatch(rng, fmt, kind):
    case = Case(Spec((5, 4), "float64", kind=kind), rng)
    B = Case(Spec((3, 2), "float64", kind=kind), rng)
    for f in (lambda sp, A: A @ np.ones(5),
              lambda sp, A: A @ np.ones(3),
              lambda sp, A: A @ np.ones((5, 2)),
              lambda sp, A: np.ones(4) @ A,
              lambda sp, A: np.ones((2, 4)) @ A,
              lambda sp, A: A.dot(np.ones(7))):
        assert_same_exception(f, case.input(fmt))
    for fb in FORMATS:
        assert_same_exception(lambda sp, A, B: A @ B, case.input(fmt), B.input(fb))
        assert_same_exception(lambda sp, A, B: A.dot(B), case.input(fmt), B.input(fb))


@kind_params()
@fmt_params()
def test_dimension_mismatch_matrix_star(rng, fmt, kind):
    case = Case(Spec((5, 4), "float64"), rng)
    assert_same_exception(lambda sp, A: A * np.ones(5), case.input(fmt, "matrix"))
    assert_same_exception(lambda sp, A: A * np.ones((3, 2)), case.input(fmt, "matrix"))


@pytest.mark.parametrize("scalar", (2, 0, 1.5, np.float32(2), np.int64(3), 1j))
@kind_params()
@fmt_params()
def test_scalar_matmul_raises(rng, fmt, kind, scalar):
    case = Case(Spec((4, 3), "float64"), rng)
    ours, _ = assert_same_exception(lambda sp, A: A @ scalar, case.input(fmt, kind))
    assert isinstance(ours, ValueError)
    ours, _ = assert_same_exception(lambda sp, A: scalar @ A, case.input(fmt, kind))
    assert isinstance(ours, ValueError)


def test_matmul_mx_scalar_raises(rng):
    """A 0-d mx.array is a scalar: @ raises ValueError as SciPy does for scalars."""
    A = Case(Spec((4, 3), "float32"), rng).make(msp, "csr")
    with pytest.raises(ValueError):
        A @ mx.array(2.0)


# ----------------------------------------------------------------------------------
# properties (our results only)
# ----------------------------------------------------------------------------------
PROP_SPECS = [s for s in SMALL_SPECS if s.dtype in ("float64", "int64", "complex64")]


@fmt_params()
@pytest.mark.parametrize("spec", spec_params(PROP_SPECS))
def test_distributive(case, rng, fmt):
    """(A + B) @ x == A @ x + B @ x."""
    B = other_case(rng, case.shape, case)
    A_, B_ = case.make(msp, fmt), B.make(msp, fmt)
    x = dense(rng, (case.shape[1],), case.spec.dtype)
    lhs = (A_ + B_) @ x
    rhs = host(A_ @ x) + host(B_ @ x)  # (on the host: MLX has no float64 on a GPU)
    assert isinstance(lhs, mx.array)
    assert_values_close(host(lhs), rhs, rtol_dtype=case.spec.dtype,
                        scale=bound(np.abs(case.dense()) + np.abs(B.dense()), x))


@fmt_params()
@pytest.mark.parametrize("spec", spec_params(PROP_SPECS))
def test_associative(case, rng, fmt):
    """(A @ B) @ x == A @ (B @ x)."""
    B = other_case(rng, (case.shape[1], 5), case)
    A_, B_ = case.make(msp, fmt), B.make(msp, "csc")
    x = dense(rng, (5,), case.spec.dtype)
    lhs = (A_ @ B_) @ x
    rhs = A_ @ (B_ @ x)
    scale = bound(np.abs(case.dense()) @ np.abs(B.dense()), x)
    assert_values_close(host(lhs), host(rhs), rtol_dtype=case.spec.dtype, scale=scale)


@pytest.mark.parametrize("spec,fmt,kind", SPEC_FMT_KIND)
def test_double_transpose(case, fmt, kind):
    """A.T.T is A: same class, shape, dtype, index dtypes and storage."""
    A = case.make(msp, fmt, kind)
    AT = A.T.T
    assert type(AT) is type(A)
    assert AT.shape == A.shape and AT.dtype == A.dtype
    assert index_dtypes(AT) == index_dtypes(A)
    names = ("row", "col", "data") if fmt == "coo" else ("indptr", "indices", "data")
    for nm in names:
        assert np.array_equal(host(getattr(AT, nm)), host(getattr(A, nm))), nm
    ours, theirs = on_both(lambda sp, A: A.T.T.toarray(), case.input(fmt, kind))
