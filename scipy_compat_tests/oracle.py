"""The oracle: random SciPy inputs, the same call through both libraries, and
comparisons of what comes back.

A test is written once against a sparse *library* (``scipy.sparse`` or
``mlx_sparse.sparse``), exactly as a user would write it:

    def f(sp, A):
        A.sum_duplicates()
        return A

    on_both(f, case.input("csr"))

``on_both`` calls ``f(scipy.sparse, <SciPy object>)`` and
``f(mlx_sparse.sparse, <our object>)`` with freshly built, identical inputs and
checks with ``assert_matches_scipy`` that our result is SciPy's result.
"""
import contextlib
import dataclasses
import re
import zlib

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

import mlx_sparse.sparse as msp

LIBS = (ssp, msp)
LIB_IDS = ("scipy", "mlx")

# ----------------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------------
VALUE_DTYPES = ("bool", "int8", "int32", "int64", "uint8", "uint64",
                "float32", "float64", "complex64")
INDEX_DTYPES = ("int32", "int64")


def mx_to_np_dtype(dt):
    """NumPy dtype of an MLX dtype (bfloat16 has none: returned as mx.bfloat16)."""
    if dt == mx.bfloat16:
        return mx.bfloat16
    return np.dtype(str(dt).rsplit(".", 1)[-1])


def dtype_of(x):
    """NumPy dtype (or mx.bfloat16) of an array of either library."""
    if isinstance(x, mx.array):
        return mx_to_np_dtype(x.dtype)
    return np.asarray(x).dtype


def host(x):
    """NumPy copy of an array of either library (bfloat16 as float32)."""
    if isinstance(x, mx.array):
        if x.dtype == mx.bfloat16:
            x = x.astype(mx.float32)
        return np.array(x)
    return np.array(x)


def tolerance(dtype):
    """(rtol, atol) for comparing values of this dtype, or None for exact."""
    if dtype == mx.bfloat16:
        return 2e-2, 1e-2
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return None
    eps = np.finfo(dtype).eps
    return 64 * eps, 64 * eps


# ----------------------------------------------------------------------------------
# random inputs
# ----------------------------------------------------------------------------------
SHAPES = ((0, 0), (0, 5), (5, 0), (1, 7), (7, 1), (6, 6), (9, 4), (4, 9))


@dataclasses.dataclass(frozen=True)
class Spec:
    """What a random test matrix looks like (its values come from the test's rng)."""
    shape: tuple
    dtype: str = "float64"
    index: str = "int32"        # dtype of the index arrays handed to constructors
    dup: bool = False           # duplicate coordinates (some summing to zero)
    zeros: bool = False         # explicitly stored zeros
    unsorted: bool = False      # COO in random order; CSR/CSC indices permuted per row
    empty: bool = False         # some whole rows and columns left empty
    kind: str = "array"         # "array" or "matrix"
    density: float = 0.35

    @property
    def id(self):
        flags = [f for f in ("dup", "zeros", "unsorted", "empty") if getattr(self, f)]
        return "-".join([f"{self.shape[0]}x{self.shape[1]}", self.dtype,
                         "i64" if self.index == "int64" else "i32", *flags, self.kind])

    @property
    def messy(self):
        return self.dup or self.zeros or self.unsorted


def _specs():
    out = []
    kinds = ("array", "matrix")
    # every shape: the empty ones once, the others clean and messy
    for i, shape in enumerate(SHAPES):
        if 0 in shape:
            out.append(Spec(shape, "float64", kind=kinds[i % 2]))
        elif shape not in ((9, 4), (4, 9)):  # those two come with every dtype below
            out.append(Spec(shape, "float64", kind=kinds[i % 2]))
            out.append(Spec(shape, "float64", dup=True, zeros=True, unsorted=True,
                            empty=True, kind=kinds[(i + 1) % 2]))
    # every value dtype, messy and clean, with both index dtypes
    for i, dt in enumerate(VALUE_DTYPES):
        out.append(Spec((9, 4), dt, index=INDEX_DTYPES[i % 2], dup=True, zeros=True,
                        unsorted=True, empty=True, kind=kinds[i % 2]))
        out.append(Spec((4, 9), dt, index=INDEX_DTYPES[(i + 1) % 2],
                        kind=kinds[(i + 1) % 2]))
    # one feature at a time
    for i, flag in enumerate(("dup", "zeros", "unsorted", "empty")):
        out.append(Spec((7, 7), "int32", **{flag: True}, kind=kinds[i % 2]))
    # square, messy, int64 indices, complex (transpose/conj paths)
    out.append(Spec((6, 6), "complex64", index="int64", dup=True, zeros=True,
                    unsorted=True, kind="matrix"))
    return out


