"""spsolve_triangular, is_sptriangular and spbandwidth against SciPy on fresh random
triangular matrices: every format SciPy takes (CSR/CSC, and with its warning COO, DIA,
DOK, LIL, BSR and dense), lower / upper, unit diagonal, duplicates, explicit zeros,
unsorted indices, empty rows, 0x0 and 1x1, value dtypes, 1-D / 2-D / list right-hand
sides; SciPy's errors (type and message) in SciPy's order. The solve is checked both
through the dispatch table's kernel and through the level-scheduled path."""
import os
import warnings

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp
import scipy.sparse.linalg as sla
from numpy.linalg import LinAlgError

import mlx_sparse.sparse as msp
import mlx_sparse.sparse.linalg as mla
from mlx_sparse import _ops

SEED = int(os.environ.get("MLX_SPARSE_TEST_SEED") or int.from_bytes(os.urandom(4), "little"))
TOL = {np.float32: 2e-4, np.complex64: 2e-4, np.float64: 1e-10}


def triangular(rng, n, lower, dtype, mess=False):
    """A well-conditioned triangular CSR matrix (SciPy) with empty off-diagonal rows;
    mess: an explicit zero on the other side of the diagonal, a diagonal entry split in
    two duplicates, every row's entries reversed (unsorted)."""
    A = ssp.random_array((n, n), density=min(1.0, 3.0 / max(n, 1)), rng=rng, format="coo")
    A = ssp.tril(A, -1) if lower else ssp.triu(A, 1)
    keep = rng.random(A.nnz) < 0.8  # some rows lose their entries
    r, c = A.row[keep].astype(np.int64), A.col[keep].astype(np.int64)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        v = rng.integers(-3, 4, r.size).astype(dtype)
    else:
        v = rng.standard_normal(r.size)
        if dtype.kind == "c":
            v = v + 1j * rng.standard_normal(r.size)
        v = v.astype(dtype)
    row_abs = np.bincount(r, weights=np.abs(v), minlength=n)
    diag = ((1 + row_abs) * rng.choice([-1, 1], n)).astype(dtype)
    r, c, v = np.concatenate([r, np.arange(n)]), np.concatenate([c, np.arange(n)]), np.concatenate([v, diag])
    if mess and n > 1:
        i = int(rng.integers(1, n))
        other = (i - 1, i) if lower else (i, i - 1)
        one = dtype.type(1)
        r = np.concatenate([r, [other[0], i]])
        c = np.concatenate([c, [other[1], i]])
        v = np.concatenate([v, [dtype.type(0), one]])
        v[r.size - 2 - n + i] -= one  # (the diagonal entry of row i, now split in two)
    order = np.lexsort((-c if mess else c, r))
    r, c, v = r[order], c[order], v[order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=n))])
    return ssp.csr_array((v, c, indptr), shape=(n, n))


def convert(S, fmt):
    if fmt == "dense":
        return S.toarray()
    return S.asformat(fmt)


def ours(A):
    if isinstance(A, np.ndarray):
        return A
    cls = getattr(msp, f"{A.format}_{'matrix' if isinstance(A, ssp.spmatrix) else 'array'}")
    return cls(A)


def run(fn, *args, **kw):
    """(result, exception, warning categories) of fn(*args, **kw); not counted: the
    device policy's once-per-process note that float64 computes on the CPU (a GPU run)."""
    def kinds(w):
        return sorted({x.category.__name__ for x in w
                       if not str(x.message).startswith("mlx_sparse: float64")})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            return fn(*args, **kw), None, kinds(w)
        except Exception as e:  # noqa: BLE001
            return None, e, kinds(w)


def check_solve(A_sp, b, **kw):
    """ours against SciPy: same error type and message, or the same x (dtype, shape,
    values to the dtype's tolerance) and the same warnings."""
    s, se, sw = run(sla.spsolve_triangular, A_sp, b, **kw)
    mine = mx.array(b) if isinstance(b, np.ndarray) and b.dtype == np.float32 else b
    o, oe, ow = run(mla.spsolve_triangular, ours(A_sp), mine, **kw)
    if se is not None:
        assert oe is not None and type(oe) is type(se) and str(oe) == str(se), (se, oe)
        return None
    if s.dtype == np.complex128:  # MLX has no complex128: a TypeError naming it
        assert isinstance(oe, TypeError) and "complex128" in str(oe), oe
        return None
    assert oe is None, oe
    assert isinstance(o, mx.array)
    got = np.asarray(o)
    assert got.dtype == s.dtype and got.shape == s.shape, (got.dtype, s.dtype, got.shape, s.shape)
    # (SciPy scales A by its inverse diagonal in A's own dtype: a float32 A's solution
    # carries float32 roundings whatever the result dtype)
    a_dt = np.dtype(A_sp.dtype)
    tol = max(TOL.get(s.dtype.type, 1e-10), TOL.get(a_dt.type, 1e-10))
    scale = max(np.abs(s).max(initial=0), 1.0)
    np.testing.assert_allclose(got, s, rtol=tol, atol=tol * scale, err_msg=f"seed {SEED}")
    assert ow == sw, (ow, sw)
    return got


