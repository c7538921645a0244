"""Reductions: sum(axis, dtype, out), mean(axis, dtype), max/min/nanmax/nanmin
(axis=None for every class; axis=0/1 for _matrix; _array with an axis raises
NotImplementedError here by design, SciPy returns 1-D sparse arrays), explicit=True,
argmax/argmin (ties, all-negative rows, empty rows, full rows), count_nonzero(axis),
diagonal(k), trace(offset). Result dtypes as SciPy's (integer sums to int64, unsigned
to uint64, ...); where SciPy returns np.matrix we return a 2-D mx.array, where it
returns a NumPy scalar a 0-d mx.array."""
import numpy as np
import pytest
import scipy.sparse as ssp

import mlx_sparse.sparse as msp
from oracle import SMALL_SPECS, Case, Spec, spec_params
from test_products import (SPEC_FMT, SPEC_FMT_KIND, Soft, assert_values_close, both,
                           cin, compare, inputs_agree)

FORMATS = ("coo", "csr", "csc")
KINDS = ("array", "matrix")
AXES = (None, 0, 1, -1)

fmt_params = pytest.mark.parametrize("fmt", FORMATS)
kind_params = pytest.mark.parametrize("kind", KINDS)


def abs_total(case):
    """Scale of the rounding error of a sum over the matrix."""
    return max(float(np.abs(case.dense()).astype(np.float64).sum()), 1.0)


# ----------------------------------------------------------------------------------
# sum, mean
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec,fmt,kind", SPEC_FMT_KIND)
def test_sum(case, fmt, kind):
    """A.sum(axis) for every axis: values, dtype (int -> int64, uint -> uint64,
    bool -> int64), shape (2-D for _matrix)."""
    soft = Soft()
    scale = abs_total(case)
    for axis in AXES:
        soft(f"sum(axis={axis})", compare, lambda sp, A, axis=axis: A.sum(axis=axis),
             cin(case, fmt, kind), scale=scale)
    soft.done()


SUM_DTYPES = ("float32", "float64", "int8", "int64", "uint64", "complex64")


def _single_precision_source(case):
    """SciPy sums single-precision data in single precision and casts the totals to
    the requested dtype (mean: also scales in the source dtype), so with
    dtype=float64 its result is only single-precision accurate."""
    return np.float32 if case.spec.dtype in ("float32", "complex64") else None


@fmt_params
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_sum_dtype(case, fmt):
    _check_dtype_arg(case, fmt, "sum", SUM_DTYPES)


def _check_dtype_arg(case, fmt, name, dtypes):
    """A.<name>(axis, dtype=dt) for every axis and dt, against SciPy."""
    soft = Soft()
    scale = abs_total(case)
    loose = _single_precision_source(case)
    for dt in dtypes:
        for axis in (None, 0, 1):
            soft(f"{name}(axis={axis}, dtype={dt})", compare,
                 lambda sp, A, axis=axis, dt=dt: getattr(A, name)(axis=axis, dtype=dt),
                 cin(case, fmt, case.spec.kind), scale=scale, tol_dtype=loose)
    soft.done()


@kind_params
@fmt_params
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_sum_out(case, fmt, kind):
    """sum(axis, out=ndarray) writes into out and returns it (as SciPy's)."""
    m, n = case.shape
    soft = Soft()
    scale = abs_total(case)
    shapes = {0: (n,) if kind == "array" else (1, n),
              1: (m,) if kind == "array" else (m, 1)}
    for axis, shape in shapes.items():
        def f(sp, A, axis=axis, shape=shape):
            t = ssp.csr_array((1, 1), dtype=case.spec.dtype).sum(axis=0).dtype
            out = np.zeros(shape, dtype=t)
            if kind == "matrix":  # SciPy needs an np.matrix out for a sparse matrix
                out = np.asmatrix(out)
            ret = A.sum(axis=axis, out=out)
            return ret is out, np.asarray(out).copy()

        def check(axis=axis, f=f):
            res = both(f, cin(case, fmt, kind))
            if res is None:
                return
            (o_is, o_out), (t_is, t_out) = res
            assert o_is == t_is, f"returns out: {o_is}, SciPy's: {t_is}"
            assert_values_close(o_out, t_out, scale=scale, what="out")

        soft(f"sum(axis={axis}, out=...)", check)
    soft.done()