SPECS = _specs()
_SMALL_IDS = (
    "0x0-float64-i32-array", "0x5-float64-i32-matrix",
    "1x7-float64-i32-dup-zeros-unsorted-empty-array",
    "7x1-float64-i32-dup-zeros-unsorted-empty-matrix",
    "6x6-float64-i32-dup-zeros-unsorted-empty-array",
    "9x4-bool-i32-dup-zeros-unsorted-empty-array",
    "9x4-int64-i64-dup-zeros-unsorted-empty-matrix",
    "4x9-float32-i64-matrix", "4x9-uint8-i64-matrix",
    "9x4-complex64-i32-dup-zeros-unsorted-empty-array",
    "6x6-complex64-i64-dup-zeros-unsorted-matrix",
)
# A smaller set for the costlier parametrisations (format x format x kind ...).
SMALL_SPECS = [s for s in SPECS if s.id in _SMALL_IDS]
assert len(SMALL_SPECS) == len(_SMALL_IDS), [s.id for s in SMALL_SPECS]


def spec_params(specs=None):
    specs = SPECS if specs is None else specs
    return [pytest.param(s, id=s.id) for s in specs]


def random_values(rng, n, dtype):
    """n random values of dtype, none of them zero."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.ones(n, dtype=bool)
    if dtype.kind == "u":
        hi = 200 if dtype.itemsize == 1 else 2**62
        v = rng.integers(1, hi, size=n, dtype=np.uint64)
        if dtype.itemsize == 8 and n:
            v[rng.random(n) < 0.3] = rng.integers(1, 200, size=1, dtype=np.uint64)
        return v.astype(dtype)
    if dtype.kind == "i":
        # headroom for summing several duplicates without signed overflow
        hi = 20 if dtype.itemsize == 1 else (2**58 if dtype.itemsize == 8 else 2**26)
        v = rng.integers(1, hi, size=n, dtype=np.int64)
        return (v * rng.choice([-1, 1], size=n)).astype(dtype)
    if dtype.kind == "f":
        v = rng.standard_normal(n) * 10.0 ** rng.integers(-2, 3, size=n)
        v[v == 0] = 1.0
        return v.astype(dtype)
    if dtype.kind == "c":
        v = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        return v.astype(dtype)
    raise TypeError(dtype)


def random_coo(rng, spec):
    """(data, row, col) in storage order for a Spec (NumPy arrays)."""
    m, n = spec.shape
    dtype = np.dtype(spec.dtype)
    if m == 0 or n == 0:
        row = col = np.zeros(0, np.int64)
    else:
        rows, cols = np.arange(m), np.arange(n)
        if spec.empty:  # leave the first, a middle and the last line empty
            rows = np.setdiff1d(rows, [0, m // 2]) if m > 2 else rows
            cols = np.setdiff1d(cols, [n - 1, n // 2]) if n > 2 else cols
        cells = np.array([(r, c) for r in rows for c in cols], dtype=np.int64)
        k = max(1, int(round(spec.density * len(cells))))
        pick = np.sort(rng.choice(len(cells), size=k, replace=False))
        row, col = cells[pick, 0], cells[pick, 1]
    data = random_values(rng, row.size, dtype)
    if spec.zeros and row.size:
        zero = rng.random(row.size) < 0.25
        zero[rng.integers(row.size)] = True
        data[zero] = 0
    if spec.dup and row.size:
        # Integers add exactly in any order, so a coordinate may repeat many times;
        # floating-point entries repeat at most twice, so that every sum is
        # independent of summation order (SciPy's and ours may differ).
        exact = dtype.kind in "biu"
        k = max(1, row.size // 3)
        d = rng.choice(row.size, size=k if exact else min(k, row.size), replace=exact)
        extra = random_values(rng, d.size, dtype)
        if dtype.kind in "ifc":
            # one duplicate cancels its partner: a stored zero after summing
            extra[0] = -data[d[0]] if data[d[0]] != 0 else extra[0]
        row, col = np.concatenate([row, row[d]]), np.concatenate([col, col[d]])
        data = np.concatenate([data, extra])
        order = np.argsort(row * max(n, 1) + col, kind="stable")  # duplicates adjacent
        row, col, data = row[order], col[order], data[order]
    if spec.unsorted and row.size:
        p = rng.permutation(row.size)
        row, col, data = row[p], col[p], data[p]
    idx = np.dtype(spec.index)
    return data, row.astype(idx), col.astype(idx)


def compress(data, row, col, shape, axis, index_dtype=None):
    """(data, indices, indptr) of COO triplets grouped by `axis` (0: CSR, 1: CSC),
    keeping the triplets' order within each slice (so unsorted stays unsorted)."""
    major, minor = (row, col) if axis == 0 else (col, row)
    n_major = shape[axis]
    order = np.argsort(major, kind="stable")
    counts = np.bincount(major.astype(np.int64), minlength=n_major)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    idx = index_dtype or row.dtype
    return data[order], minor[order].astype(idx), indptr.astype(idx)


