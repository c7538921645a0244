"""SpGEMM C = A @ A on an NVIDIA GPU: mlx_sparse against CuPy (cupyx.scipy.sparse,
cuSPARSE) and torch.sparse (CSR), same matrices, one run.

    python benchmarks/gpu_spgemm.py [--trials 7] [--only poisson,stencil] [--breakdown]

Matrices (float32 values, int32 indices) from benchmarks/gpu_spmv.py: the 2-D Poisson
5-point stencil on 2048^2 (4.2M rows; C has 13 per row), the 3-D 27-point stencil on
100^3, the FEM-like 3x3-block matrix, uniform random 1M x 1M with 8 per row, a tiny
128 x 128. Times: the median of --trials calls, each a whole product with its result
evaluated (SpGEMM syncs with the host for the output's size, so calls are not chained).
Each result is checked against CuPy's (values within float32 rounding).
"""
import argparse
import os
import statistics
import sys
import time

import mlx.core as mx
import numpy as np
import scipy.sparse as ssp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gpu_spmv import poisson2d, stencil27, fem_blocks, uniform, tiny  # noqa: E402

from mlx_sparse._ops import gpu_impl  # noqa: E402

MATRICES = {
    "poisson2d_2048": lambda rng: poisson2d(2048, rng),
    "stencil27_100": lambda rng: stencil27(100, rng),
    "fem3x3_600": lambda rng: fem_blocks(600, rng),
    "uniform_1M_8": lambda rng: uniform(2**20, 8, rng),
    "tiny_128": tiny,
}


def _ms(call, sync, trials):
    call()
    sync()

    def once():
        sync()
        t0 = time.perf_counter()
        call()
        sync()
        return (time.perf_counter() - t0) * 1e3
    times = [once() for _ in range(trials)]
    LAST_TIMES[:] = times
    return statistics.median(times)


LAST_TIMES = []  # the trials of the last _ms call


def baselines():
    """(cupy, cupyx.scipy.sparse, torch or None), with the GPU as MLX's default device."""
    mx.set_default_device(mx.gpu)
    import cupy
    import cupyx.scipy.sparse
    try:
        import torch
    except ImportError:
        torch = None
    return cupy, cupyx.scipy.sparse, torch


