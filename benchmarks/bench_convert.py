"""Conversions vs SciPy on the CPU, in the same run (issue: foundation).

    python benchmarks/bench_convert.py [--nnz 10000000] [--threads N]

Prints time, effective GB/s (bytes read + written) against the copy bandwidth measured
in the same run, and the speed-up over SciPy (> 1 means faster than SciPy).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import mlx.core as mx
import numpy as np
import scipy.sparse as ssp

from _timing import add_mlx_cache_arg, copy_bandwidth_gbs, interleaved_ms, set_mlx_cache, table

import mlx_sparse.sparse as sp
from mlx_sparse._ops import native_impl


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nnz", type=int, default=10_000_000)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--dense", type=int, default=3000, help="side of the dense test matrix")
    p.add_argument("--repeat", type=int, default=7)
    add_mlx_cache_arg(p)
    args = p.parse_args()
    mx.set_default_device(mx.cpu)
    cache_limit = set_mlx_cache(args.mlx_cache_mb)
    rng = np.random.default_rng(0)
    n, nnz = args.rows, args.nnz

    # Random (row, col) with ~duplicates; float64 values, int32 indices (SciPy's choice).
    row = rng.integers(0, n, nnz, dtype=np.int32)
    col = rng.integers(0, n, nnz, dtype=np.int32)
    val = rng.random(nnz)
    S_coo = ssp.coo_array((val, (row, col)), shape=(n, n))
    M_coo = sp.coo_array((val, (row, col)), shape=(n, n))
    S_csr, M_csr = S_coo.tocsr(), M_coo.tocsr()

    # Unsorted CSR with duplicates for sort + sum_duplicates.
    perm_in_rows = np.lexsort((rng.random(S_csr.nnz), np.repeat(np.arange(n), np.diff(S_csr.indptr))))
    dup_idx = S_csr.indices[perm_in_rows].copy()
    dup_idx[1::4] = dup_idx[::4][: dup_idx[1::4].size]  # create duplicates within rows
    unsorted = (S_csr.data[perm_in_rows], dup_idx, S_csr.indptr)

    def scipy_canon():
        A = ssp.csr_array(unsorted, shape=(n, n), copy=True)
        A.has_sorted_indices = False
        A.has_canonical_format = False
        A.sum_duplicates()
        return A

    M_unsorted = sp.csr_array(unsorted, shape=(n, n))

    def ours_canon():
        A = M_unsorted.copy()
        A.has_sorted_indices = False
        A.sum_duplicates()
        return A

    m = args.dense
    dense = ssp.random_array((m, m), density=0.5, rng=1).toarray()
    dense_mx = mx.array(dense, dtype=mx.float64)
    S_d, M_d = ssp.csr_array(dense), sp.csr_array(dense_mx)

    idx_b, val_b = 4, 8
    cases = [
        ("coo->csr (duplicates)", lambda: S_coo.tocsr(), lambda: M_coo.tocsr(),
         nnz * (2 * idx_b + val_b) * 2),
        ("csr->csc", lambda: S_csr.tocsc(), lambda: M_csr.tocsc(),
         S_csr.nnz * (idx_b + val_b) * 2),
        ("sort + sum_duplicates", scipy_canon, ours_canon,
         S_csr.nnz * (idx_b + val_b) * 2),
        (f"todense {m}x{m} 50%", lambda: S_d.toarray(), lambda: M_d.toarray(),
         S_d.nnz * (idx_b + val_b) + m * m * val_b),
        (f"fromdense {m}x{m} 50%", lambda: ssp.csr_array(dense), lambda: sp.csr_array(dense_mx),
         m * m * val_b + S_d.nnz * (idx_b + val_b)),
    ]
    bw = copy_bandwidth_gbs()
    rows = []
    for name, f_scipy, f_ours, nbytes in cases:
        t_s, t_o = interleaved_ms([f_scipy, f_ours], args.repeat)  # round-robin: same machine load
        gbs = nbytes / (t_o * 1e-3) / 1e9
        rows.append((name, f"{t_s:.1f}", f"{t_o:.1f}", f"{gbs:.2f}", f"{100 * gbs / bw:.0f}%",
                     f"{t_s / t_o:.2f}x"))
    threads = native_impl._native.num_threads() if native_impl.AVAILABLE else 0
    print(f"CPU conversions, nnz={nnz:,}, {os.cpu_count()} cores, native threads={threads}, "
          f"copy bandwidth {bw:.1f} GB/s, MLX cache limit {cache_limit >> 20} MB, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(table(rows, ("operation", "SciPy ms", "mlx_sparse ms", "GB/s", "of copy",
                       "speed-up vs SciPy")))


if __name__ == "__main__":
    main()