class Case:
    """One random sparse matrix, buildable (identically) through either library.

    The raw arrays live here; `make(lib, fmt)` hands every constructor fresh copies
    so that nothing one library does can reach the other's input."""

    def __init__(self, spec, rng):
        self.spec = spec
        self.shape = spec.shape
        self.data, self.row, self.col = random_coo(rng, spec)

    def __repr__(self):
        return f"Case({self.spec.id})"

    def buffers(self, fmt):
        """Constructor argument for `fmt` as fresh NumPy arrays."""
        if fmt == "coo":
            return (self.data.copy(), (self.row.copy(), self.col.copy()))
        if fmt in ("csr", "csc"):
            d, ind, ptr = compress(self.data, self.row, self.col, self.shape,
                                   0 if fmt == "csr" else 1)
            return (d, ind, ptr)
        raise ValueError(fmt)

    def make(self, lib, fmt, kind=None):
        kind = kind or self.spec.kind
        cls = getattr(lib, f"{fmt}_{kind}")
        return cls(self.buffers(fmt), shape=self.shape)

    def input(self, fmt, kind=None):
        """A lazily built input for on_both: each library gets its own object."""
        return Input(lambda lib: self.make(lib, fmt, kind), f"{self.spec.id}:{fmt}")

    def dense(self):
        """SciPy's dense view (duplicates summed)."""
        return self.make(ssp, "coo").toarray()


class Input:
    """An argument of on_both that differs by library (built by `build(lib)`)."""

    def __init__(self, build, name="input"):
        self.build = build
        self.name = name

    def __repr__(self):
        return f"Input({self.name})"


def same(x):
    """An Input that is the same (fresh copy of a NumPy array, or x) for both."""
    if isinstance(x, np.ndarray):
        return Input(lambda lib: x.copy(), "ndarray")
    return x


def _materialise(args, lib):
    return [a.build(lib) if isinstance(a, Input) else
            (a.copy() if isinstance(a, np.ndarray) else a) for a in args]


# ----------------------------------------------------------------------------------
# running a call through both libraries
# ----------------------------------------------------------------------------------
def on_both(f, *args, check=True, **compare_kw):
    """Run f(lib, *args) for SciPy and for mlx_sparse; compare; return (ours, theirs).

    Inputs are built separately per library; f's result is compared with
    assert_matches_scipy (pass check=False to compare by hand)."""
    theirs = f(ssp, *_materialise(args, ssp))
    ours = f(msp, *_materialise(args, msp))
    if check:
        assert_matches_scipy(ours, theirs, **compare_kw)
    return ours, theirs


@contextlib.contextmanager
def variant(**labels):
    """Label the assertion failures of one variant inside a looping test."""
    try:
        yield
    except AssertionError as e:
        tag = ", ".join(f"{k}={v!r}" for k, v in labels.items())
        raise AssertionError(f"<{tag}> {e}") from None


