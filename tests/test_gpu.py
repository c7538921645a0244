"""The GPU kernels (mlx_sparse/_ops/gpu_impl.py, bodies in mlx_sparse/kernels/)
against SciPy.

Kernel runs need a GPU (MLX's CUDA or Metal backend) and are skipped without one; the
source checks (bodies use only prelude names, every body builds as a Metal kernel from
the same text) run anywhere. On an NVIDIA machine:

    MLX_SPARSE_TEST_DEVICE=gpu python -m pytest tests/test_gpu.py

Every kernel instance is an NVRTC compile (~1.3 s) the first time a machine runs it
(then PTX on disk), so a first run is compile-bound: on an H200 machine, 16 pytest-xdist
workers ran this file's 657 tests with 5 other files (2646 tests) in 170 s (2026-11-30). With -n N and MLX_PTX_CACHE_DIR set, each worker gets its
own MLX kernel cache folder beneath it (MLX writes its cache files in place, so
workers sharing one could read a half-written file).

Matrices: random, mostly empty rows, 1 x N, 0 rows, 0 columns, no nonzeros, one column,
unsorted duplicates, and a few rows far longer than the rest (which take the kernels'
long-row path), each with int32 and int64 indices; values of every dtype a GPU has.
"""
import os
import re
import zlib

import mlx.core as mx
import numpy as np
import pytest
import scipy.sparse as ssp

if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("MLX_PTX_CACHE_DIR"):
    # before MLX compiles anything in this process (it reads the variable once)
    os.environ["MLX_PTX_CACHE_DIR"] = os.path.join(os.environ["MLX_PTX_CACHE_DIR"],
                                                   os.environ["PYTEST_XDIST_WORKER"])

from mlx_sparse import _ops, kernels  # noqa: E402
from mlx_sparse._ops import gpu_impl

HAS_GPU = mx.cuda.is_available() or mx.metal.is_available()
needs_gpu = pytest.mark.skipif(
    not HAS_GPU, reason="no GPU: this MLX has neither its CUDA nor its Metal backend available")

_BASE_SEED = int(os.environ.get("MLX_SPARSE_TEST_SEED") or int.from_bytes(os.urandom(4), "little"))


@pytest.fixture
def rng(request):
    seed = (_BASE_SEED + zlib.crc32(request.node.nodeid.encode())) % 2**32
    print(f"random seed {seed}; reproduce with MLX_SPARSE_TEST_SEED={_BASE_SEED}")
    return np.random.default_rng(seed)


@pytest.fixture
def on_gpu():
    """Run the test with the GPU as MLX's default device."""
    old = mx.default_device()
    mx.set_default_device(mx.gpu)
    try:
        yield
    finally:
        mx.set_default_device(old)


# ======================================================================================
# kernel sources (no GPU needed)
# ======================================================================================
_RAW_NAMES = re.compile(
    r"\b(blockIdx|threadIdx|blockDim|gridDim|__syncthreads|__shfl\w*|__ballot\w*|atomicAdd"
    r"|thread_position_in_grid|threads_per_grid|thread_index_in_simdgroup|simd_\w+"
    r"|threadgroup_barrier|atomic_fetch_add_explicit)\b")


@pytest.mark.parametrize("body", kernels.bodies() + ["common"])
def test_bodies_use_only_prelude_names(body):
    text = (os.path.dirname(kernels.__file__) + f"/bodies/{body}.inc")
    found = _RAW_NAMES.findall(open(text).read())
    assert not found, f"{body}.inc uses raw GPU API names {sorted(set(found))}"


@pytest.mark.parametrize("body", kernels.bodies("metal"))
def test_one_body_text_for_both_apis(body):
    cuda, metal = kernels.load("cuda", body), kernels.load("metal", body)
    body_text = open(os.path.dirname(kernels.__file__) + f"/bodies/{body}.inc").read()
    assert cuda.source.endswith(body_text) and metal.source.endswith(body_text)
    assert (cuda.inputs, cuda.outputs, cuda.templates) == (metal.inputs, metal.outputs,
                                                           metal.templates)
    # MLX adds Metal's thread attributes to the signature only if `source` names them.
    assert "thread_position_in_grid" in metal.source
    assert "thread_index_in_simdgroup" in metal.source
    assert cuda.name != metal.name  # the name holds a digest of the text


@pytest.mark.parametrize("body", kernels.bodies("metal"))
def test_metal_kernels_build_from_the_same_body(body):
    # mx.fast.metal_kernel builds its kernel object on any platform (it runs on Metal only).
    assert callable(gpu_impl.build(body, "metal"))


def test_api_limited_bodies():
    # the sync-free triangular solve relies on CUDA's in-order block start (DESIGN.md)
    only_cuda = sorted(set(kernels.bodies("cuda")) - set(kernels.bodies("metal")))
    assert only_cuda == ["trisolve_rows"]
    assert set(kernels.bodies()) == set(kernels.bodies("cuda"))
    with pytest.raises(ValueError, match="cuda"):
        kernels.load("metal", "trisolve_rows")


def test_precompiled_path_falls_back_to_cuda_kernel(monkeypatch, tmp_path):
    """Where the PTX cannot be made (here: the compiler fails), the process warns once
    and runs its kernels through mx.fast.cuda_kernel (no GPU needed: both launches are
    stand-ins)."""
    monkeypatch.setattr(gpu_impl, "API", "cuda")
    monkeypatch.setattr(gpu_impl, "PRECOMPILED", True)
    monkeypatch.setenv("MLX_SPARSE_KERNEL_CACHE", str(tmp_path))
    monkeypatch.setattr(gpu_impl, "_compute_capability", lambda: (9, 0))

    def no_compiler(text, arch):
        raise RuntimeError("mlx_sparse: nvcc failed:\nnvcc: not found")
    monkeypatch.setattr(gpu_impl, "_compile_ptx", no_compiler)
    launched = []

    def cuda_kernel(body):
        def run(**kw):
            launched.append((body, kw["template"]))
            return [mx.zeros(s, dtype=d) for s, d in zip(kw["output_shapes"], kw["output_dtypes"])]
        return run
    monkeypatch.setattr(gpu_impl, "build", cuda_kernel)
    args = ([mx.array([0, 2, 1], dtype=mx.int32), mx.ones((3,))], (3, 1), (4,), mx.float32)
    with pytest.warns(RuntimeWarning, match="nvcc: not found.*mx.fast.cuda_kernel"):
        gpu_impl._launch("scatter_sum", *args, init=0, T=mx.float32, I=mx.int32, A=mx.float32, HAS_DATA=1)
    assert gpu_impl.PRECOMPILED is False and list(tmp_path.iterdir()) == []
    gpu_impl._launch("scatter_sum", *args, init=0, T=mx.float32, I=mx.int32, A=mx.float32, HAS_DATA=1)
    assert [b for b, _ in launched] == ["scatter_sum", "scatter_sum"]
    assert launched[0][1] == [("T", mx.float32), ("I", mx.int32), ("A", mx.float32), ("HAS_DATA", 1)]


