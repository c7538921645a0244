"""GPU kernel sources: one body per algorithm, a thin prelude per GPU API.

``bodies/<name>.inc`` holds the body of one kernel, written only in the prelude's
names (``GID``, ``GSIZE``, ``LANE``, ``WARP``, ``GROUP_SUM``, ``WARP_COUNT``,
``ATOMIC_ADD``, ``LOAD``, ``i64``, ...), never in raw ``blockIdx`` or
``thread_position_in_grid``. Its first comment lines declare the signature::

    // inputs: indptr:I indices:I data:T x:T    (name:element type, in order)
    // outputs: y:T
    // atomic_outputs: true        (optional; Metal then gets device atomic<A>* outputs)
    // templates: T I A LANES      (template arguments the caller passes, in order)
    // apis: cuda                  (optional; default: both APIs)

Element types name template arguments: T values, I indices, A accumulators. A body
limited to one API is one that relies on what only that API guarantees (the
sync-free triangular solve: blocks that wait on earlier blocks; DESIGN.md).

``prelude_cuda.h`` and ``prelude_metal.h`` define those names. Each has two parts
split at the ``// @@ source`` line: the first is file scope and goes into the
kernel's ``header`` (followed by ``bodies/common.inc``, helpers shared by the
bodies); the second is function scope and goes in front of the body in ``source``
(Metal needs its thread-attribute names in ``source``, where MLX looks for them).
MLX wraps the source into ``__global__ void custom_kernel_<name>(...)`` (CUDA) or a
templated ``[[kernel]]`` (Metal), so the same body text runs on both APIs.
``standalone()`` writes the same body as a self-contained ``extern "C"`` CUDA kernel
(sizes as scalars, types from the CUDA toolkit's headers) for
mx.fast.precompiled_cuda_kernel, which gpu_impl runs (unless MLX_SPARSE_CUDA_PRECOMPILED=0).
"""
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DIR = Path(__file__).resolve().parent
_MARK = "// @@ source"
APIS = ("cuda", "metal")


@dataclass(frozen=True)
class KernelSource:
    """Everything mx.fast.cuda_kernel / metal_kernel needs for one body."""

    body: str                 # body name, e.g. "spmv_rows"
    api: str                  # "cuda" or "metal"
    header: str
    source: str
    inputs: tuple             # argument names, in order
    outputs: tuple
    types: dict               # argument name -> template argument naming its type
    templates: tuple          # names of the template arguments, in order
    atomic_outputs: bool

    @property
    def name(self):
        """Kernel name; the digest of the text keeps MLX's on-disk PTX cache (keyed
        by name) from serving a kernel built from an older text."""
        digest = hashlib.sha1((self.header + self.source).encode()).hexdigest()[:10]
        return f"mlxs_{self.body}_{digest}"


def bodies(api=None):
    """Names of all kernel bodies, or of those that run on ``api``."""
    names = sorted(p.stem for p in (_DIR / "bodies").glob("*.inc") if p.stem != "common")
    return [b for b in names if api is None or api in _apis(b)]


def _apis(body):
    return tuple(_declared((_DIR / "bodies" / f"{body}.inc").read_text(), "apis")) or APIS


def _read(name):
    return (_DIR / name).read_text()


def _prelude(api):
    if api not in APIS:
        raise ValueError(f"api must be one of {APIS}, got {api!r}")
    text = _read(f"prelude_{api}.h")
    head, sep, tail = text.partition(_MARK)
    if not sep:
        raise RuntimeError(f"prelude_{api}.h lacks the '{_MARK}' line")
    return head, tail


def _declared(text, key):
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("//"):
            break
        k, sep, v = line[2:].partition(":")
        if sep and k.strip() == key:
            return v.split()
    return []


