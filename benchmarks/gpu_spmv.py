"""SpMV and SpMM (k = 8) on an NVIDIA GPU: mlx_sparse's kernels against CuPy
(cupyx.scipy.sparse, i.e. cuSPARSE) and torch.sparse (CSR), same matrices, one run.

    python benchmarks/gpu_spmv.py [--reps 50] [--only poisson,uniform] [--compare] [--sweep]
                                  [--json F]

Matrices (float32 values, int32 indices): 2-D Poisson 5-point stencil on 2048^2
(4.2M rows), a 3-D 27-point stencil on 100^3, a FEM-like matrix of 3x3 blocks (9-point
stencil on a 600^2 grid, 3 unknowns per node), uniform random 4M x 4M with 16 per row,
power-law row lengths (2M rows, ~32M nonzeros, Pareto tail), 1M rows of 4 plus 8 rows
of 100k, and a tiny 128 x 128.

Times are medians over --trials runs. "kernel ms" is one product's share of --reps
products evaluated together (MLX: one mx.eval of --reps products built beforehand;
CuPy / torch: --reps calls between two CUDA events), so launch overhead is amortised;
"1-call ms" is one product plus its evaluation, launch and sync included. GB/s counts
the fewest bytes a product must move (A once, x and y once) over kernel time, beside
the device-to-device copy bandwidth (read + write) measured in the same run.
--compare also times the SpMV kernels the default chooses between: "warp" (the row
kernel spmv_warp, with spmv_heads for long rows) and "merge" (merge path: spmv_carry +
spmv_merge, tiles of 256 * V items, V = 4, 8, 16). --sweep also times other layouts
than the default (gpu_impl.TUNING): SpMV spmv_rows (LANES, BATCH), spmv_warp
"w"(SHORT, GL, BATCH), SpMM (LANES, VEC, BATCH).
"""
import argparse
import json
import os
import statistics
import sys
import time

import mlx.core as mx
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from mlx_sparse._ops import gpu_impl  # noqa: E402

K = 8


# ----------------------------------------------------------------------------------
# matrices: (indptr, indices, data, n_rows, n_cols) as NumPy, canonical CSR
# ----------------------------------------------------------------------------------
def poisson2d(m, rng):
    n = m * m
    i = np.arange(n, dtype=np.int64)
    a, b = i // m, i % m
    offs = (-m, -1, 0, 1, m)
    valid = np.stack([a > 0, b > 0, np.ones(n, bool), b < m - 1, a < m - 1], axis=1)
    cols = i[:, None] + np.array(offs)[None, :]
    vals = np.where(np.array(offs) == 0, 4.0, -1.0)[None, :].repeat(n, 0)
    indptr = np.concatenate([[0], np.cumsum(valid.sum(1))]).astype(np.int32)
    return indptr, cols[valid].astype(np.int32), vals[valid].astype(np.float32), n, n


def stencil27(m, rng):
    """3-D 27-point stencil on an m^3 grid."""
    n = m ** 3
    i = np.arange(n, dtype=np.int64)
    a, b, c = i // (m * m), (i // m) % m, i % m
    cols, valid = [], []
    for da in (-1, 0, 1):
        for db in (-1, 0, 1):
            for dc in (-1, 0, 1):
                cols.append(i + da * m * m + db * m + dc)
                valid.append((a + da >= 0) & (a + da < m) & (b + db >= 0) & (b + db < m)
                             & (c + dc >= 0) & (c + dc < m))
    cols, valid = np.stack(cols, 1), np.stack(valid, 1)
    vals = np.where(cols == i[:, None], 26.0, -1.0)
    indptr = np.concatenate([[0], np.cumsum(valid.sum(1))]).astype(np.int32)
    return indptr, cols[valid].astype(np.int32), vals[valid].astype(np.float32), n, n