# ======================================================================================
# test matrices
# ======================================================================================
def _csr(n_rows, n_cols, lens, rng, dup=False):
    """indptr, indices (int64 NumPy) with the given row lengths; sorted unique columns
    unless dup (then unsorted, with repeats)."""
    lens = np.asarray(lens, dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lens)])
    parts = []
    for n in lens:
        if dup or n > n_cols:
            parts.append(rng.integers(0, max(n_cols, 1), n))
        else:
            parts.append(np.sort(rng.choice(n_cols, n, replace=False)))
    indices = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return n_rows, n_cols, indptr, indices.astype(np.int64)


def make_matrix(kind, rng):
    """(n_rows, n_cols, indptr, indices) of one test-matrix kind."""
    if kind == "random":          # mean ~4.5 per row, some empty rows
        return _csr(300, 200, rng.integers(0, 10, 300), rng)
    if kind == "empty_rows":      # mostly empty rows
        lens = np.where(rng.random(400) < 0.1, rng.integers(1, 5, 400), 0)
        return _csr(400, 90, lens, rng)
    if kind == "one_row":         # 1 x N, one row longer than the kernels' chunk
        return _csr(1, 6000, [5000], rng)
    if kind == "zero_rows":
        return _csr(0, 20, [], rng)
    if kind == "zero_cols":
        return _csr(25, 0, np.zeros(25, np.int64), rng)
    if kind == "no_nonzeros":
        return _csr(40, 30, np.zeros(40, np.int64), rng)
    if kind == "one_col":
        return _csr(700, 1, rng.integers(0, 2, 700), rng)
    if kind == "duplicates":      # unsorted, repeated columns
        return _csr(120, 15, rng.integers(0, 12, 120), rng, dup=True)
    if kind == "long_rows":       # short rows plus a few 30x-800x longer ones
        lens = rng.integers(0, 5, 1500)
        for r in rng.choice(1500, 6, replace=False):
            lens[r] = rng.integers(1500, 9000)
        return _csr(1500, 4000, lens, rng, dup=True)
    raise ValueError(kind)


KINDS = ("random", "empty_rows", "one_row", "zero_rows", "zero_cols", "no_nonzeros",
         "one_col", "duplicates", "long_rows")

# name -> (mlx dtype, NumPy dtype of the reference, tolerance relative to |A| @ |x|)
DTYPES = {
    "bool": (mx.bool_, np.int64, 0),
    "int8": (mx.int8, np.int64, 0),
    "int16": (mx.int16, np.int64, 0),
    "int32": (mx.int32, np.int64, 0),
    "int64": (mx.int64, np.int64, 0),
    "uint8": (mx.uint8, np.uint64, 0),
    "uint32": (mx.uint32, np.uint64, 0),
    "uint64": (mx.uint64, np.uint64, 0),
    "float16": (mx.float16, np.float64, 2e-3),
    "bfloat16": (mx.bfloat16, np.float64, 1.6e-2),
    "float32": (mx.float32, np.float64, 2e-5),
    "complex64": (mx.complex64, np.complex128, 2e-5),
}
_NP_OUT = {"bool": np.bool_, "int8": np.int8, "int16": np.int16, "int32": np.int32,
           "int64": np.int64, "uint8": np.uint8, "uint32": np.uint32, "uint64": np.uint64}


def values(name, shape, rng):
    """Random values of dtype `name` (MLX array) and the same values in the reference
    dtype (NumPy)."""
    mdt, ref, _ = DTYPES[name]
    if name == "bool":
        v = rng.random(shape) < 0.6
    elif name.startswith(("int", "uint")):
        v = rng.integers(-9 if name.startswith("int") else 0, 10, shape)
    elif name == "complex64":
        v = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    else:
        v = rng.standard_normal(shape)
    if name in ("float16", "bfloat16"):
        a = mx.array(v.astype(np.float32)).astype(mdt)
        return a, np.asarray(a.astype(mx.float32)).astype(ref)
    np_dt = np.complex64 if name == "complex64" else (np.float32 if name == "float32"
                                                      else _NP_OUT.get(name))
    v = v.astype(np_dt)
    return mx.array(v), v.astype(ref)


def to_numpy(a):
    return np.asarray(a.astype(mx.float32) if a.dtype in (mx.float16, mx.bfloat16) else a)


def check(name, got, ref, scale):
    """got (MLX result) against ref (computed in the reference dtype) as mlx_products
    defines it: integers wrap, bool sums are OR, floats within tol * scale."""
    mdt, _, tol = DTYPES[name]
    assert got.dtype == mdt
    g = to_numpy(got)
    assert g.shape == ref.shape
    if name == "bool":
        np.testing.assert_array_equal(g, ref != 0)
    elif tol == 0:
        np.testing.assert_array_equal(g, ref.astype(_NP_OUT[name]))  # wraps as in NumPy
    else:
        err = np.abs(g.astype(ref.dtype) - ref)
        # plus the rounding of a result in float16's subnormal range (spacing 2**-24),
        # where the relative bound alone fails correctly rounded results
        bound = tol * scale + (2.0**-24 if name == "float16" else 1e-30)
        bad = ~(err <= bound)
        assert not bad.any(), (f"{bad.sum()} of {bad.size} off; worst err "
                               f"{err[bad].max()} vs bound {bound[bad].min()}")


def operands(kind, idx_name, val_name, rng):
    n_rows, n_cols, indptr, indices = make_matrix(kind, rng)
    data, data_ref = values(val_name, indices.shape[0], rng)
    idt = {"int32": mx.int32, "int64": mx.int64}[idx_name]
    ref = ssp.csr_matrix((data_ref, indices, indptr), shape=(n_rows, n_cols))
    absref = ssp.csr_matrix((np.abs(data_ref).astype(np.float64), indices, indptr),
                            shape=(n_rows, n_cols))
    return (n_rows, n_cols, mx.array(indptr).astype(idt), mx.array(indices).astype(idt),
            data, ref, absref)


def _absf(v):
    return np.abs(v).astype(np.float64)


# ======================================================================================
# the kernels against SciPy
# ======================================================================================
_PRODUCT_DTYPES = ("bool", "int8", "int32", "int64", "uint64", "float16", "bfloat16",
                   "float32", "complex64")


def _run_matvec(kind, idx, val, rng, transpose):
    n_rows, n_cols, indptr, indices, data, ref, absref = operands(kind, idx, val, rng)
    x, x_ref = values(val, n_rows if transpose else n_cols, rng)
    if transpose:
        got = gpu_impl.compressed_matvec_t(n_rows, n_cols, indptr, indices, data, x)
        want, scale = ref.T @ x_ref, absref.T @ _absf(x_ref)
    else:
        got = gpu_impl.compressed_matvec(n_rows, n_cols, indptr, indices, data, x)
        want, scale = ref @ x_ref, absref @ _absf(x_ref)
    check(val, got, np.asarray(want), np.asarray(scale))


