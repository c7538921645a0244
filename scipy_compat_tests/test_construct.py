"""Oracle tests: scipy.sparse's constructors and extractors (eye, identity, diags,
spdiags, kron, kronsum, block_diag, bmat, block_array, hstack, vstack, random,
find, tril, triu, the axis helpers, safely_cast_index_arrays) against mlx_sparse.

Each test calls the same function through both libraries on the same inputs and
compares format, kind (array/matrix), class, shape, dtype, nnz and the stored arrays
position by position (or, where SciPy leaves the order open, as a multiset).
"""
import os
import sys
import zlib
import warnings

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

sys.path.insert(0, os.path.dirname(__file__))

import mlx_sparse.sparse as msp  # noqa: E402
from _formats_oracle import (assert_same, host, per_lib, raises_like_scipy,  # noqa: E402
                             random_dense, run_both)

FORMATS = (None, "csr", "csc", "coo", "dia", "bsr", "dok", "lil")
VALUE_DTYPES = ("bool", "int8", "int32", "int64", "uint8", "float32", "float64",
                "complex64")
SHAPES = ((0, 0), (1, 5), (5, 1), (4, 4), (3, 6), (6, 3))


def seeded(*key):
    """A generator seeded from the test's parameters (stable across processes)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def sparse_input(dense, fmt, kind):
    """Builder of a sparse input of `fmt`/`kind` holding `dense`, per library."""
    @per_lib
    def build(lib):
        return getattr(lib, f"{fmt}_{kind}")(dense.copy())
    return build


# ---- eye / eye_array / identity ------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("k", [-4, -1, 0, 1, 3])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_eye(shape, k, fmt):
    m, n = shape
    if min(m + k, n - k, min(m, n)) < 0:
        raises_like_scipy(lambda sp: sp.eye(m, n, k=k, format=fmt))
        raises_like_scipy(lambda sp: sp.eye_array(m, n, k=k, format=fmt))
        return
    run_both(lambda sp: sp.eye(m, n, k=k, format=fmt))
    run_both(lambda sp: sp.eye_array(m, n, k=k, format=fmt))


@pytest.mark.parametrize("fmt", [None, "csr", "csc", "coo"])
@pytest.mark.parametrize("dtype", VALUE_DTYPES)
def test_eye_dtypes(dtype, fmt):
    run_both(lambda sp: sp.eye(4, dtype=dtype, format=fmt))
    run_both(lambda sp: sp.eye_array(3, 5, k=1, dtype=dtype, format=fmt))
    run_both(lambda sp: sp.identity(3, dtype=dtype, format=fmt))


def test_eye_defaults_and_errors():
    run_both(lambda sp: sp.eye(3))
    run_both(lambda sp: sp.eye(3.0))             # SciPy converts with int()
    run_both(lambda sp: sp.identity(4))
    run_both(lambda sp: sp.identity(4, "i", "csr"))
    raises_like_scipy(lambda sp: sp.eye(3, format="xyz"))
    raises_like_scipy(lambda sp: sp.eye((2, 3)))
    raises_like_scipy(lambda sp: sp.eye_array((2, 3)))
    raises_like_scipy(lambda sp: sp.eye(-1))
    with pytest.raises(TypeError, match="complex128"):
        msp.eye(3, dtype=np.complex128)       # MLX has no complex128


# ---- diags / diags_array / spdiags -------------------------------------------------
DIAG_CASES = [
    ([1, 2, 3], 0, None),
    ([1, 2, 3], 1, None),
    ([1, 2, 3], -2, None),
    ([[1, 2], [3, 4, 5], [6, 7]], [-1, 0, 1], None),
    ([[3, 4, 5], [1, 2], [6, 7]], [0, 1, -1], None),
    ([1, -2, 1], [-1, 0, 1], (5, 5)),               # scalars broadcast
    ([[1, 2, 3, 4]], [2], (3, 6)),
    ([[1, 2, 3, 4, 5]], [-1], (6, 3)),               # diagonal truncated
    ([[9], [1, 2, 3]], [4, 0], (3, 7)),
    ([[1, 2, 3, 4, 5], [1]], [0, 1], (5, 5)),
    ([[1]], [0], (0, 0)),
    (np.arange(1, 5), 0, (1, 5)),
    ([[5, 6, 7], [1, 2, 3]], [-3, 3], (6, 6)),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", range(len(DIAG_CASES)))
def test_diags(case, fmt):
    diagonals, offsets, shape = DIAG_CASES[case]
    run_both(lambda sp: sp.diags(diagonals, offsets, shape=shape, format=fmt))
    run_both(lambda sp: sp.diags_array(diagonals, offsets=offsets, shape=shape,
                                       format=fmt, dtype=None))


@pytest.mark.parametrize("fmt", [None, "csr", "csc", "coo"])
@pytest.mark.parametrize("dtype", VALUE_DTYPES)
def test_diags_dtypes(dtype, fmt):
    rng = seeded("diags", dtype, fmt)
    d = [random_dense(rng, (1, 6), dtype, 0.8)[0], random_dense(rng, (1, 5), dtype, 0.8)[0]]
    run_both(lambda sp: sp.diags_array(d, offsets=[0, -1], format=fmt, dtype=None))
    run_both(lambda sp: sp.diags_array(d, offsets=[0, 1], dtype=dtype, format=fmt))
    if dtype != "bool":  # SciPy's default (common type) rejects bool
        run_both(lambda sp: sp.diags(d, [0, -1], format=fmt))
    else:
        raises_like_scipy(lambda sp: sp.diags(d, [0, -1], format=fmt))


def test_diags_default_dtype_warns_like_scipy():
    for lib in (ssp, msp):
        with pytest.warns(FutureWarning, match="Input has data type int64"):
            A = lib.diags([1, 2, 3])
        assert A.dtype == np.float64
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lib.diags([1.0, 2.0])
            lib.diags([1, 2], dtype=None)


def test_diags_mlx_inputs():
    d = mx.array([1.0, 2.0, 3.0], dtype=mx.float32)
    A = msp.diags_array([d, d[:2]], offsets=[0, 1], format="csr")
    B = ssp.diags_array([np.asarray(d), np.asarray(d)[:2]], offsets=[0, 1], format="csr")
    assert_same(A, B)


@pytest.mark.parametrize("bad", [
    ([[1, 2, 3]], None, None),                       # scalar offset, 2-D diagonals
    ([[1, 2], [3, 4]], [0], None),                   # count mismatch
    ([1, 2, 3], 5, (3, 3)),                          # offset out of bounds
    ([[1, 2], [1]], [0, 1], (5, 5)),                 # diagonal too short
    ([[1, 2], [1]], [0, 0], None),                   # duplicate offsets
    ([1, 2], [[0, 1]], None),
])
def test_diags_errors(bad):
    diagonals, offsets, shape = bad
    offsets = 0 if offsets is None else offsets
    raises_like_scipy(lambda sp: sp.diags(diagonals, offsets, shape=shape))
    raises_like_scipy(lambda sp: sp.diags_array(diagonals, offsets=offsets, shape=shape,
                                                dtype=None))


@pytest.mark.parametrize("fmt", FORMATS)
def test_spdiags(fmt):
    data = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    run_both(lambda sp: sp.spdiags(data, [0, -1, 2], 4, 4, format=fmt))
    run_both(lambda sp: sp.spdiags(data, [0, -1, 2], 3, 5, format=fmt))
    run_both(lambda sp: sp.spdiags(data, [1, -3, 2], (6, 2), format=fmt))
    run_both(lambda sp: sp.spdiags(data.astype(np.float32), [0, 1, 2], format=fmt))
    run_both(lambda sp: sp.spdiags(data[0], 0, 4, 4, format=fmt))
    raises_like_scipy(lambda sp: sp.spdiags(data[0], [0, 1], 4, 4))
    raises_like_scipy(lambda sp: sp.spdiags(data, [0, 0, 1], 4, 4))


# ---- kron / kronsum -------------------------------------------------------------------
KRON_SHAPES = [((3, 4), (2, 3)), ((1, 5), (4, 1)), ((0, 3), (2, 2)), ((3, 3), (0, 2)),
               ((5, 2), (1, 1)), ((2, 2), (3, 3))]


@pytest.mark.parametrize("fmt", [None, "csr", "csc", "coo", "bsr", "dia"])
@pytest.mark.parametrize("b_density", [0.25, 1.0])
@pytest.mark.parametrize("shapes", KRON_SHAPES, ids=str)
def test_kron(shapes, b_density, fmt):
    rng = seeded("kron", shapes, b_density, fmt)
    a = random_dense(rng, shapes[0], "float64", 0.5)
    b = random_dense(rng, shapes[1], "float64", b_density)
    for ka, kb in (("matrix", "matrix"), ("array", "matrix"), ("matrix", "array")):
        run_both(lambda sp, A, B: sp.kron(A, B, format=fmt),
                 sparse_input(a, "csr", ka), sparse_input(b, "coo", kb))
    run_both(lambda sp, A: sp.kron(A, b, format=fmt), sparse_input(a, "csc", "array"))
    run_both(lambda sp: sp.kron(a, b, format=fmt))


@pytest.mark.parametrize("dtypes", [("int8", "float32"), ("bool", "bool"),
                                    ("int64", "uint8"), ("complex64", "float32"),
                                    ("float32", "int32")])
def test_kron_dtypes(dtypes):
    rng = seeded("kron-dt", dtypes)
    a = random_dense(rng, (3, 4), dtypes[0], 0.6)
    b_dense = random_dense(rng, (2, 2), dtypes[1], 1.0)
    b_sparse = random_dense(rng, (3, 3), dtypes[1], 0.2)
    for b in (b_dense, b_sparse):
        run_both(lambda sp, A, B: sp.kron(A, B), sparse_input(a, "csr", "array"),
                 sparse_input(b, "csr", "array"))
        run_both(lambda sp, A, B: sp.kron(A, B, format="csr"),
                 sparse_input(a, "coo", "matrix"), sparse_input(b, "csr", "matrix"))


def test_kron_duplicates_and_scalars():
    @per_lib
    def dup(lib):
        return lib.coo_array((np.array([1.0, 2.0, 3.0]),
                              (np.array([0, 0, 1], np.int32), np.array([1, 1, 0], np.int32))),
                             shape=(2, 2))
    b = np.array([[1.0, 0.0, 2.0]])
    run_both(lambda sp, A: sp.kron(A, b), dup)
    run_both(lambda sp, A: sp.kron(b, A), dup)
    for fmt in ("coo", "csr", "csc"):
        run_both(lambda sp, A: sp.kron(A, A, format=fmt), dup)
    run_both(lambda sp, A: sp.kron(1, A), sparse_input(np.eye(2), "csr", "matrix"))
    run_both(lambda sp, A: sp.kron(A, np.float32(2)), sparse_input(np.eye(2), "csr",
                                                                    "matrix"))


@pytest.mark.parametrize("fmt", [None, "csr", "csc", "coo", "dia"])
@pytest.mark.parametrize("sizes", [(3, 2), (1, 4), (4, 1), (0, 3)])
def test_kronsum(sizes, fmt):
    rng = seeded("kronsum", sizes, fmt)
    a = random_dense(rng, (sizes[0], sizes[0]), "float64", 0.5)
    b = random_dense(rng, (sizes[1], sizes[1]), "float32", 0.5)
    if a.size:
        a[0, 0], b[0, 0] = 2.0, -2.0                  # a cancellation: dropped by SciPy
    run_both(lambda sp, A, B: sp.kronsum(A, B, format=fmt),
             sparse_input(a, "csr", "matrix"), sparse_input(b, "csc", "matrix"))
    run_both(lambda sp, A, B: sp.kronsum(A, B, format=fmt),
             sparse_input(a, "coo", "array"), sparse_input(b, "csr", "matrix"))
    ai = (a * 3).astype(np.int8)
    run_both(lambda sp, A: sp.kronsum(A, A, format=fmt), sparse_input(ai, "csr", "array"))


def test_kronsum_errors():
    raises_like_scipy(lambda sp: sp.kronsum(sp.csr_array(np.ones((2, 3))),
                                            sp.csr_array(np.eye(2))), match="A is not")
    raises_like_scipy(lambda sp: sp.kronsum(sp.csr_array(np.eye(2)),
                                            sp.csr_array(np.ones((2, 3)))), match="B is not")


# ---- stacking --------------------------------------------------------------------------
def _grid(rng, shapes, fmt, kind, dtype="float64"):
    """A list-of-lists builder of sparse blocks (None where the shape is None)."""
    dense = [[None if s is None else random_dense(rng, s, dtype, 0.5) for s in row]
             for row in shapes]

    @per_lib
    def build(lib):
        out = []
        for i, row in enumerate(dense):
            r = []
            for j, d in enumerate(row):
                if d is None:
                    r.append(None)
                else:
                    f = fmt[(i + j) % len(fmt)] if isinstance(fmt, tuple) else fmt
                    k = kind[(i + j) % len(kind)] if isinstance(kind, tuple) else kind
                    r.append(getattr(lib, f"{f}_{k}")(d.copy()))
            out.append(r)
        return out
    return build


GRIDS = {
    "2x2-full": [[(2, 3), (2, 1)], [(3, 3), (3, 1)]],
    "2x2-none": [[(2, 3), None], [None, (3, 1)]],
    "col": [[(2, 4)], [(1, 4)], [(3, 4)]],
    "row": [[(3, 2), (3, 1), (3, 4)]],
    "empty-blocks": [[(0, 2), (0, 3)], [(2, 2), (2, 3)]],
    "3x3-mixed": [[(1, 2), None, (1, 1)], [None, (2, 3), None], [(3, 2), (3, 3), None]],
}


@pytest.mark.parametrize("fmt", [None, "csr", "csc", "coo"])
@pytest.mark.parametrize("blocks", ["csr", "csc", "coo", ("csr", "csc"), ("dia", "csr")])
@pytest.mark.parametrize("grid", list(GRIDS))
def test_bmat(grid, blocks, fmt):
    rng = seeded("bmat", grid, blocks, fmt)
    g = _grid(rng, GRIDS[grid], blocks, "matrix")
    run_both(lambda sp, B: sp.bmat(B, format=fmt), g)
    ga = _grid(rng, GRIDS[grid], blocks, ("matrix", "array"))
    run_both(lambda sp, B: sp.bmat(B, format=fmt), ga)
    run_both(lambda sp, B: sp.block_array(B, format=fmt), g)


@pytest.mark.parametrize("dtype", [None, "float32", "int64"])
def test_bmat_dtypes(dtype):
    rng = seeded("bmat-dt", dtype)
    dense = [random_dense(rng, (2, 2), dt, 0.7) for dt in ("int8", "float32", "bool")]

    @per_lib
    def blocks(lib):
        return [[lib.csr_array(dense[0]), lib.coo_array(dense[1])],
                [None, lib.csr_array(dense[2])]]
    run_both(lambda sp, B: sp.bmat(B, dtype=dtype), blocks)
    run_both(lambda sp, B: sp.block_array(B, format="csr", dtype=dtype), blocks)


def test_bmat_errors():
    A = per_lib(lambda lib: lib.csr_matrix(np.eye(2)))
    raises_like_scipy(lambda sp, A: sp.bmat([[A, sp.csr_matrix((3, 3))]]), A)
    raises_like_scipy(lambda sp, A: sp.bmat([[A, None], [sp.csr_matrix((3, 3)), None]]), A)
    raises_like_scipy(lambda sp, A: sp.bmat([[A], [sp.coo_matrix((2, 3))]]), A)
    raises_like_scipy(lambda sp, A: sp.bmat([A, A]), A)
    raises_like_scipy(lambda sp: sp.bmat([]))
    raises_like_scipy(lambda sp: sp.bmat([[]]))
    raises_like_scipy(lambda sp: sp.block_array([[np.eye(2)]]))
    run_both(lambda sp: sp.bmat([[None]]))
    run_both(lambda sp: sp.bmat([[None, None]]))


HSTACK_CASES = {
    "csr": ("csr", "csr", "csr"),
    "csc": ("csc", "csc"),
    "coo": ("coo", "coo"),
    "mixed": ("csr", "csc", "coo"),
    "dia": ("dia", "csr"),
    "one": ("csr",),
}


@pytest.mark.parametrize("fmt", [None, "csr", "csc", "coo", "lil"])
@pytest.mark.parametrize("case", list(HSTACK_CASES))
@pytest.mark.parametrize("kind", ["matrix", "array", ("matrix", "array")])
def test_hstack_vstack(case, kind, fmt):
    rng = seeded("stack", case, kind, fmt)
    blocks = HSTACK_CASES[case]
    widths = [3, 1, 4][:len(blocks)]
    h = _grid(rng, [[(4, w) for w in widths]], blocks, kind)
    v = _grid(rng, [[(w, 4)] for w in widths], blocks, kind)
    run_both(lambda sp, B: sp.hstack(B[0], format=fmt), h)
    run_both(lambda sp, B: sp.vstack([r[0] for r in B], format=fmt), v)
    run_both(lambda sp, B: sp.hstack(B[0], format=fmt, dtype=np.float32), h)


@pytest.mark.parametrize("stack", ["hstack", "vstack"])
def test_stack_messy_compressed(stack):
    """Unsorted indices, duplicates, explicit zeros and empty rows survive the
    CSR/CSC fast paths exactly as in SciPy."""
    data = np.array([3.0, 0.0, 1.0, 2.0, 5.0, 4.0])
    indices = np.array([2, 0, 2, 1, 0, 1])
    indptr = np.array([0, 3, 3, 5, 6])

    @per_lib
    def blocks(lib):
        out = []
        for fmt in ("csr", "csc"):
            for idt in (np.int32, np.int32):
                shape = (4, 3) if fmt == "csr" else (3, 4)
                out.append(getattr(lib, f"{fmt}_array")(
                    (data.copy(), indices.astype(idt), indptr.astype(idt)), shape=shape))
        return out
    if stack == "hstack":
        run_both(lambda sp, B: sp.hstack([B[0], B[1], B[0]]), blocks)
        run_both(lambda sp, B: sp.hstack([B[2].T, B[3].T]), blocks)
        run_both(lambda sp, B: sp.vstack([B[2], B[3]]), blocks)
    else:
        run_both(lambda sp, B: sp.vstack([B[0], B[1], B[0]]), blocks)
        run_both(lambda sp, B: sp.hstack([B[2], B[3], B[2]]), blocks)


def test_stack_int64_indices():
    """A block with int64 index arrays makes the stacked indices int64 (SciPy's
    get_index_dtype over the blocks' indptr)."""
    from mlx_sparse._storage import CSR
    a = msp.csr_array(np.array([[1.0, 0.0], [2.0, 3.0]]))
    s = a._s
    wide = msp.csr_array._from_storage(s.with_(indptr=s.indptr.astype(mx.int64),
                                               indices=s.indices.astype(mx.int64)))
    for f in (msp.vstack, msp.hstack):
        out = f([a, wide])
        assert out.indices.dtype == mx.int64 and out.indptr.dtype == mx.int64
        ref = f([ssp.csr_array(host(a.toarray()))] * 2)
        assert np.array_equal(host(out.toarray()), ref.toarray())
    assert isinstance(s, CSR)


def test_stack_dense_and_errors():
    A = per_lib(lambda lib: lib.csr_matrix(np.array([[1, 0], [2, 3]])))
    Aa = per_lib(lambda lib: lib.csr_array(np.array([[1, 0], [2, 3]])))
    D = np.array([[1, 2], [3, 4]])
    run_both(lambda sp, A: sp.hstack([A, D]), A)
    run_both(lambda sp, A: sp.hstack([A, D]), Aa)
    run_both(lambda sp, A: sp.vstack([A, None]), A)
    run_both(lambda sp, A: sp.hstack([A, None]), A)
    raises_like_scipy(lambda sp: sp.hstack([D, D]))
    raises_like_scipy(lambda sp: sp.hstack([]))
    raises_like_scipy(lambda sp, A: sp.hstack([A, sp.csr_matrix((3, 2))]), A)
    raises_like_scipy(lambda sp, A: sp.vstack([A, sp.csr_matrix((2, 3))]), A)
    raises_like_scipy(lambda sp, A: sp.hstack([A, sp.coo_matrix((3, 2))]), A)
    raises_like_scipy(lambda sp, A: sp.vstack([sp.csc_matrix(A), sp.csc_matrix((2, 3))]), A)


def test_block_diag():
    rng = seeded("block_diag")
    a = random_dense(rng, (2, 3), "float64", 0.5)
    b = random_dense(rng, (3, 1), "int32", 0.6)

    @per_lib
    def mats(lib):
        return [lib.csr_matrix(a), lib.csc_matrix(b), lib.coo_matrix((0, 2)),
                np.array([[1, 0], [0, 2]]), [[1, 0, 3]], 4, lib.dia_matrix(np.eye(2))]

    @per_lib
    def mats_a(lib):
        return [lib.csr_matrix(a), lib.csc_array(b), [[0, 5]]]

    for fmt in (None, "csr", "csc", "coo", "dia"):
        run_both(lambda sp, M: sp.block_diag(M, format=fmt), mats)
        run_both(lambda sp, M: sp.block_diag(M, format=fmt), mats_a)
    run_both(lambda sp, M: sp.block_diag(M, dtype=np.float32), mats)
    run_both(lambda sp: sp.block_diag([np.ones((2, 2), np.int8), np.eye(1)]))
    raises_like_scipy(lambda sp: sp.block_diag([]))


# ---- random ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["coo", "csr", "csc", "dia", "bsr", "dok", "lil"])
@pytest.mark.parametrize("dtype", [None, "float32", "int8", "uint8", "int64", "bool",
                                   "complex64"])
def test_random_structure(dtype, fmt):
    for shape, density in (((7, 9), 0.3), ((1, 10), 0.55), ((10, 1), 1.0), ((0, 4), 0.5),
                           ((20, 30), 0.01)):
        ours = msp.random_array(shape, density=density, format=fmt, dtype=dtype, rng=3)
        theirs = ssp.random_array(shape, density=density, format=fmt, dtype=dtype, rng=3)
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        assert ours.nnz == theirs.nnz == int(round(density * shape[0] * shape[1])) or \
            fmt in ("dia", "bsr")
        coo = ours.tocoo()
        coo.sum_duplicates()
        assert coo.nnz == int(round(density * shape[0] * shape[1]))  # no duplicates
        vals = host(coo.data)
        if dtype in (None, "float32"):
            assert np.all((vals >= 0) & (vals < 1))


def test_random_matrix_api_and_rng():
    for f in ("random", "rand"):
        ours = getattr(msp, f)(5, 8, 0.25, format="csr", rng=7)
        theirs = getattr(ssp, f)(5, 8, 0.25, format="csr", rng=7)
        assert type(ours).__name__ == type(theirs).__name__ == "csr_matrix"
        assert ours.nnz == theirs.nnz == 10
    # reproducible for equal seeds / generators; RandomState and random_state work
    a = msp.random(6, 6, 0.5, rng=np.random.default_rng(1))
    b = msp.random(6, 6, 0.5, rng=np.random.default_rng(1))
    assert np.array_equal(host(a.toarray()), host(b.toarray()))
    c = msp.random(6, 6, 0.5, random_state=np.random.RandomState(2))
    assert c.nnz == 18
    d = msp.random(6.0, 6, 0.5, rng=4)
    assert d.shape == (6, 6)
    # samplers
    s = msp.random(3, 4, 0.5, data_rvs=lambda n: np.arange(n) + 1.0, rng=0)
    assert sorted(host(s.data).tolist()) == [1, 2, 3, 4, 5, 6]
    s = msp.random_array((3, 4), density=0.5, rng=0,
                         data_sampler=lambda size: np.full(size, 7, np.int32))
    assert s.dtype == np.float64 and set(host(s.data).tolist()) == {7.0}
    s = msp.random_array((3, 4), density=0.5, rng=0, dtype=np.int32,
                         data_sampler=lambda size: np.full(size, 7.0))
    assert s.dtype == np.int32


def test_random_errors():
    for bad in (1.5, -0.1):
        raises_like_scipy(lambda sp: sp.random(3, 4, density=bad))
        raises_like_scipy(lambda sp: sp.random_array((3, 4), density=bad))
    with pytest.raises(ValueError, match="2-D"):
        msp.random_array((3,))
    with pytest.raises(ValueError, match="2-D"):
        msp.random_array((3, 4, 5))


# ---- find / tril / triu -----------------------------------------------------------------------
@per_lib
def _messy_coo(lib):
    return lib.coo_array((np.array([1.0, 2.0, 0.0, -1.0, 4.0, 5.0, -4.0]),
                          (np.array([0, 0, 1, 0, 2, 3, 2], np.int32),
                           np.array([0, 1, 1, 1, 0, 3, 0], np.int32))), shape=(4, 5))


@pytest.mark.parametrize("fmt", [None, "csr", "csc", "coo"])
@pytest.mark.parametrize("k", [-2, -1, 0, 1, 2, 1.5, -0.5])
@pytest.mark.parametrize("src", ["csr-matrix", "csc-array", "coo-messy", "dense",
                                 "dia-array"])
def test_tril_triu(src, k, fmt):
    rng = seeded("tri", src)
    d = random_dense(rng, (5, 4), "int32", 0.6)
    if src == "coo-messy":
        A = _messy_coo
    elif src == "dense":
        A = d
    else:
        f, kind = src.split("-")
        A = sparse_input(d, f, kind)
    run_both(lambda sp, A: sp.tril(A, k, format=fmt), A)
    run_both(lambda sp, A: sp.triu(A, k=k, format=fmt), A)


@pytest.mark.parametrize("src", ["csr", "csc", "coo", "dia", "bsr", "dense", "messy",
                                 "empty"])
def test_find(src):
    rng = seeded("find", src)
    d = random_dense(rng, (4, 6), "float32", 0.5)
    if src == "dense":
        A = d
    elif src == "messy":
        A = _messy_coo
    elif src == "empty":
        A = per_lib(lambda lib: lib.csr_matrix((3, 2)))
    else:
        A = sparse_input(d, src, "array")
    run_both(lambda sp, A: sp.find(A), A)


# ---- axis helpers, safely_cast_index_arrays ---------------------------------------------------------
def test_axis_helpers():
    A = sparse_input(np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]]), "csr", "array")
    M = sparse_input(np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]]), "csc", "matrix")
    for X in (A, M):
        run_both(lambda sp, X: sp.swapaxes(X, 0, 1), X, order="any")
        run_both(lambda sp, X: sp.swapaxes(X, -1, 0), X, order="any")
        run_both(lambda sp, X: sp.swapaxes(X, 1, 1), X)
        run_both(lambda sp, X: sp.permute_dims(X), X, order="any")
        run_both(lambda sp, X: sp.permute_dims(X, (0, 1)), X)
        run_both(lambda sp, X: sp.permute_dims(X, (1, 0), copy=True), X, order="any")
        raises_like_scipy(lambda sp, X: sp.swapaxes(X, 0, 2), X)
        raises_like_scipy(lambda sp, X: sp.permute_dims(X, (0, 0)), X)
        raises_like_scipy(lambda sp, X: sp.permute_dims(X, (0,)), X)
        raises_like_scipy(lambda sp, X: sp.expand_dims(X, axis=5), X)
    # expand_dims would give 3-D: mlx_sparse is 2-D only
    with pytest.raises(ValueError, match="2-D"):
        msp.expand_dims(msp.csr_array(np.eye(2)), axis=0)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "dia", "bsr"])
