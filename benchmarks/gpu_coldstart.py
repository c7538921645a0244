"""Start-up cost of the GPU kernels on MLX's CUDA backend: the first SpMV of a new
process, with an empty kernel cache (every kernel compiled by NVRTC) and again with the
cache the first process left on disk.

    python benchmarks/gpu_coldstart.py [--json F]

How the cache works (MLX 0.32, mlx/backend/cuda/jit_module.cpp): every kernel module
MLX compiles with NVRTC, its own and those of mx.fast.cuda_kernel, is written to
$MLX_PTX_CACHE_DIR (default: $TMPDIR/mlx/<mlx version>/ptx) as <module>.ptx (a cubin
for the GPU's arch) + <module>.txt (kernel names), and a later process loads it from
there instead of compiling. A custom kernel's module is named after the kernel name
and its template arguments; mlx_sparse puts a digest of the kernel text into the name,
so an edited kernel never loads a stale entry.

Each measurement is a fresh Python process (the cache folder set through
MLX_PTX_CACHE_DIR): import, one SpMV per SpMV kernel family (merge path: 3 kernels;
row kernel: 2), each timed to its result, then the same calls again (warm).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import mlx.core as mx
import numpy as np
sys.path.insert(0, sys.argv[1])
from mlx_sparse._ops import gpu_impl
t_import = time.perf_counter() - t0
mx.set_default_device(mx.gpu)
rng = np.random.default_rng(0)
n = 100_000
lens = rng.integers(0, 8, n); lens[::5000] = 20_000        # some very long rows
indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int32)
indices = rng.integers(0, n, indptr[-1]).astype(np.int32)
data = rng.standard_normal(indptr[-1]).astype(np.float32)
x = mx.array(rng.standard_normal(n).astype(np.float32))
ip, ix, d = mx.array(indptr), mx.array(indices), mx.array(data)
# warm MLX itself (its own kernels for the set-up ops), so the figures are ours
mx.eval(mx.max(ip[1:] - ip[:-1]) + 1, x + 1)
res = {"import_s": t_import}
for kind in ("merge", "warp"):
    gpu_impl.TUNING["spmv_kernel"] = kind
    for call in ("first", "second"):
        t = time.perf_counter()
        mx.eval(gpu_impl.compressed_matvec(n, n, ip, ix, d, x))
        res[f"{kind}_{call}_s"] = time.perf_counter() - t
print(json.dumps(res))
"""


def run(cache, root):
    env = dict(os.environ, MLX_PTX_CACHE_DIR=cache, PYTHONUNBUFFERED="1")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, root], env=env, capture_output=True,
                         text=True)
    wall = time.perf_counter() - t
    if out.returncode:
        sys.exit(f"child failed:\n{out.stderr[-3000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = wall
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json")
    args = ap.parse_args()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    cache = tempfile.mkdtemp(prefix="mlxs_ptx_")
    rows = {"empty cache": run(cache, root)}
    files = sorted(os.listdir(cache))
    rows["cache on disk"] = run(cache, root)
    ours = [f for f in files if f.startswith("custom_kernel_mlxs_") and f.endswith(".ptx")]
    size = sum(os.path.getsize(os.path.join(cache, f)) for f in files)
    keys = [k for k in rows["empty cache"] if k != "import_s"]
    print(f"kernel cache {cache}: {len(files)} files, {size / 1e6:.1f} MB; "
          f"mlx_sparse modules: {len(ours)}")
    print(f"{'process':14s} {'import s':>9s} " + " ".join(f"{k:>16s}" for k in keys))
    for name, r in rows.items():
        print(f"{name:14s} {r['import_s']:9.3f} " + " ".join(f"{r[k]:16.4f}" for k in keys))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, cache_files=len(files), cache_bytes=size,
                           our_modules=ours), f, indent=1)


if __name__ == "__main__":
    main()