def _run_matmat(kind, idx, val, k, rng, transpose):
    n_rows, n_cols, indptr, indices, data, ref, absref = operands(kind, idx, val, rng)
    X, X_ref = values(val, (n_rows if transpose else n_cols, k), rng)
    if transpose:
        got = gpu_impl.compressed_matmat_t(n_rows, n_cols, indptr, indices, data, X)
        want, scale = ref.T @ X_ref, absref.T @ _absf(X_ref)
    else:
        got = gpu_impl.compressed_matmat(n_rows, n_cols, indptr, indices, data, X)
        want, scale = ref @ X_ref, absref @ _absf(X_ref)
    check(val, got, np.asarray(want), np.asarray(scale))


@needs_gpu
@pytest.mark.parametrize("idx", ["int32", "int64"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transpose", [False, True], ids=["A@x", "A.T@x"])
def test_matvec_kinds(kind, idx, transpose, rng, on_gpu):
    _run_matvec(kind, idx, "float32", rng, transpose)


@needs_gpu
@pytest.mark.parametrize("val", _PRODUCT_DTYPES)
@pytest.mark.parametrize("transpose", [False, True], ids=["A@x", "A.T@x"])
def test_matvec_dtypes(val, transpose, rng, on_gpu):
    _run_matvec("long_rows", "int32", val, rng, transpose)


@needs_gpu
@pytest.mark.parametrize("k", [1, 3, 8, 33, 130])
@pytest.mark.parametrize("kind", ["random", "long_rows", "duplicates", "one_row", "zero_cols"])
@pytest.mark.parametrize("transpose", [False, True], ids=["A@X", "A.T@X"])
def test_matmat_kinds(kind, k, transpose, rng, on_gpu):
    _run_matmat(kind, "int32" if k != 3 else "int64", "float32", k, rng, transpose)


@needs_gpu
@pytest.mark.parametrize("val", ["bool", "int32", "int64", "float16", "bfloat16", "complex64"])
@pytest.mark.parametrize("transpose", [False, True], ids=["A@X", "A.T@X"])
def test_matmat_dtypes(val, transpose, rng, on_gpu):
    _run_matmat("long_rows", "int32", val, 8, rng, transpose)


@needs_gpu
@pytest.mark.parametrize("val", ["bool", "uint32", "float16", "float32"])
@pytest.mark.parametrize("kind", ["random", "long_rows", "zero_rows", "no_nonzeros"])
def test_reduce_major_sum(kind, val, rng, on_gpu):
    n_rows, n_cols, indptr, _, data, ref, absref = operands(kind, "int32", val, rng)
    got = gpu_impl.compressed_reduce_major("sum", n_rows, indptr, data)
    ones = np.ones(n_cols, dtype=ref.dtype)
    check(val, got, np.asarray(ref @ ones), np.asarray(absref @ np.ones(n_cols)))


@needs_gpu
@pytest.mark.parametrize("val", ["bool", "int8", "int64", "uint64", "float16", "bfloat16",
                                 "float32", "complex64"])
@pytest.mark.parametrize("kind", ["random", "long_rows", "duplicates", "zero_rows", "no_nonzeros"])
@pytest.mark.parametrize("idx", ["int32", "int64"])
def test_reduce_minor_sum(kind, val, idx, rng, on_gpu):
    """Column sums of CSR (scatter_sum; bool: the MLX ops' OR)."""
    n_rows, n_cols, _, indices, data, ref, absref = operands(kind, idx, val, rng)
    got = gpu_impl.compressed_reduce_minor("sum", n_cols, indices, data)
    assert got.dtype == data.dtype and got.shape == (n_cols,)
    ones = np.ones(n_rows, dtype=ref.dtype)
    check(val, got, np.asarray(ref.T @ ones), np.asarray(absref.T @ np.ones(n_rows)))


@needs_gpu
def test_reduce_major_max_uses_mlx_ops(rng, on_gpu):
    n_rows, n_cols, indptr, _, data, ref, _ = operands("random", "int32", "float32", rng)
    got = gpu_impl.compressed_reduce_major("max", n_rows, indptr, data)
    # max over the stored values of each row (0 for an empty row)
    want = [ref.data[a:b].max() if b > a else 0 for a, b in zip(ref.indptr[:-1], ref.indptr[1:])]
    np.testing.assert_array_equal(to_numpy(got), np.array(want, dtype=np.float32))


@needs_gpu
def test_grid_stride_loops(monkeypatch, rng, on_gpu):
    # A tiny grid cap makes every kernel loop over rows / chunks (huge matrices do).
    monkeypatch.setattr(gpu_impl, "_GRID_CAP", 256)
    monkeypatch.setattr(gpu_impl, "_CHUNK_THREADS", 64)
    _run_matvec("long_rows", "int32", "float32", rng, False)
    _run_matvec("long_rows", "int32", "float32", rng, True)
    monkeypatch.setitem(gpu_impl.TUNING, "spmv_kernel", "rows")
    _run_matvec("long_rows", "int32", "float32", rng, False)
    monkeypatch.setitem(gpu_impl.TUNING, "spmv_kernel", "merge")
    monkeypatch.setitem(gpu_impl.TUNING, "spmv_merge_v", 1)
    _run_matvec("long_rows", "int32", "float32", rng, False)
    _run_matvec("empty_rows", "int32", "float32", rng, False)
    monkeypatch.setitem(gpu_impl.TUNING, "spmv_kernel", None)
    _run_matmat("long_rows", "int32", "float32", 8, rng, False)
    _run_matmat("long_rows", "int32", "float32", 8, rng, True)


@needs_gpu
@pytest.mark.parametrize("layout", [(1, 1, 16), (2, 4, 1), (4, 2, 16), (32, 1, 2), (16, 4, 32)])
def test_matvec_layouts(layout, monkeypatch, rng, on_gpu):
    # (LANES, BATCH, STEPS) of spmv_rows, and the long-row path at several CHUNK sizes
    monkeypatch.setitem(gpu_impl.TUNING, "spmv_kernel", "rows")
    for name, v in zip(("spmv_lanes", "spmv_batch", "spmv_steps"), layout):
        monkeypatch.setitem(gpu_impl.TUNING, name, v)
    _run_matvec("long_rows", "int32", "float32", rng, False)
    _run_matvec("random", "int64", "float32", rng, False)


@needs_gpu
@pytest.mark.parametrize("layout", [(4, 8, 2, 16), (16, 2, 1, 1), (1, 4, 2, 16), (2, 16, 4, 2),
                                    (4, 32, 1, 4)])
def test_matvec_warp_kernel(layout, monkeypatch, rng, on_gpu):
    # spmv_warp: (SHORT, GL, BATCH, STEPS): lane-per-row, group and warp rows, long rows
    monkeypatch.setitem(gpu_impl.TUNING, "spmv_kernel", "warp")
    for name, v in zip(("spmv_short", "spmv_gl", "spmv_batch", "spmv_steps"), layout):
        monkeypatch.setitem(gpu_impl.TUNING, name, v)
    for kind in ("long_rows", "random", "one_row", "empty_rows", "duplicates"):
        _run_matvec(kind, "int32", "float32", rng, False)
    _run_matvec("long_rows", "int64", "complex64", rng, False)
    _run_matvec("random", "int32", "bfloat16", rng, False)
    n_rows, n_cols, indptr, _, data, ref, absref = operands("long_rows", "int32", "int8", rng)
    got = gpu_impl.compressed_reduce_major("sum", n_rows, indptr, data)
    check("int8", got, np.asarray(ref @ np.ones(n_cols, dtype=ref.dtype)), None)


@needs_gpu
@pytest.mark.parametrize("v", [1, 16])
def test_matvec_merge_path(v, monkeypatch, rng, on_gpu):
    # spmv_split / spmv_carry / spmv_merge with tiles of 256 * v items: v = 1 makes the
    # long rows span many tiles, and empty rows fill whole tiles; v = 16 is the default
    # for regular rows (v = 8, the default for uneven rows, runs in the tests above:
    # long_rows takes it). Every value dtype at v = 1 (each is a compile: keep it short).
    monkeypatch.setitem(gpu_impl.TUNING, "spmv_kernel", "merge")
    monkeypatch.setitem(gpu_impl.TUNING, "spmv_merge_v", v)
    for kind in KINDS:
        _run_matvec(kind, "int32", "float32", rng, False)
    _run_matvec("long_rows", "int64", "float32", rng, False)
    dtypes = (("bool", "int8", "int64", "uint64", "float16", "bfloat16", "complex64") if v == 1
              else ("float16", "complex64"))
    for val in dtypes:
        _run_matvec("long_rows", "int32", val, rng, False)
    for kind in ("long_rows", "empty_rows", "zero_cols"):
        n_rows, n_cols, indptr, _, data, ref, absref = operands(kind, "int32", "int16", rng)
        got = gpu_impl.compressed_reduce_major("sum", n_rows, indptr, data)
        check("int16", got, np.asarray(ref @ np.ones(n_cols, dtype=ref.dtype)), None)


@needs_gpu
def test_spmv_kernel_choice(rng, on_gpu):
    kind = gpu_impl._spmv_kind
    n_rows, _, indptr, indices, _, _, _ = operands("long_rows", "int32", "float32", rng)
    assert kind(indptr, indices.shape[0], n_rows) == ("merge", gpu_impl._MERGE_V)  # uneven
    n_rows, _, indptr, indices, _, _, _ = operands("random", "int32", "float32", rng)
    assert kind(indptr, indices.shape[0], n_rows) == ("warp", None)  # small: one launch

    def regular(n, per_row):
        ip = mx.array(np.arange(n + 1, dtype=np.int32) * per_row)
        return kind(ip, n * per_row, n)
    assert regular(100_000, 3) == ("merge", gpu_impl._MERGE_V_REGULAR)   # stencil-like
    assert regular(20_000, 16) == ("warp", None)                          # 9 to 20 per row
    assert regular(20_000, 27) == ("merge", gpu_impl._MERGE_V_REGULAR)


@needs_gpu
def test_matvec_inf_in_x_stays_in_its_rows(rng, on_gpu):
    # Padding loads must not add 0 * x[0]: with x[0] = inf only rows holding column 0
    # may be inf / nan (every SpMV kernel).
    for kernel in ("merge", "warp", "rows"):
        gpu_impl.TUNING["spmv_kernel"] = kernel
        try:
            n_rows, n_cols, indptr, indices, data, ref, _ = operands("long_rows", "int32",
                                                                     "float32", rng)
            x = np.ones(n_cols, np.float32)
            x[0] = np.inf
            got = np.asarray(gpu_impl.compressed_matvec(n_rows, n_cols, indptr, indices, data,
                                                        mx.array(x)))
        finally:
            gpu_impl.TUNING["spmv_kernel"] = None
        touches0 = np.array([0 in ref.indices[a:b] for a, b in zip(ref.indptr[:-1],
                                                                   ref.indptr[1:])])
        assert np.isfinite(got[~touches0]).all(), kernel


@needs_gpu
@pytest.mark.parametrize("layout", [(1, 1, 1), (2, 4, 4), (8, 1, 2), (4, 2, 4)])
def test_matmat_layouts(layout, monkeypatch, rng, on_gpu):
    for name, v in zip(("spmm_lanes", "spmm_vec", "spmm_batch"), layout):
        monkeypatch.setitem(gpu_impl.TUNING, name, v)
    _run_matmat("long_rows", "int32", "float32", 8, rng, False)
    _run_matmat("random", "int32", "float32", 13, rng, False)


@needs_gpu
def test_matvec_is_deterministic(rng, on_gpu):
    n_rows, n_cols, indptr, indices, data, _, _ = operands("long_rows", "int32", "float32", rng)
    x = mx.array(rng.standard_normal(n_cols).astype(np.float32))
    runs = [gpu_impl.compressed_matvec(n_rows, n_cols, indptr, indices, data, x)
            for _ in range(3)]  # long_rows: the merge path
    X = mx.array(rng.standard_normal((n_cols, 8)).astype(np.float32))
    mm = [gpu_impl.compressed_matmat(n_rows, n_cols, indptr, indices, data, X)
          for _ in range(3)]
    mx.eval(runs, mm)
    for r in runs[1:]:
        assert np.array_equal(np.asarray(r), np.asarray(runs[0]))
    for r in mm[1:]:
        assert np.array_equal(np.asarray(r), np.asarray(mm[0]))


@needs_gpu
def test_wrong_operand_shape_raises(rng, on_gpu):
    n_rows, n_cols, indptr, indices, data, _, _ = operands("random", "int32", "float32", rng)
    with pytest.raises(ValueError, match="x must be 1-D"):
        gpu_impl.compressed_matvec(n_rows, n_cols, indptr, indices, data, mx.zeros(n_cols + 1))
    with pytest.raises(ValueError, match="X must be 2-D"):
        gpu_impl.compressed_matmat(n_rows, n_cols, indptr, indices, data, mx.zeros((n_rows, 2)))


# ======================================================================================
# sparse @ sparse (spgemm_rows)
# ======================================================================================
def _to_dense(n_rows, n_cols, indptr, indices, data):
    out = np.zeros((n_rows, n_cols), dtype=data.dtype)
    for r in range(n_rows):
        for p in range(indptr[r], indptr[r + 1]):
            out[r, indices[p]] += data[p]
    return out


def _run_matmul(a_kind, b_dup, idx, val, rng, n_cols=50):
    """A (a test-matrix kind) @ B (random rows of 0..12 nonzeros, unsorted with repeats
    when b_dup) through the GPU kernel, against NumPy in the reference dtype."""
    m, k, a_ptr, a_idx = make_matrix(a_kind, rng) if a_kind != "mid_rows" else \
        _csr(200, 120, rng.integers(9, 33, 200), rng)
    _, _, b_ptr, b_idx = _csr(k, n_cols, rng.integers(0, 13, k), rng, dup=b_dup)
    a_val, a_ref = values(val, a_idx.shape[0], rng)
    b_val, b_ref = values(val, b_idx.shape[0], rng)
    idt = {"int32": mx.int32, "int64": mx.int64}[idx]
    ip, ix, dv = gpu_impl.compressed_matmul(
        m, k, n_cols, mx.array(a_ptr).astype(idt), mx.array(a_idx).astype(idt), a_val,
        mx.array(b_ptr).astype(idt), mx.array(b_idx).astype(idt), b_val)
    assert ip.dtype == ix.dtype == idt and dv.dtype == DTYPES[val][0]
    ip, ix = np.asarray(ip), np.asarray(ix)
    A = _to_dense(m, k, a_ptr, a_idx, a_ref)
    B = _to_dense(k, n_cols, b_ptr, b_idx, b_ref)
    want = A @ B
    scale = _to_dense(m, k, a_ptr, a_idx, _absf(a_ref)) @ _to_dense(k, n_cols, b_ptr, b_idx, _absf(b_ref))
    # canonical: sorted unique columns per row
    assert ip[0] == 0 and ip[-1] == ix.shape[0] and np.all(np.diff(ip) >= 0)
    for r in range(m):
        assert np.all(np.diff(ix[ip[r]:ip[r + 1]]) > 0), f"row {r} not canonical"
    got = to_numpy(dv)
    dense = _to_dense(m, n_cols, ip, ix, got.astype(want.dtype) if val != "bool" else got.astype(np.int64))
    stored = np.zeros((m, n_cols), dtype=bool)
    stored[np.repeat(np.arange(m), np.diff(ip)), ix] = True
    if DTYPES[val][2] == 0:  # exact: stored where the wrapped sum is nonzero
        wrapped = want != 0 if val == "bool" else want.astype(_NP_OUT[val])
        np.testing.assert_array_equal(stored, wrapped != 0)
    if val == "bool":
        np.testing.assert_array_equal(dense != 0, want != 0)
    elif DTYPES[val][2] == 0:
        np.testing.assert_array_equal(dense.astype(_NP_OUT[val]), want.astype(_NP_OUT[val]))
    else:
        err = np.abs(dense - want)
        assert np.all(err <= DTYPES[val][2] * scale + (2.0**-24 if val == "float16" else 1e-30))
        assert not np.any(stored & (dense == 0)), "an exact-zero sum is stored"


@needs_gpu
@pytest.mark.parametrize("idx", ["int32", "int64"])
@pytest.mark.parametrize("b_dup", [False, True], ids=["B sorted", "B unsorted dup"])
@pytest.mark.parametrize("a_kind", ["random", "mid_rows", "empty_rows", "duplicates", "one_col",
                                    "zero_rows", "no_nonzeros", "long_rows"])
def test_matmul_kinds(a_kind, b_dup, idx, rng, on_gpu):
    # mid_rows: 9..32 per row (the 32-slot kernel); long_rows: the MLX-ops product
    _run_matmul(a_kind, b_dup, idx, "float32", rng)


@needs_gpu
@pytest.mark.parametrize("val", ["bool", "int8", "int64", "uint64", "float16", "bfloat16",
                                 "complex64"])
def test_matmul_dtypes(val, rng, on_gpu):
    _run_matmul("random", True, "int32", val, rng)


@needs_gpu
def test_matmul_drops_exact_zeros_keeps_nan(on_gpu):
    # row 0: 1*1 + 1*(-1) = 0 is dropped; row 1: nan is kept
    A = ssp.csr_matrix(np.array([[1.0, 1.0], [np.nan, 0.0]], dtype=np.float32))
    B = ssp.csr_matrix(np.array([[1.0, 2.0], [-1.0, 0.0]], dtype=np.float32))
    ip, ix, dv = gpu_impl.compressed_matmul(
        2, 2, 2, mx.array(A.indptr), mx.array(A.indices), mx.array(A.data),
        mx.array(B.indptr), mx.array(B.indices), mx.array(B.data))
    np.testing.assert_array_equal(np.asarray(ip), [0, 1, 3])
    np.testing.assert_array_equal(np.asarray(ix), [1, 0, 1])
    np.testing.assert_array_equal(np.asarray(dv), [2.0, np.nan, np.nan])


# ======================================================================================
# element-wise sparse op sparse, dense <-> compressed: against the MLX-ops code on the
# CPU (oracle-tested against SciPy), whose results they must give exactly (half
# precision: to one rounding)
# ======================================================================================
def _assert_same_compressed(got, want, val):
    for g, w in zip(got[:2], want[:2]):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    g, w = to_numpy(got[2]), to_numpy(want[2])
    assert got[2].dtype == want[2].dtype
    if val in ("float16", "bfloat16", "complex64"):  # (complex products: FMA roundings)
        np.testing.assert_allclose(g, w, rtol=DTYPES[val][2], atol=2.0**-24)
    else:
        np.testing.assert_array_equal(g, w)


def _canonical_pair(kind, val, idx, rng):
    """Two canonical matrices of one shape (B: A's pattern in part, other entries too)
    and their buffers, in the index dtype idx."""
    n_rows, n_cols, ptr, ind = make_matrix(kind, rng)
    A = ssp.csr_matrix((np.ones(ind.shape[0]), ind, ptr), shape=(n_rows, n_cols))
    A.sum_duplicates()
    B = ssp.random(n_rows, n_cols, density=0.05, format="csr", random_state=rng) if \
        n_rows * n_cols else ssp.csr_matrix((n_rows, n_cols))
    B = (B + A.multiply(rng.random(A.shape) < 0.5)).tocsr()
    B.sum_duplicates()
    idt = {"int32": mx.int32, "int64": mx.int64}[idx]
    out = []
    for M in (A, B):
        data, _ = values(val, M.nnz, rng)
        if M.nnz:  # some equal values in both, so that sub / ne give zeros
            data = mx.where(mx.array(rng.random(M.nnz) < 0.2), mx.array(1).astype(data.dtype), data)
        out += [mx.array(M.indptr).astype(idt), mx.array(M.indices).astype(idt), data]
    return (n_rows, n_cols), out


@needs_gpu
@pytest.mark.parametrize("op", sorted(gpu_impl._BINOP_CODES))
@pytest.mark.parametrize("kind", ["random", "empty_rows", "one_row", "zero_rows", "zero_cols",
                                  "no_nonzeros", "one_col", "long_rows"])
def test_binop_kinds(op, kind, rng, on_gpu):
    from mlx_sparse._ops import mlx_products
    shape, bufs = _canonical_pair(kind, "float32", "int32" if kind != "one_col" else "int64", rng)
    got = gpu_impl.compressed_binop(op, *shape, *bufs)
    with mx.stream(mx.cpu):
        want = mlx_products.compressed_binop(op, *shape, *bufs)
    _assert_same_compressed(got, want, "float32")


@needs_gpu
@pytest.mark.parametrize("val", ["bool", "int8", "uint8", "int64", "uint64", "float16",
                                 "bfloat16", "complex64"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "maximum", "lt", "ge"])
def test_binop_dtypes(op, val, rng, on_gpu):
    from mlx_sparse._ops import mlx_products
    shape, bufs = _canonical_pair("random", val, "int32", rng)
    got = gpu_impl.compressed_binop(op, *shape, *bufs)
    with mx.stream(mx.cpu):
        want = mlx_products.compressed_binop(op, *shape, *bufs)
    _assert_same_compressed(got, want, "bool" if op in ("lt", "ge") else val)


@needs_gpu
def test_binop_nan(on_gpu):
    from mlx_sparse._ops import mlx_products
    A = ssp.csr_matrix(np.array([[np.nan, 1.0, 0.0], [2.0, 0.0, np.nan]], dtype=np.float32))
    B = ssp.csr_matrix(np.array([[1.0, np.nan, 3.0], [2.0, 0.0, 0.0]], dtype=np.float32))
    bufs = [mx.array(a) for M in (A, B) for a in (M.indptr, M.indices, M.data)]
    for op in gpu_impl._BINOP_CODES:
        got = gpu_impl.compressed_binop(op, 2, 3, *bufs)
        with mx.stream(mx.cpu):
            want = mlx_products.compressed_binop(op, 2, 3, *bufs)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w), err_msg=op)


