"""The dispatch table: every op has a CPU and a GPU entry, the CPU entry is the native
extension when it is built, and both implementations agree."""
import mlx.core as mx
import numpy as np
import pytest

from mlx_sparse import _ops
from mlx_sparse._ops import mlx_impl, native_impl


def test_every_op_has_cpu_and_gpu_entries():
    # Every op runs everywhere, except the optional kernels: on the CPU where the
    # extension has one (all but cg_step), on a GPU where gpu_impl has one (cg_step;
    # the triangular solve on CUDA); elsewhere their callers' MLX-ops code runs.
    from mlx_sparse._ops import gpu_impl
    for op in _ops.OPS:
        assert set(_ops.DISPATCH[op]) == {"cpu", "gpu"}
        for dev in ("cpu", "gpu"):
            name, fn = _ops.DISPATCH[op][dev]
            if op in _ops.OPTIONAL_OPS and (not gpu_impl.has(op) if dev == "gpu"
                                            else not native_impl.has(op)):
                assert (name, fn) == _ops.NOT_AVAILABLE, (op, dev)
            else:
                assert callable(fn), (op, dev)
    assert set(_ops.OPTIONAL_OPS) < set(_ops.OPS)
    for op in _ops.OPTIONAL_OPS:
        assert _ops.optional_kernel(op, mx.Device(mx.gpu)) is (
            gpu_impl.KERNELS[op] if gpu_impl.has(op) else None)
        assert _ops.optional_kernel(op, mx.Device(mx.cpu)) is (
            getattr(native_impl, op) if native_impl.has(op) else None)
    assert native_impl.AVAILABLE and all(native_impl.has(op) for op in _ops.OPTIONAL_OPS
                                         if op != "cg_step")
    assert gpu_impl.has("triangular_solve") == (gpu_impl.API == "cuda")
    assert gpu_impl.has("cg_step") == (gpu_impl.API is not None)


STRUCTURAL = ("coo_to_compressed", "compressed_transpose", "sort_indices", "sum_duplicates",
              "eliminate_zeros", "compressed_to_dense", "coo_to_dense",
              "dense_to_compressed", "compressed_diagonal", "triangular_diagonal",
              "expand_indptr")


def test_native_extension_is_built_and_dispatched():
    # The package is installed with its C++ extension; a missing build is a failure.
    assert native_impl.AVAILABLE, "mlx_sparse._native was not built"
    cpu = {op: impl for op, impl, _ in _ops.table()}
    for op in STRUCTURAL:
        assert cpu[op] == "native (C++)", op
    for op, impl in cpu.items():  # every kernel the extension has is the one used
        assert (impl == "native (C++)") == native_impl.has(op), op


def test_info_prints_the_table(capsys):
    from mlx_sparse.__main__ import main
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for op in _ops.OPS:
        assert op in out


def test_demo_matches_scipy(capsys):
    """The README's main job, small: every step's result is compared with SciPy's."""
    from mlx_sparse.__main__ import main
    assert main(["demo", "--n", "20"]) == 0
    assert "all results match SciPy" in capsys.readouterr().out


@pytest.mark.parametrize("dtype", [mx.float32, mx.float64, mx.int64, mx.bfloat16])
def test_native_and_mlx_paths_agree(dtype):
    with mx.stream(mx.cpu):  # both CPU implementations (float64 has no GPU in MLX)
        _native_and_mlx_paths_agree(dtype)


def _native_and_mlx_paths_agree(dtype):
    rng = np.random.default_rng(7)
    n_major, n_minor, nnz = 40, 30, 500
    major = mx.array(rng.integers(0, n_major, nnz).astype(np.int32))
    minor = mx.array(rng.integers(0, n_minor, nnz).astype(np.int32))
    data = mx.array(rng.integers(-3, 4, nnz).astype(np.float32)).astype(dtype)
    a = native_impl.coo_to_compressed(n_major, n_minor, major, minor, data)
    b = mlx_impl.coo_to_compressed(n_major, n_minor, major, minor, data)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype
        assert np.array_equal(np.asarray(x.astype(mx.float32) if x.dtype == mx.bfloat16 else x),
                              np.asarray(y.astype(mx.float32) if y.dtype == mx.bfloat16 else y))
    t_a = native_impl.compressed_transpose(n_major, n_minor, *a)
    t_b = mlx_impl.compressed_transpose(n_major, n_minor, *b)
    for x, y in zip(t_a[:2], t_b[:2]):
        assert np.array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("impl", ["native", pytest.param("gpu", marks=pytest.mark.skipif(
    not (mx.cuda.is_available() or mx.metal.is_available()), reason="no GPU"))])
