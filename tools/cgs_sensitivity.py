#!/usr/bin/env python3
"""How sensitive SciPy's own cgs is to rounding on the oracle suite's complex64
convection-diffusion problem (scipy_compat_tests/test_isolve.py): it solves the test's
system, then 28 systems whose right-hand side differs in the last bit of the real part
of three entries, and prints SciPy's info, iteration count and relative residual for
each. A run that diverges (info = maxiter, NaN) where the others converge in ~20
iterations shows that a different summation order (e.g. on a GPU) can decide
convergence. SciPy only; no MLX.

    python tools/cgs_sensitivity.py [--trials 29] [--seed 1]
"""
import argparse
import os
import sys
import warnings

import numpy as np
import scipy.sparse.linalg as sla

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "scipy_compat_tests"))
from test_isolve import system  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=29)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    A, b = system("convdiff", "complex64")
    rng = np.random.default_rng(args.seed)
    diverged = 0
    for t in range(args.trials):
        bb = b.copy()
        if t:
            idx = rng.integers(0, b.size, 3)
            bb[idx] = np.nextafter(bb[idx].real, np.float32(np.inf)) + 1j * bb[idx].imag
        count = [0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            x, info = sla.cgs(A, bb, callback=lambda _: count.__setitem__(0, count[0] + 1))
        r = np.linalg.norm(A @ x - bb) / np.linalg.norm(bb)
        diverged += info != 0
        print(f"{'test b' if t == 0 else f'perturbed {t:2d}'}: info {info:4d}, "
              f"{count[0]:4d} iterations, residual {r:.1e}")
    print(f"diverged: {diverged} of {args.trials}")


if __name__ == "__main__":
    main()
