"""Fixtures of the oracle suite: seeded randomness and random test matrices.

Every run draws fresh random matrices; each test's generator is seeded from the
session's base seed and the test's node id. A failing test prints both, and

    MLX_SPARSE_TEST_SEED=<base seed> pytest '<node id>'

reproduces it exactly.
"""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from oracle import Case, test_seed  # noqa: E402

_ENV = "MLX_SPARSE_TEST_SEED"


def _base_seed():
    env = os.environ.get(_ENV)
    if env:
        return int(env)
    return int.from_bytes(os.urandom(4), "little")


BASE_SEED = _base_seed()


def pytest_configure(config):
    # SciPy warns when dtype= drops imaginary parts; the casts are what is compared
    config.addinivalue_line(
        "filterwarnings", "ignore:Casting complex values to real:numpy.exceptions.ComplexWarning")


def pytest_report_header(config):
    return f"mlx_sparse oracle: base seed {BASE_SEED} (set {_ENV} to reproduce)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and "rng" in getattr(item, "fixturenames", ()):
        seed = test_seed(BASE_SEED, item.nodeid)
        rep.sections.append((
            "random seed",
            f"test seed {seed} (base seed {BASE_SEED}); reproduce with\n"
            f"  {_ENV}={BASE_SEED} python -m pytest '{item.nodeid}'"))


@pytest.fixture
def rng(request):
    return np.random.default_rng(test_seed(BASE_SEED, request.node.nodeid))


@pytest.fixture
def case(spec, rng):
    """A random Case for the test's `spec` parameter."""
    return Case(spec, rng)

