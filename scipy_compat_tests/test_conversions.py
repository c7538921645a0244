"""Format conversions: tocoo / tocsr / tocsc / asformat (copy=), toarray (order=,
out=), todense, and chains of them, on canonical and non-canonical inputs."""
import itertools

import numpy as np
import pytest

from oracle import SMALL_SPECS, on_both, spec_params, variant

FORMATS = ("coo", "csr", "csc")


@pytest.mark.parametrize("dst", FORMATS)
@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_to_format(case, src, dst):
    def f(sp, A):
        B = getattr(A, "to" + dst)()
        return B, B is A

    on_both(f, case.input(src))


@pytest.mark.parametrize("dst", FORMATS)
@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_to_format_copy(case, src, dst):
    # copy=True gives an object whose in-place changes never reach the source
    for copy in (False, True):
        def f(sp, A):
            B = getattr(A, "to" + dst)(copy=copy)
            same = B is A
            if copy:
                B.sum_duplicates()
                B.eliminate_zeros()
            return same, A, B

        with variant(copy=copy):
            on_both(f, case.input(src))


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_asformat(case, src):
    for dst, copy in itertools.product(FORMATS + (None,), (False, True)):
        def f(sp, A):
            B = A.asformat(dst, copy=copy)
            return B, B is A

        with variant(dst=dst, copy=copy):
            on_both(f, case.input(src))


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_toarray(case, src):
    def f(sp, A):
        return A.toarray()

    on_both(f, case.input(src))


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_toarray_order(case, src):
    def f(sp, A):
        return A.toarray(order="C"), A.toarray(order="F"), A.toarray(order=None)

    on_both(f, case.input(src))


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_toarray_out(case, src):
    # out= is a NumPy array in both libraries: it is filled (old contents replaced)
    # and the result (out itself or a view of it) holds the same values
    def f(sp, A):
        out = np.full(A.shape, 7, dtype=A.dtype)
        ret = A.toarray(out=out)
        assert isinstance(ret, np.ndarray) and np.shares_memory(ret, out) or out.size == 0
        return out

    ours, theirs = on_both(f, case.input(src), check=False)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("spec", spec_params())
def test_todense(case, src):
    # *_matrix.todense() gives np.matrix in SciPy and a 2-D mx.array here (documented)
    def f(sp, A):
        return A.todense()

    on_both(f, case.input(src))


@pytest.mark.parametrize("spec", spec_params())
def test_chains(case):
    for chain in ("coo-csr-csc-coo", "csr-csc-csr", "csc-coo-csc", "csr-coo-csr",
                  "coo-csc-csr"):
        fmts = chain.split("-")

        def f(sp, A):
            out = [A]
            for fmt in fmts[1:]:
                out.append(out[-1].asformat(fmt))
            return tuple(out)

        with variant(chain=chain):
            on_both(f, case.input(fmts[0]))


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_conversion_keeps_source(case, src):
    # converting never changes the source (storage order, flags, values)
    def f(sp, A):
        for dst in FORMATS:
            getattr(A, "to" + dst)()
        A.toarray()
        return A

    on_both(f, case.input(src))


@pytest.mark.parametrize("src", FORMATS)
@pytest.mark.parametrize("spec", spec_params(SMALL_SPECS))
def test_conversion_of_canonicalised(case, src):
    for dst in FORMATS:
        def f(sp, A):
            A.sum_duplicates()
            B = getattr(A, "to" + dst)()
            return B, B.has_canonical_format

        with variant(dst=dst):
            on_both(f, case.input(src))
