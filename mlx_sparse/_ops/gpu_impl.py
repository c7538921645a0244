"""GPU implementation: custom kernels through mx.fast.cuda_kernel / metal_kernel.

Ops listed in KERNELS run as GPU kernels; every other op uses plain MLX ops on the GPU
(see ``_ops.DISPATCH``). Each kernel body lives once in ``mlx_sparse/kernels/bodies``
and is wrapped by the prelude of the GPU API found (``kernels/__init__.py`` says how);
results follow ``mlx_products`` exactly (same semantics, dtypes and errors).

Kernels:

* ``compressed_matvec`` (CSR SpMV) and ``compressed_reduce_major`` ('sum'): one of two
  kernel families, chosen per matrix by ``_spmv_kind`` from the mean and the longest
  row length (the longest row is read to the host once per indptr array):
  - merge path (``spmv_split`` once per indptr array, then ``spmv_carry`` and
    ``spmv_merge``): the merged sequence of nonzeros and row ends is cut into tiles of
    256 * V items, one threadgroup each, so every group has the same work whatever the
    row lengths; a row spanning tiles gets the partial sums of the earlier ones
    (carries) in a fixed order. For uneven rows (power-law, a few very long rows) and
    for regular rows outside 9..20 per row (stencils, FEM blocks).
  - ``spmv_warp``: a warp per 32 consecutive rows, which it sorts by length (ballots):
    a row of at most SHORT nonzeros is summed by its lane alone with all its loads in
    flight, medium rows by groups of GL lanes several at a time, longer rows by the
    whole warp; SHORT and GL come from the mean row length. When a row is longer than
    CHUNK nonzeros, ``spmv_heads`` runs first and sums the later chunks of such long
    rows (one warp per chunk). ``spmv_rows`` (a group of LANES lanes per row) is the
    alternative layout. For small matrices (one launch) and regular rows of 9..20.
  Both deterministic (fixed order).
* ``compressed_matmat`` (SpMM, X row-major): ``spmm_rows`` (a group per row, each lane
  owning VEC columns, BATCH nonzeros per step) with ``spmm_heads`` for long rows.
  Deterministic.
* ``compressed_matvec_t`` / ``compressed_matmat_t`` (products with the transpose):
  ``spmv_t`` / ``spmm_t`` scatter with atomic adds into accumulators, so the last bits
  of floating-point results can vary from run to run (integers are exact).

Values: bool, int8..int64, uint8..uint64, float16, bfloat16, float32, complex64 (MLX
has no float64 on a GPU; dispatch sends it to the CPU). float16 / bfloat16 accumulate
in float32 and bool / 8- and 16-bit integers in 32-bit integers, rounded once at the
end. Indices: int32 or int64 (other index dtypes are cast to int64). Metal has atomic
adds of 32-bit values only: there the transposed products of 64-bit and complex values
use the plain-MLX-ops path.

The longest row's length, computed on the GPU once per indptr array (cached), lets
the long-row kernels return at once when no row is long; its one host read per indptr
array picks the SpMV kernel (under mx.compile / vmap, where no read is allowed,
spmv_warp runs).

Each kernel is built once per body (``build``) and compiled by MLX once per process
and set of template arguments (value, index and accumulator dtypes, LANES, ...): MLX
0.32 keeps no on-disk copy of custom kernels, so every new process pays NVRTC again
(about 1.3 s per kernel, measured on an H200). MLX_SPARSE_CUDA_PRECOMPILED=1 (opt-in,
not yet run on a GPU) compiles each kernel once per machine to PTX instead and runs it
with mx.fast.precompiled_cuda_kernel (see "compiled once per machine" below).
"""
import ctypes
import os
import subprocess
import tempfile
import warnings
import weakref
from pathlib import Path

import mlx.core as mx

from .. import kernels as _sources
from . import mlx_impl, mlx_products
from .mlx_products import _check_matrix, _check_vector

API = "cuda" if mx.cuda.is_available() else ("metal" if mx.metal.is_available() else None)

KERNELS = {}  # op name -> function, filled below


def has(op):
    return API is not None and op in KERNELS


# Tuning knobs (None: the heuristics below). The benchmark sets them to compare.
TUNING = {"spmv_kernel": None, "spmv_merge_v": None, "spmv_lanes": None, "spmv_batch": None, "spmv_steps": None,
          "spmv_short": None, "spmv_gl": None, "spmm_lanes": None, "spmm_vec": None, "spmm_batch": None,
          "cg_lanes": None, "cg_batch": None, "cg_groups": None}

_BLOCK = 256              # threads per threadgroup
_GRID_CAP = 1 << 28       # threads per kind of work in a grid; kernels loop beyond it
_CHUNK_THREADS = 1 << 18  # threads of the long-row (one warp per chunk) kernels
_HEADS_CAP = 1 << 26      # entries of the SpMM chunk-sum buffer (sets its CHUNK)
# SpMV kernel choice (_spmv_kind): merge path when the longest row > RATIO * mean + MIN
# (items per thread of a tile V = _MERGE_V), else spmv_warp below _MERGE_MIN_NNZ nonzeros
# or for a mean row length in _WARP_MEAN (exclusive, inclusive], else merge path with
# V = _MERGE_V_REGULAR.
_MERGE_RATIO, _MERGE_MIN = 4, 64
_MERGE_V, _MERGE_V_REGULAR = 8, 16
_MERGE_MIN_NNZ = 1 << 16
_WARP_MEAN = (8, 20)

_VALUE_DTYPES = (mx.bool_, mx.int8, mx.int16, mx.int32, mx.int64, mx.uint8, mx.uint16,
                 mx.uint32, mx.uint64, mx.float16, mx.bfloat16, mx.float32, mx.complex64)
_ACC = {mx.bool_: mx.int32, mx.int8: mx.int32, mx.int16: mx.int32, mx.uint8: mx.uint32,
        mx.uint16: mx.uint32, mx.float16: mx.float32, mx.bfloat16: mx.float32}
# Accumulator dtypes each API can add atomically.
_ATOMIC = {"cuda": (mx.float32, mx.int32, mx.uint32, mx.int64, mx.uint64, mx.complex64),
           "metal": (mx.float32, mx.int32, mx.uint32)}


def _acc(dt):
    """The dtype sums of ``dt`` values are accumulated in."""
    return _ACC.get(dt, dt)


