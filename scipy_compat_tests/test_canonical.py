"""Canonical form: sum_duplicates, sort_indices, sorted_indices, eliminate_zeros,
prune, has_sorted_indices / has_canonical_format (getters and setters)."""
import numpy as np
import pytest

from oracle import SPECS, assert_matches_scipy, on_both, spec_params

FORMATS = ("coo", "csr", "csc")
COMPRESSED = ("csr", "csc")


def _dups_within_slice(case, fmt):
    """True when some coordinate is stored twice (then SciPy's order of the
    duplicate values after sorting is unspecified: std::sort is not stable)."""
    key = case.row.astype(np.int64) * (case.shape[1] + 1) + case.col
    return np.unique(key).size != key.size


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_sum_duplicates(case, fmt):
    def f(sp, A):
        ret = A.sum_duplicates()
        return ret, A, A.has_canonical_format

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_sum_duplicates_twice_is_a_no_op(case, fmt):
    def f(sp, A):
        A.sum_duplicates()
        B = A.copy()
        A.sum_duplicates()
        return A, B

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", COMPRESSED)
@pytest.mark.parametrize("spec", spec_params())
def test_sort_indices(case, fmt):
    def f(sp, A):
        before = A.has_sorted_indices
        ret = A.sort_indices()
        return before, ret, A.has_sorted_indices, A

    order = "any" if _dups_within_slice(case, fmt) else "exact"
    ours, theirs = on_both(f, case.input(fmt), order=order)
    # SciPy's slices and the index order within them are defined even with duplicates
    assert_matches_scipy(ours[3].indptr, theirs[3].indptr)
    assert_matches_scipy(ours[3].indices, theirs[3].indices)


@pytest.mark.parametrize("fmt", COMPRESSED)
@pytest.mark.parametrize("spec", spec_params())
def test_sorted_indices_returns_a_sorted_copy(case, fmt):
    def f(sp, A):
        B = A.sorted_indices()
        return B, B.has_sorted_indices, A, A.has_sorted_indices

    order = "any" if _dups_within_slice(case, fmt) else "exact"
    ours, theirs = on_both(f, case.input(fmt), order=order)
    assert ours[0] is not ours[2]
    # the original keeps its (possibly unsorted) storage order, as SciPy's does
    assert_matches_scipy(ours[2], theirs[2], order="exact")
    assert_matches_scipy(ours[0].indices, theirs[0].indices)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_eliminate_zeros(case, fmt):
    def f(sp, A):
        ret = A.eliminate_zeros()
        return ret, A

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_sum_duplicates_then_eliminate_zeros(case, fmt):
    # cancelling duplicates become stored zeros, which eliminate_zeros then drops
    def f(sp, A):
        A.sum_duplicates()
        A.eliminate_zeros()
        return A, A.nnz, A.has_canonical_format

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_eliminate_zeros_then_sum_duplicates(case, fmt):
    def f(sp, A):
        A.eliminate_zeros()
        A.sum_duplicates()
        return A

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", COMPRESSED)
@pytest.mark.parametrize("spec", spec_params())
def test_flags_of_fresh_input(case, fmt):
    def f(sp, A):
        return A.has_sorted_indices, A.has_canonical_format

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("spec", spec_params())
def test_coo_flag_of_fresh_input(case):
    # a COO built from (data, (row, col)) is never known to be canonical
    def f(sp, A):
        return A.has_canonical_format

    on_both(f, case.input("coo"))


@pytest.mark.parametrize("fmt", COMPRESSED)
@pytest.mark.parametrize("spec", spec_params())
def test_prune(case, fmt):
    # storage longer than indptr[-1] is cut off by prune()
    def f(sp, A):
        d, ind, ptr = A.data, A.indices, A.indptr
        if sp.__name__ == "scipy.sparse":
            d = np.concatenate([d, np.ones(3, d.dtype)])
            ind = np.concatenate([ind, np.zeros(3, ind.dtype)])
        else:
            import mlx.core as mx
            with mx.stream(mx.cpu):  # the test's own MLX ops (float64 has no GPU)
                d = mx.concatenate([d, mx.ones(3, d.dtype)])
                ind = mx.concatenate([ind, mx.zeros(3, ind.dtype)])
        B = getattr(sp, f"{fmt}_{case.spec.kind}")((d, ind, ptr), shape=A.shape)
        B.prune()
        return B, B.nnz, B.data.shape, B.indices.shape

    on_both(f, case.input(fmt))


@pytest.mark.parametrize("fmt", COMPRESSED)
@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.dtype in
                                              ("float64", "int32")]))
def test_flag_setters(case, fmt, value):
    # SciPy trusts a flag that was set: sort_indices/sum_duplicates become no-ops
    def f(sp, A):
        A.has_sorted_indices = value
        s1 = A.has_sorted_indices
        A.sort_indices()
        s2 = A.has_sorted_indices
        A.has_canonical_format = value
        c1 = A.has_canonical_format, A.has_sorted_indices
        A.sum_duplicates()
        return s1, s2, c1, A.has_canonical_format, A

    order = "any" if _dups_within_slice(case, fmt) else "exact"
    on_both(f, case.input(fmt), order=order)


@pytest.mark.parametrize("spec", spec_params([s for s in SPECS if s.messy]))
def test_coo_flag_setter(case):
    def f(sp, A):
        A.has_canonical_format = True
        A.sum_duplicates()  # trusted: nothing happens
        return A.has_canonical_format, A.nnz, A.row, A.col

    on_both(f, case.input("coo"))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_canonical_dense_unchanged(case, fmt):
    # none of the canonicalising methods changes the matrix
    def f(sp, A):
        d0 = A.toarray()
        A.sum_duplicates()
        d1 = A.toarray()
        A.eliminate_zeros()
        return d0, d1, A.toarray()

    on_both(f, case.input(fmt))


def test_seed_changes_inputs(rng):
    # guards the fixture: inputs are random, not constant
    a, b = rng.random(4), rng.random(4)
    assert not np.array_equal(a, b)
