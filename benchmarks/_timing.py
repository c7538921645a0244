"""Shared timing helpers for the benchmark scripts (not part of the test suite)."""
import statistics
import time

import mlx.core as mx


def median_ms(fn, repeat=7, warmup=1):
    """Median wall time of fn() in ms; MLX results are evaluated inside the timing."""
    return interleaved_ms([fn], repeat, warmup)[0]


def _eval(out):
    arrays = []
    for x in out if isinstance(out, tuple) else (out,):
        if isinstance(x, mx.array):
            arrays.append(x)
        elif hasattr(x, "_s"):  # one of our sparse objects: its storage buffers
            arrays += [v for v in vars(x._s).values() if isinstance(v, mx.array)]
    if arrays:
        mx.eval(*arrays)


def copy_bandwidth_gbs(nbytes=400_000_000):
    """Host memory copy bandwidth (read + write) measured now, as the GB/s yardstick."""
    import numpy as np
    a = np.ones(nbytes // 8)
    b = np.empty_like(a)
    t = median_ms(lambda: np.copyto(b, a), repeat=5)
    return 2 * a.nbytes / (t * 1e-3) / 1e9


def table(rows, header):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    lines = [fmt.format(*header)] + [fmt.format(*r) for r in rows]
    return "\n".join(lines)


def interleaved_ms(fns, repeat=7, warmup=1):
    """Median wall times (ms) of several functions measured round-robin in the same loop,
    so that a busy machine slows them alike; MLX results are evaluated inside the timing."""
    for f in fns:
        for _ in range(warmup):
            _eval(f())
    times = [[] for _ in fns]
    for _ in range(repeat):
        for f, ts in zip(fns, times):
            t0 = time.perf_counter()
            _eval(f())
            ts.append((time.perf_counter() - t0) * 1e3)
    return [statistics.median(ts) for ts in times]


def add_mlx_cache_arg(parser):
    """Adds --mlx-cache-mb (see set_mlx_cache) to an argparse parser."""
    parser.add_argument("--mlx-cache-mb", type=int, default=None,
                        help="mx.set_cache_limit: MLX keeps this much freed memory for reuse (its default "
                             "on Linux CPU is small, so large outputs land in fresh, page-faulting memory)")


def set_mlx_cache(mb):
    """mx.set_cache_limit(mb MiB) unless mb is None; returns the cache limit in effect, in bytes."""
    if mb is not None:
        mx.set_cache_limit(mb << 20)
    limit = mx.set_cache_limit(0)
    mx.set_cache_limit(limit)
    return limit