@pytest.mark.parametrize("idx", [np.int16, np.int32, np.int64])
def test_safely_cast_index_arrays(fmt, idx):
    d = np.eye(4) + np.eye(4, k=1)
    run_both(lambda sp, A: sp.safely_cast_index_arrays(A, idx), sparse_input(d, fmt, "array"))
    run_both(lambda sp, A: sp.safely_cast_index_arrays(A, idx, "msg"),
             sparse_input(d, fmt, "matrix"))


def test_safely_cast_index_arrays_errors():
    @per_lib
    def wide(lib):
        return lib.csr_array((np.ones(1), np.array([40000]), np.array([0, 1])),
                             shape=(1, 50000))
    raises_like_scipy(lambda sp, A: sp.safely_cast_index_arrays(A, np.int16, "hi"), wide,
                      match="indices values too large for hi")
    raises_like_scipy(lambda sp, A: sp.safely_cast_index_arrays(A.tocoo(), np.int16), wide,
                      match="coords values too large")
    raises_like_scipy(lambda sp: sp.safely_cast_index_arrays(sp.dok_array(np.eye(2))))
    A = msp.csr_array(np.eye(3))
    ind, ptr = msp.safely_cast_index_arrays(A, np.int32)
    assert ind is A.indices and ptr is A.indptr
