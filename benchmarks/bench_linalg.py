"""Krylov solvers vs SciPy in the same run (issue 5: scipy.sparse.linalg part 1).

    python benchmarks/bench_linalg.py [--side 1000] [--iters 200] [--repeat 3]
    python benchmarks/bench_linalg.py --gpu [--side 2048]     (float32, vs CuPy)

cg on the 2-D 5-point Poisson matrix (side^2 rows; side=1000 gives n = 1M), float64
on the CPU, a fixed number of iterations (rtol=0, atol=0, maxiter=iters: both
solvers run exactly `iters` iterations). Prints the wall time of each, the time
per iteration, the speed-up over SciPy (> 1 means faster), the SpMV and vector-op
times per iteration that make up an iteration, and which implementation ran.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import mlx.core as mx
import numpy as np
import scipy.sparse as ssp
import scipy.sparse.linalg as sspla

from _timing import median_ms, table

import mlx_sparse.sparse as sp
import mlx_sparse.sparse.linalg as spla
from mlx_sparse._ops import DISPATCH, NOT_AVAILABLE, native_impl


def poisson2d(side):
    T = ssp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(side, side))
    I = ssp.eye_array(side)
    return (ssp.kron(T, I) + ssp.kron(I, T)).tocsr()


def wall(fn, repeat):
    """Median wall time of fn() in seconds (no warm-up), MLX results evaluated."""
    return median_ms(fn, repeat, warmup=0) / 1e3


def main_gpu(args):
    import inspect
    mx.set_default_device(mx.gpu)
    side = args.side if args.side != 1000 else 2048
    A = poisson2d(side).astype(np.float32)
    n, iters = A.shape[0], args.iters
    Am = sp.csr_array(A)
    bm = mx.array(np.random.default_rng(1).random(n).astype(np.float32))
    kw = dict(rtol=0.0, atol=0.0, maxiter=iters)
    spmv = median_ms(lambda: Am @ bm, repeat=20)
    print(f"cg, 2-D Poisson {side}x{side} (n={n}), float32, GPU, {iters} iterations; "
          f"SpMV {spmv:.3f} ms ({DISPATCH['compressed_matvec']['gpu'][0]})")
    rows, xs = [], {}
    fused = DISPATCH["cg_step"]["gpu"]
    for k, step in ((1, "cg_step"), (8, "cg_step"), (16, "cg_step"), (8, "MLX ops")):
        # the MLX-ops step: cg's own loop body, as before the fused kernels
        DISPATCH["cg_step"]["gpu"] = fused if step == "cg_step" else NOT_AVAILABLE
        spla.set_check_every(k)
        spla.cg(Am, bm, rtol=0.0, atol=0.0, maxiter=20)
        t = wall(lambda: spla.cg(Am, bm, **kw), args.repeat)
        rows.append((f"mlx_sparse cg, {step} ({fused[0] if step == 'cg_step' else 'per op'}), "
                     f"check_every={k}", f"{t / iters * 1e3:.3f}"))
        xs[step] = np.asarray(spla.cg(Am, bm, **kw)[0])
    DISPATCH["cg_step"]["gpu"] = fused
    spla.set_check_every(None)
    # the same iterations by both steps: their iterates agree to float32 rounding
    rel = np.linalg.norm(xs["cg_step"] - xs["MLX ops"]) / np.linalg.norm(xs["MLX ops"])
    print(f"x after {iters} iterations, cg_step vs MLX-ops step: relative difference {rel:.2e}")
    try:
        import cupy as cp
        import cupyx.scipy.sparse as cps
        import cupyx.scipy.sparse.linalg as cpla
    except ImportError:
        rows.append(("CuPy cg", "not installed"))
    else:
        Ac, bc = cps.csr_matrix(A), cp.asarray(np.asarray(bm))
        tk = "rtol" if "rtol" in inspect.signature(cpla.cg).parameters else "tol"
        ckw = {tk: 0.0, "atol": 0.0, "maxiter": iters}

        def run():
            cpla.cg(Ac, bc, **ckw)
            cp.cuda.Device().synchronize()
        run()
        t = wall(run, args.repeat)
        rows.append(("CuPy cg (cuSPARSE)", f"{t / iters * 1e3:.3f}"))
    print(table(rows, ("", "ms / iteration")))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--side", type=int, default=1000)
    p.add_argument("--iters", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--gpu", action="store_true")
    args = p.parse_args()
    if args.gpu:
        return main_gpu(args)
    mx.set_default_device(mx.cpu)

    A = poisson2d(args.side)
    n = A.shape[0]
    b = np.random.default_rng(0).random(n)
    Am = sp.csr_array(A)
    bm = mx.array(b, dtype=mx.float64)
    kw = dict(rtol=0.0, atol=0.0, maxiter=args.iters)

    counts = []
    x_s, info_s = sspla.cg(A, b, callback=lambda x: counts.append(1), **kw)
    x_m, info_m = spla.cg(Am, bm, **kw)
    diff = np.abs(np.asarray(x_m) - x_s).max() / np.abs(x_s).max()

    t_scipy = wall(lambda: sspla.cg(A, b, **kw), args.repeat)
    t_ours = wall(lambda: spla.cg(Am, bm, **kw), args.repeat)

    xs = np.random.default_rng(1).random(n)
    xm = mx.array(xs, dtype=mx.float64)
    spmv_s = median_ms(lambda: A @ xs, repeat=5)
    spmv_m = median_ms(lambda: Am @ xm, repeat=5)
    dot_s = median_ms(lambda: np.dot(xs, xs), repeat=5)
    dot_m = median_ms(lambda: mx.sum(xm * xm), repeat=5)
    axpy_s = median_ms(lambda: xs + 0.5 * xs, repeat=5)
    axpy_m = median_ms(lambda: xm + 0.5 * xm, repeat=5)

    print(f"cg, 2-D Poisson {args.side}x{args.side} (n={n}, nnz={A.nnz}), float64, "
          f"{args.iters} iterations (SciPy info={info_s}, ours info={info_m}, "
          f"SciPy ran {len(counts)}; max rel. diff of x {diff:.1e})")
    print(f"implementation: SpMV {DISPATCH['compressed_matvec']['cpu'][0]}; "
          f"native cg {'yes' if native_impl.has('compressed_cg') else 'no'}; "
          f"check_every={spla.get_check_every(mx.cpu)}")
    rows = [
        ("cg total (s)", f"{t_scipy:.3f}", f"{t_ours:.3f}", f"{t_scipy / t_ours:.2f}x"),
        ("per iteration (ms)", f"{t_scipy / args.iters * 1e3:.2f}",
         f"{t_ours / args.iters * 1e3:.2f}", ""),
        ("SpMV (ms)", f"{spmv_s:.2f}", f"{spmv_m:.2f}", f"{spmv_s / spmv_m:.2f}x"),
        ("dot (ms)", f"{dot_s:.2f}", f"{dot_m:.2f}", f"{dot_s / dot_m:.2f}x"),
        ("axpy (ms)", f"{axpy_s:.2f}", f"{axpy_m:.2f}", f"{axpy_s / axpy_m:.2f}x"),
    ]
    print(table(rows, ("", "SciPy", "mlx_sparse", "speed-up")))


if __name__ == "__main__":
    main()