# ----------------------------------------------------------------------------------
# building and launching
# ----------------------------------------------------------------------------------
_built = {}


def build(body, api=None):
    """The MLX kernel object of ``kernels/bodies/<body>.inc`` for ``api`` (default:
    the GPU found), built once. A Metal kernel can be built (not run) anywhere."""
    api = api or API
    key = (api, body)
    kern = _built.get(key)
    if kern is None:
        src = _sources.load(api, body)
        common = dict(name=src.name, input_names=list(src.inputs),
                      output_names=list(src.outputs), source=src.source, header=src.header)
        if api == "cuda":
            kern = mx.fast.cuda_kernel(**common)
        else:
            kern = mx.fast.metal_kernel(**common, atomic_outputs=src.atomic_outputs)
        _built[key] = kern
    return kern


# ----------------------------------------------------------------------------------
# CUDA kernels compiled once per machine (MLX_SPARSE_CUDA_PRECOMPILED=0: per process)
# ----------------------------------------------------------------------------------
# MLX 0.32 compiles every mx.fast.cuda_kernel with NVRTC in every new process (about
# 1.3 s per kernel on an H200 host; its on-disk cache is not used for custom kernels:
# a second process measured the same first-call time, benchmarks/gpu_coldstart.py).
# So each kernel is instead written as a standalone extern "C" kernel
# (kernels.standalone), compiled to PTX for the GPU's compute capability by NVRTC (the
# libnvrtc MLX's CUDA build loads; nvcc where NVRTC is not found), kept in
# $MLX_SPARSE_KERNEL_CACHE (default ~/.cache/mlx_sparse/ptx) under a name holding a
# digest of its text, and run by mx.fast.precompiled_cuda_kernel: a new process then
# only loads the PTX. The whole GPU suite ran this way on an H200 (2026-11-30) with the
# same results as through mx.fast.cuda_kernel, which MLX_SPARSE_CUDA_PRECOMPILED=0
# selects, and which a process falls back to (with a warning) where the PTX cannot be
# made (no NVRTC nor nvcc found, no CUDA headers where _cuda_include_dirs looks).
PRECOMPILED = API == "cuda" and os.environ.get("MLX_SPARSE_CUDA_PRECOMPILED", "1") != "0"
_standalone = {}  # (body, targs, ndims) -> (kernel name, text)
_ptx = {}         # kernel name -> PTX bytes


def _dtype_name(dt):
    return str(dt).rsplit(".", 1)[-1]


def _compute_capability():
    """(major, minor) of CUDA device 0, through the driver API MLX has loaded."""
    cuda = ctypes.CDLL("libcuda.so.1")
    dev, major, minor = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    if cuda.cuInit(0) or cuda.cuDeviceGet(ctypes.byref(dev), 0) \
            or cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, dev) \
            or cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, dev):
        raise RuntimeError("mlx_sparse: cannot read the CUDA device's compute capability")
    return major.value, minor.value


def _cuda_include_dirs():
    """Where the CUDA headers are: MLX's bundled CCCL and the pip CUDA runtime headers
    (as MLX passes them to NVRTC), then $CUDA_HOME / /usr/local/cuda."""
    mlx_dir = Path(mx.__file__).resolve().parent
    dirs = [mlx_dir / "include" / "cccl", mlx_dir.parent / "nvidia" / "cuda_runtime" / "include",
            mlx_dir.parent / "nvidia" / "cu13" / "include"]
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH") or "/usr/local/cuda"
    dirs += [Path(home) / "include" / "cccl", Path(home) / "include"]
    return [str(d) for d in dirs if d.is_dir()]


