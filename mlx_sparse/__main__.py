"""`python -m mlx_sparse info` and `python -m mlx_sparse demo`."""
import argparse
import sys
import time


def info():
    import mlx.core as mx
    from . import __version__, _ops
    from ._ops import native_impl

    print(f"mlx_sparse {__version__}")
    print(f"MLX {mx.__version__}; default device: {mx.default_device()}")
    print("backends:")
    print(f"  CPU native extension (mlx_sparse._native): "
          f"{'loaded' if native_impl.AVAILABLE else 'NOT built (plain MLX ops used)'}"
          + (f", {native_impl._native.num_threads()} threads" if native_impl.AVAILABLE else ""))
    print(f"  Metal: {'available' if mx.metal.is_available() else 'not available'}")
    print(f"  CUDA:  {'available' if mx.cuda.is_available() else 'not available'}")
    print("float64 data computes on the CPU stream (MLX has no float64 on GPUs).")
    print("dispatch table (op -> implementation per device):")
    rows = _ops.table()
    w = max(len(r[0]) for r in rows)
    print(f"  {'op':<{w}}  {'cpu':<14}  gpu")
    for op, cpu, gpu in rows:
        print(f"  {op:<{w}}  {cpu:<14}  {gpu}")


def _poisson2d(n):
    """The 5-point 2-D Poisson matrix on an n x n grid, built with SciPy (the oracle)."""
    import scipy.sparse as ssp
    T = ssp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(n, n))
    I = ssp.eye_array(n)
    return (ssp.kron(I, T) + ssp.kron(T, I)).tocoo()


def demo(n=300):
    """Build a 2-D Poisson matrix, convert between formats, compare with SciPy."""
    import mlx.core as mx
    import numpy as np
    import scipy.sparse as ssp

    import scipy.sparse.linalg  # noqa: F401  (ssp.linalg for the solver step)

    import mlx_sparse.sparse as sp

    ref = _poisson2d(n)
    rng = np.random.default_rng(0)
    # Shuffle and duplicate entries so the conversions have real work to do.
    order = rng.permutation(ref.nnz)
    dup = rng.integers(0, ref.nnz, ref.nnz // 4)
    row = np.concatenate([ref.row[order], ref.row[dup]])
    col = np.concatenate([ref.col[order], ref.col[dup]])
    val = np.concatenate([ref.data[order], np.zeros(dup.size)])
    x = rng.standard_normal(ref.shape[0])
    X = rng.standard_normal((ref.shape[0], 8))
    dense_small = ssp.random_array((400, 400), density=0.05, rng=1).toarray()

    print(f"mlx_sparse demo on {mx.default_device()}: 2-D Poisson {n}x{n} grid, "
          f"{ref.shape[0]} rows, {row.size} COO entries (with duplicates)")
    S_coo = ssp.coo_array((val, (row, col)), shape=ref.shape)
    M_coo = sp.coo_array((val, (row, col)), shape=ref.shape)

    steps = [
        ("coo -> csr (sum duplicates)", lambda L, A: A.tocsr(), "coo"),
        ("csr -> csc", lambda L, A: A.tocsr().tocsc(), "coo"),
        ("transpose (no copy) -> csr", lambda L, A: A.tocsr().T.tocsr(), "coo"),
        ("diagonal(k=1)", lambda L, A: A.tocsr().diagonal(1), "coo"),
        ("sum_duplicates + eliminate_zeros", _canon, "coo"),
        ("fromdense (400x400)", lambda L, A: L.csr_array(dense_small), None),
        ("todense (400x400)", lambda L, A: L.csr_array(dense_small).toarray(), None),
        ("A @ x (SpMV)", lambda L, A: A.tocsr() @ x, None),
        ("A @ X (SpMM, 8 columns)", lambda L, A: A.tocsr() @ X, None),
        ("A.T @ x", lambda L, A: A.tocsr().T @ x, None),
        ("A + A.T (sparse + sparse)", lambda L, A: A.tocsr() + A.tocsr().T, None),
        ("A @ A (SpGEMM)", lambda L, A: A.tocsr() @ A.tocsr(), None),
        ("A.sum(axis=0)", lambda L, A: A.tocsr().sum(axis=0), None),
        ("linalg.cg, 100 iterations", lambda L, A: L.linalg.cg(
            A.tocsr(), x, rtol=0.0, maxiter=100)[0], None),
    ]
    failures = 0
    print(f"  {'operation':<36} {'mlx_sparse ms':>14} {'SciPy ms':>9}  matches SciPy")
    for name, fn, _ in steps:
        t0 = time.perf_counter()
        ours = fn(sp, M_coo)
        mx.eval(*_arrays(ours))
        t_ours = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        theirs = fn(ssp, S_coo)
        t_theirs = (time.perf_counter() - t0) * 1e3
        ok = _same(ours, theirs)
        failures += not ok
        print(f"  {name:<36} {t_ours:>14.2f} {t_theirs:>9.2f}  {'yes' if ok else 'NO'}")
    print("all results match SciPy" if not failures else f"{failures} MISMATCHES")
    return 1 if failures else 0


def _canon(L, A):
    B = A.tocsr().copy()
    B.sum_duplicates()
    B.eliminate_zeros()
    return B


def _arrays(x):
    import mlx.core as mx
    if isinstance(x, mx.array):
        return [x]
    return [getattr(x, a) for a in ("data", "indices", "indptr") if hasattr(x, a)]


def _same(ours, theirs):
    import numpy as np
    import scipy.sparse as ssp
    if ssp.issparse(theirs):
        o = ours.to_scipy()
        if o.format != theirs.format or o.shape != theirs.shape:
            return False
        if o.format in ("csr", "csc"):
            o, theirs = o.sorted_indices(), theirs.sorted_indices()
            if not (np.array_equal(o.indptr, theirs.indptr)
                    and np.array_equal(o.indices, theirs.indices)):
                return False
        diff = abs(o.astype(np.float64) - theirs.astype(np.float64))
        scale = max(abs(theirs).max(), 1.0) if theirs.nnz else 1.0
        return bool(diff.nnz == 0 or diff.max() <= 1e-12 * scale)
    return bool(np.allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-10, atol=1e-12))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m mlx_sparse")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info", help="versions, backends and the dispatch table")
    d = sub.add_parser("demo", help="a Poisson matrix through conversions, checked against SciPy")
    d.add_argument("--n", type=int, default=300, help="grid side (rows = n*n)")
    args = p.parse_args(argv)
    if args.cmd == "info":
        info()
        return 0
    return demo(args.n)


if __name__ == "__main__":
    sys.exit(main())