@needs_gpu
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("val", ["bool", "int8", "int64", "uint64", "float16", "float32",
                                 "complex64"])
def test_todense(kind, val, rng, on_gpu):
    n_rows, n_cols, ptr, ind = make_matrix(kind, rng)
    data, ref = values(val, ind.shape[0], rng)
    idt = mx.int64 if kind == "one_col" else mx.int32
    got = gpu_impl.compressed_to_dense(n_rows, n_cols, mx.array(ptr).astype(idt),
                                       mx.array(ind).astype(idt), data)
    want = _to_dense(n_rows, n_cols, ptr, ind, ref)
    check(val, got, want, _to_dense(n_rows, n_cols, ptr, ind, _absf(ref)))


@needs_gpu
@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (1, 1), (7, 31), (40, 33), (3, 1000), (300, 70)])
@pytest.mark.parametrize("val", ["bool", "int8", "uint64", "float16", "float32", "complex64"])
@pytest.mark.parametrize("idx", ["int32", "int64"])
def test_fromdense(shape, val, idx, rng, on_gpu):
    from mlx_sparse._ops import mlx_impl
    dense, _ = values(val, shape, rng)
    keep = mx.array(rng.random(shape) < 0.3)
    dense = mx.where(keep, dense, mx.zeros_like(dense))
    if val in ("float16", "float32") and dense.size:
        dense = mx.where(mx.array(rng.random(shape) < 0.05), mx.array(np.nan).astype(dense.dtype), dense)
    idt = {"int32": mx.int32, "int64": mx.int64}[idx]
    got = gpu_impl.dense_to_compressed(dense, idt)
    with mx.stream(mx.cpu):
        want = mlx_impl.dense_to_compressed(dense, idt)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(to_numpy(g), to_numpy(w))
    if dense.size:  # and the transposed view (a CSC input's)
        got = gpu_impl.dense_to_compressed(dense.T, idt)
        with mx.stream(mx.cpu):
            want = mlx_impl.dense_to_compressed(dense.T, idt)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(to_numpy(g), to_numpy(w))


