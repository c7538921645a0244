"""Start-up cost of the GPU kernels on MLX's CUDA backend: the first SpMV of a new
process, with empty kernel caches and again with the caches the first process left.

    python benchmarks/gpu_coldstart.py [--json F]

Two ways of building the kernels, each run in two fresh processes sharing one cache
folder:
* mx.fast.cuda_kernel (MLX_SPARSE_CUDA_PRECOMPILED=0): MLX compiles every kernel with
  NVRTC in each new process. MLX 0.32's on-disk module cache ($MLX_PTX_CACHE_DIR) is not used for custom
  kernels (its JIT takes a use_disk_cache flag; measured on an H200, 2026-11-29: the
  folder stayed empty and the second process compiled again, ~1.3 s per kernel).
* precompiled (the default since 2026-11-30): standalone kernels compiled once to PTX,
  kept in $MLX_SPARSE_KERNEL_CACHE, run by mx.fast.precompiled_cuda_kernel (gpu_impl.py).

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


def run(cache, root, precompiled=False):
    env = dict(os.environ, MLX_PTX_CACHE_DIR=cache, MLX_SPARSE_KERNEL_CACHE=cache,
               MLX_SPARSE_CUDA_PRECOMPILED="1" if precompiled else "0", PYTHONUNBUFFERED="1")
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
    rows, files = {}, {}
    for label, pre in (("cuda_kernel", False), ("precompiled", True)):
        cache = tempfile.mkdtemp(prefix="mlxs_ptx_")
        try:
            rows[f"{label}, empty cache"] = run(cache, root, pre)
            rows[f"{label}, cache on disk"] = run(cache, root, pre)
        except SystemExit as e:  # report the other way's figures anyway
            print(f"{label}: {e}")
            continue
        found = [os.path.join(d, f) for d, _, fs in os.walk(cache) for f in fs]
        files[label] = dict(n=len(found), bytes=sum(os.path.getsize(f) for f in found))
        print(f"{label}: cache {cache}: {len(found)} files, "
              f"{files[label]['bytes'] / 1e6:.2f} MB")
    keys = ["import_s"] + [f"{k}_{c}_s" for k in ("merge", "warp") for c in ("first", "second")]
    print(f"{'process':28s} " + " ".join(f"{k:>15s}" for k in keys + ["process_wall_s"]))
    for name, r in rows.items():
        print(f"{name:28s} " + " ".join(f"{r[k]:15.4f}" for k in keys + ["process_wall_s"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, cache_files=files), f, indent=1)


if __name__ == "__main__":
    main()
