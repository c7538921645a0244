"""Arithmetic: + - * / with scalars, dense arrays (broadcasting) and sparse operands;
result class, format and dtype (SciPy's upcasting); unary -, +, abs, round; power /
** (elementwise for _array, matrix power for _matrix); multiply (broadcasting);
maximum / minimum; comparisons == != < <= > >= (scalars incl. 0 and nan, dense,
sparse; SciPy's SparseEfficiencyWarning); the ufunc-like methods; real/imag/conj.

Each test runs the same code through scipy.sparse and mlx_sparse.sparse; `compare`
checks that both raise the same exception type or return matching results, and
Soft collects every failing variant of a looping test into one report."""
import operator
import warnings

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

import mlx_sparse.sparse as msp
from oracle import SMALL_SPECS, Case, Input, Spec, host, spec_params
from test_products import (SPEC_FMT, Soft, assert_values_close, cin, compare, dense,
                           inputs_agree, other_case)

FORMATS = ("coo", "csr", "csc")
KINDS = ("array", "matrix")
DTYPES = ("bool", "int8", "int64", "uint8", "float32", "float64", "complex64")

fmt_params = pytest.mark.parametrize("fmt", FORMATS)
# every format with itself and with each other format once (either order)
FORMAT_PAIRS = [("coo", "coo"), ("csr", "csr"), ("csc", "csc"), ("coo", "csr"),
                ("csr", "csc"), ("csc", "coo")]
kind_params = pytest.mark.parametrize("kind", KINDS)


def nonzero_dense(rng, shape, dtype):
    """A dense operand without zeros (divisors)."""
    d = dense(rng, shape, dtype)
    if d.dtype == np.bool_:
        return np.ones(shape, bool)
    d[d == 0] = 1
    return d


# ----------------------------------------------------------------------------------
# scalars
# ----------------------------------------------------------------------------------
SCALARS = (0, -2.5)
MORE_SCALARS = (3, 2j, np.complex64(1 - 1j), np.int8(-2), True, np.float32(1.5))
SCALAR_OPS = {
    "A + s": lambda sp, A, s: A + s,
    "s + A": lambda sp, A, s: s + A,
    "A - s": lambda sp, A, s: A - s,
    "s - A": lambda sp, A, s: s - A,
    "A * s": lambda sp, A, s: A * s,
    "s * A": lambda sp, A, s: s * A,
    "A / s": lambda sp, A, s: A / s,
    "A.multiply(s)": lambda sp, A, s: A.multiply(s),
    "A * np.array(s)": lambda sp, A, s: A * np.array(s),
}


def _scalar_ops(case, fmt, scalars, ops):
    __tracebackhide__ = True
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()
    for s in scalars:
        # SciPy divides as A * (1 / s): for a float32 s the reciprocal is rounded
        # to single precision, so A / s agrees only to that precision
        loose = np.float32 if isinstance(s, np.float32) else None
        for label in ops:
            soft(label.replace("s", repr(s)), compare,
                 lambda sp, A, f=SCALAR_OPS[label], s=s: f(sp, A, s), cin(case, fmt),
                 agree=agree, tol_dtype=loose if "/" in label else None)
    soft.done()


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_scalar_arithmetic(case, fmt):
    """A + s, s + A, A - s, s - A (NotImplementedError unless s == 0), A * s, s * A,
    A / s for s = 0, -2.5; structure kept as SciPy's."""
    _scalar_ops(case, fmt, SCALARS, list(SCALAR_OPS)[:7])


@pytest.mark.parametrize("fmt", ("coo", "csr"))
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_scalar_arithmetic_more_scalars(case, fmt):
    """Python int/complex/bool and NumPy scalars (int8, float32, float64, complex64),
    A.multiply(s) and A * <0-d array> (a scalar too, for SciPy)."""
    _scalar_ops(case, fmt, MORE_SCALARS, [k for k in SCALAR_OPS if "- A" not in k
                                          and "+ A" not in k])


