"""Sparse products, sums and sparse + sparse vs SciPy on the CPU, in the same run.

    python benchmarks/bench_products.py [--nnz 10000000] [--repeat 5] [--only spmv,spgemm]

SciPy and mlx_sparse run round-robin in one loop (medians of --repeat runs after a
warm-up), float64 values and int32 indices. Prints the times and the speed-up over SciPy
(> 1 means faster than SciPy).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import mlx.core as mx
import numpy as np
import scipy.sparse as ssp

from _timing import add_mlx_cache_arg, interleaved_ms, set_mlx_cache, table

import mlx_sparse.sparse as sp
from mlx_sparse._ops import native_impl


def poisson2d(side):
    """5-point Laplacian on a side x side grid (CSR, float64, int32)."""
    T = ssp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(side, side))
    eye = ssp.eye_array(side)
    return (ssp.kron(T, eye) + ssp.kron(eye, T)).tocsr()


def uniform(n, per_row, rng):
    """n x n with per_row random columns per row (duplicates summed)."""
    row = np.repeat(np.arange(n, dtype=np.int32), per_row)
    col = rng.integers(0, n, n * per_row, dtype=np.int32)
    return ssp.csr_array((rng.standard_normal(n * per_row), (row, col)), shape=(n, n))


def ours(S):
    return sp.csr_array((mx.array(S.data, dtype=mx.float64), mx.array(S.indices), mx.array(S.indptr)),
                        shape=S.shape)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nnz", type=int, default=10_000_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--only", default="", help="comma-separated case prefixes")
    add_mlx_cache_arg(p)
    args = p.parse_args()
    mx.set_default_device(mx.cpu)
    cache_limit = set_mlx_cache(args.mlx_cache_mb)
    rng = np.random.default_rng(0)
    nnz = args.nnz
    n = nnz // 10
    A = uniform(n, 10, rng)
    B = uniform(n, 10, rng)
    MA, MB = ours(A), ours(B)
    x = rng.standard_normal(n)
    X8 = rng.standard_normal((n, 8))
    mx_x, mx_X8 = mx.array(x, dtype=mx.float64), mx.array(X8, dtype=mx.float64)
    side = int(round((nnz / 5) ** 0.5))
    P = poisson2d(side)
    MP = ours(P)
    G = uniform(nnz // 5, 5, rng)  # uniform random for SpGEMM: 5 per row, A @ A ~ 25 per row
    MG = ours(G)

    cases = [
        (f"SpMV {A.shape[0]:,}^2, nnz {A.nnz:,}", lambda: A @ x, lambda: MA @ mx_x),
        ("SpMM 8 columns", lambda: A @ X8, lambda: MA @ mx_X8),
        ("SpMV transposed (A.T @ x)", lambda: A.T @ x, lambda: MA.T @ mx_x),
        (f"SpGEMM Poisson {side}^2 (nnz {P.nnz:,}) A@A", lambda: P @ P, lambda: MP @ MP),
        (f"SpGEMM uniform {G.shape[0]:,}^2 (nnz {G.nnz:,}) A@A", lambda: G @ G, lambda: MG @ MG),
        ("sparse + sparse", lambda: A + B, lambda: MA + MB),
        ("sparse * sparse (elementwise)", lambda: A.multiply(B), lambda: MA.multiply(MB)),
        ("maximum(A, B)", lambda: A.maximum(B), lambda: MA.maximum(MB)),
        ("row sums", lambda: A.sum(axis=1), lambda: MA.sum(axis=1)),
        ("column sums", lambda: A.sum(axis=0), lambda: MA.sum(axis=0)),
    ]
    if native_impl.has("compressed_cg"):
        # 200 CG iterations on the 2-D Poisson matrix with n = 1M rows (tolerance never met)
        from scipy.sparse.linalg import cg as scipy_cg
        C = poisson2d(1000)
        MC = ours(C)
        bc = rng.standard_normal(C.shape[0])
        mx_bc, mx_x0 = mx.array(bc, dtype=mx.float64), mx.zeros(C.shape[0], dtype=mx.float64)
        cases.append(("CG 200 iterations, Poisson 1000^2",
                      lambda: scipy_cg(C, bc, rtol=1e-30, atol=0.0, maxiter=200),
                      lambda: native_impl.compressed_cg(MC._s.indptr, MC._s.indices, MC._s.data, mx_bc,
                                                        mx_x0, 0.0, 200)[0]))
    only = [s.strip().lower() for s in args.only.split(",") if s.strip()]
    rows = []
    for name, f_scipy, f_ours in cases:
        if only and not any(name.lower().startswith(o) for o in only):
            continue
        t_s, t_o = interleaved_ms([f_scipy, f_ours], args.repeat)
        rows.append((name, f"{t_s:.1f}", f"{t_o:.1f}", f"{t_s / t_o:.2f}x"))
        print(f"  {name}: SciPy {t_s:.1f} ms, mlx_sparse {t_o:.1f} ms", file=sys.stderr, flush=True)
    threads = native_impl._native.num_threads() if native_impl.AVAILABLE else 0
    print(f"CPU products, float64 values, int32 indices, {os.cpu_count()} cores, native threads={threads}, "
          f"MLX cache limit {cache_limit >> 20} MB, load average {os.getloadavg()[0]:.1f}")
    print(table(rows, ("operation", "SciPy ms", "mlx_sparse ms", "speed-up vs SciPy")))


if __name__ == "__main__":
    main()
