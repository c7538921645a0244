"""spsolve_triangular vs SciPy in the same run (CPU); with --gpu, on the GPU vs CuPy.

    python benchmarks/bench_trisolve.py [--side 1000] [--repeat 5]
    python benchmarks/bench_trisolve.py --gpu [--side 1000] [--chain 100000] [--repeat 5]

Matrices (float64, CSR, with SciPy's defaults lower=True): the lower triangle of the
2-D 5-point Poisson matrix (side^2 rows), a random lower-triangular matrix with 10
entries per row (n = side^2), and a bidiagonal one (a chain: n levels). One right-hand
side and eight. Prints SciPy's and our median times (the same calls interleaved), the
speed-up (> 1: ours faster), the implementation ours ran, and the largest difference of
the two solutions relative to SciPy's largest entry.

--gpu: the same matrices in float32 (the bidiagonal one with --chain rows) on MLX's GPU
against CuPy's spsolve_triangular (cuSPARSE) and, where it runs, torch's
triangular_solve of a sparse CSR matrix, in the same run; ours both through the
dispatch table's kernel and through the level-scheduled MLX-ops path (Metal's, and
what CUDA ran before the kernel). Median of --repeat calls, each evaluated; the
largest difference is against CuPy's solution.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np
import scipy.sparse as ssp
import scipy.sparse.linalg as sspla

from _timing import interleaved_ms, table

import mlx_sparse.sparse as sp
import mlx_sparse.sparse.linalg as spla
from mlx_sparse._ops import DISPATCH


def matrices(side, rng):
    n = side * side
    T = ssp.diags_array([-1.0, 4.0, -1.0], offsets=[-1, 0, 1], shape=(side, side))
    poisson = ssp.tril(ssp.kron(T, ssp.eye_array(side)) + ssp.kron(ssp.eye_array(side), T)).tocsr()
    R = ssp.tril(ssp.random_array((n, n), density=10 / n, rng=rng), -1)
    rand = (R + ssp.diags_array(1.0 + np.asarray(abs(R).sum(axis=1)).ravel())).tocsr()
    chain = ssp.diags_array([np.full(n - 1, -0.5), np.ones(n)], offsets=[-1, 0], format="csr")
    return {"poisson_lower": poisson, "random_10": rand, "bidiagonal": chain}


def gpu(args):
    import mlx.core as mx
    from gpu_spgemm import _ms, baselines
    from mlx_sparse import _ops
    cupy, csp, torch = baselines()
    import cupyx.scipy.sparse.linalg as cspla
    rng = np.random.default_rng(0)
    mats = matrices(args.side, rng)
    mats["bidiagonal"] = matrices(int(args.chain ** 0.5) + 1, rng)["bidiagonal"]
    sync_cp = cupy.cuda.Device().synchronize
    rows = []
    for name, S in mats.items():
        S = S.astype(np.float32)
        A = sp.csr_array(S)
        Ac = csp.csr_matrix(S)
        for k in (1, 8):
            b = rng.standard_normal(S.shape[0] if k == 1 else (S.shape[0], k)).astype(np.float32)
            bm, bc = mx.array(b), cupy.asarray(b)
            ours = lambda: mx.eval(spla.spsolve_triangular(A, bm))  # noqa: E731
            t_ours = _ms(ours, mx.synchronize, args.repeat)
            t_lev = "-"  # (a chain has as many levels as rows: not run)
            saved = _ops.DISPATCH["triangular_solve"]["gpu"]
            _ops.DISPATCH["triangular_solve"]["gpu"] = _ops.NOT_AVAILABLE
            try:
                if name != "bidiagonal":
                    t_lev = f"{_ms(ours, mx.synchronize, max(1, args.repeat // 2)):.3f}"
            finally:
                _ops.DISPATCH["triangular_solve"]["gpu"] = saved
            t_cp = _ms(lambda: cspla.spsolve_triangular(Ac, bc), sync_cp, args.repeat)
            t_t = "-"
            if torch is not None:
                try:
                    At = torch.sparse_csr_tensor(*(torch.as_tensor(v, device="cuda") for v in (
                        S.indptr.astype(np.int64), S.indices.astype(np.int64), S.data)),
                        size=S.shape)
                    bt = torch.as_tensor(b.reshape(S.shape[0], -1), device="cuda")
                    t_t = f"{_ms(lambda: torch.triangular_solve(bt, At, upper=False), torch.cuda.synchronize, args.repeat):.3f}"
                except (RuntimeError, TypeError) as e:  # not every build has it
                    t_t = f"({type(e).__name__})"
            xo = np.asarray(spla.spsolve_triangular(A, bm))
            xc = cupy.asnumpy(cspla.spsolve_triangular(Ac, bc))
            err = np.abs(xo - xc).max() / max(np.abs(xc).max(), 1e-30)
            rows.append((name, S.shape[0], S.nnz, k, f"{t_ours:.3f}", t_lev,
                         f"{t_cp:.3f}", t_t, f"{t_cp / t_ours:.2f}", f"{err:.1e}"))
    print(table(rows, ("matrix", "n", "nnz", "rhs", "ours ms", "MLX-ops levels ms",
                       "CuPy ms", "torch ms", "CuPy/ours", "max rel diff")))
    print("ours ran:", _ops.DISPATCH["triangular_solve"]["gpu"][0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--gpu", action="store_true")
    ap.add_argument("--chain", type=int, default=100000, help="rows of the bidiagonal matrix (--gpu)")
    args = ap.parse_args()
    if args.gpu:
        return gpu(args)
    rng = np.random.default_rng(0)
    impl = DISPATCH["triangular_solve"]["cpu"][0]
    rows = []
    for name, S in matrices(args.side, rng).items():
        A = sp.csr_array(S)
        for k in (1, 8):
            b = rng.standard_normal(S.shape[0] if k == 1 else (S.shape[0], k))
            t_s, t_o = interleaved_ms([lambda: sspla.spsolve_triangular(S, b),
                                       lambda: spla.spsolve_triangular(A, b)], args.repeat)
            xs, xo = sspla.spsolve_triangular(S, b), np.asarray(spla.spsolve_triangular(A, b))
            err = np.abs(xs - xo).max() / max(np.abs(xs).max(), 1e-300)
            rows.append((name, S.shape[0], S.nnz, k, f"{t_s:.1f}", f"{t_o:.1f}",
                         f"{t_s / t_o:.2f}x", impl, f"{err:.1e}"))
    print(table(rows, ("matrix", "n", "nnz", "rhs", "SciPy ms", "ours ms", "speed-up",
                       "ours ran", "max rel diff")))


if __name__ == "__main__":
    main()
