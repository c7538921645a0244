"""cg through the dispatch table's fused kernel (compressed_cg: C++ on the CPU), with no
preconditioner and with the Jacobi one, against scipy.sparse.linalg.cg on fresh random
SPD matrices: same info, same iteration count, same x to the dtype's tolerance.

The matrices are new every run; MLX_SPARSE_TEST_SEED=<seed> (printed on failure)
repeats one.
"""
import os

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp
import scipy.sparse.linalg as sla

import mlx_sparse.sparse as msp
import mlx_sparse.sparse.linalg as mla
from mlx_sparse import _ops
from mlx_sparse.sparse.linalg.preconditioners import jacobi

SEED = int(os.environ.get("MLX_SPARSE_TEST_SEED") or int.from_bytes(os.urandom(4), "little"))


@pytest.fixture(autouse=True)
def cpu_default_device():
    """These kernels are the CPU's: with a GPU default device (MLX_SPARSE_TEST_DEVICE=gpu)
    the solvers would dispatch to the GPU's MLX-ops loop instead."""
    before = mx.default_device()
    mx.set_default_device(mx.cpu)
    yield
    mx.set_default_device(before)


def random_spd(n, dtype, rng, empty_row=None):
    """B B^T plus an uneven positive diagonal (so Jacobi changes the iteration); with
    empty_row, that row and column are removed (A stays positive semidefinite)."""
    B = ssp.random_array((n, n), density=min(1.0, 4.0 / n), rng=rng, format="csr")
    A = (B @ B.T + ssp.diags_array(rng.uniform(0.1, 10.0, n))).tocsr()
    if empty_row is not None:
        keep = np.ones(n)
        keep[empty_row] = 0
        D = ssp.diags_array(keep)
        A = (D @ A @ D).tocsr()
        A.eliminate_zeros()
    return A.astype(dtype)


@pytest.fixture
def native_calls(monkeypatch):
    """Records (converged, iterations) of every fused cg call mla.cg makes."""
    name, fn = _ops.DISPATCH["compressed_cg"]["cpu"]
    assert fn is not None, "the native extension has no compressed_cg"
    calls = []

    def spy(*args):
        out = fn(*args)
        calls.append(out[1:3])
        return out

    monkeypatch.setitem(_ops.DISPATCH["compressed_cg"], "cpu", (name, spy))
    return calls


def clear_rtol(A, b, M, floor):
    """An rtol in the widest gap of SciPy's residual history (second half, above floor
    * |b|), so that rounding differences cannot move the iteration that stops."""
    res = [np.linalg.norm(b)]
    sla.cg(A, b, M=M, rtol=floor, maxiter=10 * len(b) + 10,
           callback=lambda xk: res.append(np.linalg.norm(b - A @ xk)))
    best, low = (0.0, None), res[0]
    for k in range(1, len(res)):
        if k >= len(res) // 2 and res[k] > floor * res[0] and low / res[k] > best[0]:
            best = (low / res[k], np.sqrt(low * res[k]))
        low = min(low, res[k])
    return best[1] / res[0] if best[1] is not None else floor


def scipy_cg(A, b, M, **kw):
    count = []
    x, info = sla.cg(A, b, M=M, callback=lambda xk: count.append(1), **kw)
    return x, info, len(count)


