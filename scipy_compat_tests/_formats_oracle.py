"""Comparisons for the constructor / format / I/O oracle tests (test_construct.py,
test_formats.py, test_io.py): every format's stored arrays against SciPy's.

`run_both(f, ...)` calls f(scipy.sparse, ...) and f(mlx_sparse.sparse, ...) and
compares what comes back; `raises_like_scipy(f, ...)` checks both raise and ours is
an instance of SciPy's exception type.
"""
import warnings

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

import mlx_sparse.sparse as msp
from oracle import assert_exception_like

FIELDS = {
    "coo": ("row", "col", "data"),
    "csr": ("indptr", "indices", "data"),
    "csc": ("indptr", "indices", "data"),
    "bsr": ("indptr", "indices", "data"),
    "dia": ("offsets", "data"),
}


def host(x):
    """NumPy copy of an MLX / NumPy array (bfloat16 as float32)."""
    if isinstance(x, mx.array):
        if x.dtype == mx.bfloat16:
            x = x.astype(mx.float32)
        return np.array(x)
    return np.array(x)


def _values_equal(o, t, what):
    o, t = host(o), np.asarray(t)
    assert o.shape == t.shape, f"{what}: shape {o.shape} != SciPy's {t.shape}"
    assert o.dtype == t.dtype, f"{what}: dtype {o.dtype} != SciPy's {t.dtype}"
    if t.dtype.kind in "fc":
        eps = np.finfo(t.dtype).eps
        np.testing.assert_allclose(o, t, rtol=64 * eps, atol=64 * eps, equal_nan=True,
                                   err_msg=what)
    else:
        assert np.array_equal(o, t), f"{what} differ:\n ours ={o!r}\n scipy={t!r}"


def kind(x):
    if isinstance(x, msp._base._spbase):
        return "array" if isinstance(x, msp.sparray) else "matrix"
    return "array" if isinstance(x, ssp.sparray) else "matrix"


def assert_same(ours, theirs, order="exact"):
    """ours (mlx_sparse result) matches theirs (SciPy result).

    order: "exact" compares the stored arrays position by position; "any" the
    stored entries as a multiset (SciPy leaves the order unspecified); "dense" only
    the dense matrix plus format/kind/shape/dtype."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t, order)
        return
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, mx.array), f"{type(ours).__name__} is not an mx.array"
        _values_equal(ours, np.asarray(theirs), "dense result")
        return
    if not ssp.issparse(theirs):
        assert ours == theirs, f"{ours!r} != SciPy's {theirs!r}"
        return
    assert isinstance(ours, msp._base._spbase), f"got {type(ours).__name__}"
    assert type(ours).__name__ == type(theirs).__name__, (
        f"class {type(ours).__name__} != SciPy's {type(theirs).__name__}")
    assert kind(ours) == kind(theirs)
    assert tuple(ours.shape) == tuple(theirs.shape), f"{ours.shape} != {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"dtype {ours.dtype} != SciPy's {theirs.dtype}"
    assert ours.format == theirs.format
    if order != "dense":
        assert ours.nnz == theirs.nnz, f"nnz {ours.nnz} != SciPy's {theirs.nnz}"
    fmt = theirs.format
    if fmt == "bsr":
        assert tuple(ours.blocksize) == tuple(theirs.blocksize)
    if order == "exact" and fmt in FIELDS:
        for nm in FIELDS[fmt]:
            o = getattr(ours, nm)
            assert isinstance(o, mx.array), f"{nm} is not an mx.array"
            _values_equal(o, getattr(theirs, nm), f"{fmt}.{nm}")
    elif order == "exact" and fmt == "dok":
        o = {(int(i), int(j)): v for (i, j), v in ours.items()}
        t = {(int(i), int(j)): v for (i, j), v in theirs.items()}
        assert list(o) == list(t), f"keys {list(o)} != SciPy's {list(t)}"
        for k in t:
            _values_equal(np.asarray(o[k]), np.asarray(t[k]), f"dok[{k}]")
    elif order == "exact" and fmt == "lil":
        assert [list(r) for r in ours.rows] == [list(r) for r in theirs.rows]
        for i, (o, t) in enumerate(zip(ours.data, theirs.data)):
            _values_equal(np.asarray(o, dtype=theirs.dtype),
                          np.asarray(t, dtype=theirs.dtype), f"lil.data[{i}]")
    elif order == "any":
        oc, tc = ours.tocoo(), theirs.tocoo()
        for o, t in zip(_sorted_triplets(oc), _sorted_triplets(tc)):
            _values_equal(o, t, "entries")
    _values_equal(ours.toarray(), theirs.toarray(), "toarray()")


def _sorted_triplets(c):
    r, cc, d = host(c.row).astype(np.int64), host(c.col).astype(np.int64), host(c.data)
    key = d.real if d.dtype.kind == "c" else d
    o = np.lexsort((key, cc, r))
    return r[o], cc[o], d[o]


def run_both(f, *args, order="exact", **kw):
    """f(ssp, *args) vs f(msp, *args); inputs that are callables get the library."""
    def call(lib):
        a = [x(lib) if callable(x) and getattr(x, "per_lib", False) else x for x in args]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f(lib, *a, **kw)
    theirs = call(ssp)
    ours = call(msp)
    assert_same(ours, theirs, order=order)
    return ours, theirs


def per_lib(fn):
    """Mark an argument builder: run_both calls it with each library."""
    fn.per_lib = True
    return fn


def raises_like_scipy(f, *args, match=None):
    """Both libraries raise; ours is an instance of SciPy's exception type."""
    excs = []
    for lib in (ssp, msp):
        a = [x(lib) if callable(x) and getattr(x, "per_lib", False) else x for x in args]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as info:
                f(lib, *a)
        excs.append(info.value)
    theirs, ours = excs
    assert_exception_like(ours, theirs, match)
    return ours, theirs


def random_dense(rng, shape, dtype, density=0.4):
    """A dense NumPy array with about `density` nonzeros of dtype (none accidental)."""
    m, n = shape
    mask = rng.random(shape) < density
    dt = np.dtype(dtype)
    if dt == np.bool_:
        vals = np.ones(shape, bool)
    elif dt.kind in "iu":
        vals = rng.integers(1, 100, size=shape).astype(dt)
    elif dt.kind == "c":
        vals = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    else:
        vals = (rng.standard_normal(shape) + 3.0).astype(dt)
    out = np.zeros(shape, dt)
    out[mask] = vals[mask]
    return out
