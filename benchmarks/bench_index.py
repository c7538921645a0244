"""Indexing and structural edits vs SciPy on the CPU, in the same run.

    python benchmarks/bench_index.py [--n 200000] [--nnz 2000000] [--repeat 5]

Row/column selections (fancy, strided, submatrix), outer (np.ix_) and inner
(paired arrays) indexing, scalar reads, assignments that insert new entries, and
setdiag, on a random square CSR matrix (canonical, float64, int32 indices). Prints
the median time of each and the speed-up over SciPy (> 1 means faster than SciPy).
"""
import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import mlx.core as mx  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as ssp  # noqa: E402
from _timing import median_ms, table  # noqa: E402

import mlx_sparse.sparse as sp  # noqa: E402
from mlx_sparse._ops import native_impl  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=200_000)
    p.add_argument("--nnz", type=int, default=2_000_000)
    p.add_argument("--picks", type=int, default=20_000, help="rows/cols/pairs selected")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    mx.set_default_device(mx.cpu)
    warnings.simplefilter("ignore")  # SparseEfficiencyWarning: intended here
    rng = np.random.default_rng(0)
    n, nnz, k = args.n, args.nnz, args.picks
    S = ssp.csr_array((rng.random(nnz), (rng.integers(0, n, nnz), rng.integers(0, n, nnz))),
                      shape=(n, n))
    S.sum_duplicates()
    M = sp.csr_array(S)
    S_coo, M_coo = S.tocoo(), M.tocoo()
    rows, cols = rng.integers(0, n, k), rng.integers(0, n, k)
    small = min(k, 2000)

    def assign(A):
        B = A.copy()
        B[rows[:k // 4], cols[:k // 4]] = 3.0
        return B

    def setdiag(A):
        B = A.copy()
        B.setdiag(2.0)
        return B

    cases = [
        ("A[rows]", lambda A: A[rows]),
        ("A[::7]", lambda A: A[::7]),
        ("A[:, cols]", lambda A: A[:, cols]),
        ("A[a:b, c:d]", lambda A: A[n // 100:n // 4, n // 50:n // 2]),
        ("A[ix_(r, c)]", lambda A: A[np.ix_(rows[:small], cols[:small])]),
        ("A[r, c] (pairs)", lambda A: A[rows, cols]),
        ("A[i, j]", lambda A: A[5, 7]),
        ("A[r, c] = x (insert)", assign),
        ("setdiag(2.0)", setdiag),
    ]
    out = []
    for name, fn in cases:
        t_s = median_ms(lambda: fn(S), repeat=args.repeat)
        t_m = median_ms(lambda: fn(M), repeat=args.repeat)
        out.append((name, f"{t_s:.2f}", f"{t_m:.2f}", f"{t_s / t_m:.2f}"))
    t_s = median_ms(lambda: S_coo[n // 100:n // 4, ::3], repeat=args.repeat)
    t_m = median_ms(lambda: M_coo[n // 100:n // 4, ::3], repeat=args.repeat)
    out.append(("coo A[a:b, ::3]", f"{t_s:.2f}", f"{t_m:.2f}", f"{t_s / t_m:.2f}"))
    print(f"n={n} nnz={S.nnz} picks={k}; native kernels: {native_impl.AVAILABLE}")
    print(table(out, ("case", "scipy ms", "mlx_sparse ms", "speed-up")))


if __name__ == "__main__":
    main()
