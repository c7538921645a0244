"""Oracle tests: the DIA, BSR, DOK and LIL classes against SciPy's (construction,
attributes, conversions to and from every format, item access and assignment for
the host-side builders, structural methods, errors)."""
import os
import sys
import zlib

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

sys.path.insert(0, os.path.dirname(__file__))

import mlx_sparse.sparse as msp  # noqa: E402
from _formats_oracle import (assert_same, host, per_lib, raises_like_scipy,  # noqa: E402
                             random_dense, run_both)

ALL_FORMATS = ("coo", "csr", "csc", "dia", "bsr", "dok", "lil")
NEW_FORMATS = ("dia", "bsr", "dok", "lil")
VALUE_DTYPES = ("bool", "int8", "int32", "int64", "uint8", "float32", "float64",
                "complex64")
SHAPES = ((0, 0), (1, 6), (6, 1), (4, 4), (6, 4), (4, 6), (6, 9))


def seeded(*key):
    """A generator seeded from the test's parameters (stable across processes)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def build(fmt, kind, arg, **kw):
    @per_lib
    def b(lib):
        a = tuple(x.copy() if isinstance(x, np.ndarray) else x for x in arg) \
            if isinstance(arg, tuple) else (arg.copy() if isinstance(arg, np.ndarray)
                                            else arg)
        return getattr(lib, f"{fmt}_{kind}")(a, **kw)
    return b


@per_lib
def messy_coo(lib):
    """Duplicates (one summing to zero), an explicit zero, unsorted, empty row."""
    return lib.coo_array((np.array([1.0, 2.0, 0.0, -1.0, 4.0, 5.0, -4.0, 3.0]),
                          (np.array([0, 0, 1, 0, 2, 5, 2, 4], np.int32),
                           np.array([0, 3, 1, 3, 0, 5, 0, 2], np.int32))), shape=(6, 6))


# ---- conversions between every pair of formats ---------------------------------------------
# every (source, target) pair with a DIA/BSR/DOK/LIL end (coo/csr/csc among
# themselves are the foundation's tests)
PAIRS = [(a, b) for a in ALL_FORMATS for b in ALL_FORMATS
         if a in NEW_FORMATS or b in NEW_FORMATS]


@pytest.mark.parametrize("src,dst", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
@pytest.mark.parametrize("kind", ["array", "matrix"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_convert(shape, kind, src, dst):
    rng = seeded("convert", shape, kind, src, dst)
    d = random_dense(rng, shape, "float64", 0.4)
    A = build(src, kind, d)
    run_both(lambda sp, A: A.asformat(dst), A)
    run_both(lambda sp, A: getattr(A, f"to{dst}")(), A)


@pytest.mark.parametrize("dst", ALL_FORMATS)
@pytest.mark.parametrize("src", NEW_FORMATS)
@pytest.mark.parametrize("dtype", VALUE_DTYPES)
def test_convert_dtypes(dtype, src, dst):
    rng = seeded("convert-dt", dtype, src, dst)
    d = random_dense(rng, (6, 4), dtype, 0.5)
    run_both(lambda sp, A: A.asformat(dst), build(src, "array", d))
    run_both(lambda sp, A: getattr(sp, f"{dst}_matrix")(A), build(src, "matrix", d))


@pytest.mark.parametrize("dst", ALL_FORMATS)
def test_convert_messy(dst):
    """Duplicates are summed (and explicit zeros kept) where SciPy does."""
    run_both(lambda sp, A: A.asformat(dst), messy_coo)
    run_both(lambda sp, A: getattr(sp, f"{dst}_array")(A), messy_coo)


@pytest.mark.parametrize("fmt", NEW_FORMATS)
def test_from_scipy_objects(fmt):
    """Our constructors accept SciPy sparse objects of any format."""
    d = random_dense(seeded("from-scipy", fmt), (4, 6), "float32", 0.5)
    for src in ALL_FORMATS:
        S = getattr(ssp, f"{src}_array")(d)
        ours = getattr(msp, f"{fmt}_array")(S)
        theirs = getattr(ssp, f"{fmt}_array")(S)
        assert_same(ours, theirs)


# ---- DIA ----------------------------------------------------------------------------------------
DIA_TUPLES = [
    (np.array([[1, 2, 3, 4]]), [0], (4, 4)),
    (np.array([[1, 2, 3, 4], [5, 6, 7, 8]]), [1, -2], (3, 5)),
    (np.array([[1, 2], [3, 4]]), [1, -2], (3, 5)),               # data narrower than n
    (np.array([[1, 2, 3, 4, 5, 6, 7]]), [2], (3, 3)),             # data wider than n
    (np.array([[1, 2, 3], [4, 5, 6]]), [0, 5], (3, 3)),          # offset out of range
    (np.array([1, 2, 3]), [0], (3, 3)),                          # 1-D data
    (np.array([[0, 1, 0, 2]]), [-1], (4, 4)),                    # stored zeros
    (np.array([[1.5, 2.5], [3.5, 4.5], [0.0, 1.0]]), [-1, 0, 1], (2, 2)),
]


@pytest.mark.parametrize("kind", ["array", "matrix"])
@pytest.mark.parametrize("case", range(len(DIA_TUPLES)))
def test_dia_from_tuple(case, kind):
    data, offsets, shape = DIA_TUPLES[case]
    A = build("dia", kind, (data, np.array(offsets)), shape=shape)
    run_both(lambda sp, A: A, A)
    run_both(lambda sp, A: (A.nnz, A.count_nonzero(), repr(A), str(A)), A)
    for fmt in ALL_FORMATS:
        run_both(lambda sp, A: A.asformat(fmt), A)
    run_both(lambda sp, A: A.T, A)
    run_both(lambda sp, A: A.transpose().T, A)
    for k in range(-shape[0] - 1, shape[1] + 2):
        run_both(lambda sp, A: A.diagonal(k), A)
    run_both(lambda sp, A: A.toarray(), A)
    run_both(lambda sp, A: sp.dia_array(A, dtype=np.float32), A)
    run_both(lambda sp, A: A.copy(), A)


@pytest.mark.parametrize("dtype", VALUE_DTYPES)
def test_dia_dtypes(dtype):
    rng = seeded("dia-dt", dtype)
    d = random_dense(rng, (5, 7), dtype, 0.4)
    run_both(lambda sp, A: A, build("dia", "array", d))
    run_both(lambda sp, A: A.T, build("dia", "array", d))
    run_both(lambda sp, A: A, build("dia", "matrix", d, dtype=np.float32))
    run_both(lambda sp: sp.dia_array((3, 4), dtype=dtype))


def test_dia_setdiag_resize():
    base = (np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]), np.array([0, -1]))
    for k, vals in ((0, 9.0), (1, [1.0, 2.0, 3.0]), (-1, [4.0]), (2, [7.0, 8.0, 9.0]),
                    (-3, 5.0)):
        @per_lib
        def A(lib):
            return lib.dia_array((base[0].copy(), base[1].copy()), shape=(4, 5))

        def f(sp, A, k=k, vals=vals):
            A.setdiag(vals, k)
            return A
        run_both(f, A, order="dense")
        run_both(lambda sp, A, k=k, vals=vals: f(sp, A, k, vals).toarray(), A)
    for shape in ((2, 5), (6, 5), (4, 3), (6, 7)):
        @per_lib
        def B(lib):
            return lib.dia_array((base[0].copy(), base[1].copy()), shape=(4, 5))

        def g(sp, B, shape=shape):
            B.resize(shape)
            return B
        run_both(g, B)


def test_dia_errors():
    raises_like_scipy(lambda sp: sp.dia_array(([[1, 2, 3]], [0])))
    raises_like_scipy(lambda sp: sp.dia_array(([[1, 2, 3]], [[0]]), shape=(3, 3)))
    raises_like_scipy(lambda sp: sp.dia_array(([[[1, 2, 3]]], [0]), shape=(3, 3)))
    raises_like_scipy(lambda sp: sp.dia_array(([[1, 2, 3]], [0, 1]), shape=(3, 3)))
    raises_like_scipy(lambda sp: sp.dia_array(([[1, 2, 3], [4, 5, 6]], [0, 0]),
                                              shape=(3, 3)), match="duplicate")
    raises_like_scipy(lambda sp: sp.dia_array([1, 2]))
    raises_like_scipy(lambda sp: sp.dia_array((3, -1)))
    raises_like_scipy(lambda sp: sp.dia_array(np.eye(3)).count_nonzero(axis=0))
    raises_like_scipy(lambda sp: sp.dia_array(np.eye(3)).T.transpose(axes=(0, 1)))
    with pytest.raises(TypeError, match="complex128"):
        msp.dia_array(([[1j, 2]], [0]), shape=(2, 2))


def test_dia_compute_goes_through_csr():
    d = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0], [4.0, 0.0, 5.0]])
    A = msp.dia_array(d)
    x = np.array([1.0, 2.0, 3.0])
    assert np.allclose(host(A @ x), d @ x)
    assert np.allclose(host(A.sum(axis=0)), d.sum(axis=0))


# ---- BSR --------------------------------------------------------------------------------------------
BSR_DENSE = np.array([[1, 0, 2, 0, 0, 0], [0, 0, 3, 0, 0, 0], [0, 0, 0, 0, 0, 0],
                      [4, 5, 0, 6, 0, 7], [0, 0, 0, 0, 8, 0], [0, 0, 9, 0, 0, 0]])


@pytest.mark.parametrize("kind", ["array", "matrix"])
@pytest.mark.parametrize("blocksize", [None, (1, 1), (2, 2), (3, 3), (2, 3), (3, 2),
                                       (6, 6), (1, 6), (3, 1)])
def test_bsr_from_dense_and_csr(blocksize, kind):
    for src in (BSR_DENSE, BSR_DENSE.astype(np.float32)):
        A = build("bsr", kind, src, blocksize=blocksize)
        run_both(lambda sp, A: A, A)
        run_both(lambda sp, A: (A.blocksize, A.nnz, repr(A), A.has_sorted_indices,
                                A.has_canonical_format), A)
        for fmt in ALL_FORMATS:
            run_both(lambda sp, A: A.asformat(fmt), A)
        run_both(lambda sp, A: A.T, A)
        run_both(lambda sp, A: A.tobsr((1, 1)), A)
        run_both(lambda sp, A: A.tobsr((2, 2)), A)
        C = build("csr", kind, src)
        run_both(lambda sp, C: sp.bsr_array(C, blocksize=blocksize), C)
        run_both(lambda sp, C: C.tobsr(blocksize), C)
        run_both(lambda sp, C: C.tocsc().tobsr(blocksize), C)


def test_bsr_first_appearance_order_and_estimate():
    d = np.array([[0, 0, 1, 0], [1, 0, 0, 0]])
    for src in ("csr", "coo", "csc", "dia"):
        run_both(lambda sp, C: C.tobsr((2, 2)), build(src, "array", d))
        run_both(lambda sp, C: C.tobsr((1, 2)), build(src, "array", d))
    for n, b in ((10, 3), (10, 2), (12, 6), (8, 4), (9, 1)):
        dense = np.kron(np.eye(n), np.ones((b, b)))
        run_both(lambda sp, C: C.tobsr(), build("csr", "array", dense))
        dense[0, 1] = 0.0
        run_both(lambda sp, C: sp.bsr_matrix(C), build("csr", "matrix", dense))


BSR_BUFFERS = [
    (np.arange(8.0).reshape(2, 2, 2), np.array([0, 1]), np.array([0, 1, 2]), None),
    (np.arange(8.0).reshape(2, 2, 2), np.array([0, 1]), np.array([0, 1, 2]), (4, 6)),
    (np.arange(12.0).reshape(3, 2, 2), np.array([1, 0, 1]), np.array([0, 3, 3]), (4, 4)),
    (np.arange(12).reshape(2, 2, 3), np.array([1, 1]), np.array([0, 0, 2]), (4, 6)),
    (np.zeros((0, 2, 2)), np.zeros(0, np.int32), np.zeros(3, np.int32), (4, 4)),
]


@pytest.mark.parametrize("case", range(len(BSR_BUFFERS)))
def test_bsr_from_buffers(case):
    data, indices, indptr, shape = BSR_BUFFERS[case]
    A = build("bsr", "array", (data, indices, indptr), shape=shape)
    run_both(lambda sp, A: A, A)
    run_both(lambda sp, A: (A.has_sorted_indices, A.has_canonical_format), A)
    for fmt in ALL_FORMATS:
        run_both(lambda sp, A: A.asformat(fmt), A)
    run_both(lambda sp, A: A.T, A)

    def sort(sp, A):
        A.sort_indices()
        return A
    run_both(sort, A)

    def dedup(sp, A):
        A.sum_duplicates()
        return A
    run_both(dedup, A)

    def nozeros(sp, A):
        A.eliminate_zeros()
        return A
    run_both(nozeros, A)


def test_bsr_other_constructors():
    run_both(lambda sp: sp.bsr_array((4, 6)))
    run_both(lambda sp: sp.bsr_array((4, 6), blocksize=(2, 3), dtype=np.int8))
    run_both(lambda sp: sp.bsr_matrix((np.ones(2), ([0, 1], [0, 1]))))
    run_both(lambda sp: sp.bsr_matrix((np.ones(3), ([0, 1, 1], [0, 1, 1])), shape=(4, 4),
                                      blocksize=(2, 2)))
    run_both(lambda sp: sp.bsr_matrix(np.ones(3)))
    run_both(lambda sp: sp.bsr_array(np.eye(4), blocksize=(2, 2), dtype=np.float32))


def test_bsr_errors():
    raises_like_scipy(lambda sp: sp.bsr_array(np.ones((3, 3)), blocksize=(2, 2)))
    raises_like_scipy(lambda sp: sp.bsr_array(np.ones((3, 3)), blocksize=(0, 2)))
    raises_like_scipy(lambda sp: sp.bsr_array((3, 3), blocksize=(2, 2)))
    raises_like_scipy(lambda sp: sp.bsr_array((4, 4), blocksize=(2, 2, 1)))
    raises_like_scipy(lambda sp: sp.bsr_array(np.ones(3)))
    raises_like_scipy(lambda sp: sp.bsr_array(np.ones((2, 2, 2))))
    raises_like_scipy(lambda sp: sp.bsr_array((1, 2, 3, 4)))
    raises_like_scipy(lambda sp: sp.bsr_array((np.ones((2, 2)), [0, 1], [0, 1, 2]),
                                              shape=(4, 4)))
    raises_like_scipy(lambda sp: sp.bsr_array((np.ones((2, 2, 2)), [0, 1], [0, 1, 2]),
                                              shape=(4, 4), blocksize=(1, 1)))
    raises_like_scipy(lambda sp: sp.bsr_array((np.ones((2, 2, 2)), [0, 1], [0, 1, 3]),
                                              shape=(4, 4)))
    raises_like_scipy(lambda sp: sp.bsr_array((np.ones((2, 2, 2)), [0, 1], [0, 1, 2, 2]),
                                              shape=(4, 4)))
    for bad in ([5], [-1]):
        raises_like_scipy(lambda sp: sp.bsr_array((np.ones((1, 2, 2)), bad, [0, 1]),
                                                  shape=(2, 2)).check_format(True))


# ---- DOK --------------------------------------------------------------------------------------------------
def _assignments(sp, A):
    A[0, 1] = 2
    A[2, 0] = 3.5
    A[0, 3] = 0                   # zero: nothing stored
    A[1, :] = [0, 5, 0, 6]
    A[-1, -1] = 7
    A[0, 1] = 0                   # zero: entry removed
    A[[0, 2], [2, 2]] = 9
    A[1:3, 1:3] = np.array([[1, 0], [0, 4]])
    A[:, 0] = 8
    A[[0, 1], 1:3] = [[1, 2], [0, 3]]
    return A


@pytest.mark.parametrize("fmt", ["dok", "lil"])
@pytest.mark.parametrize("kind", ["array", "matrix"])
@pytest.mark.parametrize("dtype", ["float64", "int8", "bool", "complex64", "float32"])
def test_builders_item_assignment(fmt, kind, dtype):
    A = per_lib(lambda lib: getattr(lib, f"{fmt}_{kind}")((3, 4), dtype=dtype))
    run_both(_assignments, A)
    # SciPy's dok.tocsr keeps insertion order within rows (its tocoo claims a
    # canonical format it does not have); ours sorts: same entries.
    run_both(lambda sp, A: _assignments(sp, A).tocsr(), A,
             order="exact" if fmt == "lil" else "any")
    run_both(lambda sp, A: _assignments(sp, A).tocoo(), A)
    run_both(lambda sp, A: _assignments(sp, A).todia(), A)
    run_both(lambda sp, A: _assignments(sp, A).T, A)
    run_both(lambda sp, A: _assignments(sp, A).copy(), A)
    run_both(lambda sp, A: _assignments(sp, A).astype(np.float32), A)
    run_both(lambda sp, A: (_assignments(sp, A).nnz, repr(_assignments(sp, A))), A)


@pytest.mark.parametrize("fmt", ["dok", "lil"])
@pytest.mark.parametrize("kind", ["array", "matrix"])
def test_builders_item_access(fmt, kind):
    d = random_dense(seeded("access", fmt, kind), (5, 6), "float64", 0.4)
    A = build(fmt, kind, d)
    for i, j in ((0, 0), (1, 2), (-1, -2), (4, 5), (np.int64(2), np.int32(3))):
        ours = getattr(msp, f"{fmt}_{kind}")(d)[i, j]
        theirs = getattr(ssp, f"{fmt}_{kind}")(d)[i, j]
        assert type(ours) is type(theirs) and ours == theirs
    for key in ((slice(0, 2), slice(1, 4)), (slice(None), [0, 2]), ([1, 3], slice(None)),
                (slice(None, None, 2), slice(None, None, -1)), ([[0], [2]], [1, 3])):
        # SciPy's DOK keeps the key's iteration order; ours goes through CSR
        run_both(lambda sp, A: A[key], A, order="any" if fmt == "dok" else "exact")
    if kind == "matrix":
        run_both(lambda sp, A: A[1, :], A)
        run_both(lambda sp, A: A[:, 2], A)
        run_both(lambda sp, A: A[[0, 1], [2, 3]], A, order="any")
    else:
        with pytest.raises(NotImplementedError, match="2-D"):
            getattr(msp, f"{fmt}_array")(d)[1, :]
    raises_like_scipy(lambda sp, A: A[5, 0], A)
    raises_like_scipy(lambda sp, A: A[0, -7], A)

    def bad_set(sp, A):
        A[0, 9] = 1
    raises_like_scipy(bad_set, A)

    def bad_value(sp, A):
        A[0, 0] = "a"
    raises_like_scipy(bad_value, A)


def test_dok_dict_api():
    for lib in (msp, ssp):
        D = lib.dok_array((2, 3))
        D[1, 2] = 1
        assert isinstance(D, dict)
        assert D.get((1, 2)) == 1.0 and D.get((0, 0)) == 0.0 and D.get((0, 0), 7) == 7
        with pytest.raises(IndexError):
            D.get((5, 0))
        assert len(D) == 1 and (1, 2) in D and (0, 0) not in D
        D.update({(0, 1): 5})
        with pytest.raises(IndexError):
            D.update({(9, 9): 5})
        assert sorted(D.keys()) == [(0, 1), (1, 2)]
        assert sorted(float(v) for v in D.values()) == [1.0, 5.0]
        assert D.pop((0, 1)) == 5 and D.nnz == 1
        assert D.popitem() == ((1, 2), 1.0) and D.nnz == 0
        D[0, 0] = 3
        del D[0, 0]
        with pytest.raises(KeyError):
            del D[0, 1]
        D[1, 1] = 2
        D.clear()
        assert D.nnz == 0
        F = lib.dok_array.fromkeys([(0, 0), (2, 1)], 2.0)
        assert F.shape == (3, 2) and F.nnz == 2 and F.get((2, 1)) == 2.0
        with pytest.raises(TypeError):
            D | {(0, 0): 1}
        D[0, 0] = 1
        D.resize((1, 1))
        assert D.shape == (1, 1) and D.nnz == 1


def test_dok_insertion_order_and_values():
    def f(sp):
        D = sp.dok_array((3, 3), dtype=np.int8)
        D[2, 1] = 3.7                   # cast to int8
        D[0, 0] = 2
        D[1, 2] = -1
        return D
    run_both(f)
    run_both(lambda sp: f(sp).tocoo())  # insertion order, not sorted
    run_both(lambda sp: f(sp).tocsr(), order="any")


def test_lil_rows_and_views():
    d = random_dense(seeded("lil"), (4, 5), "float64", 0.5)
    for kind in ("array", "matrix"):
        A = build("lil", kind, d)
        # lil_matrix.getrow is spmatrix.getrow in SciPy: a CSR row whose index order
        # is an artifact of its implementation
        order = "exact" if kind == "array" else "any"
        run_both(lambda sp, A: A.getrow(1), A, order=order)
        run_both(lambda sp, A: A.getrow(-1), A, order=order)
        run_both(lambda sp, A: A.getrowview(2), A)

        def view_write(sp, A):
            v = A.getrowview(0)
            v[0, 4] = 11.0
            return A
        run_both(view_write, A)

        def resize(sp, A, shape):
            A.resize(shape)
            return A
        for shape in ((2, 5), (6, 5), (4, 2), (6, 7)):
            run_both(lambda sp, A: resize(sp, A, shape), A)
        raises_like_scipy(lambda sp, A: A.getrow(4), A)


def test_builders_constructors_and_errors():
    for fmt in ("dok", "lil"):
        run_both(lambda sp: getattr(sp, f"{fmt}_array")((2, 3), dtype=np.int8))
        if fmt == "lil":
            run_both(lambda sp: sp.lil_matrix([1, 0, 2]))
        else:
            raises_like_scipy(lambda sp: sp.dok_matrix([1, 0, 2]))
        run_both(lambda sp: getattr(sp, f"{fmt}_matrix")(sp.eye(3), dtype=np.float32))
        run_both(lambda sp, A: getattr(sp, f"{fmt}_array")(A), messy_coo)
        raises_like_scipy(lambda sp: getattr(sp, f"{fmt}_array")(([1], ([0], [0]))))
        raises_like_scipy(lambda sp: getattr(sp, f"{fmt}_array")(np.ones((2, 2, 2))))
        raises_like_scipy(lambda sp: getattr(sp, f"{fmt}_array")((2, -1)))
        with pytest.raises(ValueError):
            getattr(msp, f"{fmt}_array")([1, 2])     # 1-D: mlx_sparse is 2-D only
    raises_like_scipy(lambda sp: sp.dok_array(np.eye(2), shape=(3, 3)))


# ---- isspmatrix_* --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", NEW_FORMATS)
def test_isspmatrix(fmt):
    check = getattr(msp, f"isspmatrix_{fmt}")
    for lib in (msp, ssp):
        assert check(getattr(lib, f"{fmt}_matrix")(np.eye(2)))
        assert not check(getattr(lib, f"{fmt}_array")(np.eye(2)))
        assert not check(lib.csr_matrix(np.eye(2)))
    assert msp.issparse(getattr(msp, f"{fmt}_array")(np.eye(2)))
    assert isinstance(getattr(msp, f"{fmt}_array")(np.eye(2)), msp.sparray)
    assert isinstance(getattr(msp, f"{fmt}_matrix")(np.eye(2)), msp.spmatrix)


def test_bfloat16_values():
    """bfloat16 (no SciPy counterpart) survives every new format."""
    d = np.array([[1.0, 0.0, 2.5], [0.0, -3.0, 0.0]])
    A = msp.csr_array(mx.array(d, dtype=mx.bfloat16))
    for fmt in NEW_FORMATS:
        B = A.asformat(fmt)
        assert B.dtype == mx.bfloat16
        assert np.array_equal(host(B.toarray()), d)
        assert np.array_equal(host(B.tocsr().toarray()), d)
    D = msp.dok_array((2, 2), dtype=mx.bfloat16)
    D[0, 1] = 1.5
    assert D.tocsr().dtype == mx.bfloat16 and float(D[0, 1].item()) == 1.5


# ---- result formats of arithmetic on the new formats ---------------------------------------
ARITH = ["-A", "A * 2", "A / 2", "abs(A)", "A.power(2)", "A.conj()", "A.real",
         "A.astype(np.float32)", "A + A", "A - B", "A.multiply(B)", "A @ B", "A + C",
         "A.multiply(C)", "A @ C", "C + A", "A + D", "A.reshape((2, 18))", "A.reshape((6, 6))", "A.T",
         "A @ x", "A.sum(axis=0)", "A.copy()"]


# ('*' is matmul for matrices: the products suite covers that)
ARITH_CASES = [(f, k, e) for f in NEW_FORMATS for k in ("array", "matrix") for e in ARITH
               if not (k == "matrix" and "*" in e)]


@pytest.mark.parametrize("fmt,kind,expr", ARITH_CASES,
                         ids=[f"{f}-{k}-{e}" for f, k, e in ARITH_CASES])
def test_arithmetic_result_formats(fmt, kind, expr):
    """Same result class as SciPy (DIA op DIA stays DIA, BSR op BSR stays BSR,
    DOK + DOK stays DOK, abs/power/real of DOK/LIL give CSR, ...) and same values;
    DIA results also have SciPy's offsets and data layout."""
    rng = seeded("arith", fmt, kind, expr)
    a = random_dense(rng, (6, 6), "float64", 0.4)
    b = random_dense(rng, (6, 6), "float64", 0.4)
    x = np.arange(6.0)

    def f(sp, A, B, C, D):
        return eval(expr, {"A": A, "B": B, "C": C, "D": D, "x": x, "np": np})
    order = "exact" if fmt == "dia" and "@" not in expr else "dense"
    others = [f2 for f2 in NEW_FORMATS if f2 != fmt]
    run_both(f, build(fmt, kind, a), build(fmt, kind, b), build("csr", kind, b),
             build(others[len(expr) % len(others)], kind, b), order=order)


def test_no_indexing_on_dia_and_bsr():
    raises_like_scipy(lambda sp: sp.dia_array(np.eye(3))[0, 0])
    raises_like_scipy(lambda sp: sp.bsr_array(np.eye(4), blocksize=(2, 2))[0, 0])

    def set_dia(sp):
        A = sp.dia_array(np.eye(3))
        A[0, 0] = 1
    raises_like_scipy(set_dia)


def test_bsr_resize():
    for shape in ((6, 6), (2, 4), (5, 5)):
        def f(sp, shape=shape):
            A = sp.bsr_array(BSR_DENSE[:4, :4], blocksize=(2, 2))
            A.resize(shape)
            return A
        if shape == (5, 5):
            raises_like_scipy(f)
        else:
            run_both(f, order="dense")