def assert_same_exception(f, *args, match_ours=None):
    """Both libraries raise, ours an instance of SciPy's exception type, and the
    failed call leaves every sparse input unchanged. Returns (ours, theirs)."""
    excs = []
    for lib in LIBS:
        objs = _materialise(args, lib)
        before = [snapshot(o) for o in objs]
        state = [o._s for o in objs if is_ours(o)]
        try:
            f(lib, *objs)
        except Exception as e:  # noqa: BLE001 - the type is what is compared
            excs.append(e)
        else:
            raise AssertionError(f"{lib.__name__} raised nothing")
        if lib is msp:
            # (SciPy itself may change its input before failing, e.g.
            # count_nonzero sums duplicates before checking the axis)
            after = [snapshot(o) for o in objs]
            for b, a, o in zip(before, after, objs):
                assert _snap_equal(b, a), f"a failed call changed its input {o!r}"
            now = [o._s for o in objs if is_ours(o)]
            assert all(a is b for a, b in zip(state, now)), (
                "a failed call replaced the storage of its input")
    theirs, ours = excs
    assert_exception_like(ours, theirs, match_ours)
    return ours, theirs


def assert_exception_like(ours, theirs, match=None):
    """ours is an instance of SciPy's exception type (and its message matches)."""
    assert isinstance(ours, type(theirs)), (
        f"SciPy raised {type(theirs).__name__}({theirs}); "
        f"we raised {type(ours).__name__}({ours})")
    if match is not None:
        assert re.search(match, str(ours)), str(ours)


def snapshot(obj):
    """Everything observable of a sparse object (or a NumPy array) as host data."""
    if isinstance(obj, np.ndarray):
        return ("nd", obj.copy())
    if not is_sparse(obj):
        return ("other", None)
    fields = [("shape", tuple(obj.shape)), ("dtype", str(obj.dtype)),
              ("format", obj.format)]
    names = ("row", "col", "data") if obj.format == "coo" else ("indptr", "indices", "data")
    for nm in names:
        a = getattr(obj, nm)
        fields.append((nm, str(dtype_of(a)), host(a)))
    return ("sparse", fields)


def _snap_equal(a, b):
    if a[0] != b[0]:
        return False
    if a[0] == "nd":
        return a[1].shape == b[1].shape and a[1].dtype == b[1].dtype and \
            np.array_equal(a[1], b[1], equal_nan=a[1].dtype.kind in "fc")
    if a[0] == "other":
        return True
    for fa, fb in zip(a[1], b[1]):
        if len(fa) == 2:
            if fa != fb:
                return False
        else:
            if fa[:2] != fb[:2] or fa[2].shape != fb[2].shape:
                return False
            eq_nan = fa[2].dtype.kind in "fc"
            if not np.array_equal(fa[2], fb[2], equal_nan=eq_nan):
                return False
    return True


# ----------------------------------------------------------------------------------
# comparisons
# ----------------------------------------------------------------------------------
def is_ours(x):
    return isinstance(x, msp._base._spbase)


def is_sparse(x):
    return is_ours(x) or ssp.issparse(x)


def kind_of(x):
    if is_ours(x):
        return "array" if isinstance(x, msp.sparray) else "matrix"
    return "array" if isinstance(x, ssp.sparray) else "matrix"


def assert_values_equal(ours, theirs, dtype=None, what="values"):
    """Elementwise: exact for bool/int, dtype-appropriate tolerance for floats."""
    o, t = host(ours), np.asarray(theirs)
    assert o.shape == t.shape, f"{what}: shape {o.shape} != SciPy's {t.shape}"
    tol = tolerance(dtype if dtype is not None else t.dtype)
    if tol is None or t.dtype.kind in "biu":
        assert np.array_equal(o, t), f"{what} differ:\n ours  ={o!r}\n scipy={t!r}"
    else:
        rtol, atol = tol
        scale = max(float(np.max(np.abs(t))), 1.0) if t.size else 1.0
        np.testing.assert_allclose(o, t, rtol=rtol, atol=atol * scale, equal_nan=True,
                                   err_msg=what)


