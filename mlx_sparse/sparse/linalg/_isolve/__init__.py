"""Iterative solvers for linear systems (SciPy's scipy.sparse.linalg._isolve)."""
from .iterative import bicg, bicgstab, cg, cgs, qmr
from .minres import minres
from .tfqmr import tfqmr
from ._gmres import gmres
from .lgmres import lgmres
from ._gcrotmk import gcrotmk
from .lsqr import lsqr
from .lsmr import lsmr

__all__ = ["bicg", "bicgstab", "cg", "cgs", "gcrotmk", "gmres", "lgmres", "lsmr",
           "lsqr", "minres", "qmr", "tfqmr"]
