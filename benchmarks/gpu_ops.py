"""Structural GPU operations through the public API: mlx_sparse against CuPy
(cupyx.scipy.sparse, cuSPARSE) and torch.sparse, same matrices, one run.

    python benchmarks/gpu_ops.py [--trials 7] [--only add,todense]

Operations (float32 values, int32 indices; every input canonical unless said):
  add       A + B, CSR: the Poisson 2048^2 matrix plus itself with other values (same
            pattern), and two uniform random 1M x 1M matrices with 8 per row (the union
            of two patterns)
  todense   A.toarray(): 8192^2 at 1% and 2048^2 at 10% density (CSR)
  fromdense csr_array(D) of those dense arrays
  tocsc     CSR -> CSC of the Poisson matrix and of the uniform one
  tocsr     COO -> CSR of the uniform matrix's triplets shuffled, with duplicates
  colsum    A.sum(axis=0) of the Poisson and uniform matrices
Times: the median of --trials calls, each with its result evaluated (no chaining:
several of these sync with the host for an output size). Every result is compared with
CuPy's (values within float32 rounding); the kernel mlx_sparse ran is named (the
dispatch table's entry: a custom kernel or MLX ops).
"""
import argparse
import os
import sys

import mlx.core as mx
import numpy as np
import scipy.sparse as ssp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gpu_spgemm import _ms, baselines  # noqa: E402
from gpu_spmv import poisson2d, uniform  # noqa: E402

import mlx_sparse.sparse as msp  # noqa: E402
from mlx_sparse import _ops  # noqa: E402

OP_OF = {"add": "compressed_binop", "todense": "compressed_to_dense",
         "fromdense": "dense_to_compressed", "tocsc": "compressed_transpose",
         "tocsr": "coo_to_compressed", "colsum": "compressed_reduce_minor"}


def canonical(make, rng):
    indptr, indices, data, n, n_cols = make(rng)
    S = ssp.csr_matrix((data, indices, indptr), shape=(n, n_cols))
    S.sum_duplicates()
    return S