def _canonical_triplets(row, col, data):
    """(row, col, data) sorted by (row, col, value): a multiset view."""
    row, col, data = np.asarray(row, np.int64), np.asarray(col, np.int64), np.asarray(data)
    keyv = data.real if data.dtype.kind == "c" else data
    order = np.lexsort((keyv.astype(np.float64) if keyv.dtype.kind != "b" else keyv, col, row))
    return row[order], col[order], data[order]


def _triplets(x):
    """(row, col, data) of a sparse object in storage order, NumPy."""
    if x.format == "coo":
        return host(x.row), host(x.col), host(x.data)
    indptr, indices, data = host(x.indptr), host(x.indices), host(x.data)
    nnz = int(indptr[-1]) if indptr.size else 0
    major = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    indices, data = indices[:nnz], data[:nnz]
    if x.format == "csr":
        return major, indices, data
    return indices, major, data


def _actually_canonical(x):
    r, c, _ = _triplets(x)
    if x.format == "csc":
        r, c = c, r
    key = r.astype(np.int64) * (int(max(x.shape[1 if x.format != "csc" else 0], 1))) + c
    return bool(np.all(np.diff(key) > 0))


def assert_sparse_matches(ours, theirs, *, order="exact", values=True, flags=True):
    """Our sparse result against SciPy's.

    order: "exact"  same storage arrays, same order (SciPy's order is defined);
           "any"    same entries as a multiset (order not guaranteed);
           "dense"  same dense matrix only (duplicates may be summed differently).
    """
    assert is_ours(ours), f"expected an mlx_sparse object, got {type(ours).__name__}"
    assert ours.format == theirs.format, f"format {ours.format} != SciPy's {theirs.format}"
    assert kind_of(ours) == kind_of(theirs), (
        f"{kind_of(ours)} returned where SciPy returns a {kind_of(theirs)}")
    assert type(ours).__name__ == type(theirs).__name__, (
        f"class {type(ours).__name__} != SciPy's {type(theirs).__name__}")
    assert tuple(ours.shape) == tuple(theirs.shape), (
        f"shape {ours.shape} != SciPy's {theirs.shape}")
    assert ours.ndim == theirs.ndim
    assert ours.dtype == theirs.dtype, f"dtype {ours.dtype} != SciPy's {theirs.dtype}"
    names = ("row", "col") if theirs.format == "coo" else ("indices", "indptr")
    for nm in names:
        od, td = dtype_of(getattr(ours, nm)), getattr(theirs, nm).dtype
        assert od == td, f"{nm} dtype {od} != SciPy's {td}"
        assert isinstance(getattr(ours, nm), mx.array), f"{nm} is not an mx.array"
    assert isinstance(ours.data, mx.array), "data is not an mx.array"
    if order != "dense":
        assert ours.nnz == theirs.nnz, f"nnz {ours.nnz} != SciPy's {theirs.nnz}"
    if values and order == "exact":
        fields = ("row", "col", "data") if theirs.format == "coo" else \
            ("indptr", "indices", "data")
        for nm in fields:
            assert_values_equal(getattr(ours, nm), getattr(theirs, nm),
                                dtype=theirs.dtype, what=f"{theirs.format}.{nm}")
    elif values and order == "any":
        o = _canonical_triplets(*_triplets(ours))
        t = _canonical_triplets(*_triplets(theirs))
        for nm, a, b in zip(("row", "col", "data"), o, t):
            assert_values_equal(a, b, dtype=theirs.dtype, what=f"entries ({nm})")
    elif values:
        assert_values_equal(ours.toarray(), theirs.toarray(), dtype=theirs.dtype,
                            what="toarray()")
    if flags and order == "exact":
        if theirs.format in ("csr", "csc"):
            assert ours.has_sorted_indices == theirs.has_sorted_indices, (
                f"has_sorted_indices {ours.has_sorted_indices} != SciPy's "
                f"{theirs.has_sorted_indices}")
            assert ours.has_canonical_format == theirs.has_canonical_format, (
                f"has_canonical_format {ours.has_canonical_format} != SciPy's "
                f"{theirs.has_canonical_format}")
        else:
            # Documented: ours may know more (True where SciPy says False), but
            # never claims canonical form falsely, and never forgets SciPy's True.
            oc, tc = bool(ours.has_canonical_format), bool(theirs.has_canonical_format)
            if tc:
                assert oc, "has_canonical_format False where SciPy says True"
            if oc:
                assert _actually_canonical(ours), (
                    "has_canonical_format is True but entries are not canonical")