@pytest.mark.parametrize("spec,fmt,kind", SPEC_FMT_KIND)
def test_mean(case, fmt, kind):
    """A.mean(axis): implicit zeros count; int/bool means are float64."""
    soft = Soft()
    scale = abs_total(case)
    for axis in AXES:
        soft(f"mean(axis={axis})", compare, lambda sp, A, axis=axis: A.mean(axis=axis),
             cin(case, fmt, kind), scale=scale)
    soft.done()


@fmt_params
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_mean_dtype(case, fmt):
    _check_dtype_arg(case, fmt, "mean", ("float32", "float64", "complex64"))


@kind_params
def test_sum_mean_bad_axis(rng, kind):
    case = Case(Spec((4, 3), "float64", kind=kind), rng)
    soft = Soft()
    for axis in (2, -3, (0, 1), 1.0):
        for name in ("sum", "mean"):
            soft(f"{name}(axis={axis!r})", compare,
                 lambda sp, A, axis=axis, name=name: getattr(A, name)(axis=axis),
                 cin(case, "csr"))
    soft.done()


# ----------------------------------------------------------------------------------
# max, min, nanmax, nanmin
# ----------------------------------------------------------------------------------
MINMAX = ("max", "min", "nanmax", "nanmin")


def _minmax(case, fmt, kind, soft, label=""):
    __tracebackhide__ = True
    variants = [(name, axis, explicit) for name in ("max", "min")
                for axis in (None, 0, 1) for explicit in (False, True)]
    variants += [(name, axis, False) for name in ("nanmax", "nanmin") for axis in (None, 0)]
    variants += [("max", -1, False)]
    if label:  # the nan-specific test: explicit=True where all stored values are nan
        variants += [("nanmax", 1, True), ("nanmin", None, True)]
    for name, axis, explicit in variants:
        kw = {"explicit": True} if explicit else {}
        f = (lambda sp, A, name=name, axis=axis, kw=kw: getattr(A, name)(axis=axis, **kw))
        what = f"{label}{name}(axis={axis}{', explicit=True' if explicit else ''})"
        if kind == "array" and axis is not None:
            soft(what, _array_axis_not_implemented, f, case, fmt)
        else:
            soft(what, compare, f, cin(case, fmt, kind))


def _array_axis_not_implemented(f, case, fmt):
    """Sparse arrays with an axis: SciPy returns a 1-D sparse array; mlx_sparse is
    2-D only and raises NotImplementedError (unless SciPy itself raises)."""
    __tracebackhide__ = True
    try:
        theirs = f(ssp, case.make(ssp, fmt, "array"))
        expected = NotImplementedError
        assert ssp.issparse(theirs) and theirs.ndim == 1  # what SciPy does
    except Exception as e:  # noqa: BLE001
        expected = type(e)
    try:
        ours = f(msp, case.make(msp, fmt, "array"))
    except expected:
        return
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"expected {expected.__name__}, we raised "
                             f"{type(e).__name__}({e})") from None
    raise AssertionError(f"expected {expected.__name__}, we returned {ours!r}")


@pytest.mark.parametrize("spec,fmt,kind", SPEC_FMT_KIND)
def test_max_min(case, fmt, kind):
    """max/min/nanmax/nanmin, axis None/0/1/-1, explicit False/True: NumPy scalar
    (0-d mx.array) for axis=None; coo_matrix for _matrix with an axis; errors for
    empty shapes and complex values as SciPy's."""
    soft = Soft()
    _minmax(case, fmt, kind, soft)
    soft.done()


def _with_nans(case, rng):
    """Some stored values nan (a duplicate of a nan stays nan)."""
    if case.data.dtype.kind in "fc" and case.data.size:
        pick = rng.random(case.data.size) < 0.3
        pick[rng.integers(case.data.size)] = True
        case.data[pick] = np.nan
    return case


NAN_SPECS = [s for s in SMALL_SPECS if s.dtype in ("float32", "float64", "complex64")]


@fmt_params
@pytest.mark.parametrize("spec", spec_params(NAN_SPECS))
def test_max_min_nan(case, rng, fmt):
    """With nan stored: max/min propagate it, nanmax/nanmin skip it (a row of only
    nan and implicit zeros gives 0, of only nan gives nan)."""
    case = _with_nans(case, rng)
    kind = case.spec.kind
    soft = Soft()
    _minmax(case, fmt, kind, soft, label="[nan] ")
    for name in ("argmax", "argmin"):
        for axis in (None, 0, 1):
            soft(f"[nan] {name}(axis={axis})", compare,
                 lambda sp, A, name=name, axis=axis: getattr(A, name)(axis=axis),
                 cin(case, fmt, kind))
    soft.done()