@lru_cache(maxsize=None)
def load(api, body):
    """The KernelSource of ``bodies/<body>.inc`` for ``api`` ("cuda" or "metal")."""
    path = _DIR / "bodies" / f"{body}.inc"
    if not path.is_file():
        raise ValueError(f"no kernel body {body!r} (have {bodies()})")
    text = path.read_text()
    if api in APIS and api not in _apis(body):
        raise ValueError(f"kernel body {body!r} is for {_apis(body)} only, not {api!r}")
    head, tail = _prelude(api)
    args = {key: [a.partition(":") for a in _declared(text, key)] for key in ("inputs", "outputs")}
    if not args["inputs"] or not args["outputs"] or any(
            not t for a in args.values() for _, _, t in a):
        raise RuntimeError(f"{path.name} must declare '// inputs: name:type ...' and '// outputs:'")
    inputs = tuple(n for n, _, _ in args["inputs"])
    outputs = tuple(n for n, _, _ in args["outputs"])
    types = {n: t for a in args.values() for n, _, t in a}
    atomic = _declared(text, "atomic_outputs") == ["true"]
    header = head + "\n" + _read("bodies/common.inc")
    source = tail + "\n" + text
    return KernelSource(body, api, header, source, inputs, outputs, types,
                        tuple(_declared(text, "templates")), atomic)


# ----------------------------------------------------------------------------------
# standalone CUDA kernels (for mx.fast.precompiled_cuda_kernel: compiled once per
# machine to PTX and kept on disk; see mlx_sparse/_ops/gpu_impl.py)
# ----------------------------------------------------------------------------------
# What MLX's device header gives a cuda_kernel body, from the CUDA toolkit's own headers
# (NVRTC or nvcc): fixed-width integers, halves, complex64 (two floats, as MLX's).
STANDALONE_HEADER = r"""
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <cuda/std/cstdint>
#define LIBCUDACXX_ENABLE_SIMPLIFIED_COMPLEX_OPERATIONS
#include <cuda/std/complex>
using cuda::std::int8_t; using cuda::std::int16_t; using cuda::std::int32_t;
using cuda::std::int64_t; using cuda::std::uint8_t; using cuda::std::uint16_t;
using cuda::std::uint32_t; using cuda::std::uint64_t;
namespace mlx { namespace core { namespace cu {
using complex64_t = cuda::std::complex<float>;
}}}
"""

# MLX dtype name -> CUDA type name in standalone kernels (as MLX's dtype_to_cuda_type)
CUDA_TYPES = {
    "bool": "bool", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
    "int64": "int64_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
    "uint64": "uint64_t", "float16": "__half", "bfloat16": "__nv_bfloat16",
    "float32": "float", "complex64": "mlx::core::cu::complex64_t",
}


def shaped_inputs(src):
    """The inputs whose shape the body reads (``<name>_shape``)."""
    return [n for n in src.inputs if f"{n}_shape" in src.source]


def standalone(src, targs, ndims):
    """(kernel name, CUDA text) of one kernel body as a self-contained ``extern "C"``
    kernel: the inputs as pointers, then the outputs, then, for every input of
    ``shaped_inputs(src)``, its ``ndims[name]`` sizes as ``int`` scalars (the order in
    which mx.fast.precompiled_cuda_kernel passes inputs, outputs and scalars).
    ``targs``: template argument name -> MLX dtype name (T, I, A) or int."""
    def cuda(n):
        v = targs[src.types[n]]
        return CUDA_TYPES[v]
    parts = [str(targs[t]) for t in src.templates]
    parts += [f"{n}{ndims[n]}" for n in shaped_inputs(src)]
    digest = hashlib.sha1((STANDALONE_HEADER + src.header + src.source + "|".join(parts))
                          .encode()).hexdigest()[:12]
    kname = f"mlxs_{src.body}_{digest}"
    params = [f"const {cuda(n)}* {n}" for n in src.inputs]
    params += [f"{cuda(n)}* {n}" for n in src.outputs]
    shapes = []
    for n in shaped_inputs(src):
        dims = [f"{n}_shape_{d}" for d in range(ndims[n])]
        params += [f"int {d}" for d in dims]
        shapes.append(f"  const int {n}_shape[{max(len(dims), 1)}] = {{{', '.join(dims) or '0'}}};")
    consts = []
    for t in src.templates:
        v = targs[t]
        consts.append(f"  using {t} = {CUDA_TYPES[v]};" if isinstance(v, str)
                      else f"  constexpr int {t} = {int(v)};")
    text = (STANDALONE_HEADER + src.header + f'\nextern "C" __global__ void {kname}(\n    '
            + ",\n    ".join(params) + ") {\n" + "\n".join(consts + shapes) + "\n"
            + src.source + "\n}\n")
    return kname, text
