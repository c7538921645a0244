"""gmres on 2-D convection-diffusion (500 x 500 grid, n = 250k, float64) against
SciPy's gmres in the same run, at a fixed iteration count (rtol tiny, maxiter
fixed, so both run exactly restart * maxiter inner iterations).

    python benchmarks/bench_gmres.py [--grid 500] [--restart 20] [--cycles 2]

Prints median wall time per solve and per inner iteration, and the ratio SciPy /
mlx_sparse (> 1: we are faster), for

- gmres on our csr_array (end to end: our sparse matvec + our solver), and
- gmres on a LinearOperator whose matvec is a host CSR product as fast as SciPy's
  (the same products in both runs: the solver's own work compared),

and the time of one matvec A @ x of each library. SciPy's BLAS threads oversubscribe
a loaded machine; run with OPENBLAS_NUM_THREADS=1 for stable figures.
"""
import argparse
import os
import sys
import warnings

import mlx.core as mx
import numpy as np
import scipy.sparse as ssp
import scipy.sparse.linalg as sla

sys.path.insert(0, os.path.dirname(__file__))
from _timing import median_ms, table  # noqa: E402

import mlx_sparse.sparse as msp  # noqa: E402
import mlx_sparse.sparse.linalg as mla  # noqa: E402


def convection_diffusion(m, c=0.4):
    """5-point upwind-free convection-diffusion on an m x m grid (nonsymmetric)."""
    T = ssp.diags([-1 - c, 4.0, -1 + c], [-1, 0, 1], shape=(m, m))
    S = ssp.diags([-1 - c / 2, 0.0, -1 + c / 2], [-1, 0, 1], shape=(m, m))
    return (ssp.kron(ssp.eye(m), T) + ssp.kron(S, ssp.eye(m))).tocsr()


def median_s(fn, repeat):
    """Median wall time of fn() in seconds (no warm-up), MLX results evaluated."""
    return median_ms(fn, repeat, warmup=0) / 1e3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--grid", type=int, default=500)
    p.add_argument("--restart", type=int, default=20)
    p.add_argument("--cycles", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    warnings.simplefilter("ignore")

    A = convection_diffusion(a.grid)
    n = A.shape[0]
    b = np.random.default_rng(0).standard_normal(n)
    Am = msp.csr_array(A)
    bm = mx.array(b, dtype=mx.float64)
    kw = dict(rtol=1e-30, atol=0.0, restart=a.restart, maxiter=a.cycles)
    iters = a.restart * a.cycles

    xs, _ = sla.gmres(A, b, **kw)
    xm, _ = mla.gmres(Am, bm, **kw)
    mx.eval(xm)
    diff = np.abs(np.asarray(xm) - xs).max() / np.abs(xs).max()

    # the same host CSR product (SciPy's kernel on zero-copy views) in our solver
    op = mla.LinearOperator(
        A.shape, dtype=np.float64,
        matvec=lambda v: mx.array(A @ np.asarray(v), dtype=mx.float64))
    mla.gmres(op, bm, **kw)

    t_sp = median_s(lambda: sla.gmres(A, b, **kw), a.repeat)
    t_mx = median_s(lambda: mla.gmres(Am, bm, **kw), a.repeat)
    t_op = median_s(lambda: mla.gmres(op, bm, **kw), a.repeat)
    mv_sp = median_s(lambda: A @ b, 10)
    mv_mx = median_s(lambda: Am @ bm, 10)

    print(f"gmres, convection-diffusion {a.grid}x{a.grid} (n = {n}, nnz = {A.nnz}), "
          f"float64, restart={a.restart}, {a.cycles} cycles = {iters} inner "
          "iterations; "
          f"max rel. diff of x vs SciPy {diff:.1e}")
    rows = [
        ("gmres(csr_array) solve [s]", f"{t_sp:.3f}", f"{t_mx:.3f}",
         f"{t_sp / t_mx:.2f}x"),
        ("  per inner iteration [ms]", f"{1e3 * t_sp / iters:.2f}",
         f"{1e3 * t_mx / iters:.2f}", f"{t_sp / t_mx:.2f}x"),
        ("gmres(host-CSR LinearOperator) [s]", f"{t_sp:.3f}", f"{t_op:.3f}",
         f"{t_sp / t_op:.2f}x"),
        ("  per inner iteration [ms]", f"{1e3 * t_sp / iters:.2f}",
         f"{1e3 * t_op / iters:.2f}", f"{t_sp / t_op:.2f}x"),
        ("one matvec A @ x [ms]", f"{1e3 * mv_sp:.2f}", f"{1e3 * mv_mx:.2f}",
         f"{mv_sp / mv_mx:.2f}x"),
    ]
    print(table(rows, ("", "SciPy", "mlx_sparse", "SciPy/ours")))


if __name__ == "__main__":
    main()
