"""Immutable sparse storage: MLX buffers plus shape and what is known about them.

Public classes wrap one of these and replace it (never mutate it) when SciPy's API
changes the object in place. CSR and CSC are one compressed layout seen along
different axes: `major_axis` says which axis indptr runs over.
"""
from dataclasses import dataclass, replace

import mlx.core as mx


@dataclass(frozen=True)
class COO:
    row: mx.array
    col: mx.array
    data: mx.array
    shape: tuple
    canonical: bool = False   # sorted by (row, col) with no duplicates

    def with_(self, **changes):
        return replace(self, **changes)


@dataclass(frozen=True)
class Compressed:
    indptr: mx.array
    indices: mx.array
    data: mx.array
    shape: tuple
    sorted_indices: bool = False  # known sorted within each slice
    canonical: bool = False       # known sorted and free of duplicates
    # SciPy trusts a flag the user sets, False included: these record a False set
    # by the user (otherwise a False flag means "not known", computed on demand)
    not_sorted: bool = False
    not_canonical: bool = False

    major_axis = None  # set by CSR / CSC

    def swap(self, pair):
        """(rows, cols)-ordered pair -> (major, minor)-ordered pair, and back."""
        return pair if self.major_axis == 0 else (pair[1], pair[0])

    @property
    def n_major(self):
        return self.shape[self.major_axis]

    @property
    def n_minor(self):
        return self.shape[1 - self.major_axis]

    def with_(self, **changes):
        return replace(self, **changes)


@dataclass(frozen=True)
class CSR(Compressed):
    major_axis = 0


@dataclass(frozen=True)
class CSC(Compressed):
    major_axis = 1