def assert_matches_scipy(ours, theirs, *, order="exact", values=True, flags=True,
                         dtype=True):
    """Compare any result of ours with SciPy's (sparse, dense, scalar, tuple, None)."""
    if theirs is None:
        assert ours is None, f"returned {ours!r} where SciPy returns None"
        return
    if ssp.issparse(theirs):
        assert_sparse_matches(ours, theirs, order=order, values=values, flags=flags)
        return
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, type(theirs)), (
            f"{type(ours).__name__} returned where SciPy returns {type(theirs).__name__}")
        assert len(ours) == len(theirs)
        for i, (o, t) in enumerate(zip(ours, theirs)):
            try:
                assert_matches_scipy(o, t, order=order, values=values, flags=flags,
                                     dtype=dtype)
            except AssertionError as e:
                raise AssertionError(f"[{i}] {e}") from None
        return
    if isinstance(theirs, (bool, int, float, complex, str)):  # Python scalars
        if isinstance(theirs, bool):
            assert isinstance(ours, bool), f"{ours!r} ({type(ours).__name__}) != {theirs!r}"
        elif isinstance(theirs, int):
            assert isinstance(ours, int) and not isinstance(ours, bool), (
                f"{ours!r} ({type(ours).__name__}) where SciPy returns int {theirs!r}")
        elif isinstance(theirs, str):
            assert ours == theirs, (
                f"strings differ:\n ours : {ours!r}\n scipy: {theirs!r}")
            return
        assert_values_equal(np.asarray(ours), np.asarray(theirs), what="scalar")
        return
    if isinstance(theirs, np.generic):
        # NumPy scalar: ours is a 0-d mx.array or a Python/NumPy scalar.
        if isinstance(ours, mx.array):
            assert ours.ndim == 0, f"shape {ours.shape} where SciPy returns a scalar"
            od = dtype_of(ours)
        elif isinstance(ours, np.generic):
            od = ours.dtype
        else:
            assert isinstance(ours, (bool, int, float, complex)), type(ours)
            od = None
            if theirs.dtype.kind in "iu":
                assert isinstance(ours, int) and not isinstance(ours, bool)
        if dtype and od is not None:
            assert od == theirs.dtype, f"dtype {od} != SciPy's {theirs.dtype}"
        assert_values_equal(np.asarray(host(ours) if isinstance(ours, mx.array) else ours),
                            np.asarray(theirs), dtype=theirs.dtype, what="scalar")
        return
    if isinstance(theirs, np.ndarray):
        # np.matrix from *_matrix.todense() etc: ours is a 2-D mx.array (documented)
        assert isinstance(ours, mx.array), (
            f"{type(ours).__name__} returned where SciPy returns {type(theirs).__name__}"
            " (dense results are mx.array)")
        t = np.asarray(theirs)
        assert tuple(ours.shape) == t.shape, f"shape {tuple(ours.shape)} != SciPy's {t.shape}"
        if dtype:
            assert dtype_of(ours) == t.dtype, f"dtype {dtype_of(ours)} != SciPy's {t.dtype}"
        if values:
            assert_values_equal(ours, t, dtype=t.dtype)
        return
    if isinstance(theirs, str):
        assert ours == theirs, f"strings differ:\n ours : {ours!r}\n scipy: {theirs!r}"
    assert ours == theirs, f"{ours!r} != SciPy's {theirs!r}"


# ----------------------------------------------------------------------------------
# seeds
# ----------------------------------------------------------------------------------
def test_seed(base_seed, nodeid):
    """Per-test seed: the session's base seed mixed with the test's node id."""
    return (base_seed + zlib.crc32(nodeid.encode())) % 2**32


test_seed.__test__ = False  # not a test

