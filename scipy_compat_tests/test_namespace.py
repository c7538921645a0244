"""Every public name of scipy.sparse exists in mlx_sparse.sparse.

A name may be missing only if it is listed in NOT_SUPPORTED with the reason it
cannot be offered; the list is meant to stay empty."""
import inspect
import warnings

import pytest
import scipy.sparse as ssp

import mlx_sparse.sparse as msp

NOT_SUPPORTED = {}

# SciPy's deprecated modules (scipy.sparse.csr, ...), kept as aliases
DEPRECATED_MODULES = ("base", "bsr", "compressed", "construct", "coo", "csc", "csr",
                      "data", "dia", "dok", "extract", "lil", "sparsetools", "sputils")


@pytest.mark.parametrize("name", sorted(ssp.__all__))
def test_name_exists(name):
    if name in NOT_SUPPORTED:
        pytest.skip(f"not supported: {NOT_SUPPORTED[name]}")
    assert hasattr(msp, name), f"mlx_sparse.sparse lacks scipy.sparse.{name}"
    assert name in msp.__all__, f"{name} missing from mlx_sparse.sparse.__all__"


def _is_function(x):
    return inspect.isfunction(x) and not inspect.isclass(x)


@pytest.mark.parametrize("name", sorted(n for n in ssp.__all__
                                        if _is_function(getattr(ssp, n))))
def test_function_signatures(name):
    """Same parameter names, kinds and defaults as SciPy (dtype defaults compared by
    meaning, not identity)."""
    if not hasattr(msp, name):
        pytest.skip("missing (reported by test_name_exists)")
    theirs = inspect.signature(getattr(ssp, name))
    ours = inspect.signature(getattr(msp, name))
    tp = [(p.name, p.kind) for p in theirs.parameters.values()]
    op = [(p.name, p.kind) for p in ours.parameters.values()]
    assert op == tp, f"{name}{ours} != SciPy's {name}{theirs}"
    for p in theirs.parameters.values():
        q = ours.parameters[p.name]
        if p.default is inspect.Parameter.empty:
            assert q.default is inspect.Parameter.empty, p.name
        elif isinstance(p.default, (int, float, str, bool, type(None))):
            assert q.default == p.default, f"{name}: default of {p.name}"


@pytest.mark.parametrize("name", [n for n in sorted(ssp.__all__)
                                  if inspect.isclass(getattr(ssp, n))
                                  and n.endswith(("_array", "_matrix"))])
def test_classes_are_sparse_classes(name):
    cls = getattr(msp, name)
    assert inspect.isclass(cls)
    assert issubclass(cls, msp.sparray) == name.endswith("_array")
    assert issubclass(cls, msp.spmatrix) == name.endswith("_matrix")


@pytest.mark.parametrize("mod", DEPRECATED_MODULES)
def test_deprecated_modules(mod):
    theirs, ours = getattr(ssp, mod), getattr(msp, mod)
    assert sorted(ours.__all__) == sorted(theirs.__all__)
    for name in ours.__all__:
        with pytest.warns(DeprecationWarning):
            assert getattr(ours, name) is getattr(msp, name)
    with pytest.raises(AttributeError):
        getattr(ours, "no_such_name")
    import importlib
    assert importlib.import_module(f"mlx_sparse.sparse.{mod}") is ours
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dir(ours)