@pytest.mark.parametrize("n", [1, 2, 9, 150, 12000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("precond", [None, "jacobi"])
def test_cg_matches_scipy(n, dtype, precond, native_calls):
    rng = np.random.default_rng([SEED, n, np.dtype(dtype).itemsize, precond is None])
    A = random_spd(n, dtype, rng)
    b = rng.standard_normal(n).astype(dtype)
    if precond == "jacobi":
        dinv = (1 / A.diagonal()).astype(dtype)
        Ms = sla.LinearOperator(A.shape, matvec=lambda v: dinv * v.ravel(), dtype=dtype)
        Mo = jacobi(msp.csr_array(A))
    else:
        Ms = Mo = None
    f64 = dtype == np.float64
    # (the gap is found in the true residuals, the stop test reads the recurrence's:
    # near 1e-12 they part by more than a narrow gap, seen once in a few hundred runs)
    rtol = clear_rtol(A, b, Ms, 1e-10 if f64 else 1e-5)
    why = f"seed {SEED}"

    xs, infos, its = scipy_cg(A, b, Ms, rtol=rtol, maxiter=10 * n + 10)
    xo, infoo = mla.cg(msp.csr_array(A), b, rtol=rtol, maxiter=10 * n + 10, M=Mo)
    assert infos == 0 and infoo == 0, why
    assert len(native_calls) == 1, "cg did not take the fused kernel"
    converged, its_o = native_calls[-1]
    assert converged and abs(its_o - its) <= (0 if f64 else 2), (its_o, its, why)
    xo = np.asarray(xo)
    assert xo.dtype == dtype
    # x differs from SciPy's by rounding (another summation order) amplified by A's
    # condition number over the iterations: up to 1.3e-8 relative seen in float64
    scale = np.abs(xs).max()
    assert np.abs(xo - xs).max() <= (1e-6 if f64 else 2e-3) * scale, why

    # stopped by maxiter: info = maxiter and SciPy's x after that many iterations (at
    # most n: later ones test a residual at rounding level against the tolerance)
    for m in (m for m in (1, 3) if m <= n):
        xs, infos, its = scipy_cg(A, b, Ms, rtol=1e-30 if f64 else 1e-12, maxiter=m)
        xo, infoo = mla.cg(msp.csr_array(A), b, rtol=1e-30 if f64 else 1e-12, maxiter=m, M=Mo)
        assert infoo == infos, (m, why)
        assert native_calls[-1][1] == its, (m, why)
        assert np.abs(np.asarray(xo) - xs).max() <= (1e-9 if f64 else 1e-4) * np.abs(xs).max(), why


def test_empty_row_and_zero_diagonal(native_calls):
    """A singular PSD matrix with an empty row (b zero there): cg converges as SciPy's;
    Jacobi rejects the zero diagonal entry."""
    rng = np.random.default_rng([SEED, 1])
    A = random_spd(40, np.float64, rng, empty_row=17)
    assert A.indptr[17] == A.indptr[18]
    b = rng.standard_normal(40)
    b[17] = 0
    xs, infos, _ = scipy_cg(A, b, None, rtol=1e-10)
    xo, infoo = mla.cg(msp.csr_array(A), b, rtol=1e-10)
    assert infoo == infos == 0 and len(native_calls) == 1
    assert np.abs(np.asarray(xo) - xs).max() <= 1e-8 * np.abs(xs).max()
    with pytest.raises(ValueError, match="zero diagonal"):
        jacobi(msp.csr_array(A))


def test_fused_and_python_loops_agree(native_calls):
    """The same solve through the fused kernel and through the Python loop (a callback
    forces it): same x, and the callback count is the kernel's iteration count. A
    float32 matrix's Jacobi diagonal serves a float64 solve (exact upcast)."""
    rng = np.random.default_rng([SEED, 2])
    A32 = random_spd(300, np.float32, rng)
    b = rng.standard_normal(300)
    M = jacobi(msp.csr_array(A32))
    A = msp.csr_array(A32.astype(np.float64))
    rtol = clear_rtol(A32.astype(np.float64), b, ssp.diags_array(np.asarray(M._dinv)), 1e-12)
    xf, info_f = mla.cg(A, b, rtol=rtol, M=M)
    assert len(native_calls) == 1
    count = []
    xp, info_p = mla.cg(A, b, rtol=rtol, M=M, callback=lambda xk: count.append(1))
    assert len(native_calls) == 1  # the callback kept it on the Python loop
    assert info_f == info_p == 0 and native_calls[0][1] == len(count)
    np.testing.assert_allclose(np.asarray(xf), np.asarray(xp), rtol=1e-9, atol=1e-12)


def test_other_preconditioners_take_the_python_loop(native_calls):
    rng = np.random.default_rng([SEED, 3])
    A = random_spd(50, np.float64, rng)
    b = rng.standard_normal(50)
    Md = ssp.diags_array(1 / A.diagonal()).tocsr()
    xo, infoo = mla.cg(msp.csr_array(A), b, rtol=1e-10, M=msp.csr_array(Md))  # not jacobi()
    xs, infos, _ = scipy_cg(A, b, Md, rtol=1e-10)
    assert native_calls == [] and infoo == infos == 0
    assert np.abs(np.asarray(xo) - xs).max() <= 1e-8 * np.abs(xs).max()


def convection_diffusion(m, c=0.4):
    T = ssp.diags_array([-1 - c, 4.0, -1 + c], offsets=[-1, 0, 1], shape=(m, m))
    S = ssp.diags_array([-1 - c / 2, 0.0, -1 + c / 2], offsets=[-1, 0, 1], shape=(m, m))
    return (ssp.kron(ssp.eye_array(m), T) + ssp.kron(S, ssp.eye_array(m))).tocsr()


def test_gmres_native_basis_matches_scipy_and_thread_count(monkeypatch):
    """gmres's CPU Krylov basis runs on the native gram_schmidt / combine_rows: same
    result as SciPy, bit-identical with 1 and 2 threads."""
    from mlx_sparse._ops import native_impl
    calls = []
    name, fn = _ops.DISPATCH["gram_schmidt"]["cpu"]
    monkeypatch.setitem(_ops.DISPATCH["gram_schmidt"], "cpu",
                        (name, lambda *a: calls.append(1) or fn(*a)))
    A = convection_diffusion(120)  # 14400 rows: several threads
    b = np.random.default_rng([SEED, 4]).standard_normal(A.shape[0])
    kw = dict(rtol=1e-10, restart=15, maxiter=4)
    xs, infos = sla.gmres(A, b, **kw)
    before = native_impl._native.num_threads()
    out = []
    try:
        for t in (1, 2):
            native_impl._native.set_num_threads(t)
            x, info = mla.gmres(msp.csr_array(A), b, **kw)
            out.append((np.asarray(x).tobytes(), info))
    finally:
        native_impl._native.set_num_threads(before)
    assert calls and out[0] == out[1] and out[0][1] == infos
    xo = np.frombuffer(out[0][0])
    assert np.abs(xo - xs).max() <= 1e-9 * np.abs(xs).max()


def test_gmres_identity_operator_basis_rows():
    """An operator returning its input hands gmres a view of the basis itself."""
    n = 5
    op = mla.LinearOperator((n, n), matvec=lambda v: v, dtype=np.float64)
    b = np.arange(1.0, n + 1)
    x, info = mla.gmres(op, b, rtol=1e-12)
    assert info == 0 and np.allclose(np.asarray(x), b)