# ----------------------------------------------------------------------------------
# argmax, argmin
# ----------------------------------------------------------------------------------
def _flat_explicit_arg(sp, A, name):
    """argmax/argmin(axis=None, explicit=True) as a flat index. SciPy 1.17 returns
    the position of the extreme in its canonical data array instead (a SciPy bug:
    _data.py `if explicit: return extreme_index`); map that position to the flat
    index through SciPy's own canonical COO so that ours is held to the documented
    meaning."""
    idx = getattr(A, name)(axis=None, explicit=True)
    if sp is msp:
        return idx
    mat = A.tocoo()
    mat.sum_duplicates()
    return int(mat.row[idx]) * A.shape[1] + int(mat.col[idx])


def _argminmax(case, fmt, kind, soft, label=""):
    __tracebackhide__ = True
    for name in ("argmax", "argmin"):
        soft(f"{label}{name}(axis=None, explicit=True)", compare,
             lambda sp, A, name=name: _flat_explicit_arg(sp, A, name),
             cin(case, fmt, kind))
        for explicit in (False, True):
            kw = {"explicit": True} if explicit else {}
            for axis in ((0, 1) if explicit else (None, 0, 1, -1)):
                soft(f"{label}{name}(axis={axis}{', explicit=True' if explicit else ''})",
                     compare,
                     lambda sp, A, name=name, axis=axis, kw=kw:
                     getattr(A, name)(axis=axis, **kw),
                     cin(case, fmt, kind))


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_argmax_argmin(case, fmt):
    """argmax/argmin: Python int for axis=None, intp array per axis (2-D for
    _matrix); first occurrence on ties, implicit zeros count unless explicit."""
    kind = case.spec.kind
    soft = Soft()
    _argminmax(case, fmt, kind, soft)
    soft.done()