def breakdown(ip, ix, dv, n, n_cols, trials):
    """Times of the count pass alone, the fill pass alone, and the whole product."""
    slots = next(m for m in gpu_impl._SPGEMM_SLOTS if gpu_impl._rowmax_host(ip) <= m)
    one = (1,)
    targs = dict(T=dv.dtype, A=gpu_impl._acc(dv.dtype), I=ip.dtype, MAXK=slots)
    count = lambda: gpu_impl._launch(  # noqa: E731
        "spgemm_rows", [ip, ix, dv, ip, ix, dv, mx.zeros(one, dtype=ip.dtype)], (n, 1),
        [(n,), one, one, one], [ip.dtype, ip.dtype, dv.dtype, ip.dtype], init=0, FILL=0, **targs)
    c_ptr, _, _ = gpu_impl.compressed_matmul(n, n_cols, n_cols, ip, ix, dv, ip, ix, dv)
    nnz = int(c_ptr[-1].item())
    fill = lambda: gpu_impl._launch(  # noqa: E731
        "spgemm_rows", [ip, ix, dv, ip, ix, dv, c_ptr], (n, 1), [one, (nnz,), (nnz,), one],
        [ip.dtype, ip.dtype, dv.dtype, ip.dtype], FILL=1, **targs)
    scan = lambda: gpu_impl.mlx_impl._exclusive_cumsum(c_ptr, mx.int64)  # noqa: E731
    for what, fn in (("count pass", count), ("fill pass", fill), ("cumsum", scan)):
        print(f"  {what}: {_ms(lambda: mx.eval(fn()), mx.synchronize, trials):.3f} ms", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=7)
    ap.add_argument("--only", default="")
    ap.add_argument("--breakdown", action="store_true", help="also time each pass alone")
    args = ap.parse_args()
    cp, csp, torch = baselines()
    rng = np.random.default_rng(0)
    rows = []
    for name, make in MATRICES.items():
        if args.only and not any(name.startswith(o) for o in args.only.split(",")):
            continue
        indptr, indices, data, n, n_cols = make(rng)
        ip, ix, dv = mx.array(indptr), mx.array(indices), mx.array(data)
        out = {}

        def ours():
            out["c"] = gpu_impl.compressed_matmul(n, n_cols, n_cols, ip, ix, dv, ip, ix, dv)
            mx.eval(out["c"])
        t_ours = _ms(ours, mx.synchronize, args.trials)
        if args.breakdown:
            print(f"  trials: {' '.join(f'{t:.2f}' for t in LAST_TIMES)} ms", flush=True)
            print(f"  memory: active {mx.get_active_memory() / 2**20:.0f} MB, "
                  f"cache {mx.get_cache_memory() / 2**20:.0f} MB", flush=True)
        C = csp.csr_matrix((cp.asarray(data), cp.asarray(indices), cp.asarray(indptr)),
                           shape=(n, n_cols))
        cres = {}

        def cupy_mm():
            cres["c"] = C @ C
        t_cupy = _ms(cupy_mm, cp.cuda.Stream.null.synchronize, args.trials)
        t_torch = float("nan")
        if torch is not None:
            T = torch.sparse_csr_tensor(torch.as_tensor(indptr.astype(np.int64)).cuda(),
                                        torch.as_tensor(indices.astype(np.int64)).cuda(),
                                        torch.as_tensor(data).cuda(), size=(n, n_cols))
            try:
                t_torch = _ms(lambda: torch.sparse.mm(T, T), torch.cuda.synchronize, args.trials)
            except RuntimeError as e:  # no CSR @ CSR in this torch build
                print(f"torch: {e}", file=sys.stderr)
        # check against CuPy's product: the same values within float32 rounding (sums
        # that cancel may be exactly zero in one summation order only: such entries are
        # stored by one side alone, and must be tiny)
        ref = cres["c"].get()
        ref.sum_duplicates()
        c_ptr, c_idx, c_dat = (np.asarray(a) for a in out["c"])
        mine = ssp.csr_matrix((c_dat, c_idx, c_ptr), shape=ref.shape)
        scale = np.abs(ref.data).max() if ref.nnz else 1.0
        diff = abs(mine - ref)
        same = diff.nnz == 0 or diff.data.max() <= 1e-5 * scale
        ref.eliminate_zeros()
        print(f"  {name}: nnz {mine.nnz} vs CuPy {ref.nnz}, max |difference| "
              f"{diff.data.max() if diff.nnz else 0:.3g} (max |C| {scale:.3g})", flush=True)
        if args.breakdown:
            breakdown(ip, ix, dv, n, n_cols, args.trials)
        rows.append((name, n, int(indptr[-1]), int(c_ptr[-1]), t_ours, t_cupy, t_torch, same))
        print(f"{name}: ours {t_ours:.3f} ms, CuPy {t_cupy:.3f} ms, torch {t_torch:.3f} ms, "
              f"matches CuPy: {same}", flush=True)
    device = torch.cuda.get_device_name() if torch is not None else "GPU"
    print(f"\nSpGEMM A @ A, float32, {device}; mlx {mx.__version__}, cupy {cp.__version__}")
    print(f"{'matrix':16} {'rows':>9} {'nnz A':>10} {'nnz C':>11} {'ours ms':>9} {'CuPy ms':>9} "
          f"{'torch ms':>9} {'vs CuPy':>8} ok")
    for name, n, nnz, nnz_c, a, b, c, same in rows:
        print(f"{name:16} {n:9,} {nnz:10,} {nnz_c:11,} {a:9.3f} {b:9.3f} {c:9.3f} {b / a:7.2f}x {same}")


if __name__ == "__main__":
    main()
