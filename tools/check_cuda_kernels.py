#!/usr/bin/env python3
"""Compile every GPU kernel body with the CUDA prelude, as MLX's cuda_kernel would,
using the local nvcc (no GPU needed), so a broken body fails CI.

MLX (mlx/backend/cuda/custom_kernel.cpp) builds a kernel's text as: its device utils
header (cuda_fp16.h, cuda_bf16.h, cuda::std complex/array, cooperative_groups.h),
then the kernel's `header`, then inside `namespace mlx::core::cu`

    __global__ void custom_kernel_<name><template hash>(
        const T0* in0, const __grid_constant__ Shape in0_shape, ..., T* out0, ...) {
      using T = float; constexpr int LANES = 8; ...   // the template arguments
      <source>
    }

(`<in>_shape` only when the source names it). This script writes the same text, with
small stand-ins for what MLX's header provides, for a spread of template arguments
(every value dtype, both index dtypes, several LANES / VEC / V ...), and compiles it for
sm_90 (Hopper) and sm_80 (Ampere), and every body in the standalone form that gpu_impl
compiles to PTX (compute_90; the default, MLX_SPARSE_CUDA_PRECOMPILED=0 turns it off). By default every body goes into one translation unit
per arch (MLX's header parsed once), compiled without optimisation (front end, code
generation and ptxas all run: every error a kernel can have is caught, in well under a
minute on two cores); --full compiles each body separately with optimisation, as NVRTC
does. Errors point into bodies/*.inc (#line directives). Usage:

    python tools/check_cuda_kernels.py [--nvcc nvcc] [--arch sm_90 sm_80] [--full] [--keep DIR]

Exit status 0 when every body compiles for every arch, 1 when one fails, 2 without nvcc.
"""
import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _kernels_module():
    """mlx_sparse/kernels/__init__.py loaded by path: needs no MLX (nor the package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "_mlxs_kernel_sources", ROOT / "mlx_sparse" / "kernels" / "__init__.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up while it loads
    spec.loader.exec_module(mod)
    return mod


_K = _kernels_module()
bodies, load = _K.bodies, _K.load

# Stand-in for "mlx/backend/cuda/device/utils.cuh" + MLX's default header: the names a
# body or prelude may use from it.
MLX_HEADER = r"""
#include <cstdint>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#define LIBCUDACXX_ENABLE_SIMPLIFIED_COMPLEX_OPERATIONS
#include <cuda/std/array>
#include <cuda/std/complex>
#include <cuda/std/limits>
#include <cooperative_groups.h>
namespace mlx::core::cu {
using complex64_t = cuda::std::complex<float>;
using Shape = cuda::std::array<int32_t, 10>;     // MAX_NDIM
using Strides = cuda::std::array<int64_t, 10>;
}  // namespace mlx::core::cu
#define inf cuda::std::numeric_limits<float>::infinity()
"""

# MLX value dtype -> its accumulator dtype (as gpu_impl._ACC); as CUDA types (the names
# MLX's dtype_to_cuda_type gives, kept in the kernels module): (value, accumulator)
_ACC_NAME = {"bool": "int32", "int8": "int32", "int16": "int32", "uint8": "uint32",
             "uint16": "uint32", "float16": "float32", "bfloat16": "float32"}
VALUE_TYPES = {v: (c, _K.CUDA_TYPES[_ACC_NAME.get(v, v)]) for v, c in _K.CUDA_TYPES.items()}

INDEX_TYPES = ("int32_t", "int64_t")
INT_CHOICES = {"LANES": (1, 8, 32), "VEC": (1, 4), "BATCH": (1, 4), "SHORT": (4, 16), "GL": (4, 8),
               "CHUNK": (512,), "HAS_X": (0, 1), "CAP": (1 << 28,), "TILE": (2048, 256),
               "BLOCK": (256,), "V": (8, 1), "MAXK": (8, 32), "FILL": (0, 1), "OP": (0, 4, 9, 1, 3, 5), "HAS_MINOR": (0, 1),
               "LOWER": (1, 0), "HAS_DIAG": (1, 0), "KB": (1, 8), "FIRST": (1, 0), "UNIT": (0, 1),
               "HAS_DATA": (1, 0)}
TYPE_TEMPLATES = ("T", "I", "A", "O")  # O: binop_rows' result type, T's or bool (OP >= 5)
COMPLEX_OPS = 3  # binop_rows runs complex values through OP < 3 only (gpu_impl)


def _result_type(targs):
    """O for binop_rows: bool for the comparisons (OP >= 5), else T."""
    return "bool" if targs.get("OP", 0) >= 5 else targs["T"]


def instances(templates):
    """Template-argument dicts covering every value type, both index types and the
    listed integer choices, without the full product."""
    ints = [n for n in templates if n not in TYPE_TEMPLATES]
    int_combos = list(itertools.product(*(INT_CHOICES[n] for n in ints)))
    out = []
    for i, (vname, (t, a)) in enumerate(VALUE_TYPES.items()):
        combo = dict(zip(ints, int_combos[i % len(int_combos)]))
        if vname == "complex64" and combo.get("OP", 0) >= COMPLEX_OPS:
            combo["OP"] = i % COMPLEX_OPS
        out.append({"T": t, "I": INDEX_TYPES[i % 2], "A": a, **combo})
    for j, combo in enumerate(int_combos):  # every integer choice at least once
        out.append({"T": "float", "I": INDEX_TYPES[j % 2], "A": "float",
                    **dict(zip(ints, combo))})
    for targs in out:
        targs["O"] = _result_type(targs)
    return out


def kernel_text(src, name, targs):
    """One kernel as MLX writes it (without MLX's header); #line points into the body."""
    params = []
    for n in src.inputs:
        params.append(f"    const {targs[src.types[n]]}* {n}")
        if f"{n}_shape" in src.source:
            params.append(f"    const __grid_constant__ Shape {n}_shape")
        if f"{n}_strides" in src.source:
            params.append(f"    const __grid_constant__ Strides {n}_strides")
        if f"{n}_ndim" in src.source:
            params.append(f"    const __grid_constant__ int {n}_ndim")
    for n in src.outputs:
        params.append(f"    {targs[src.types[n]]}* {n}")
    consts = []
    for n in src.templates:
        v = targs[n]
        consts.append(f"  using {n} = {v};" if n in TYPE_TEMPLATES else f"  constexpr int {n} = {v};")
    body_path = ROOT / "mlx_sparse" / "kernels" / "bodies" / f"{src.body}.inc"
    body = body_path.read_text()
    assert src.source.endswith(body)
    source = (src.source[:-len(body)] + f'#line 1 "{body_path.relative_to(ROOT)}"\n' + body)
    return ("namespace mlx::core::cu {\nnamespace cg = cooperative_groups;\n"
            f"__global__ void custom_kernel_{name}(\n" + ",\n".join(params) + ") {\n"
            + "\n".join(consts) + "\n" + source + "\n}\n}  // namespace mlx::core::cu\n")


def translation_unit(names):
    """All instances of the bodies ``names`` in one file, MLX's header and the
    prelude once (they are the same for every body)."""
    parts, n = [MLX_HEADER], 0
    headers = {load("cuda", b).header for b in names}
    assert len(headers) == 1, "bodies differ in header"
    parts.append(headers.pop())
    for body in names:
        src = load("cuda", body)
        for i, targs in enumerate(instances(src.templates)):
            parts.append(kernel_text(src, f"{src.name}_{i}", targs))
            n += 1
    return "\n".join(parts), n


def standalone_unit():
    """Every body as the standalone extern "C" kernel that gpu_impl compiles to PTX
    for mx.fast.precompiled_cuda_kernel (the default path), for float32 /
    int32 and complex64 / int64, in one file (header once)."""
    parts, n = [], 0
    for body in bodies("cuda"):
        src = load("cuda", body)
        ints = {t: INT_CHOICES[t][0] for t in src.templates if t not in TYPE_TEMPLATES}
        for t, i, a in (("float32", "int32", "float32"), ("complex64", "int64", "complex64")):
            names = {"T": t, "I": i, "A": a, **ints}
            names["O"] = "bool" if names.get("OP", 0) >= 5 else t
            ndims = {name: 2 if name in ("X", "B", "dense") else 1 for name in _K.shaped_inputs(src)}
            _, text = _K.standalone(src, {k: names[k] for k in src.templates}, ndims)
            prefix = _K.STANDALONE_HEADER + src.header
            assert text.startswith(prefix)
            if not parts:
                parts.append(prefix)
            parts.append(text[len(prefix):])
            n += 1
    return "\n".join(parts), n


def compile_one(nvcc, path, arch, full):
    if arch.startswith("compute_"):  # PTX only, as NVRTC makes it for precompiled kernels
        cmd = [nvcc, "-std=c++17", f"-arch={arch}", "-Xcicc", "-O0", "-ptx", "-o", os.devnull,
               str(path)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        return r.returncode == 0, (r.stdout + r.stderr).strip(), cmd
    opt = [] if full else ["-Xcicc", "-O0", "-Xptxas", "-O0"]
    cmd = [nvcc, "-std=c++17", f"-arch={arch}", *opt, "-c", "-o", os.devnull, str(path)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip(), cmd


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nvcc", default=os.environ.get("NVCC", "nvcc"))
    ap.add_argument("--arch", nargs="+", default=["sm_90", "sm_80"])
    ap.add_argument("--keep", help="write the generated .cu files to this folder")
    ap.add_argument("--full", action="store_true",
                    help="each body on its own, optimised (slower: minutes)")
    args = ap.parse_args(argv)
    if shutil.which(args.nvcc) is None:
        print(f"check_cuda_kernels: {args.nvcc} not found", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mlxs_cuda_"))
    work.mkdir(parents=True, exist_ok=True)
    groups = [[b] for b in bodies("cuda")] if args.full else [bodies("cuda")]
    jobs = []
    for names in groups:
        text, n = translation_unit(names)
        path = work / f"{names[0] if len(names) == 1 else 'all_bodies'}.cu"
        path.write_text(text)
        jobs += [(",".join(names), n, path, arch) for arch in args.arch]
    text, n = standalone_unit()
    path = work / "standalone.cu"
    path.write_text(text)
    jobs.append(("standalone kernels (precompiled path)", n, path,
                 "compute_" + args.arch[0].split("_")[-1]))
    failed = []
    with open(work / "nvcc.log", "w") as log, \
            ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = pool.map(lambda j: compile_one(args.nvcc, j[2], j[3], args.full), jobs)
        for (label, n, _, arch), (ok, out, cmd) in zip(jobs, results):
            log.write(f"$ {' '.join(cmd)}\n{out}\n")
            print(f"{'ok  ' if ok else 'FAIL'} {arch}  {n} kernel instances: {label}")
            if not ok:
                failed.append((label, arch))
                print(out[-6000:], file=sys.stderr)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        print(f"{len(failed)} failed: {failed}", file=sys.stderr)
        return 1
    print(f"check_cuda_kernels: all compiled in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