@needs_gpu
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("idx", ["int32", "int64"])
def test_bucket_sorts(kind, idx, rng, on_gpu):
    """CSR -> CSC, COO -> CSR and sort_indices through the bucket sort (a fallback where
    a bucket is longer than _BUCKET_MAX: one_row, long_rows), exactly as the MLX-ops
    code on the CPU."""
    from mlx_sparse._ops import mlx_impl
    n_rows, n_cols, ptr, ind = make_matrix(kind, rng)
    idt = {"int32": mx.int32, "int64": mx.int64}[idx]
    data, _ = values("float32", ind.shape[0], rng)
    indptr, indices = mx.array(ptr).astype(idt), mx.array(ind).astype(idt)
    rows = mx.array(np.repeat(np.arange(n_rows), np.diff(ptr))).astype(idt)
    perm = mx.array(rng.permutation(ind.shape[0]))
    calls = [("compressed_transpose", (n_rows, n_cols, indptr, indices, data)),
             ("coo_to_compressed", (n_rows, n_cols, rows[perm], indices[perm], data[perm])),
             ("sort_indices", (indptr, indices, data, n_cols)),
             ("sort_indices", (indptr, indices, data))]
    for op, args in calls:
        got = getattr(gpu_impl, op)(*args)
        with mx.stream(mx.cpu):
            want = getattr(mlx_impl, op)(*args)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype, op
            if op == "coo_to_compressed" and g.dtype == mx.float32:
                # duplicates are summed by a scatter-add: on a GPU in any order
                np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-6,
                                           err_msg=op)
            else:
                np.testing.assert_array_equal(np.asarray(g), np.asarray(w), err_msg=op)