@fmt_params
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_scalar_inplace(case, fmt):
    """A *= s and A /= s (SciPy's __imul__ / __itruediv__) change A and return it."""
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()

    def imul(sp, A, s):
        B = A
        B *= s
        return B is A, A

    def idiv(sp, A, s):
        B = A
        B /= s
        return B is A, A

    for s in (0, 2, 0.5):
        soft(f"A *= {s!r}", compare, lambda sp, A, s=s: imul(sp, A, s), cin(case, fmt),
             agree=agree)
        if s != 0:
            soft(f"A /= {s!r}", compare, lambda sp, A, s=s: idiv(sp, A, s),
                 cin(case, fmt), agree=agree)
    soft.done()


# ----------------------------------------------------------------------------------
# dense operands
# ----------------------------------------------------------------------------------
def _dense_shapes(m, n):
    return {"full": (m, n), "row": (1, n), "col": (m, 1), "1-D": (n,)}


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_dense_operand(case, rng, fmt):
    """A op D and D op A for D of A's shape: + - * / multiply (results dense or
    sparse as SciPy's)."""
    _dense_ops(case, rng, fmt, ("full",))


@fmt_params
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_dense_operand_broadcast(case, rng, fmt):
    """The same with D a row (1, n), a column (m, 1) and a 1-D (n,) array."""
    _dense_ops(case, rng, fmt, ("row", "col", "1-D"))


def _dense_ops(case, rng, fmt, which):
    __tracebackhide__ = True
    m, n = case.shape
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()
    for sname, shape in _dense_shapes(m, n).items():
        if sname not in which:
            continue
        D = dense(rng, shape, case.spec.dtype)
        Dn = nonzero_dense(rng, shape, case.spec.dtype)
        ops = {
            "A + D": lambda sp, A, D=D: A + D,
            "D + A": lambda sp, A, D=D: D + A,
            "A - D": lambda sp, A, D=D: A - D,
            "D - A": lambda sp, A, D=D: D - A,
            "A.multiply(D)": lambda sp, A, D=D: A.multiply(D),
            "A / D": lambda sp, A, D=Dn: A / D,
        }
        if case.spec.kind == "array":
            ops["A * D"] = lambda sp, A, D=D: A * D
            ops["D * A"] = lambda sp, A, D=D: D * A
        for label, f in ops.items():
            soft(f"{label} [{sname} {shape}]", compare, f, cin(case, fmt), agree=agree,
                 tol_dtype=_div_tol(label, Dn))
    soft.done()


def _div_tol(label, D):
    """SciPy divides by a dense D as A.multiply(1 / D): with a single-precision D the
    reciprocal is rounded to single precision, so A / D agrees only to that."""
    if "/" in label and D.dtype in (np.float32, np.complex64):
        return np.float32
    return None


@pytest.mark.parametrize("ddt", DTYPES)
@pytest.mark.parametrize("adt", DTYPES)
def test_dense_operand_mixed_dtypes(rng, adt, ddt):
    case = Case(Spec((5, 6), adt, dup=True, zeros=True, unsorted=True), rng)
    D = dense(rng, (5, 6), ddt)
    Dn = nonzero_dense(rng, (5, 6), ddt)
    R = dense(rng, (1, 6), ddt)
    agree = inputs_agree((case, "csr", "array"))
    soft = Soft()
    for label, f in {"A + D": lambda sp, A: A + D, "D - A": lambda sp, A: D - A,
                     "A * D": lambda sp, A: A * D, "A * R": lambda sp, A: A * R,
                     "A / D": lambda sp, A: A / Dn}.items():
        soft(label, compare, f, cin(case, "csr"), agree=agree,
             tol_dtype=_div_tol(label, Dn))
    soft.done()


def test_dense_operand_mlx(rng):
    """A (op) mx.array operands (the MLX user's dense arrays) act as NumPy ones."""
    case = Case(Spec((5, 6), "float32", dup=True, unsorted=True), rng)
    D = dense(rng, (5, 6), "float32")
    R = dense(rng, (1, 6), "float32")
    soft = Soft()
    for label, x in (("full", D), ("row", R)):
        arg = Input(lambda lib, x=x: mx.array(x) if lib is msp else x.copy(), label)
        for op, f in {"A + D": lambda sp, A, D: A + D, "A * D": lambda sp, A, D: A * D,
                      "A - D": lambda sp, A, D: A - D,
                      "A.multiply(D)": lambda sp, A, D: A.multiply(D),
                      "A.maximum(D)": lambda sp, A, D: A.maximum(D),
                      "A < D": lambda sp, A, D: A < D}.items():
            soft(f"{op} [{label}]", compare, f, cin(case, "csr"), arg)
    soft.done()