def fem_blocks(m, rng):
    """FEM-like: 3x3 blocks on the pattern of a 9-point stencil on an m^2 grid."""
    nodes = m * m
    i = np.arange(nodes, dtype=np.int64)
    a, b = i // m, i % m
    cols, valid = [], []
    for da in (-1, 0, 1):
        for db in (-1, 0, 1):
            cols.append(i + da * m + db)
            valid.append((a + da >= 0) & (a + da < m) & (b + db >= 0) & (b + db < m))
    cols, valid = np.stack(cols, 1), np.stack(valid, 1)
    node_lens = valid.sum(1)
    node_ptr = np.concatenate([[0], np.cumsum(node_lens)])
    block_cols = (3 * cols[valid][:, None] + np.arange(3)).ravel()  # a node's 3 columns
    lens = np.repeat(3 * node_lens, 3)  # each node gives 3 rows of 3 * its neighbours
    indptr = np.concatenate([[0], np.cumsum(lens)])
    starts = np.repeat(3 * node_ptr[:-1], 3)
    src = np.repeat(starts - indptr[:-1], lens) + np.arange(indptr[-1])
    indices = block_cols[src].astype(np.int32)
    data = rng.standard_normal(indices.size).astype(np.float32)
    return indptr.astype(np.int32), indices, data, 3 * nodes, 3 * nodes


def _from_lengths(lens, n_cols, rng):
    """Random sorted columns (repeats possible) for the given row lengths."""
    n = lens.size
    indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), lens)
    keys = np.sort(rows * n_cols + rng.integers(0, n_cols, rows.size))
    indices = (keys % n_cols).astype(np.int32)
    data = rng.standard_normal(indices.size).astype(np.float32)
    return indptr.astype(np.int32), indices, data, n, n_cols


def uniform(n, per_row, rng):
    idx = np.sort(rng.integers(0, n, (n, per_row), dtype=np.int32), axis=1).ravel()
    indptr = (np.arange(n + 1, dtype=np.int64) * per_row).astype(np.int32)
    return indptr, idx, rng.standard_normal(idx.size).astype(np.float32), n, n


def powerlaw(n, rng):
    lens = np.minimum(1 + np.floor(7.5 * rng.pareto(1.5, n)), 200_000).astype(np.int64)
    return _from_lengths(lens, n, rng)


def long_rows(n, rng):
    lens = np.full(n, 4, dtype=np.int64)
    lens[rng.choice(n, 8, replace=False)] = 100_000
    return _from_lengths(lens, n, rng)


def tiny(rng):
    return _from_lengths(rng.integers(0, 16, 128), 128, rng)


MATRICES = {
    "poisson2d_2048": lambda rng: poisson2d(2048, rng),
    "stencil27_100": lambda rng: stencil27(100, rng),
    "fem3x3_600": lambda rng: fem_blocks(600, rng),
    "uniform_4M_16": lambda rng: uniform(4 * 2**20, 16, rng),
    "powerlaw_2M": lambda rng: powerlaw(2 * 2**20, rng),
    "longrows_1M": lambda rng: long_rows(2**20, rng),
    "tiny_128": tiny,
}


# ----------------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------------
def _median(f, trials):
    return statistics.median(f() for _ in range(trials))


def time_mlx(fn, reps, trials):
    """(kernel ms, 1-call ms, result)."""
    out = fn()
    mx.eval(out)  # compile + warm up

    def chained():
        outs = [fn() for _ in range(reps)]
        t0 = time.perf_counter()
        mx.eval(outs)
        return (time.perf_counter() - t0) * 1e3 / reps

    def single():
        t0 = time.perf_counter()
        mx.eval(fn())
        return (time.perf_counter() - t0) * 1e3

    return _median(chained, trials), _median(single, trials), out


def time_events(fn, sync, make_event, elapsed_ms, reps, trials):
    """CuPy / torch: (kernel ms, 1-call ms, result), timed with CUDA events."""
    out = fn()
    sync()

    def chained():
        a, b = make_event(), make_event()
        a.record()
        for _ in range(reps):
            fn()
        b.record()
        b.synchronize()
        return elapsed_ms(a, b) / reps

    def single():
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        return (time.perf_counter() - t0) * 1e3

    return _median(chained, trials), _median(single, trials), out