def _triangular(kind, n, lower, dtype, rng):
    """(indptr, indices, data) of a CSR matrix read as triangular, and (strict, diagonal):
    the side the solve reads as a SciPy matrix, and a diagonal that dominates it (|row
    sum| < 1/2 of the diagonal). "random" adds duplicates, unsorted indices and entries
    on the diagonal and on the other side, which the solve skips."""
    if kind == "poisson":                      # a 2-D 5-point pattern: 2k levels
        k = int(round(n ** 0.5))
        n, r = k * k, np.arange(k * k)
        rows = np.concatenate([r[r % k != 0], r[r >= k]])
        cols = np.concatenate([r[r % k != 0] - 1, r[r >= k] - k])
    elif kind == "chain":                      # bidiagonal: n levels, waits across blocks
        rows = np.arange(1, n)
        cols = rows - 1
    elif kind == "random":
        rows, cols = rng.integers(0, n, (2, 8 * n))
        rows, cols = rows[cols < rows], cols[cols < rows]
    else:                                      # long_rows: 3 rows reading n // 3 rows each
        rows = np.repeat(rng.choice(np.arange(n // 2, n), 3, replace=False), n // 3)
        cols = np.concatenate([rng.choice(n // 2, n // 3, replace=False) for _ in range(3)])
    if not lower:
        rows, cols = n - 1 - rows, n - 1 - cols
    m = rows.size
    vals = rng.uniform(-1, 1, m) + (1j * rng.uniform(-1, 1, m) if dtype.kind == "c" else 0)
    strict = ssp.csr_array((vals, (rows, cols)), shape=(n, n))
    if kind == "random":
        skipped = rng.integers(0, n, (2, n))
        rows = np.concatenate([rows, skipped[0], np.arange(n)])
        cols = np.concatenate([cols, n - 1 - skipped[1] if lower else skipped[1], np.arange(n)])
        vals = np.concatenate([vals, np.full(2 * n, 7.0)])
        keep = (cols >= rows) if lower else (cols <= rows)
        keep[:m] = True
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        dup = rng.choice(m, m // 4, replace=False)  # split some entries in two halves
        vals[dup] /= 2
        rows, cols, vals = (np.concatenate([x, x[dup]]) for x in (rows, cols, vals))
        shuffle = rng.permutation(rows.size)
        rows, cols, vals = rows[shuffle], cols[shuffle], vals[shuffle]
    order = np.argsort(rows, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    diag = 1.0 + 2 * np.abs(strict).sum(axis=1) * rng.uniform(1, 2, n)
    return (indptr, cols[order], vals[order].astype(dtype)), (strict, diag)


@needs_gpu
@pytest.mark.skipif(gpu_impl.API != "cuda", reason="the sync-free solve is CUDA only")
@pytest.mark.parametrize("kind,n", [("poisson", 2500), ("chain", 20000), ("random", 3000),
                                    ("long_rows", 900), ("chain", 1), ("random", 2)])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("val,idx", [("float32", "int32"), ("complex64", "int64")])
def test_triangular_solve(kind, n, lower, val, idx, rng, on_gpu):
    """trisolve_rows against SciPy's solve of the side it reads plus the diagonal (in
    double precision); 1 and 9 right-hand sides with the diagonal, 3 with a unit one."""
    dtype = np.dtype(val)
    (ptr, ind, dat), (strict, diag) = _triangular(kind, n, lower, dtype, rng)
    n = ptr.size - 1
    idt = {"int32": mx.int32, "int64": mx.int64}[idx]
    csr = [mx.array(ptr).astype(idt), mx.array(ind).astype(idt), mx.array(dat)]
    wide = np.complex128 if dtype.kind == "c" else np.float64
    for k, unit in ((1, False), (3, True), (9, False)):  # (9: two blocks of right-hand sides)
        B = rng.standard_normal((n, k)) + (1j * rng.standard_normal((n, k)) if dtype.kind == "c"
                                           else 0)
        T = strict + (ssp.eye_array(n) if unit else ssp.diags_array(diag))
        want = ssp.linalg.spsolve_triangular(T.tocsr().astype(wide), B.astype(wide), lower=lower)
        dinv = None if unit else mx.array((1.0 / diag).astype(dtype))
        got = gpu_impl.triangular_solve(*csr, dinv, mx.array(B.astype(dtype)), lower)
        assert got.dtype == csr[2].dtype and got.shape == (n, k)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-4 * max(
            1.0, np.abs(want).max(initial=0)), err_msg=f"{kind} lower={lower} k={k}")


@needs_gpu
@pytest.mark.skipif(gpu_impl.API != "cuda", reason="the sync-free solve is CUDA only")
@pytest.mark.parametrize("lower", [True, False])
def test_triangular_solve_more_blocks_than_fit(lower, rng, on_gpu):
    """A million rows: ~3900 threadgroups, more than a GPU holds at once, so rows wait on
    rows of groups that have finished and started later (the in-order start the solve
    relies on); the public spsolve_triangular against SciPy's."""
    (ptr, ind, dat), (strict, diag) = _triangular("poisson", 1000 ** 2, lower,
                                                  np.dtype(np.float32), rng)
    n = ptr.size - 1
    T = (strict + ssp.diags_array(diag)).tocsr()
    b = rng.standard_normal(n)
    want = ssp.linalg.spsolve_triangular(T, b, lower=lower)
    import mlx_sparse.sparse as msp
    import mlx_sparse.sparse.linalg as mla
    got = mla.spsolve_triangular(msp.csr_array(T.astype(np.float32)),
                                 mx.array(b.astype(np.float32)), lower=lower)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4,
                               atol=1e-4 * np.abs(want).max())


def _spd(kind, n, rng):
    """A symmetric positive definite float64 CSR matrix: 2-D Poisson (side n), a random
    one with empty off-diagonal rows (diagonally dominant), or one with a few long rows
    (which cg_step declines: cg's own MLX-ops step runs)."""
    if kind == "poisson":
        T = ssp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(n, n))
        return (ssp.kron(T, ssp.eye_array(n)) + ssp.kron(ssp.eye_array(n), T)).tocsr()
    B = ssp.random(n, n, density=min(1.0, 4.0 / n), random_state=rng, format="csr")
    if kind == "long_rows":
        B = B + ssp.csr_array((np.ones(n), (np.full(n, n // 2), np.arange(n))), shape=(n, n))
    else:
        B = B.multiply(rng.random((n, 1)) < 0.5)  # half the rows empty
    S = (B + B.T).tocsr()
    return (S + ssp.diags_array(1.0 + np.asarray(abs(S).sum(axis=1)).ravel())).tocsr()


@needs_gpu
@pytest.mark.parametrize("kind,n", [("poisson", 30), ("random", 500), ("random", 1),
                                    ("long_rows", 300)])
@pytest.mark.parametrize("jacobi", [False, True], ids=["M=None", "M=jacobi"])
@pytest.mark.parametrize("idx", ["int32", "int64"])
def test_cg_step(kind, n, jacobi, idx, rng, on_gpu, monkeypatch):
    """cg on a float32 CSR matrix runs cg_step's two launches per iteration (rows of
    even length) and matches SciPy's cg: the same info, iterates within float32 rounding
    of SciPy's float64 ones for the first iterations, the solution within the tolerance,
    an iteration count within 2 of SciPy's float32 run."""
    import mlx_sparse.sparse as msp
    import mlx_sparse.sparse.linalg as mla
    import scipy.sparse.linalg as sla
    S = _spd(kind, n, rng)
    b = rng.standard_normal(S.shape[0])
    launches = []
    real_launch = gpu_impl._launch
    monkeypatch.setattr(gpu_impl, "_launch", lambda body, *a, **k: (
        launches.append(body), real_launch(body, *a, **k))[1])
    A = msp.csr_array((S.data.astype(np.float32), S.indices.astype(idx), S.indptr.astype(idx)),
                      shape=S.shape)
    from mlx_sparse.sparse.linalg import preconditioners
    M = preconditioners.jacobi(A) if jacobi else None
    Ms = ssp.diags_array(1.0 / S.diagonal()) if jacobi else None
    mine, ref, ref32 = [], [], []
    x, info = mla.cg(A, mx.array(b.astype(np.float32)), rtol=1e-5, M=M,
                     callback=lambda xk: mine.append(np.asarray(xk)))
    xs, infos = sla.cg(S, b, rtol=1e-5, M=Ms, callback=lambda xk: ref.append(xk.copy()))
    sla.cg(S.astype(np.float32), b.astype(np.float32), rtol=1e-5,
           M=None if Ms is None else Ms.astype(np.float32), callback=ref32.append)
    fused = launches.count("cg_direction")
    assert fused == launches.count("cg_update")
    assert (fused >= len(mine)) == (kind != "long_rows"), (fused, len(mine))
    assert info == infos == 0 and abs(len(mine) - len(ref32)) <= 2
    for k in range(min(3, len(ref))):
        np.testing.assert_allclose(mine[k], ref[k], rtol=1e-3, atol=1e-4 * np.abs(ref[k]).max())
    assert np.linalg.norm(S @ np.asarray(x) - b) <= 2e-5 * np.linalg.norm(b) * 10


# ======================================================================================
# dispatch: the public API reaches the kernels
# ======================================================================================
_KERNEL_OPS = ("compressed_matvec", "compressed_matvec_t", "compressed_matmat",
               "compressed_matmat_t", "compressed_reduce_major", "compressed_reduce_minor",
               "compressed_matmul",
               "compressed_binop", "compressed_to_dense", "dense_to_compressed",
               "compressed_transpose", "coo_to_compressed", "sort_indices", "triangular_diagonal")


@needs_gpu
def test_dispatch_table_names_the_kernels():
    for op in _KERNEL_OPS + (("triangular_solve",) if gpu_impl.API == "cuda" else ()):
        name, fn = _ops.DISPATCH[op]["gpu"]
        assert name == f"{gpu_impl.API} kernel" and fn is gpu_impl.KERNELS[op]


@needs_gpu
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_public_products_on_gpu(fmt, rng, on_gpu):
    import mlx_sparse.sparse as msp
    S = ssp.random(300, 200, density=0.05, format=fmt, dtype=np.float32, random_state=rng)
    A = getattr(msp, f"{fmt}_array")(S)
    x = rng.standard_normal(200).astype(np.float32)
    X = rng.standard_normal((200, 5)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(A @ mx.array(x)), S @ x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(A @ mx.array(X)), S @ X, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(A.sum(axis=1)).ravel(),
                               np.asarray(S.sum(axis=1)).ravel(), rtol=1e-4, atol=1e-5)


# ======================================================================================
# plain-MLX-op fallbacks on the GPU: 64-bit integer values and indices (MLX 0.32's CUDA
# scatter has no int64/uint64 add, so those sums must not go through one)
# ======================================================================================
@needs_gpu
@pytest.mark.parametrize("val", ["int64", "uint64", "int32", "float32"])
@pytest.mark.parametrize("idx", ["int32", "int64"])
def test_structural_fallbacks_64bit(val, idx, rng, on_gpu):
    from mlx_sparse._ops import mlx_impl as M
    mdt, _, _ = DTYPES[val]
    npv = _NP_OUT.get(val, np.float32)
    idt = {"int32": mx.int32, "int64": mx.int64}[idx]
    m, n, nnz = 37, 23, 400
    row, col = rng.integers(0, m, nnz), rng.integers(0, n, nnz)
    vals = rng.integers(0 if val.startswith("u") else -9, 10, nnz).astype(npv)
    if val.endswith("64"):
        vals[:5] = np.array([2**40 + 3, 2**62, 7, 2**33, 1], dtype=npv)  # beyond 32 bits
    ref = ssp.coo_matrix((vals, (row, col)), shape=(m, n)).tocsr()
    ref.sum_duplicates()
    mrow, mcol, mval = mx.array(row).astype(idt), mx.array(col).astype(idt), mx.array(vals)
    assert mval.dtype == mdt

    ip, ix, dv = M.coo_to_compressed(m, n, mrow, mcol, mval)
    assert ip.dtype == ix.dtype == idt and dv.dtype == mdt
    np.testing.assert_array_equal(np.asarray(ip), ref.indptr)
    np.testing.assert_array_equal(np.asarray(ix), ref.indices)
    np.testing.assert_array_equal(np.asarray(dv), ref.data)

    dense = M.coo_to_dense(m, n, mrow, mcol, mval)
    np.testing.assert_array_equal(np.asarray(dense), ref.toarray())
    np.testing.assert_array_equal(np.asarray(M.compressed_to_dense(m, n, ip, ix, dv)),
                                  ref.toarray())

    # unsorted rows with duplicates: sort, then merge
    order = np.argsort(row, kind="stable")
    uptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=m))])
    uix, uval = mx.array(col[order]).astype(idt), mx.array(vals[order])
    sidx, sval = M.sort_indices(mx.array(uptr).astype(idt), uix, uval, n)
    dptr, didx, dval = M.sum_duplicates(mx.array(uptr).astype(idt), sidx, sval)
    np.testing.assert_array_equal(np.asarray(dptr), ref.indptr)
    np.testing.assert_array_equal(np.asarray(didx), ref.indices)
    np.testing.assert_array_equal(np.asarray(dval), ref.data)

    tptr, tidx, tval = M.compressed_transpose(m, n, ip, ix, dv)
    refT = ref.T.tocsr()
    np.testing.assert_array_equal(np.asarray(tptr), refT.indptr)
    np.testing.assert_array_equal(np.asarray(tidx), refT.indices)
    np.testing.assert_array_equal(np.asarray(tval), refT.data)

    for k in (-3, 0, 4):
        np.testing.assert_array_equal(np.asarray(M.compressed_diagonal(k, m, n, ip, ix, dv)),
                                      ref.diagonal(k))
    eptr, eidx, edat = M.eliminate_zeros(ip, ix, dv)
    ref0 = ref.copy()
    ref0.eliminate_zeros()
    np.testing.assert_array_equal(np.asarray(eptr), ref0.indptr)
    np.testing.assert_array_equal(np.asarray(edat), ref0.data)
    fptr, fidx, fdat = M.dense_to_compressed(dense, idt)
    np.testing.assert_array_equal(np.asarray(fptr), ref0.indptr)
    np.testing.assert_array_equal(np.asarray(fidx), ref0.indices)
    np.testing.assert_array_equal(np.asarray(fdat), ref0.data)