def cases(rng):
    """(op, name, SciPy input(s)) in the order they run."""
    P = canonical(lambda r: poisson2d(2048, r), rng)
    P2 = P.copy()
    P2.data = rng.standard_normal(P.nnz).astype(np.float32)
    U = canonical(lambda r: uniform(2**20, 8, r), rng)
    U2 = canonical(lambda r: uniform(2**20, 8, r), rng)
    D1 = ssp.random(8192, 8192, density=0.01, format="csr", dtype=np.float32, random_state=rng)
    D2 = ssp.random(2048, 2048, density=0.10, format="csr", dtype=np.float32, random_state=rng)
    coo = U.tocoo()
    perm = rng.permutation(coo.nnz)
    dup = rng.choice(coo.nnz, coo.nnz // 10)
    r = np.concatenate([coo.row[perm], coo.row[dup]])
    c = np.concatenate([coo.col[perm], coo.col[dup]])
    v = np.concatenate([coo.data[perm], coo.data[dup]])
    T = ssp.coo_matrix((v, (r, c)), shape=coo.shape)
    return [("add", "poisson2d_2048", (P, P2)), ("add", "uniform_1M_8", (U, U2)),
            ("todense", "8192^2_1%", (D1,)), ("todense", "2048^2_10%", (D2,)),
            ("fromdense", "8192^2_1%", (D1,)), ("fromdense", "2048^2_10%", (D2,)),
            ("tocsc", "poisson2d_2048", (P,)), ("tocsc", "uniform_1M_8", (U,)),
            ("tocsr", "uniform_1M_8 shuffled+10% dup", (T,)),
            ("colsum", "poisson2d_2048", (P,)), ("colsum", "uniform_1M_8", (U,))]


def ours_call(op, ins):
    """(function to time, function giving its result as SciPy/NumPy) for mlx_sparse."""
    if op == "fromdense":
        d = mx.array(ins[0].toarray())
        mx.eval(d)
        out = {}
        return (lambda: out.update(r=msp.csr_array(d))), lambda: out["r"].to_scipy()
    if op == "tocsr":
        A = msp.coo_array(ins[0])
    else:
        A = msp.csr_array(ins[0])
    B = msp.csr_array(ins[1]) if len(ins) > 1 else None
    fn = {"add": lambda: A + B, "todense": A.toarray, "tocsc": A.tocsc, "tocsr": A.tocsr,
          "colsum": lambda: A.sum(axis=0)}[op]
    out = {}

    def call():
        out["r"] = fn()
        res = out["r"]
        mx.eval(*([res] if isinstance(res, mx.array) else [res._s.indptr, res._s.data]))
    return call, lambda: (np.asarray(out["r"]) if isinstance(out["r"], mx.array)
                          else out["r"].to_scipy())


def cupy_call(op, ins, cp, csp):
    if op == "fromdense":
        d = cp.asarray(ins[0].toarray())
        out = {}
        return (lambda: out.update(r=csp.csr_matrix(d))), lambda: out["r"].get()
    A = csp.coo_matrix(ins[0]) if op == "tocsr" else csp.csr_matrix(ins[0])
    B = csp.csr_matrix(ins[1]) if len(ins) > 1 else None
    fn = {"add": lambda: A + B, "todense": A.toarray, "tocsc": A.tocsc, "tocsr": A.tocsr,
          "colsum": lambda: A.sum(axis=0)}[op]
    out = {}
    return (lambda: out.update(r=fn())), lambda: (out["r"].get() if hasattr(out["r"], "get") else out["r"])


def torch_call(op, ins, torch):
    """torch's counterpart, or None where torch.sparse has none."""
    dev = "cuda"
    if op == "fromdense":
        d = torch.as_tensor(ins[0].toarray(), device=dev)
        return lambda: d.to_sparse_csr()
    S = ins[0].tocsr() if op != "tocsr" else None

    def csr(M):
        return torch.sparse_csr_tensor(torch.as_tensor(M.indptr.astype(np.int64), device=dev),
                                       torch.as_tensor(M.indices.astype(np.int64), device=dev),
                                       torch.as_tensor(M.data, device=dev), size=M.shape)
    if op == "add":
        A, B = csr(ins[0]), csr(ins[1])
        return lambda: A + B
    if op == "todense":
        A = csr(S)
        return lambda: A.to_dense()
    if op == "tocsc":
        A = csr(S)
        return lambda: A.to_sparse_csc()
    if op == "tocsr":
        T = ins[0]
        idx = torch.as_tensor(np.stack([T.row, T.col]).astype(np.int64), device=dev)
        val = torch.as_tensor(T.data, device=dev)
        return lambda: torch.sparse_coo_tensor(idx, val, T.shape).coalesce().to_sparse_csr()
    return None


def same(a, b):
    """Results equal within float32 rounding (sparse: as matrices)."""
    if ssp.issparse(a) or ssp.issparse(b):
        a, b = ssp.csr_matrix(a), ssp.csr_matrix(b)
        diff = abs(a - b)
        scale = max(abs(b).max(), 1e-30) if b.nnz else 1.0
        return diff.nnz == 0 or diff.max() <= 1e-5 * scale
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-5 * max(np.abs(b).max(initial=0), 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=7)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    cp, csp, torch = baselines()
    rng = np.random.default_rng(0)
    rows = []
    for op, name, ins in cases(rng):
        if args.only and op not in args.only.split(","):
            continue
        call, result = ours_call(op, ins)
        t_ours = _ms(call, mx.synchronize, args.trials)
        ccall, cresult = cupy_call(op, ins, cp, csp)
        t_cupy = _ms(ccall, cp.cuda.Stream.null.synchronize, args.trials)
        t_torch = float("nan")
        tcall = torch_call(op, ins, torch) if torch is not None else None
        if tcall is not None:
            try:
                t_torch = _ms(tcall, torch.cuda.synchronize, args.trials)
            except (RuntimeError, NotImplementedError) as e:
                print(f"  torch {op}: {e}", file=sys.stderr)
        ok = same(result(), cresult())
        kernel = _ops.DISPATCH[OP_OF[op]]["gpu"][0]
        rows.append((op, name, kernel, t_ours, t_cupy, t_torch, ok))
        print(f"{op} {name} [{kernel}]: ours {t_ours:.3f} ms, CuPy {t_cupy:.3f} ms, "
              f"torch {t_torch:.3f} ms, matches CuPy: {ok}", flush=True)
    device = torch.cuda.get_device_name() if torch is not None else "GPU"
    print(f"\nfloat32, int32 indices, {device}; mlx {mx.__version__}, cupy {cp.__version__}"
          + (f", torch {torch.__version__}" if torch is not None else ""))
    print("| op | matrix | mlx_sparse runs | mlx_sparse ms | CuPy ms | torch ms | CuPy/ours | matches CuPy |")
    print("|---|---|---|---:|---:|---:|---:|---|")
    for op, name, kernel, to, tc, tt, ok in rows:
        print(f"| {op} | {name} | {kernel} | {to:.3f} | {tc:.3f} | {tt:.3f} | {tc / to:.2f} | {ok} |")


if __name__ == "__main__":
    main()
