"""Every public name of scipy.sparse and scipy.sparse.linalg has a row in
docs/supported.md; the names marked yes there exist here with SciPy's signatures,
the names marked no carry their reason."""
import inspect
import pathlib
import re
import warnings

import pytest
import scipy
import scipy.sparse as ssp
import scipy.sparse.linalg as sspla

import mlx_sparse.sparse as msp

SUPPORTED_MD = pathlib.Path(__file__).resolve().parents[1] / "docs" / "supported.md"


def _doc_table(section):
    """{name: (status, notes)} from the table under `## section` in supported.md."""
    text = SUPPORTED_MD.read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cells[0]):
            rows[name] = (cells[1], cells[3])
    return rows


SPARSE_DOC = _doc_table("scipy.sparse")
LINALG_DOC = _doc_table("scipy.sparse.linalg")
NOT_SUPPORTED = {n: notes for n, (status, notes) in SPARSE_DOC.items() if status == "no"}


@pytest.mark.parametrize("module,doc", [(ssp, SPARSE_DOC), (sspla, LINALG_DOC)],
                         ids=["sparse", "linalg"])
def test_every_scipy_name_documented(module, doc):
    missing = sorted(set(module.__all__) - set(doc))
    assert not missing, f"docs/supported.md lacks rows for {missing}"
    # rows for names of a later SciPy say so ("SciPy 1.18's function")
    extra = {n for n in set(doc) - set(module.__all__)
             if not re.search(r"SciPy (\d+\.\d+)", doc[n][1])
             or _version(re.search(r"SciPy (\d+\.\d+)", doc[n][1]).group(1)) <= _version(scipy.__version__)}
    assert not extra, sorted(extra)


def _version(text):
    return tuple(int(p) for p in text.split(".")[:2])
    for name, (status, notes) in doc.items():
        assert status in ("yes", "no"), (name, status)
        if status == "no":
            assert notes, f"{name} is marked unsupported without a reason"


@pytest.mark.parametrize("name", sorted(n for n, (st, _) in LINALG_DOC.items()
                                        if st == "yes"))
def test_linalg_name_exists(name):
    import mlx_sparse.sparse.linalg as mspla
    assert hasattr(mspla, name), f"mlx_sparse.sparse.linalg lacks {name}"
    theirs = getattr(sspla, name)
    if inspect.isfunction(theirs):
        tp = [(p.name, p.kind) for p in inspect.signature(theirs).parameters.values()]
        op = [(p.name, p.kind)
              for p in inspect.signature(getattr(mspla, name)).parameters.values()]
        assert op == tp, f"{name}: our parameters {op} != SciPy's {tp}"

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


@pytest.mark.parametrize("name", sorted(n for n, (st, _) in LINALG_DOC.items()
                                        if st == "no"))
def test_linalg_unsupported_name_fails_loudly(name):
    import mlx_sparse.sparse.linalg as mspla
    with pytest.raises(NotImplementedError, match=name):
        getattr(mspla, name)


def test_csgraph_names_fail_loudly():
    with pytest.raises(NotImplementedError, match="connected_components"):
        msp.csgraph.connected_components