@pytest.fixture(params=["kernel", "levels"])
def path(request, monkeypatch):
    """The dispatch table's kernel (C++ substitution on the CPU, the sync-free kernel on
    CUDA), or the level-scheduled solve (Metal's, and the CPU's without the extension)."""
    if request.param == "levels":
        for dev in ("cpu", "gpu"):
            monkeypatch.setitem(_ops.DISPATCH["triangular_solve"], dev, _ops.NOT_AVAILABLE)
    elif _ops.DISPATCH["triangular_solve"]["cpu"][1] is None:
        pytest.skip("the native extension is not built")
    return request.param


@pytest.mark.parametrize("n", [0, 1, 2, 9, 60, 400])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "dense"])
def test_solve_formats_and_sizes(n, lower, fmt, path):
    rng = np.random.default_rng([SEED, n, lower, len(fmt)])
    S = triangular(rng, n, lower, np.float64, mess=(fmt == "csr"))
    for b in (rng.standard_normal(n), rng.standard_normal((n, 3))):
        check_solve(convert(S, fmt), b, lower=lower)


@pytest.mark.parametrize("a_dt", [np.float32, np.float64, np.complex64, np.int64, np.int8])
@pytest.mark.parametrize("b_dt", [np.float32, np.float64, np.int32])
def test_solve_dtypes(a_dt, b_dt, path):
    rng = np.random.default_rng([SEED, np.dtype(a_dt).num, np.dtype(b_dt).num])
    S = triangular(rng, 30, True, a_dt)
    b = (rng.standard_normal((30, 2)) * 3).astype(b_dt)
    check_solve(S, b)
    check_solve(ssp.csr_matrix(S), b[:, 0].tolist())  # a _matrix, a list


@pytest.mark.parametrize("lower", [True, False])
def test_unit_diagonal_and_matrix_classes(lower, path):
    rng = np.random.default_rng([SEED, 7, lower])
    S = triangular(rng, 50, lower, np.float64)
    S.setdiag(0.0)  # ignored: taken as 1
    b = rng.standard_normal(50)
    check_solve(S, b, lower=lower, unit_diagonal=True)
    check_solve(ssp.csc_matrix(S), b, lower=lower, unit_diagonal=True, overwrite_A=True,
                overwrite_b=True)


def test_solve_leaves_inputs_unchanged(path):
    rng = np.random.default_rng([SEED, 8])
    S = triangular(rng, 40, True, np.float64, mess=True)
    A = ours(S)
    before = [np.array(a) for a in (A.indptr, A.indices, A.data)]
    b = rng.standard_normal(40)
    b0 = b.copy()
    mla.spsolve_triangular(A, b, overwrite_A=True, overwrite_b=True)
    for x, y in zip(before, (A.indptr, A.indices, A.data)):
        np.testing.assert_array_equal(x, np.asarray(y))
    np.testing.assert_array_equal(b, b0)


def test_solve_errors():
    rng = np.random.default_rng([SEED, 9])
    S = triangular(rng, 6, True, np.float64)
    rect = ssp.random_array((4, 5), density=0.5, rng=rng, format="csr")
    check_solve(rect, np.ones(4))                       # not square: ValueError
    Z = S.copy()
    Z.setdiag(0.0)
    check_solve(Z, np.ones(6))                          # zero diagonal: LinAlgError
    check_solve(S, np.ones((6, 2, 2)))                  # b 3-D: ValueError
    check_solve(S, np.ones(5))                          # b's length: ValueError
    check_solve(Z, np.ones(5))                          # SciPy's order: the diagonal first
    check_solve(S, 3.0)                                 # b 0-D: ValueError
    # not triangular: SciPy's result is undefined, ours a LinAlgError
    full = S + S.T
    with pytest.raises(LinAlgError, match="not lower triangular"):
        mla.spsolve_triangular(msp.csr_array(full), np.ones(6))
    with pytest.raises(LinAlgError, match="not upper triangular"):
        mla.spsolve_triangular(msp.csr_array(S), np.ones(6), lower=False)
    # complex128 work (MLX has none): TypeError naming the dtype
    with pytest.raises(TypeError, match="complex128"):
        mla.spsolve_triangular(msp.csr_array(S), np.ones(6, dtype=np.complex128))


STRUCTURES = {
    "lower": lambda rng: ssp.tril(ssp.random_array((7, 7), density=0.5, rng=rng)),
    "upper": lambda rng: ssp.triu(ssp.random_array((7, 7), density=0.5, rng=rng)),
    "diagonal": lambda rng: ssp.diags_array(rng.standard_normal(6)),
    "full": lambda rng: ssp.random_array((6, 6), density=0.7, rng=rng) + ssp.eye_array(6, k=2)
    + ssp.eye_array(6, k=-3),
    "empty": lambda rng: ssp.coo_array((5, 5)),
    "wide": lambda rng: ssp.triu(ssp.random_array((4, 9), density=0.5, rng=rng)),
    "tall": lambda rng: ssp.tril(ssp.random_array((9, 4), density=0.5, rng=rng)),
}