def case_from_dense(rng, D, dup=True, zeros=True, unsorted=True, index="int32"):
    """A Case holding the dense matrix D: its nonzeros, plus explicit zeros at some
    zero positions (zeros=True), some entries split into duplicates (dup=True)."""
    spec = Spec(D.shape, D.dtype.name, index=index, dup=dup, zeros=zeros,
                unsorted=unsorted)
    case = Case(spec, rng)
    row, col = np.nonzero(D)
    data = D[row, col]
    if zeros:
        zr, zc = np.nonzero(D == 0)
        keep = rng.random(zr.size) < 0.3
        row, col = np.concatenate([row, zr[keep]]), np.concatenate([col, zc[keep]])
        data = np.concatenate([data, np.zeros(keep.sum(), D.dtype)])
    if dup and data.size and D.dtype.kind in "if":
        split = rng.random(data.size) < 0.3
        half = (data[split] // 2) if D.dtype.kind == "i" else data[split] / 2
        row = np.concatenate([row, row[split]])
        col = np.concatenate([col, col[split]])
        data = data.copy()
        data[split] -= half  # the entry and its duplicate sum to the original
        data = np.concatenate([data, half])
    if unsorted and data.size:
        p = rng.permutation(data.size)
        row, col, data = row[p], col[p], data[p]
    idx = np.dtype(index)
    case.data, case.row, case.col = data.astype(D.dtype), row.astype(idx), col.astype(idx)
    return case


def _special_dense(rng, dtype):
    """Rows that exercise argmax/argmin: ties, all negative (full and with a gap),
    empty, full positive, all zero stored, a single entry; columns likewise."""
    rows = [
        [2, 0, 2, 1, 0],        # tie of the max, zeros between
        [-1, -3, -1, -2, -5],   # full, all negative, tie of the max
        [-1, 0, -3, -3, -2],    # negative with one implicit zero, tie of the min
        [0, 0, 0, 0, 0],        # empty (or only explicit zeros)
        [4, 1, 3, 4, 2],        # full positive, tie of the max
        [0, 0, 0, -2, 0],       # single negative entry
        [0, 7, 0, 0, 0],        # single positive entry
    ]
    D = np.array(rows, dtype=dtype)
    return D[rng.permutation(D.shape[0])] if rng.random() < 0.5 else D


@pytest.mark.parametrize("dtype", ("int8", "float32"))
@kind_params
@fmt_params
def test_argmax_argmin_special(rng, fmt, kind, dtype):
    """The rows of _special_dense (and, transposed, as columns), stored messy
    (duplicates, explicit zeros, unsorted) and clean."""
    D = _special_dense(rng, dtype)
    soft = Soft()
    for flags, Dv, lab in (({}, D, "[messy] "),
                           ({"dup": False, "zeros": False, "unsorted": False},
                            D.T.copy(), "[clean, transposed] ")):
        case = case_from_dense(rng, Dv, **flags)
        _argminmax(case, fmt, kind, soft, label=lab)
        for name in MINMAX[:2]:
            for axis in (None, 0, 1):
                f = (lambda sp, A, name=name, axis=axis: getattr(A, name)(axis=axis))
                if kind == "array" and axis is not None:
                    continue
                soft(f"{lab}{name}(axis={axis})", compare, f, cin(case, fmt, kind))
    soft.done()


@pytest.mark.parametrize("value", (-1.0, 1.0, 0.0))
@kind_params
@pytest.mark.parametrize("fmt", ("coo", "csc"))
def test_argmax_argmin_constant(rng, fmt, kind, value):
    """A matrix storing one value everywhere (full), and everywhere but one cell."""
    soft = Soft()
    for D in (np.full((3, 4), value), np.where(np.eye(3, 4) > 0, 0.0, value)):
        case = case_from_dense(rng, D, dup=False, zeros=value == 0, unsorted=True)
        _argminmax(case, fmt, kind, soft, label=f"[{D.tolist()}] ")
    soft.done()


@kind_params
@fmt_params
def test_argmax_out_and_empty(rng, fmt, kind):
    """out= is rejected; empty shapes raise as SciPy's."""
    soft = Soft()
    for shape in ((0, 0), (0, 3), (3, 0), (1, 1)):
        case = Case(Spec(shape, "float64", kind=kind), rng)
        for name in ("argmax", "argmin", "max", "min"):
            for axis in (None, 0, 1):
                f = (lambda sp, A, name=name, axis=axis: getattr(A, name)(axis=axis))
                if kind == "array" and axis is not None and name in ("max", "min"):
                    soft(f"{shape} {name}(axis={axis})", _array_axis_not_implemented,
                         f, case, fmt)
                    continue
                soft(f"{shape} {name}(axis={axis})", compare, f, cin(case, fmt, kind))
    case = Case(Spec((3, 4), "float64", kind=kind), rng)
    for name in ("argmax", "argmin", "max", "min"):
        soft(f"{name}(out=...)", compare,
             lambda sp, A, name=name: getattr(A, name)(axis=None, out=np.zeros(())),
             cin(case, fmt, kind))
    soft.done()


# ----------------------------------------------------------------------------------
# count_nonzero, diagonal, trace
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec,fmt,kind", SPEC_FMT_KIND)
def test_count_nonzero(case, fmt, kind):
    """count_nonzero(axis): explicit zeros and duplicates summing to zero excluded."""
    agree = inputs_agree((case, fmt, kind))
    soft = Soft()
    for axis in AXES:
        soft(f"count_nonzero(axis={axis})", compare,
             lambda sp, A, axis=axis: A.count_nonzero(axis=axis),
             cin(case, fmt, kind), agree=agree)
    soft.done()


@pytest.mark.parametrize("spec,fmt", SPEC_FMT)
def test_diagonal_trace(case, fmt):
    """diagonal(k) and trace(offset) for k in -(m+1), -m, -1, 0, 1, n-1, n (beyond
    the matrix: empty diagonal, zero trace); duplicates summed."""
    m, n = case.shape
    kind = case.spec.kind
    soft = Soft()
    scale = abs_total(case)
    for k in sorted({-m - 1, -m, -1, 0, 1, n - 1, n}):
        soft(f"diagonal(k={k})", compare, lambda sp, A, k=k: A.diagonal(k=k),
             cin(case, fmt, kind), scale=scale)
        soft(f"trace(offset={k})", compare, lambda sp, A, k=k: A.trace(offset=k),
             cin(case, fmt, kind), scale=scale)
    soft("diagonal()", compare, lambda sp, A: A.diagonal(), cin(case, fmt, kind),
         scale=scale)
    soft("trace()", compare, lambda sp, A: A.trace(), cin(case, fmt, kind), scale=scale)
    soft.done()
