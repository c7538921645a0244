"""Constructors vs SciPy on the CPU, in the same run (issue: the whole scipy.sparse
namespace).

    python benchmarks/bench_construct.py [--repeat 5] [--cache-limit-gb 0] [--hugetlb]
                                         [--only SUBSTRING ...]

Cases: kron of two 2000x2000 tridiagonal matrices (36M output entries), vstack /
hstack of 100 blocks totalling 10M entries, diags with 5 offsets at n = 10M.
SciPy and mlx_sparse are timed interleaved (one call of each per round, the order
rotating between rounds, after one warm-up call of each), so a change in machine
load hits both alike. Prints median times, effective GB/s (output bytes written +
input bytes read) against the copy bandwidth measured in the same run, and the
speed-up over SciPy: the ratio of the medians and the median of the per-round ratios.
Also timed in the same rounds: "outputs alloc", mx.zeros of buffers of the result's
sizes and dtypes, the cost of merely allocating and writing the outputs once in MLX.

--cache-limit-gb sets mx.set_cache_limit: MLX's CPU allocator keeps freed buffers
only up to that limit (32 MB by default on this build), so every large output of
MLX otherwise lands on fresh, page-faulting memory. The default 0 leaves MLX's
setting alone; the figure with the cache raised is printed as well when asked.

--hugetlb re-runs the script with GLIBC_TUNABLES=glibc.malloc.hugetlb=1: glibc then
asks for transparent huge pages on its large (mmap'ed) blocks, as NumPy does for its
own arrays (madvise). MLX's buffers come from malloc, so without it every large MLX
output is faulted in 4 KiB pages: about twice NumPy's cost per fresh byte on this
kind of machine (THP set to "madvise"). The default run measures the environment as
it is.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import mlx.core as mx  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as ssp  # noqa: E402

from _timing import _eval, copy_bandwidth_gbs, table  # noqa: E402

import mlx_sparse.sparse as sp  # noqa: E402
from mlx_sparse._ops import native_impl  # noqa: E402


def tridiagonal(lib, n, fmt):
    ones = np.ones(n - 1)
    return lib.diags_array([ones, -2.0 * np.ones(n), ones], offsets=[-1, 0, 1],
                           format=fmt)


def blocks_csr(lib, nblocks, n, nnz_each, shape_axis, seed=0):
    """nblocks CSR blocks with nnz_each entries; n x n (stacked along shape_axis)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(nblocks):
        flat = rng.choice(n * n, size=nnz_each, replace=False)
        row, col = (flat // n).astype(np.int32), (flat % n).astype(np.int32)
        out.append(lib.csr_array((rng.random(nnz_each), (row, col)), shape=(n, n)))
    return out


def interleaved_ms(fns, repeat):
    """Median ms of each of fns (SciPy's, ours, ...) timed in rotating order, one
    call of each per round after a warm-up call of each, and the median per-round
    ratio of the first to the second."""
    def once(f):
        t0 = time.perf_counter()
        _eval(f())
        return (time.perf_counter() - t0) * 1e3
    for f in fns:
        once(f)
    times = [[] for _ in fns]
    for r in range(repeat):
        order = list(range(len(fns)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            times[i].append(once(fns[i]))
    ratio = statistics.median(s / o for s, o in zip(times[0], times[1]))
    return [statistics.median(t) for t in times], ratio


def output_floor(result):
    """A function allocating and writing (mx.zeros) MLX buffers of the sizes and
    dtypes of result's storage: the least any MLX-built result of that size costs
    with the allocator as configured."""
    specs = [(v.shape, v.dtype) for v in vars(result._s).values()
             if isinstance(v, mx.array)]
    return lambda: tuple(mx.zeros(shape, dt) for shape, dt in specs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--cache-limit-gb", type=float, default=0.0)
    p.add_argument("--n-kron", type=int, default=2000)
    p.add_argument("--n-diags", type=int, default=10_000_000)
    p.add_argument("--nnz-stack", type=int, default=10_000_000)
    p.add_argument("--hugetlb", action="store_true",
                   help="re-run with GLIBC_TUNABLES=glibc.malloc.hugetlb=1")
    p.add_argument("--only", nargs="*", default=(),
                   help="run only the cases whose name contains one of these")
    args = p.parse_args()
    if args.hugetlb and "glibc.malloc.hugetlb" not in os.environ.get("GLIBC_TUNABLES", ""):
        env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.hugetlb=1")
        argv = [a for a in sys.argv if a != "--hugetlb"]
        os.execve(sys.executable, [sys.executable] + argv, env)
    mx.set_default_device(mx.cpu)
    if args.cache_limit_gb:
        mx.set_cache_limit(int(args.cache_limit_gb * 2**30))

    # --- inputs (identical for both libraries) -------------------------------------
    nk = args.n_kron
    K_s, K_m = tridiagonal(ssp, nk, "csr"), None
    K_m = sp.csr_array(K_s)
    nb, nblk = 100, 10_000
    each = args.nnz_stack // nb
    S_blocks = blocks_csr(ssp, nb, nblk, each, 0)
    M_blocks = [sp.csr_array(b) for b in S_blocks]
    S_coo = [b.tocoo() for b in S_blocks]
    M_coo = [b.tocoo() for b in M_blocks]
    nd = args.n_diags
    offsets = [-2, -1, 0, 1, 2]
    rng = np.random.default_rng(1)
    diagonals = [rng.random(nd - abs(k)) for k in offsets]
    diagonals_mx = [mx.array(d, dtype=mx.float64) for d in diagonals]
    mx.eval(*diagonals_mx)

    nnz_k = K_s.nnz ** 2
    nnz_d = sum(len(d) for d in diagonals)
    f8, i4 = 8, 4
    cases = [
        ("kron 2000^2 tridiag (coo)", lambda: ssp.kron(K_s, K_s),
         lambda: sp.kron(K_m, K_m), nnz_k * (f8 + 2 * i4)),
        ("kron 2000^2 tridiag, format=csr", lambda: ssp.kron(K_s, K_s, format="csr"),
         lambda: sp.kron(K_m, K_m, format="csr"), nnz_k * (f8 + i4)),
        ("vstack 100 csr (csr)", lambda: ssp.vstack(S_blocks),
         lambda: sp.vstack(M_blocks), 2 * args.nnz_stack * (f8 + i4)),
        ("hstack 100 csr (csr)", lambda: ssp.hstack(S_blocks),
         lambda: sp.hstack(M_blocks), 2 * args.nnz_stack * (f8 + i4)),
        ("vstack 100 coo (coo)", lambda: ssp.vstack(S_coo),
         lambda: sp.vstack(M_coo), 2 * args.nnz_stack * (f8 + 2 * i4)),
        ("hstack 100 coo (coo)", lambda: ssp.hstack(S_coo),
         lambda: sp.hstack(M_coo), 2 * args.nnz_stack * (f8 + 2 * i4)),
        ("diags 5 offsets n=10M (dia)",
         lambda: ssp.diags_array(diagonals, offsets=offsets),
         lambda: sp.diags_array(diagonals_mx, offsets=offsets), 2 * nnz_d * f8),
        ("diags 5 offsets n=10M, format=csr",
         lambda: ssp.diags_array(diagonals, offsets=offsets, format="csr"),
         lambda: sp.diags_array(diagonals_mx, offsets=offsets, format="csr"),
         nnz_d * (2 * f8 + i4)),
    ]
    if args.only:
        cases = [c for c in cases if any(o in c[0] for o in args.only)]
    # correctness spot check before timing
    floors = []
    for name, f_s, f_o, _ in cases:
        a, b = f_o(), f_s()
        assert a.format == b.format and a.nnz == b.nnz and a.shape == b.shape, name
        floors.append(output_floor(a))
        del a, b

    bw = copy_bandwidth_gbs()
    rows = []
    for (name, f_s, f_o, nbytes), floor in zip(cases, floors):
        (t_s, t_o, t_f), ratio = interleaved_ms((f_s, f_o, floor), args.repeat)
        gbs = nbytes / (t_o * 1e-3) / 1e9
        rows.append((name, f"{t_s:.1f}", f"{t_o:.1f}", f"{gbs:.2f}",
                     f"{100 * gbs / bw:.0f}%", f"{t_s / t_o:.2f}x", f"{ratio:.2f}x",
                     f"{t_f:.1f}", f"{t_s / t_f:.2f}x"))
    threads = native_impl._native.num_threads() if native_impl.AVAILABLE and hasattr(
        native_impl._native, "num_threads") else 0
    limit = mx.set_cache_limit(0)
    mx.set_cache_limit(limit)
    print(f"CPU constructors, {os.cpu_count()} cores, native={native_impl.AVAILABLE} "
          f"(threads={threads}), MLX cache limit {limit / 2**20:.0f} MB, "
          f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '')!r}, "
          f"copy bandwidth {bw:.1f} GB/s, load average {os.getloadavg()[0]:.1f}, "
          f"{args.repeat} interleaved rounds")
    print(table(rows, ("operation", "SciPy ms", "mlx_sparse ms", "GB/s", "of copy",
                       "speed-up (medians)", "median of ratios", "outputs alloc ms",
                       "SciPy / alloc")))
    print("outputs alloc: mx.zeros of the result's buffers alone (allocation, page "
          "faults, one write); SciPy / alloc bounds the speed-up any MLX-built result "
          "can reach with the allocator as configured.")


if __name__ == "__main__":
    main()