@pytest.mark.parametrize("case", ["triangular", "zero_diag", "no_diag", "crossing", "empty_rows"])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("val,idx", [("float32", "int32"), ("int8", "int64"),
                                     ("complex64", "int32"), ("float16", "int64")])
def test_triangular_diagonal(impl, case, lower, val, idx):
    """spsolve_triangular's checks (the diagonal from the row ends, a status), the C++
    and the GPU kernel, as the MLX-ops code on the CPU, on canonical matrices with and
    without a zero or missing diagonal entry, a row that crosses, empty rows; with and
    without unit_diagonal."""
    import zlib

    import scipy.sparse as ssp

    from mlx_sparse._ops import gpu_impl
    rng = np.random.default_rng(zlib.crc32(f"{case} {lower} {val} {idx}".encode()))
    fn = {"native": native_impl, "gpu": gpu_impl}[impl].triangular_diagonal
    n = 200
    S = ssp.random_array((n, n), density=0.03, rng=rng, format="csr")
    S = (ssp.tril(S, -1) if lower else ssp.triu(S, 1)).tolil()  # strictly triangular
    if case != "no_diag":
        S.setdiag(1.0)
    if case == "crossing":
        S[n // 3, n - 1 if lower else 0] = 2.0
    if case == "empty_rows":
        S[::7, :] = 0  # (LIL drops them: empty rows, without their diagonal)
    S = S.tocsr()
    S.sort_indices()
    if case == "zero_diag":  # an explicit zero stored on the diagonal
        row = n // 2
        S.data[S.indptr[row] + np.flatnonzero(S.indices[S.indptr[row]:S.indptr[row + 1]] == row)] = 0
    data = mx.array(rng.integers(-3, 4, S.nnz)).astype(getattr(mx, val))
    one, zero = mx.ones((1,), dtype=data.dtype), mx.zeros((1,), dtype=data.dtype)
    data = mx.where(mx.array(S.data != 0), mx.where(data == 0, one, data), zero)  # S's zeros only
    args = (n, mx.array(S.indptr).astype(getattr(mx, idx)), mx.array(S.indices).astype(getattr(mx, idx)), data)
    for unit in (False, True):
        with mx.stream(mx.gpu if impl == "gpu" else mx.cpu):
            got = fn(*args, lower, unit)
        with mx.stream(mx.cpu):
            want = mlx_impl.triangular_diagonal(*args, lower, unit)
        assert got[1].dtype == mx.int32 and got[1].item() == want[1].item(), (case, unit)
        if unit:
            assert got[0] is None and want[0] is None
        else:
            assert got[0].dtype == data.dtype
            np.testing.assert_array_equal(np.asarray(got[0].astype(mx.float32) if val == "float16"
                                                     else got[0]),
                                          np.asarray(want[0].astype(mx.float32) if val == "float16"
                                                     else want[0]))
    expect = {"crossing": 2, "zero_diag": 1, "no_diag": 1, "empty_rows": 1}.get(case, 0)
    with mx.stream(mx.gpu if impl == "gpu" else mx.cpu):
        assert fn(*args, lower, False)[1].item() == expect


def test_float64_runs_on_cpu_stream_when_gpu_is_default(monkeypatch):
    # device_for() sends float64 to the CPU whatever the default device is.
    from mlx_sparse import _dtypes
    monkeypatch.setattr(_dtypes.mx, "default_device", lambda: mx.Device(mx.gpu))
    monkeypatch.setattr(_dtypes, "_reported_cpu_fallback", True)
    assert _dtypes.device_for(mx.float64) == mx.cpu
    assert _dtypes.device_for(mx.float32) == mx.Device(mx.gpu)


def test_on_value_device_runs_refused_float64_calls_again_on_the_cpu(monkeypatch):
    # As on a GPU default device: MLX refuses a float64 op, the whole call runs again
    # (on the CPU stream); other errors propagate from the first run.
    from mlx_sparse import _dtypes
    monkeypatch.setenv("MLX_SPARSE_QUIET", "1")
    monkeypatch.setattr(_dtypes.mx, "default_device", lambda: mx.Device(mx.gpu))
    calls = []

    def refused_once(x):
        calls.append(x)
        if len(calls) == 1:
            raise ValueError("float64 is not supported on the GPU")
        return x + 1

    assert _dtypes.on_value_device(refused_once)(1) == 2 and calls == [1, 1]

    def other_error(x):
        calls.append(x)
        raise ValueError("shape mismatch")

    calls.clear()
    with pytest.raises(ValueError, match="shape mismatch"):
        _dtypes.on_value_device(other_error)(3)
    assert calls == [3]
    guarded = _dtypes.on_value_device(refused_once)
    assert _dtypes.on_value_device(guarded) is guarded  # wrapped once
