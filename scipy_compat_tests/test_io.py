"""Oracle tests: save_npz / load_npz. Files written by either library load in the
other to the same matrix (format, kind, dtype, index dtype, stored arrays)."""
import io
import os
import sys
import zlib

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

sys.path.insert(0, os.path.dirname(__file__))

import mlx_sparse.sparse as msp  # noqa: E402
from _formats_oracle import assert_same, host, random_dense  # noqa: E402

FORMATS = ("csr", "csc", "coo", "dia", "bsr")
DTYPES = ("bool", "int8", "int32", "int64", "uint8", "uint64", "float32", "float64",
          "complex64")


def _pair(fmt, kind, dtype, shape=(6, 4)):
    """The same matrix as a SciPy object and as ours."""
    rng = np.random.default_rng(zlib.crc32(repr((fmt, kind, dtype, shape)).encode()))
    d = random_dense(rng, shape, dtype, 0.5)
    theirs = getattr(ssp, f"{fmt}_{kind}")(d)
    ours = getattr(msp, f"{fmt}_{kind}")(theirs)
    assert_same(ours, theirs)
    return ours, theirs


@pytest.mark.parametrize("compressed", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["array", "matrix"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trips_across_libraries(fmt, kind, dtype, compressed):
    ours, theirs = _pair(fmt, kind, dtype)
    # ours -> file -> SciPy, and ours -> file -> ours
    f = io.BytesIO()
    msp.save_npz(f, ours, compressed=compressed)
    f.seek(0)
    back = ssp.load_npz(f)
    assert type(back).__name__ == type(theirs).__name__
    assert back.dtype == theirs.dtype
    assert np.array_equal(back.toarray(), theirs.toarray())
    f.seek(0)
    assert_same(msp.load_npz(f), theirs)
    # SciPy -> file -> ours
    g = io.BytesIO()
    ssp.save_npz(g, theirs, compressed=compressed)
    g.seek(0)
    assert_same(msp.load_npz(g), theirs)


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_arrays_in_the_file(fmt):
    """The .npz members (names, dtypes, values) are SciPy's."""
    for kind in ("array", "matrix"):
        ours, theirs = _pair(fmt, kind, "float64", (4, 6))
        f, g = io.BytesIO(), io.BytesIO()
        msp.save_npz(f, ours)
        ssp.save_npz(g, theirs)
        f.seek(0)
        g.seek(0)
        with np.load(f) as a, np.load(g) as b:
            assert sorted(a.files) == sorted(b.files)
            for k in b.files:
                assert a[k].dtype == b[k].dtype, k
                assert np.array_equal(a[k], b[k]), k


@pytest.mark.parametrize("shape", [(0, 0), (1, 5), (5, 1), (3, 0)])
@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_and_thin(fmt, shape):
    if fmt == "bsr" and 0 in shape:
        theirs = ssp.bsr_array(shape)
    else:
        theirs = getattr(ssp, f"{fmt}_array")(np.zeros(shape) if 0 in shape else
                                               np.arange(1.0, shape[0] * shape[1] + 1)
                                               .reshape(shape))
    ours = getattr(msp, f"{fmt}_array")(theirs)
    f = io.BytesIO()
    msp.save_npz(f, ours)
    f.seek(0)
    assert_same(msp.load_npz(f), theirs)


def test_paths_and_suffix(tmp_path):
    ours, theirs = _pair("csr", "array", "float32")
    msp.save_npz(tmp_path / "a", ours)          # numpy appends ".npz"
    assert (tmp_path / "a.npz").exists()
    assert_same(msp.load_npz(tmp_path / "a.npz"), theirs)
    msp.save_npz(str(tmp_path / "b.npz"), ours, compressed=False)
    assert_same(msp.load_npz(str(tmp_path / "b.npz")), theirs)
    back = ssp.load_npz(str(tmp_path / "b.npz"))
    assert np.array_equal(back.toarray(), theirs.toarray())


def test_scipy_objects_and_errors():
    f = io.BytesIO()
    msp.save_npz(f, ssp.csc_matrix(np.eye(3)))     # a SciPy object: SciPy's writer
    f.seek(0)
    assert_same(msp.load_npz(f), ssp.csc_matrix(np.eye(3)))
    for fmt in ("dok", "lil"):
        for lib in (msp, ssp):
            with pytest.raises(NotImplementedError, match=f"format {fmt}"):
                lib.save_npz(io.BytesIO(), getattr(lib, f"{fmt}_array")(np.eye(2)))
    for lib in (msp, ssp):
        g = io.BytesIO()
        np.savez(g, a=np.ones(2))
        g.seek(0)
        with pytest.raises(ValueError, match="does not contain a sparse"):
            lib.load_npz(g)
        g = io.BytesIO()
        np.savez(g, format=np.array("xyz"), shape=np.array([2, 2]))
        g.seek(0)
        with pytest.raises(ValueError, match='Unknown format "xyz_matrix"'):
            lib.load_npz(g)
        g = io.BytesIO()
        np.savez(g, format=np.array(b"csr"), shape=np.array([2, 2]),
                 data=np.array([object()], dtype=object))
        g.seek(0)
        with pytest.raises(ValueError):              # never unpickles
            lib.load_npz(g)


def test_bfloat16_saved_as_float32():
    A = msp.csr_array(mx.array([[1.0, 0.0], [0.5, 2.0]], dtype=mx.bfloat16))
    f = io.BytesIO()
    msp.save_npz(f, A)
    f.seek(0)
    B = ssp.load_npz(f)
    assert B.dtype == np.float32
    assert np.array_equal(B.toarray(), host(A.toarray()))