@pytest.mark.parametrize("kind", sorted(STRUCTURES))
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "dia", "dok", "lil", "bsr", "dense"])
def test_structure_queries(kind, fmt):
    rng = np.random.default_rng([SEED, len(kind), len(fmt)])
    S = STRUCTURES[kind](rng)
    A = S.toarray() if fmt == "dense" else S.asformat(fmt)
    for name in ("is_sptriangular", "spbandwidth"):
        s, se, sw = run(getattr(sla, name), A)
        o, oe, ow = run(getattr(mla, name), ours(A) if fmt != "dense" else A)
        if se is not None:
            assert oe is not None and type(oe) is type(se), (name, se, oe)
        else:
            assert oe is None and o == s and type(o[0]) is type(s[0]) or o == s, (name, o, s)
        assert ow == sw, (name, ow, sw)


# ----------------------------------------------------------------------------------
# matrix_power (scipy.sparse.linalg's matrix functions)
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("kind", ["array", "matrix"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.complex64])
def test_matrix_power(fmt, kind, dtype):
    rng = np.random.default_rng([SEED, len(fmt), len(kind), np.dtype(dtype).num])
    n = int(rng.integers(1, 12))
    S = ssp.random_array((n, n), density=0.3, rng=rng, format=fmt,
                         data_sampler=lambda size: rng.integers(-2, 3, size)).astype(dtype)
    if kind == "matrix":
        S = getattr(ssp, f"{fmt}_matrix")(S)
    for p in (0, 1, 2, 3, 6, 7, np.int64(4)):
        s, se, _ = run(sla.matrix_power, S, p)
        o, oe, _ = run(mla.matrix_power, ours(S), p)
        assert se is None and oe is None, (se, oe)
        assert type(o).__name__ == type(s).__name__, (p, type(o), type(s))
        assert o.dtype == s.dtype and o.shape == s.shape
        np.testing.assert_allclose(np.asarray(o.toarray()), s.toarray(),
                                   rtol=TOL.get(np.dtype(dtype).type, 1e-10))


def test_matrix_power_errors():
    S = ssp.random_array((3, 4), density=0.5, rng=np.random.default_rng(SEED))
    Q = ssp.eye_array(3, format="csr")
    for A, p in ((S, 2), (Q, -1), (Q, 2.5), (Q, 2.0), (Q, "2"), (Q, [2])):
        s, se, _ = run(sla.matrix_power, A, p)
        o, oe, _ = run(mla.matrix_power, ours(A), p)
        assert se is not None and type(oe) is type(se) and str(oe) == str(se), (p, se, oe)


# ----------------------------------------------------------------------------------
# LaplacianNd
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("grid", [(1,), (6,), (2, 2), (3, 4), (4, 3), (2, 3, 4), (1, 5), (5, 1)])
@pytest.mark.parametrize("bc", ["neumann", "dirichlet", "periodic"])
def test_laplacian_nd(grid, bc):
    rng = np.random.default_rng([SEED, len(grid), len(bc)])
    for dtype in (np.int8, np.float32, np.float64):
        S = sla.LaplacianNd(grid, boundary_conditions=bc, dtype=dtype)
        O = mla.LaplacianNd(grid, boundary_conditions=bc, dtype=dtype)
        assert O.shape == S.shape and O.dtype == S.dtype
        dense = np.asarray(O.toarray())
        assert dense.dtype == S.toarray().dtype
        np.testing.assert_array_equal(dense, S.toarray())
        sp_s, sp_o = S.tosparse(), O.tosparse()
        assert sp_o.format == sp_s.format and sp_o.dtype == sp_s.dtype, (sp_o.format, sp_s.format)
        np.testing.assert_array_equal(np.asarray(sp_o.toarray()), sp_s.toarray())
        n = S.shape[0]
        for x in (rng.standard_normal(n), rng.standard_normal((n, 3)),
                  rng.integers(-5, 6, n).astype(np.int8)):
            want = S @ x
            got = np.asarray(O @ x)
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for m in (None, 1, 2, 5, 100):
        np.testing.assert_allclose(np.asarray(O.eigenvalues(m)), S.eigenvalues(m),
                                   rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(np.asarray(O.eigenvectors(m)), S.eigenvectors(m),
                                   rtol=1e-12, atol=1e-13)


def test_laplacian_nd_errors():
    s, se, _ = run(sla.LaplacianNd, (3, 3), boundary_conditions="robin")
    o, oe, _ = run(mla.LaplacianNd, (3, 3), boundary_conditions="robin")
    assert type(oe) is type(se) is ValueError and str(oe) == str(se)