@pytest.mark.parametrize("kind", KINDS)
def test_dense_shape_mismatch(rng, kind):
    case = Case(Spec((4, 3), "float64", kind=kind), rng)
    soft = Soft()
    for label, f in {"A + D": lambda sp, A: A + np.ones((3, 4)),
                     "A - D": lambda sp, A: A - np.ones((2, 3)),
                     "A.multiply(D)": lambda sp, A: A.multiply(np.ones((3, 4))),
                     "A / D": lambda sp, A: A / np.ones((4, 4)),
                     "A == D": lambda sp, A: A == np.ones((3, 3)),
                     "A.maximum(D)": lambda sp, A: A.maximum(np.ones((5, 3)))}.items():
        soft(label, compare, f, cin(case, "csr"))
    soft.done()


# ----------------------------------------------------------------------------------
# sparse operands
# ----------------------------------------------------------------------------------
SPARSE_OPS = {
    "A + B": operator.add, "A - B": operator.sub,
    "A.multiply(B)": lambda A, B: A.multiply(B),
    "A * B": operator.mul, "A / B": operator.truediv,
    "A.maximum(B)": lambda A, B: A.maximum(B),
    "A.minimum(B)": lambda A, B: A.minimum(B),
}


@pytest.mark.parametrize("fmt_a,fmt_b", FORMAT_PAIRS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_sparse_operand(case, rng, fmt_a, fmt_b):
    """A op B for sparse A, B of one shape across format pairs: + - * / multiply
    maximum minimum (result format/dtype as SciPy's; entries in any order when an
    input is not canonical, since SciPy's general binop leaves them unsorted)."""
    kind = case.spec.kind
    B = other_case(rng, case.shape, case)
    agree = inputs_agree((case, fmt_a, kind), (B, fmt_b, kind))
    soft = Soft()
    for label, op in SPARSE_OPS.items():
        soft(label, compare, lambda sp, A, B, op=op: op(A, B), cin(case, fmt_a, kind),
             cin(B, fmt_b, kind), agree=agree, order="binop")
    # the inputs are left as they were (values; SciPy may canonicalise in place)
    soft("A unchanged", compare, lambda sp, A, B: (A + B, A)[1], cin(case, fmt_a, kind),
         cin(B, fmt_b, kind), agree=agree, order="dense")
    soft.done()


@pytest.mark.parametrize("bdt", DTYPES)
@pytest.mark.parametrize("adt", DTYPES)
def test_sparse_operand_mixed_dtypes(rng, adt, bdt):
    A = Case(Spec((6, 5), adt, dup=True, zeros=True, unsorted=True), rng)
    B = Case(Spec((6, 5), bdt, zeros=True), rng)
    agree = inputs_agree((A, "csr", "array"), (B, "csc", "array"))
    soft = Soft()
    for label, op in SPARSE_OPS.items():
        if label == "A / B" and adt != "complex64" and bdt == "complex64":
            # SciPy bug: the quotient is written into a float64 array (imaginary
            # parts dropped with a ComplexWarning); no oracle for this pair
            continue
        soft(label, compare, lambda sp, A, B, op=op: op(A, B), cin(A, "csr"),
             cin(B, "csc"), agree=agree, order="binop")
    soft.done()


@kind_params
@fmt_params
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_sparse_shape_mismatch(case, rng, fmt, kind):
    m, n = case.shape
    B = other_case(rng, (m + 2, n + 1), case)  # broadcasts with neither (1, n) nor (m, 1)
    soft = Soft()
    for label, op in SPARSE_OPS.items():
        soft(label, compare, lambda sp, A, B, op=op: op(A, B), cin(case, fmt, kind),
             cin(B, "csr", kind))
    soft.done()


@kind_params
@fmt_params
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_multiply_broadcast(case, rng, fmt, kind):
    """A.multiply(b) for b a sparse or dense row (1, n), column (m, 1), (1, 1) and
    0-d array, and the reverse (b.multiply(A)) for sparse b."""
    m, n = case.shape
    agree = inputs_agree((case, fmt, kind))
    soft = Soft()
    for sname, shape in {"row": (1, n), "col": (m, 1), "1x1": (1, 1)}.items():
        b = Case(Spec(shape, case.spec.dtype, kind=kind, density=0.7), rng)
        bd = dense(rng, shape, case.spec.dtype)
        soft(f"A.multiply(sparse {sname})", compare, lambda sp, A, b: A.multiply(b),
             cin(case, fmt, kind), cin(b, "csr", kind), order="any")
        soft(f"sparse {sname}.multiply(A)", compare, lambda sp, A, b: b.multiply(A),
             cin(case, fmt, kind), cin(b, "csr", kind), order="any")
        soft(f"A.multiply(dense {sname})", compare, lambda sp, A, d=bd: A.multiply(d),
             cin(case, fmt, kind), agree=agree)
    soft("A.multiply(0-d)", compare, lambda sp, A: A.multiply(np.array(2)),
         cin(case, fmt, kind), agree=agree)
    soft.done()


# ----------------------------------------------------------------------------------
# unary operators, power
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_unary(case, fmt):
    """-A, +A, abs(A), round(A), round(A, n); and A itself afterwards (SciPy's abs
    and round sum duplicates of A in place)."""
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()
    for label, f in {"-A": lambda sp, A: (-A, A),
                     "+A": lambda sp, A: (+A, A),
                     "abs(A)": lambda sp, A: (abs(A), A)}.items():
        soft(label, compare, f, cin(case, fmt), agree=agree)
    for n in (0, 1, -1):
        soft(f"round(A, {n})", _compare_or_float16, case, fmt,
             lambda sp, A, n=n: round(A, n), lambda d, n=n: np.round(d, n), agree)
    soft.done()


POWERS = (2, 0.5, -1, np.int8(2), 0, 1j)


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_power(case, fmt):
    """A.power(n) for several n (0: NotImplementedError; negative integer powers of
    integers: ValueError), A.power(n, dtype=...)."""
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()
    for n in POWERS:
        soft(f"A.power({n!r})", compare, lambda sp, A, n=n: A.power(n), cin(case, fmt),
             agree=agree)
    soft("A.power(2, dtype=float64)", compare,
         lambda sp, A: A.power(2, dtype=np.float64), cin(case, fmt), agree=agree)
    soft("A.power(dense)", compare, lambda sp, A: A.power(np.ones(A.shape)),
         cin(case, fmt), agree=agree)
    soft.done()


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_pow_operator(case, fmt):
    """A ** n: elementwise for sparse arrays; matrix power for sparse matrices
    (TypeError when not square, ValueError for negative / non-integer n)."""
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()
    # a matrix power is a SpGEMM result: SciPy's index order is unspecified there
    order = "any" if case.spec.kind == "matrix" else "exact"
    for n in (2, 3, 1, 2.5, -1):
        soft(f"A ** {n!r}", compare, lambda sp, A, n=n: A ** n, cin(case, fmt),
             agree=agree, order=order)
    soft.done()


@pytest.mark.parametrize("dtype", ("int64", "float64", "complex64", "bool"))
@pytest.mark.parametrize("fmt", FORMATS)
def test_matrix_power(rng, fmt, dtype):
    """spmatrix ** n is the matrix power (A @ A @ ...), as SciPy's."""
    case = Case(Spec((6, 6), dtype, dup=True, unsorted=True, kind="matrix"), rng)
    soft = Soft()
    for n in (1, 2, 3):
        soft(f"M ** {n}", compare, lambda sp, A, n=n: A ** n, cin(case, fmt), order="any")
    soft("M ** 2 == M @ M", lambda: np.testing.assert_allclose(
        host((case.make(msp, fmt) ** 2).toarray()),
        host((case.make(msp, fmt) @ case.make(msp, fmt)).toarray()), rtol=1e-5))
    soft.done()


# ----------------------------------------------------------------------------------
# maximum / minimum
# ----------------------------------------------------------------------------------
MAXMIN_SCALARS = (0, 2, -2, -0.5, np.nan)
MAXMIN_MORE = (0.5, np.float32(-1.5), True, np.inf)


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_maximum_minimum_scalar(case, fmt):
    """A.maximum(s) / A.minimum(s): a positive (maximum) or negative (minimum)
    scalar densifies with SparseEfficiencyWarning; otherwise stored values only."""
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()
    for s in MAXMIN_SCALARS + (MAXMIN_MORE if case.spec in SMALL_SPECS else ()):
        for name in ("maximum", "minimum"):
            soft(f"A.{name}({s!r})", compare,
                 lambda sp, A, s=s, name=name: getattr(A, name)(s),
                 cin(case, fmt), agree=agree, warns=True)
    soft.done()


@fmt_params
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_maximum_minimum_dense(case, rng, fmt):
    m, n = case.shape
    soft = Soft()
    for sname, shape in _dense_shapes(m, n).items():
        D = dense(rng, shape, case.spec.dtype)
        for name in ("maximum", "minimum"):
            soft(f"A.{name}(D {sname})", compare,
                 lambda sp, A, D=D, name=name: getattr(A, name)(D), cin(case, fmt))
    soft.done()


# ----------------------------------------------------------------------------------
# comparisons
# ----------------------------------------------------------------------------------
CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_compare_scalar(case, fmt):
    """A op s for the six comparisons and s in (0, 1, nan): bool sparse results
    as SciPy's, the same SparseEfficiencyWarning where op(0, s) is True."""
    _compare_scalars(case, fmt, (0, 1, np.nan))


@pytest.mark.parametrize("fmt", ("coo", "csr"))
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_compare_scalar_more(case, fmt):
    _compare_scalars(case, fmt, (-1, 0.5, np.float32(-0.25), True, -np.inf))


def _compare_scalars(case, fmt, scalars):
    __tracebackhide__ = True
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()
    for s in scalars:
        for sym, op in CMP.items():
            soft(f"A {sym} {s!r}", compare, lambda sp, A, op=op, s=s: op(A, s),
                 cin(case, fmt), agree=agree, warns=True)
    soft.done()


@fmt_params
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_compare_scalar_reflected(case, fmt):
    """s op A (Python reflects to A's mirrored comparison)."""
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()
    for s in (0, 1):
        for sym, op in CMP.items():
            soft(f"{s!r} {sym} A", compare, lambda sp, A, op=op, s=s: op(s, A),
                 cin(case, fmt), agree=agree, warns=True)
    soft.done()


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_compare_dense(case, rng, fmt):
    """A op D for dense D (full shape, and a broadcast row on SMALL_SPECS): dense
    bool results."""
    m, n = case.shape
    soft = Soft()
    shapes = (("full", (m, n)), ("row", (1, n))) if case.spec in SMALL_SPECS else \
        (("full", (m, n)),)
    for sname, shape in shapes:
        D = dense(rng, shape, case.spec.dtype)
        for sym, op in CMP.items():
            soft(f"A {sym} D [{sname}]", compare, lambda sp, A, op=op, D=D: op(A, D),
                 cin(case, fmt), warns=True)
    soft.done()


@pytest.mark.parametrize("fmt_a,fmt_b", FORMAT_PAIRS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_compare_sparse(case, rng, fmt_a, fmt_b):
    """A op B for sparse A, B: bool sparse results, SciPy's warnings for == <= >=."""
    kind = case.spec.kind
    B = other_case(rng, case.shape, case)
    # share some values so that == / <= / >= have true stored entries
    if B.data.size and case.data.size:
        k = min(B.data.size, case.data.size) // 2
        B.data[:k] = case.data[:k]
        B.row[:k], B.col[:k] = case.row[:k], case.col[:k]
    agree = inputs_agree((case, fmt_a, kind), (B, fmt_b, kind))
    soft = Soft()
    for sym, op in CMP.items():
        soft(f"A {sym} B", compare, lambda sp, A, B, op=op: op(A, B),
             cin(case, fmt_a, kind), cin(B, fmt_b, kind), agree=agree, order="binop",
             warns=True)
    soft.done()


# ----------------------------------------------------------------------------------
# ufunc-like methods, real / imag / conj
# ----------------------------------------------------------------------------------
UFUNCS = ("sqrt", "sin", "tan", "arcsin", "arctan", "sinh", "tanh", "arcsinh",
          "arctanh", "expm1", "log1p", "deg2rad", "rad2deg", "floor", "ceil", "trunc",
          "rint", "sign")


def _tame(case):
    """Float values squeezed into (-1.5, 1.5): inside the well-conditioned range of
    tan/sinh/expm1, with some outside the domain of arcsin/arctanh (nan) and some
    below -1 (log1p nan); integer values kept."""
    if case.data.dtype.kind in "fc":
        d = case.data
        case.data = (1.5 * d / (1 + np.abs(d))).astype(d.dtype)
    return case


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_ufuncs(case, fmt):
    """Every ufunc-like method: values, result dtype (NumPy's: float16 for small
    integers), structure (SciPy sums duplicates first), A after the call."""
    case = _tame(case)
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()
    for name in UFUNCS:
        soft(f"A.{name}()", _check_ufunc, case, fmt, name, agree)
    soft.done()


def _check_ufunc(case, fmt, name, agree):
    __tracebackhide__ = True
    _compare_or_float16(case, fmt, lambda sp, A: getattr(A, name)(),
                        getattr(np, name), agree)


def _compare_or_float16(case, fmt, f, numpy_f, agree):
    """compare((f(A), A)); except where NumPy's result dtype is float16, which SciPy
    cannot hold (it raises ValueError) and MLX can: there ours must be NumPy's
    float16 result numpy_f(dense)."""
    __tracebackhide__ = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f(ssp, case.make(ssp, fmt))
        float16 = False
    except Exception as e:  # noqa: BLE001  (compared below)
        float16 = isinstance(e, ValueError) and "float16" in str(e)
    if not float16:
        compare(lambda sp, A: (f(sp, A), A), cin(case, fmt), agree=agree)
        return
    try:
        ours = f(msp, case.make(msp, fmt))
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"NumPy's result is float16; we raised "
                             f"{type(e).__name__}({e})") from None
    assert ours.dtype == np.float16, f"dtype {ours.dtype} != NumPy's float16"
    with np.errstate(all="ignore"):
        want = numpy_f(case.dense())
    assert want.dtype == np.float16
    assert_values_close(host(ours.toarray()), want, what="float16 result")


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_real_imag_conj(case, fmt):
    agree = inputs_agree((case, fmt, case.spec.kind))
    soft = Soft()
    for label, f in {"A.real": lambda sp, A: A.real, "A.imag": lambda sp, A: A.imag,
                     "A.conj()": lambda sp, A: A.conj(),
                     "A.conjugate()": lambda sp, A: A.conjugate(),
                     "A.conj(copy=False)": lambda sp, A: A.conj(copy=False)}.items():
        soft(label, compare, f, cin(case, fmt), agree=agree)
    soft.done()


@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_rounding_halves(dtype):
    """rint / round(A) round halves to even, as NumPy; floor/ceil/trunc of negatives."""
    vals = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, -3.51, 0.05, 0.15],
                    dtype=dtype)
    rows = np.zeros(vals.size, np.int32)
    cols = np.arange(vals.size, dtype=np.int32)
    A = Input(lambda lib: lib.coo_array((vals.copy(), (rows, cols)), shape=(1, 10)))
    soft = Soft()
    for label, f in {"rint": lambda sp, A: A.rint(), "round": lambda sp, A: round(A),
                     "round(A, 1)": lambda sp, A: round(A, 1),
                     "floor": lambda sp, A: A.floor(), "ceil": lambda sp, A: A.ceil(),
                     "trunc": lambda sp, A: A.trunc(),
                     "sign": lambda sp, A: A.sign()}.items():
        soft(label, compare, f, A)
    soft.done()


def test_ufuncs_special_values():
    """nan, inf, -0.0 and out-of-domain values through the ufunc methods."""
    vals = np.array([np.nan, np.inf, -np.inf, -0.0, 1.0, -1.0, 2.0, -2.0, 1e-30],
                    dtype=np.float64)
    cols = np.arange(vals.size, dtype=np.int32)
    A = Input(lambda lib: lib.csr_array((vals.copy(), cols,
                                         np.array([0, vals.size], np.int32)),
                                        shape=(1, vals.size)))
    soft = Soft()
    for name in UFUNCS:
        soft(name, compare, lambda sp, A, name=name: getattr(A, name)(), A)
    soft.done()
