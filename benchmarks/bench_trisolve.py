"""spsolve_triangular vs SciPy in the same run (CPU).

    python benchmarks/bench_trisolve.py [--side 1000] [--repeat 5]

Matrices (float64, CSR, with SciPy's defaults lower=True): the lower triangle of the
2-D 5-point Poisson matrix (side^2 rows), a random lower-triangular matrix with 10
entries per row (n = side^2), and a bidiagonal one (a chain: n levels). One right-hand
side and eight. Prints SciPy's and our median times (the same calls interleaved), the
speed-up (> 1: ours faster), the implementation ours ran, and the largest difference of
the two solutions relative to SciPy's largest entry.
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
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