def copy_bandwidth(cp, trials=5):
    a = cp.ones(2**28, dtype=cp.float32)  # 1 GiB
    b = cp.empty_like(a)
    cp.copyto(b, a)
    s, e = cp.cuda.Event(), cp.cuda.Event()

    def once():
        s.record()
        for _ in range(10):
            cp.copyto(b, a)
        e.record()
        e.synchronize()
        return cp.cuda.get_elapsed_time(s, e) / 10

    ms = _median(once, trials)
    del a, b
    return 2 * 2**30 / (ms * 1e-3) / 1e9


# ----------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--trials", type=int, default=7)
    ap.add_argument("--only", default="", help="comma-separated matrix names")
    ap.add_argument("--sweep", action="store_true", help="time every kernel variant")
    ap.add_argument("--ops", default="spmv,spmm", help="spmv, spmm or both")
    ap.add_argument("--compare", action="store_true",
                    help="time both SpMV kernel families (warp, merge) beside the default")
    ap.add_argument("--json", help="write all numbers here")
    args = ap.parse_args()

    import cupy as cp
    import cupyx.scipy.sparse as cpsp
    import torch

    if gpu_impl.API != "cuda":
        sys.exit("gpu_spmv: needs MLX's CUDA backend")
    mx.set_default_device(mx.gpu)
    dev = torch.device("cuda")
    copy_gbs = copy_bandwidth(cp)
    print(f"device: {torch.cuda.get_device_name()}; mlx {mx.__version__}, cupy {cp.__version__}, "
          f"torch {torch.__version__}; copy bandwidth {copy_gbs:.0f} GB/s (read + write)")

    cp_timer = (cp.cuda.Device().synchronize, cp.cuda.Event, cp.cuda.get_elapsed_time)
    torch_timer = (torch.cuda.synchronize, lambda: torch.cuda.Event(enable_timing=True),
                   lambda a, b: a.elapsed_time(b))

    names = [n for n in args.only.split(",") if n in MATRICES] if args.only else list(MATRICES)
    rows, records = [], []
    for name in names:
        rng = np.random.default_rng(0)
        t0 = time.perf_counter()
        indptr, indices, data, n_rows, n_cols = MATRICES[name](rng)
        nnz = indices.size
        x = rng.standard_normal(n_cols).astype(np.float32)
        X = rng.standard_normal((n_cols, K)).astype(np.float32)
        print(f"\n{name}: {n_rows} x {n_cols}, nnz {nnz} (mean {nnz / n_rows:.1f}, max "
              f"{np.diff(indptr).max()} per row), built in {time.perf_counter() - t0:.1f} s",
              flush=True)

        m_ip, m_ix, m_d = mx.array(indptr), mx.array(indices), mx.array(data)
        m_x, m_X = mx.array(x), mx.array(X)
        A_cp = cpsp.csr_matrix((cp.asarray(data), cp.asarray(indices), cp.asarray(indptr)),
                               shape=(n_rows, n_cols))
        x_cp, X_cp = cp.asarray(x), cp.asarray(X)
        A_t = torch.sparse_csr_tensor(torch.from_numpy(indptr).to(dev),
                                      torch.from_numpy(indices).to(dev),
                                      torch.from_numpy(data).to(dev), size=(n_rows, n_cols))
        x_t, X_t = torch.from_numpy(x).to(dev), torch.from_numpy(X).to(dev)

        a_bytes = nnz * 8 + (n_rows + 1) * 4
        for op, k in (("spmv", 1), ("spmm", K)):
            if op not in args.ops.split(","):
                continue
            nbytes = a_bytes + (n_cols + n_rows) * 4 * k
            if op == "spmv":
                f_mlx = lambda: gpu_impl.compressed_matvec(n_rows, n_cols, m_ip, m_ix, m_d, m_x)
                f_cp, f_t = (lambda: A_cp @ x_cp), (lambda: A_t @ x_t)
                variants = [{}] + ([{"spmv_kernel": "warp"}] + [
                    {"spmv_kernel": "merge", "spmv_merge_v": v} for v in (4, 8, 16)]
                    if args.compare or args.sweep else []) + (
                                   [{"spmv_kernel": "rows", "spmv_lanes": a, "spmv_batch": b}
                                    for a, b in ((2, 4), (8, 2))] +
                                   [{"spmv_kernel": "warp", "spmv_short": a, "spmv_gl": b,
                                     "spmv_batch": c}
                                    for a, b, c in ((16, 8, 2), (4, 8, 2), (4, 8, 4), (4, 4, 4),
                                                    (2, 8, 2), (8, 8, 2), (4, 16, 2))]
                                   if args.sweep else [])
            else:
                f_mlx = lambda: gpu_impl.compressed_matmat(n_rows, n_cols, m_ip, m_ix, m_d, m_X)
                f_cp, f_t = (lambda: A_cp @ X_cp), (lambda: A_t @ X_t)
                variants = [{}] + ([{"spmm_lanes": a, "spmm_vec": b, "spmm_batch": c}
                                    for a, b, c in ((8, 1, 4), (2, 4, 2))]
                                   if args.sweep else [])
            c_ms, c_1, y_cp = time_events(f_cp, *cp_timer, args.reps, args.trials)
            ref = cp.asnumpy(y_cp).astype(np.float64)
            try:
                t_ms, t_1, y_t = time_events(f_t, *torch_timer, args.reps, args.trials)
                t_err = np.linalg.norm(y_t.cpu().numpy() - ref) / np.linalg.norm(ref)
            except RuntimeError as e:  # an op torch.sparse lacks: report, go on
                print(f"  torch: {str(e).splitlines()[0]}")
                t_ms = t_1 = t_err = float("nan")
            for var in variants:
                gpu_impl.TUNING.update(var)
                try:
                    m_ms, m_1, y = time_mlx(f_mlx, args.reps, args.trials)
                finally:
                    gpu_impl.TUNING.update({kn: None for kn in var})
                err = np.linalg.norm(np.asarray(y).astype(np.float64) - ref) / np.linalg.norm(ref)
                label = ",".join(f"{v}" for v in var.values()).replace("warp,", "w").replace(
                    "rows,", "r").replace("merge,", "merge v") or "auto"
                if not var and op == "spmv":
                    kind, v = gpu_impl._spmv_kind(m_ip, nnz, n_rows)
                    label = f"auto:{kind}" + (f" v{v}" if kind == "merge" else "")
                rec = dict(matrix=name, rows=n_rows, nnz=nnz, op=op, variant=label,
                           mlx_ms=m_ms, mlx_1call_ms=m_1, cupy_ms=c_ms, cupy_1call_ms=c_1,
                           torch_ms=t_ms, torch_1call_ms=t_1, bytes=nbytes,
                           mlx_gbs=nbytes / m_ms / 1e6, cupy_gbs=nbytes / c_ms / 1e6,
                           copy_gbs=copy_gbs, mlx_relerr=err, torch_relerr=t_err)
                records.append(rec)
                rows.append([name, op if k == 1 else f"{op} k={k}", label, f"{m_ms:.4f}",
                             f"{m_1:.3f}", f"{c_ms:.4f}", f"{t_ms:.4f}",
                             f"{rec['mlx_gbs']:.0f}", f"{rec['cupy_gbs']:.0f}",
                             f"{c_ms / m_ms:.2f}", f"{t_ms / m_ms:.2f}", f"{err:.1e}"])
                print("  ".join(rows[-1]), flush=True)
        del A_cp, A_t, x_cp, X_cp, x_t, X_t, y_cp
        cp.get_default_memory_pool().free_all_blocks()
        torch.cuda.empty_cache()

    header = ["matrix", "op", "variant", "mlx ms", "mlx 1-call", "cupy ms", "torch ms",
              "mlx GB/s", "cupy GB/s", "cupy/mlx", "torch/mlx", "mlx relerr"]
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    print(f"\ncopy bandwidth {copy_gbs:.0f} GB/s; kernel ms = one product's share of "
          f"{args.reps} evaluated together; ratios > 1: mlx_sparse faster")
    print("\n".join([fmt.format(*header)] + [fmt.format(*r) for r in rows]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(copy_gbs=copy_gbs, records=records), f, indent=1)


if __name__ == "__main__":
    main()