def _nvrtc():
    mlx_dir = Path(mx.__file__).resolve().parent
    names = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"]
    names += [str(p) for sub in ("cuda_nvrtc/lib", "cu13/lib")
              for p in sorted((mlx_dir.parent / "nvidia" / sub).glob("libnvrtc.so*"))]
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def _compile_ptx(text, arch):
    """PTX of ``text`` for compute capability ``arch`` (e.g. "90"): NVRTC, else nvcc."""
    includes = _cuda_include_dirs()
    lib = _nvrtc()
    if lib is not None:
        prog = ctypes.c_void_p()
        if lib.nvrtcCreateProgram(ctypes.byref(prog), text.encode(), b"mlx_sparse.cu", 0,
                                  None, None):
            raise RuntimeError("nvrtcCreateProgram failed")
        try:
            opts = [f"--gpu-architecture=compute_{arch}", "-std=c++17"]
            opts += [f"--include-path={d}" for d in includes]
            copts = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
            if lib.nvrtcCompileProgram(prog, len(opts), copts):
                size = ctypes.c_size_t()
                lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
                log = ctypes.create_string_buffer(size.value + 1)
                lib.nvrtcGetProgramLog(prog, log)
                raise RuntimeError("mlx_sparse: NVRTC failed:\n" + log.value.decode(errors="replace"))
            size = ctypes.c_size_t()
            lib.nvrtcGetPTXSize(prog, ctypes.byref(size))
            buf = ctypes.create_string_buffer(size.value)
            lib.nvrtcGetPTX(prog, buf)
            return buf.raw
        finally:
            lib.nvrtcDestroyProgram(ctypes.byref(prog))
    with tempfile.TemporaryDirectory(prefix="mlxs_nvcc_") as d:
        cu, ptx = Path(d) / "k.cu", Path(d) / "k.ptx"
        cu.write_text(text)
        r = subprocess.run(["nvcc", "-std=c++17", "-ptx", f"-arch=compute_{arch}",
                            *[f"-I{i}" for i in includes], "-o", str(ptx), str(cu)],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("mlx_sparse: nvcc failed:\n" + r.stderr[-4000:])
        return ptx.read_bytes() + b"\0"


def _ptx_for(kname, text):
    """The PTX of a standalone kernel: from memory, from the disk cache, or compiled
    (then written to the cache atomically: never a half-written file). None where it
    cannot be compiled here (_stop_precompiling)."""
    ptx = _ptx.get(kname)
    if ptx is not None:
        return ptx
    try:
        major, minor = _compute_capability()
    except (OSError, RuntimeError) as err:
        return _stop_precompiling(err)
    arch = f"{major}{minor}"
    root = os.environ.get("MLX_SPARSE_KERNEL_CACHE") or Path.home() / ".cache" / "mlx_sparse" / "ptx"
    path = Path(root) / f"mlx{mx.__version__}_compute{arch}" / f"{kname}.ptx"
    try:
        ptx = path.read_bytes()
    except OSError:
        try:
            ptx = _compile_ptx(text, arch)
        except (OSError, RuntimeError) as err:
            return _stop_precompiling(err)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(ptx)
            os.replace(tmp, path)
        except OSError:  # a read-only home: the kernel still runs, uncached
            pass
    _ptx[kname] = ptx
    return ptx


def _stop_precompiling(err):
    """Where NVRTC / nvcc, the CUDA headers or the driver cannot be reached from here, the
    process goes on through mx.fast.cuda_kernel (MLX's own NVRTC), saying so once. A
    kernel that does not compile fails there again, with MLX's message."""
    global PRECOMPILED
    PRECOMPILED = False
    reason = " ".join(str(err).split())[:300] or type(err).__name__
    warnings.warn(f"mlx_sparse: CUDA kernels cannot be compiled into the PTX cache here "
                  f"({reason}); this process compiles them with mx.fast.cuda_kernel instead",
                  RuntimeWarning, stacklevel=4)
    return None


def _launch_precompiled(body, inputs, grid, out_shapes, out_dtypes, init, targs):
    """The kernel run through its PTX, or None when precompiling is unavailable."""
    src = _sources.load("cuda", body)
    names = tuple((k, _dtype_name(v) if isinstance(v, mx.Dtype) else int(v))
                  for k, v in sorted(targs.items()))
    shaped = _sources.shaped_inputs(src)
    ndims = tuple((n, inputs[src.inputs.index(n)].ndim) for n in shaped)
    key = (body, names, ndims)
    hit = _standalone.get(key)
    if hit is None:
        hit = _standalone[key] = _sources.standalone(src, dict(names), dict(ndims))
    kname, text = hit
    ptx = _ptx_for(kname, text)
    if ptx is None:
        return None
    scalars = [int(d) for n in shaped for d in inputs[src.inputs.index(n)].shape]
    gx, gy = grid
    return mx.fast.precompiled_cuda_kernel(
        name=kname, compiled_source=ptx, inputs=inputs,
        output_shapes=out_shapes, output_dtypes=out_dtypes, scalars=scalars,
        grid=(_threads(gx), int(gy), 1), threadgroup=(_BLOCK, 1, 1), init_value=init,
        ensure_row_contiguous=True)


def _round_up(n, m):
    return -(-n // m) * m


def _threads(n):
    """A grid length of at least n threads (whole threadgroups: each SIMD group is
    full on both APIs), at most 2 * _GRID_CAP (the scatter kernels' two kinds)."""
    return min(_round_up(max(int(n), 1), _BLOCK), 2 * _GRID_CAP)


def _launch(body, inputs, grid, out_shape, out_dtype, init=None, **targs):
    """Run one kernel; ``targs`` are its template arguments by name (dtypes or ints).
    Every input's dtype must be the one its declared type names: MLX compiles one
    kernel per template arguments, not per input dtype. ``out_shape`` / ``out_dtype``
    describe its output, or are lists for a kernel with several (a list returned)."""
    many = isinstance(out_dtype, (list, tuple))
    shapes, dtypes = (list(out_shape), list(out_dtype)) if many else ([out_shape], [out_dtype])
    out = _launch_precompiled(body, inputs, grid, shapes, dtypes, init, targs) \
        if PRECOMPILED else None
    if out is None:
        src = _sources.load(API, body)
        gx, gy = grid
        out = build(body)(
            inputs=inputs,
            template=[(n, targs[n]) for n in src.templates],
            grid=(_threads(gx), int(gy), 1),
            threadgroup=(_BLOCK, 1, 1),
            output_shapes=shapes,
            output_dtypes=dtypes,
            init_value=init,
        )
    return list(out) if many else out[0]


def _index_arrays(indptr, indices):
    """indptr and indices in one index dtype, int32 or int64."""
    idt = mx.int32 if indptr.dtype == indices.dtype == mx.int32 else mx.int64
    return indptr.astype(idt) if indptr.dtype != idt else indptr, \
        indices.astype(idt) if indices.dtype != idt else indices, idt


def _pow2_at_least(v, cap=32):
    p = 1
    while p < v and p < cap:
        p *= 2
    return p


def _spmv_layout(nnz, n_rows):
    """(body, layout template arguments, lanes per row, CHUNK) of the SpMV row kernel.

    Default ``spmv_warp``: 32 rows per warp, a lane alone for each row of at most
    SHORT nonzeros, groups of GL lanes for medium rows (up to 4 * GL * BATCH), the
    whole warp for longer ones. ``spmv_rows`` (TUNING["spmv_kernel"] = "rows"): a group
    of LANES lanes per row, LANES * BATCH nonzeros per step. Rows over CHUNK = STEPS *
    (lanes per step) * BATCH go through spmv_heads, so no row takes over STEPS steps.
    Layouts from the mean row length, as measured fastest on an H100 (2026-11,
    benchmarks/gpu_spmv.py --sweep): mean <= 8 (stencils): SHORT 16, GL 8; longer:
    SHORT 4, GL 16 (uniform and power-law rows alike)."""
    mean = nnz / max(n_rows, 1)
    steps = int(TUNING["spmv_steps"] or 16)
    if TUNING["spmv_kernel"] in (None, "warp", "merge"):
        short = int(TUNING["spmv_short"] or (16 if mean <= 8 else 4))
        gl = int(TUNING["spmv_gl"] or (8 if mean <= 8 else 16))
        batch = int(TUNING["spmv_batch"] or 2)
        return "spmv_warp", dict(SHORT=short, GL=gl, BATCH=batch), 1, steps * 32 * batch
    batch = int(TUNING["spmv_batch"] or (4 if mean <= 8 else 2))
    lanes = int(TUNING["spmv_lanes"] or _pow2_at_least(mean / batch))
    return "spmv_rows", dict(LANES=lanes, BATCH=batch), lanes, steps * lanes * batch


def _spmm_layout(k, nnz, n_rows):
    """(LANES, VEC, BATCH) of the SpMM kernels: lanes per row group, columns per lane
    (a tile of X's columns is LANES * VEC wide; grid y counts tiles) and nonzeros per
    step. Measured on an H100 (k = 8): short rows run best with few lanes of several
    columns, long rows with a lane per column and more nonzeros per step."""
    mean = nnz / max(n_rows, 1)
    if k > 32:
        vec, batch = min(4, -(-k // 32)), 2
    elif mean <= 8:
        vec, batch = min(4, k), 2
    else:
        vec, batch = 1, 4
    vec = TUNING["spmm_vec"] or vec
    lanes = TUNING["spmm_lanes"] or _pow2_at_least(-(-k // vec))
    return int(lanes), int(vec), int(TUNING["spmm_batch"] or batch)


_indptr_cache = {}  # (id(indptr), key) -> (weakref to indptr, value)


def _per_indptr(indptr, key, make):
    """``make()``, computed once per indptr array and ``key`` and kept while that
    array lives (matrices are immutable: their indptr arrays never change)."""
    k = (id(indptr), key)
    hit = _indptr_cache.get(k)
    if hit is not None and hit[0]() is indptr:
        return hit[1]
    value = make()
    try:
        ref = weakref.ref(indptr, lambda _, k=k: _indptr_cache.pop(k, None))
    except TypeError:  # not weakly referenceable: no caching
        return value
    _indptr_cache[k] = (ref, value)
    return value


def _rowmax(indptr, idt):
    """The longest row's length as a (1,) array of dtype idt (lazy: evaluated with
    the first product that uses it, no host sync)."""
    def make():
        if indptr.shape[0] > 1:
            return mx.max(indptr[1:] - indptr[:-1]).reshape(1).astype(idt)
        return mx.zeros((1,), dtype=idt)
    return _per_indptr(indptr, ("rowmax", idt), make)


def _rowmax_host(indptr):
    """The longest row's length as a Python int: one host sync per indptr array (it
    picks the SpMV kernel), or None where no sync is allowed (mx.compile, vmap)."""
    try:
        return _per_indptr(indptr, "rowmax_host",
                           lambda: int(_rowmax(indptr, mx.int64).item()))
    except Exception:  # a transform forbids the read: decide without it
        return None


def _as(a, dt):
    return a if a.dtype == dt else a.astype(dt)


def _usable(dt):
    return API is not None and dt in _VALUE_DTYPES


# ----------------------------------------------------------------------------------
# sparse x dense products and row sums
# ----------------------------------------------------------------------------------
def _uneven_rows(longest, mean):
    """Some row far longer than the mean (longest > _MERGE_RATIO * mean + _MERGE_MIN):
    a group of lanes per row would leave most lanes waiting on it."""
    return longest > _MERGE_RATIO * mean + _MERGE_MIN


def _spmv_kind(indptr, nnz, n_major):
    """The SpMV kernel family and its merge-path V: ("merge", V) or (row kernel, None).

    Merge path (even work per threadgroup whatever the row lengths) with V = 8 when
    some row is far longer than the mean (power-law rows, a few very long rows); the
    row kernel spmv_warp for small matrices (one launch instead of two) and for
    regular rows of 9 to 20 nonzeros; merge path with V = 16 for other regular rows.
    Measured on an H200 (2026-11-29, benchmarks/gpu_spmv.py --compare, ms, merge V=16
    / spmv_warp): Poisson 5/row 0.077 / 0.081, 27-point stencil 0.070 / 0.104, FEM 3x3
    blocks 27/row 0.078 / 0.114, uniform 16/row 0.524 / 0.488; uneven rows (V=8 /
    warp): power-law 0.250 / 0.299, 8 rows of 100k 0.050 / 0.059."""
    kind = TUNING["spmv_kernel"]
    if kind:
        return kind, int(TUNING["spmv_merge_v"] or _MERGE_V)
    longest = _rowmax_host(indptr)
    mean = nnz / max(n_major, 1)
    if longest is None:  # no host read allowed (mx.compile / vmap)
        return "warp", None
    if _uneven_rows(longest, mean):
        return "merge", int(TUNING["spmv_merge_v"] or _MERGE_V)
    if nnz < _MERGE_MIN_NNZ or _WARP_MEAN[0] < mean <= _WARP_MEAN[1]:
        return "warp", None
    return "merge", int(TUNING["spmv_merge_v"] or _MERGE_V_REGULAR)


def _merge_row_sums(n_major, rowmax_of, indptr, indices, data, x, has_x, idt, v):
    """Row sums by merge path: spmv_split (cached per indptr), spmv_carry, spmv_merge;
    tiles of _BLOCK * v items."""
    dt, acc = data.dtype, _acc(data.dtype)
    tile = _BLOCK * v
    n_tiles = -(-(n_major + data.shape[0]) // tile)
    split = _per_indptr(rowmax_of, ("split", idt, tile, n_tiles), lambda: _launch(
        "spmv_split", [indptr], ((n_tiles + 1) * 32, 1), (2 * (n_tiles + 1),), idt,
        I=idt, TILE=tile))
    targs = dict(T=dt, I=idt, A=acc, HAS_X=int(has_x))
    carry = _launch("spmv_carry", [indptr, indices, data, x, split], (n_tiles * 32, 1),
                    (n_tiles,), acc, TILE=tile, **targs)
    return _launch("spmv_merge", [indptr, indices, data, x, split, carry],
                   (n_tiles * _BLOCK, 1), (n_major,), dt, BLOCK=_BLOCK, V=v, **targs)


def _row_sums(n_major, indptr, indices, data, x):
    """y[r] = sum over row r of data[p] * x[indices[p]] (x None: of data[p])."""
    dt, acc = data.dtype, _acc(data.dtype)
    rowmax_of = indptr
    indptr, indices, idt = _index_arrays(indptr, indices)
    has_x = x is not None
    if not has_x:
        x = mx.zeros((1,), dtype=dt)
    nnz = data.shape[0]
    kind, v = _spmv_kind(rowmax_of, nnz, n_major)
    if kind == "merge":
        return _merge_row_sums(n_major, rowmax_of, indptr, indices, data, x, has_x, idt, v)
    body, layout, lanes, chunk = _spmv_layout(nnz, n_major)
    targs = dict(T=dt, I=idt, A=acc, CHUNK=chunk, HAS_X=int(has_x), **layout)
    longest = None if TUNING["spmv_kernel"] else _rowmax_host(rowmax_of)
    if nnz > chunk and (longest is None or longest > chunk):
        # a row may be long: sum the long rows' later chunks first
        n_chunks = -(-nnz // chunk)
        heads = _launch("spmv_heads", [indptr, indices, data, x, _rowmax(rowmax_of, idt)],
                        (min(n_chunks * 32, _CHUNK_THREADS), 1), (n_chunks,), acc, **targs)
    else:  # no row is long: the row kernel never reads heads
        heads = mx.zeros((1,), dtype=acc)
    return _launch(body, [indptr, indices, data, x, heads], (n_major * lanes, 1),
                   (n_major,), dt, **targs)


def compressed_matvec(n_major, n_minor, indptr, indices, data, x):
    """As ``mlx_products.compressed_matvec``: y = A @ x for A in (major, minor) layout."""
    n_major, n_minor = int(n_major), int(n_minor)
    _check_vector(x, n_minor, "x")
    if not _usable(data.dtype):
        return mlx_products.compressed_matvec(n_major, n_minor, indptr, indices, data, x)
    if n_major == 0 or data.shape[0] == 0:
        return mx.zeros((n_major,), dtype=data.dtype)
    return _row_sums(n_major, indptr, indices, data, _as(x, data.dtype))


def compressed_reduce_major(op, n_major, indptr, data):
    """As ``mlx_products.compressed_reduce_major``; 'sum' runs as a kernel."""
    n_major = int(n_major)
    if op != "sum" or not _usable(data.dtype):
        return mlx_products.compressed_reduce_major(op, n_major, indptr, data)
    if n_major == 0 or data.shape[0] == 0:
        return mx.zeros((n_major,), dtype=data.dtype)
    dummy_indices = mx.zeros((1,), dtype=indptr.dtype)
    return _row_sums(n_major, indptr, dummy_indices, data, None)


def compressed_reduce_minor(op, n_minor, indices, data):
    """As ``mlx_products.compressed_reduce_minor``; 'sum' runs as ``scatter_sum``, a
    thread per stored value adding it atomically into its minor index's slot."""
    n_minor = int(n_minor)
    dt, acc = data.dtype, _acc(data.dtype)
    if op != "sum" or not _usable(dt) or dt == mx.bool_ or acc not in _ATOMIC[API]:
        return mlx_products.compressed_reduce_minor(op, n_minor, indices, data)
    nnz = data.shape[0]
    if n_minor == 0 or nnz == 0:
        return mx.zeros((n_minor,), dtype=dt)
    idt = mx.int32 if indices.dtype == mx.int32 else mx.int64
    y = _launch("scatter_sum", [_as(indices, idt), data], (min(nnz, _GRID_CAP), 1),
                (n_minor,), acc, init=0, T=dt, I=idt, A=acc, HAS_DATA=1)
    return y.astype(dt) if acc != dt else y


def compressed_matmat(n_major, n_minor, indptr, indices, data, X):
    """As ``mlx_products.compressed_matmat``: Y = A @ X, X (n_minor, k) row-major."""
    n_major, n_minor = int(n_major), int(n_minor)
    _check_matrix(X, n_minor, "X")
    dt, acc = data.dtype, _acc(data.dtype)
    if not _usable(dt):
        return mlx_products.compressed_matmat(n_major, n_minor, indptr, indices, data, X)
    k, nnz = X.shape[1], data.shape[0]
    if n_major == 0 or k == 0 or nnz == 0:
        return mx.zeros((n_major, k), dtype=dt)
    rowmax_of = indptr
    indptr, indices, idt = _index_arrays(indptr, indices)
    X = _as(X, dt)
    lanes, vec, batch = _spmm_layout(k, nnz, n_major)
    n_tiles = -(-k // (lanes * vec))
    chunk = 256
    while -(-nnz // chunk) * k > _HEADS_CAP:
        chunk *= 2
    targs = dict(T=dt, I=idt, A=acc, LANES=lanes, VEC=vec, BATCH=batch, CHUNK=chunk)
    if nnz > chunk:
        n_chunks = -(-nnz // chunk)
        heads = _launch("spmm_heads", [indptr, indices, data, X, _rowmax(rowmax_of, idt)],
                        (min(n_chunks * 32, _CHUNK_THREADS), n_tiles), (n_chunks, k), acc,
                        **targs)
    else:
        heads = mx.zeros((1, k), dtype=acc)
    return _launch("spmm_rows", [indptr, indices, data, X, heads], (n_major * lanes, n_tiles),
                   (n_major, k), dt, **targs)


def _scatter_threads(n_major, nnz, lanes, chunk):
    """Grid length of spmv_t / spmm_t: row groups, then one warp per chunk (the
    kernels compute the split point row_threads the same way, with CAP = _GRID_CAP)."""
    row_threads = min(_round_up(n_major * lanes, 1024), _GRID_CAP)
    chunk_threads = 0 if nnz <= chunk else min(_round_up(-(-nnz // chunk) * 32, 1024),
                                               _CHUNK_THREADS)
    return row_threads + chunk_threads


def compressed_matvec_t(n_major, n_minor, indptr, indices, data, x):
    """As ``mlx_products.compressed_matvec_t``: y = A.T @ x, by atomic adds."""
    n_major, n_minor = int(n_major), int(n_minor)
    _check_vector(x, n_major, "x")
    dt, acc = data.dtype, _acc(data.dtype)
    if not _usable(dt) or acc not in _ATOMIC[API]:
        return mlx_products.compressed_matvec_t(n_major, n_minor, indptr, indices, data, x)
    nnz = data.shape[0]
    if n_minor == 0 or n_major == 0 or nnz == 0:
        return mx.zeros((n_minor,), dtype=dt)
    rowmax_of = indptr
    indptr, indices, idt = _index_arrays(indptr, indices)
    rowmax = _rowmax(rowmax_of, idt)
    # a group of LANES lanes per row, a nonzero per lane per step, at most 32 steps
    lanes = int(TUNING["spmv_lanes"] or _pow2_at_least(nnz / n_major / 2))
    chunk = 32 * lanes
    y = _launch("spmv_t", [indptr, indices, data, _as(x, dt), rowmax],
                (_scatter_threads(n_major, nnz, lanes, chunk), 1), (n_minor,), acc, init=0,
                T=dt, I=idt, A=acc, LANES=lanes, CHUNK=chunk, CAP=_GRID_CAP)
    return y.astype(dt) if acc != dt else y


def compressed_matmat_t(n_major, n_minor, indptr, indices, data, X):
    """As ``mlx_products.compressed_matmat_t``: Y = A.T @ X, by atomic adds."""
    n_major, n_minor = int(n_major), int(n_minor)
    _check_matrix(X, n_major, "X")
    dt, acc = data.dtype, _acc(data.dtype)
    if not _usable(dt) or acc not in _ATOMIC[API]:
        return mlx_products.compressed_matmat_t(n_major, n_minor, indptr, indices, data, X)
    k, nnz = X.shape[1], data.shape[0]
    if n_minor == 0 or n_major == 0 or k == 0 or nnz == 0:
        return mx.zeros((n_minor, k), dtype=dt)
    rowmax_of = indptr
    indptr, indices, idt = _index_arrays(indptr, indices)
    rowmax = _rowmax(rowmax_of, idt)
    lanes, vec, _ = _spmm_layout(k, nnz, n_major)
    n_tiles = -(-k // (lanes * vec))
    chunk = 256
    Y = _launch("spmm_t", [indptr, indices, data, _as(X, dt), rowmax],
                (_scatter_threads(n_major, nnz, lanes, chunk), n_tiles), (n_minor, k), acc,
                init=0, T=dt, I=idt, A=acc, LANES=lanes, VEC=vec, CHUNK=chunk,
                CAP=_GRID_CAP)
    return Y.astype(dt) if acc != dt else Y


# ----------------------------------------------------------------------------------
# sparse x sparse (SpGEMM)
# ----------------------------------------------------------------------------------
_SPGEMM_SLOTS = (8, 32)  # MAXK of the spgemm_rows kernels: A's longest row picks the first that fits


def compressed_matmul(n_major, n_inner, n_minor, a_indptr, a_indices, a_data,
                      b_indptr, b_indices, b_data):
    """As ``mlx_products.compressed_matmul`` (canonical result, exact-zero sums dropped,
    products of an entry summed in A's order). When A's rows have at most 32 nonzeros,
    ``spgemm_rows`` runs twice, a thread per row: it counts each row's entries, a prefix
    sum lays the rows out, and it writes them (two host reads: whether B's slices were
    sorted, and the output's length). B's unsorted slices are sorted first, when the
    count pass finds one. Longer rows of A: the MLX-ops product."""
    n_major, n_inner, n_minor = int(n_major), int(n_inner), int(n_minor)
    args = (n_major, n_inner, n_minor, a_indptr, a_indices, a_data, b_indptr, b_indices, b_data)
    dt, acc = a_data.dtype, _acc(a_data.dtype)
    longest = _rowmax_host(a_indptr) if _usable(dt) and b_data.dtype == dt else None
    slots = next((m for m in _SPGEMM_SLOTS if longest is not None and longest <= m), None)
    if slots is None or min(n_major, n_minor, a_indices.shape[0], b_indices.shape[0]) == 0:
        return mlx_products.compressed_matmul(*args)
    idt = mlx_impl._index_dtype(a_indptr, a_indices, b_indptr, b_indices, dims=(n_major, n_minor))
    a_indptr, a_indices, b_indptr, b_indices = (_as(a, idt) for a in (a_indptr, a_indices, b_indptr, b_indices))
    targs = dict(T=dt, A=acc, MAXK=slots)
    one = (1,)
    while True:
        counts, _, _, unsorted = _launch(
            "spgemm_rows", [a_indptr, a_indices, a_data, b_indptr, b_indices, b_data,
                            mx.zeros(one, dtype=idt)],
            (n_major, 1), [(n_major,), one, one, one], [idt, idt, dt, idt], init=0,
            I=idt, FILL=0, **targs)
        indptr = mlx_impl._exclusive_cumsum(counts, mx.int64)
        mx.eval(indptr, unsorted)
        if not unsorted.item():
            break
        b_indices, b_data = mlx_impl.sort_indices(b_indptr, b_indices, b_data, n_minor)
    n_out = int(indptr[-1].item())
    if n_out > mlx_impl._INT32_MAX:
        idt = mx.int64
    if n_out == 0:
        return mlx_products._empty_compressed(n_major, idt, dt)
    a_indptr, a_indices, b_indptr, b_indices, indptr = (
        _as(a, idt) for a in (a_indptr, a_indices, b_indptr, b_indices, indptr))
    _, indices, data, _ = _launch(
        "spgemm_rows", [a_indptr, a_indices, a_data, b_indptr, b_indices, b_data, indptr],
        (n_major, 1), [one, (n_out,), (n_out,), one], [idt, idt, dt, idt], I=idt, FILL=1,
        **targs)
    return indptr, indices, data


# ----------------------------------------------------------------------------------
# element-wise sparse op sparse, dense <-> compressed
# ----------------------------------------------------------------------------------
# op -> OP of binop_rows; complex values run the first three only (the kernel has no
# complex ordering: their maximum / minimum / comparisons take the MLX-ops path)
_BINOP_CODES = {"add": 0, "sub": 1, "mul": 2, "maximum": 3, "minimum": 4,
                "ne": 5, "lt": 6, "gt": 7, "le": 8, "ge": 9}
_COMPARISONS = 5


def _count_then_fill(body, inputs, n_major, idt, out_dt, grid, **targs):
    """(indptr, indices, data) from a two-pass kernel (FILL = 0 counts each major
    slice's entries, FILL = 1 writes them at the counts' exclusive prefix sum; its last
    input is that offsets array). One host read: the output's length. None when that
    length does not fit idt (the caller then takes its MLX-ops path)."""
    one = (1,)
    dummy = mx.zeros(one, dtype=idt)
    counts = _launch(body, inputs + [dummy], grid, [(n_major,), one, one],
                     [idt, idt, out_dt], FILL=0, **targs)[0]
    indptr = mlx_impl._exclusive_cumsum(counts, mx.int64)
    n_out = int(indptr[-1].item())
    if idt == mx.int32 and n_out > mlx_impl._INT32_MAX:
        return None
    if n_out == 0:
        return mlx_products._empty_compressed(n_major, idt, out_dt)
    indptr = indptr.astype(idt)
    _, indices, data = _launch(body, inputs + [indptr], grid, [one, (n_out,), (n_out,)],
                               [idt, idt, out_dt], FILL=1, **targs)
    return indptr, indices, data


def compressed_binop(op, n_major, n_minor, a_indptr, a_indices, a_data,
                     b_indptr, b_indices, b_data):
    """As ``mlx_products.compressed_binop`` (canonical inputs and output, results
    equal to 0 dropped): ``binop_rows``, a thread per major slice merging A's and B's
    slices, counts, then writes. 64-bit indices when either input has them."""
    n_major, n_minor = int(n_major), int(n_minor)
    args = (op, n_major, n_minor, a_indptr, a_indices, a_data, b_indptr, b_indices, b_data)
    dt = a_data.dtype
    code = _BINOP_CODES.get(op)
    if code is None or not _usable(dt) or b_data.dtype != dt or n_major == 0 \
            or (dt == mx.complex64 and code > _BINOP_CODES["mul"]):
        return mlx_products.compressed_binop(*args)
    out_dt = mx.bool_ if code >= _COMPARISONS else dt
    idt = mlx_impl._index_dtype(a_indptr, a_indices, b_indptr, b_indices)
    if a_indices.shape[0] + b_indices.shape[0] == 0:
        return mlx_products._empty_compressed(n_major, idt, out_dt)
    inputs = [_as(a_indptr, idt), _as(a_indices, idt), a_data,
              _as(b_indptr, idt), _as(b_indices, idt), b_data]
    out = _count_then_fill("binop_rows", inputs, n_major, idt, out_dt, (n_major, 1),
                           T=dt, O=out_dt, A=_acc(dt), I=idt, OP=code)
    return mlx_products.compressed_binop(*args) if out is None else out


def compressed_to_dense(n_major, n_minor, indptr, indices, data):
    """As ``mlx_impl.compressed_to_dense``: ``todense_rows``, a thread per major slice
    adding its values into the zero-filled result (duplicates summed in slice order)."""
    n_major, n_minor = int(n_major), int(n_minor)
    dt = data.dtype
    if not _usable(dt) or n_major * n_minor == 0 or data.shape[0] == 0:
        return mlx_impl.compressed_to_dense(n_major, n_minor, indptr, indices, data)
    indptr, indices, idt = _index_arrays(indptr, indices)
    return _launch("todense_rows", [indptr, indices, data, mx.array([n_minor], dtype=idt)],
                   (n_major, 1), (n_major, n_minor), dt, init=0, T=dt, A=_acc(dt), I=idt)


def dense_to_compressed(dense, index_dtype):
    """As ``mlx_impl.dense_to_compressed``: ``fromdense_rows``, a warp per row counts
    the row's entries != 0, then writes them (ballots place each lane's entry)."""
    n_major, n_minor = dense.shape
    if not _usable(dense.dtype) or n_major * n_minor == 0:
        return mlx_impl.dense_to_compressed(dense, index_dtype)
    out = _count_then_fill("fromdense_rows", [dense], n_major, index_dtype, dense.dtype,
                           (n_major * 32, 1), T=dense.dtype, I=index_dtype)
    return mlx_impl.dense_to_compressed(dense, index_dtype) if out is None else out


# ----------------------------------------------------------------------------------
# conversions and sorting: a bucket sort for short buckets
# ----------------------------------------------------------------------------------
_BUCKET_MAX = 64  # the longest bucket bucket_sort orders (by insertion); longer: MLX ops


def _bucket_permutation(keys, n_buckets, minor=None, n_minor=0, ptr=None):
    """(bucket starts, permutation) of a stable sort of the entries by keys (then by
    minor, when given), both int32; the starts (n_buckets + 1) are the sorted entries'
    indptr. keys=None: the entries are already grouped by bucket, ptr their starts (keys
    its expansion; the sort orders each bucket by minor). bucket_fill scatters the
    positions into their buckets, bucket_sort orders each bucket. None when a bucket
    holds more than _BUCKET_MAX entries or a size needs 64 bits (the caller then sorts
    with MLX ops). One host read: the longest bucket."""
    n = (keys if keys is not None else minor).shape[0]
    if API is None or max(n, n_buckets, n_minor) > mlx_impl._INT32_MAX:
        return None
    i32 = mx.int32
    if keys is None:
        ptr = _as(ptr, i32)
        counts = ptr[1:] - ptr[:-1]
    else:
        keys = _as(keys, i32)
        counts = _launch("scatter_sum", [keys, mx.zeros((1,), dtype=i32)], (min(n, _GRID_CAP), 1),
                         (n_buckets,), i32, init=0, T=i32, I=i32, A=i32, HAS_DATA=0)
    if int(mx.max(counts).item()) > _BUCKET_MAX:
        return None
    if keys is None:
        keys = mlx_impl.expand_indptr(ptr, n)
    else:
        ptr = mlx_impl._exclusive_cumsum(counts, i32)
    _, scattered = _launch("bucket_fill", [keys, ptr], (n, 1), [(n_buckets,), (n,)],
                           [i32, i32], init=0, I=i32)
    has_minor = minor is not None
    minor = _as(minor, i32) if has_minor else mx.zeros((1,), dtype=i32)
    perm = _launch("bucket_sort", [ptr, scattered, minor], (n_buckets, 1), (n,), i32,
                   I=i32, HAS_MINOR=int(has_minor))
    return ptr, perm


def compressed_transpose(n_major, n_minor, indptr, indices, data):
    """As ``mlx_impl.compressed_transpose``, its stable sort by minor index a bucket
    sort (_bucket_permutation) when no minor index holds more than _BUCKET_MAX entries."""
    n_major, n_minor = int(n_major), int(n_minor)
    hit = None
    if indices.shape[0] and n_minor:
        hit = _bucket_permutation(indices, n_minor)
    if hit is None:
        return mlx_impl.compressed_transpose(n_major, n_minor, indptr, indices, data)
    indptr_t, perm = hit
    return mlx_impl.compressed_transpose(n_major, n_minor, indptr, indices, data,
                                         perm=perm, indptr_t=indptr_t)


def coo_to_compressed(n_major, n_minor, major, minor, data):
    """As ``mlx_impl.coo_to_compressed``, its stable sort by (major, minor) a bucket sort
    (_bucket_permutation) when no major index holds more than _BUCKET_MAX entries."""
    n_major, n_minor = int(n_major), int(n_minor)
    hit = None
    if data.shape[0] and n_major:
        hit = _bucket_permutation(major, n_major, minor, n_minor)
    perm = None if hit is None else hit[1]
    return mlx_impl.coo_to_compressed(n_major, n_minor, major, minor, data, perm=perm)


def sort_indices(indptr, indices, data, n_minor=None):
    """As ``mlx_impl.sort_indices``: a bucket sort of each slice by minor index
    (_bucket_permutation) when no slice is longer than _BUCKET_MAX."""
    nnz, n_major = indices.shape[0], indptr.shape[0] - 1
    bound = n_minor if n_minor is not None else (
        mlx_impl._INT32_MAX if indices.dtype == mx.int32 else None)  # None: unknown
    hit = None
    if nnz and n_major and bound is not None:
        hit = _bucket_permutation(None, n_major, indices, int(bound), ptr=indptr)
    if hit is None:
        return mlx_impl.sort_indices(indptr, indices, data, n_minor)
    perm = hit[1]
    return indices[perm], data[perm]


def triangular_solve(indptr, indices, data, diag_inv, b, lower):
    """As ``native_impl.triangular_solve``, on the GPU: ``trisolve_rows``, a thread per
    row that waits for the rows it reads (sync-free: one launch, where a
    level-scheduled solve pays per level). CUDA only (see the body)."""
    indptr, indices, idt = _index_arrays(indptr, indices)
    dt, n = data.dtype, indptr.shape[0] - 1
    dinv = diag_inv if diag_inv is not None else mx.ones((1,), dtype=dt)
    return _launch("trisolve_rows", [indptr, indices, data, dinv, b], (n, 1),
                   [b.shape, (n,)], [dt, idt], init=0, T=dt, I=idt, A=_acc(dt),
                   LOWER=int(bool(lower)), HAS_DIAG=int(diag_inv is not None),
                   KB=_pow2_at_least(b.shape[1], 8))[0]


def triangular_diagonal(n, indptr, indices, data, lower, unit_diagonal):
    """As ``mlx_impl.triangular_diagonal``: ``triangular_diagonal``, a thread per row
    (its diagonal entry and status), then the statuses' max."""
    n = int(n)
    if not _usable(data.dtype) or n == 0:
        return mlx_impl.triangular_diagonal(n, indptr, indices, data, lower, unit_diagonal)
    indptr, indices, idt = _index_arrays(indptr, indices)
    diag, status = _launch("triangular_diagonal", [indptr, indices, data], (n, 1),
                           [(1,) if unit_diagonal else (n,), (n,)], [data.dtype, idt],
                           T=data.dtype, I=idt, LOWER=int(bool(lower)),
                           UNIT=int(bool(unit_diagonal)))
    return (None if unit_diagonal else diag), mx.max(status).astype(mx.int32)


# ----------------------------------------------------------------------------------
# a cg iteration in two launches
# ----------------------------------------------------------------------------------
_CG_GROUPS = 1024  # threadgroups of both cg launches at most (their partial sums)
_CG_BATCH = 4      # nonzeros a lane of cg_direction loads per step


def cg_step(indptr, indices, data, dinv):
    """SciPy's cg iteration for this float32 CSR matrix in two launches, as a function
    ``step(x, r, p, sums, prev) -> (x, r, p, sums, scal)``: ``cg_direction`` (the
    direction p from r and the last p, q = A p, p.q's partial sums), then ``cg_update``
    (x, r, the next iteration's r.r / r.z partial sums). dinv: the Jacobi
    preconditioner's 1 / diag(A), or None. p, sums and prev are None on the first
    iteration; scal = (rho, r.r) of the residual the iteration started from (r.r: the
    stop test's) is the next call's prev. None (no step) where the rows are too uneven
    for a group of lanes per row (_uneven_rows, as in _spmv_kind): the caller then runs
    its MLX-ops step."""
    n_rows, nnz = indptr.shape[0] - 1, data.shape[0]
    mean = nnz / max(n_rows, 1)
    longest = _rowmax_host(indptr)
    if API is None or data.dtype != mx.float32 or n_rows == 0 or longest is None \
            or _uneven_rows(longest, mean):
        return None
    batch = int(TUNING["cg_batch"] or _CG_BATCH)
    lanes = int(TUNING["cg_lanes"] or _pow2_at_least(mean / batch))
    groups = min(-(-n_rows * lanes // _BLOCK), int(TUNING["cg_groups"] or _CG_GROUPS))
    indptr, indices, idt = _index_arrays(indptr, indices)
    dt = data.dtype
    dummy = mx.zeros((1,), dtype=dt)  # an unused input (length 1)
    has_diag = dinv is not None
    grid = (groups * _BLOCK, 1)
    targs = dict(T=dt, BLOCK=_BLOCK, HAS_DIAG=int(has_diag))

    def step(x, r, p, sums, prev):
        n = x.shape[0]
        first = p is None
        if first:  # the first r.r and r.z as partial sums: group 0's, the others 0
            zero = mx.zeros((groups - 1,), dtype=dt)
            rr = mx.sum(r * r).reshape(1)
            rz = mx.sum(r * (r * dinv)).reshape(1) if has_diag else dummy
            sums, p, prev = mx.concatenate([rr, zero, rz, zero]), dummy, dummy
        d = dinv if has_diag else dummy
        p, q, pq, scal = _launch(
            "cg_direction", [indptr, indices, data, r, d, p, sums, prev], grid,
            [(n,), (n,), (groups,), (2,)], [dt] * 4, I=idt, LANES=lanes, BATCH=batch,
            FIRST=int(first), **targs)
        x, r, sums = _launch("cg_update", [x, r, p, q, d, pq, scal], grid,
                             [(n,), (n,), (2 * groups,)], [dt] * 3, **targs)
        return x, r, p, sums, scal
    return step


KERNELS.update(
    compressed_transpose=compressed_transpose,
    coo_to_compressed=coo_to_compressed,
    sort_indices=sort_indices,
    compressed_binop=compressed_binop,
    compressed_to_dense=compressed_to_dense,
    dense_to_compressed=dense_to_compressed,
    compressed_matmul=compressed_matmul,
    compressed_matvec=compressed_matvec,
    compressed_matvec_t=compressed_matvec_t,
    compressed_matmat=compressed_matmat,
    compressed_matmat_t=compressed_matmat_t,
    compressed_reduce_major=compressed_reduce_major,
    compressed_reduce_minor=compressed_reduce_minor,
    triangular_diagonal=triangular_diagonal,
)
KERNELS["cg_step"] = cg_step  # optional ops (_ops.OPTIONAL_OPS)
if API == "cuda":  # an optional op (_ops.OPTIONAL_OPS): on Metal its callers' MLX ops run
    KERNELS["triangular_solve"] = triangular_solve
