"""Imports go one way: every module of the package sits in a layer, and imports only
from its own layer or lower ones, with no cycle between modules.

The graph is read statically: every ``import`` and ``from ... import`` anywhere in a
module's source (including inside functions and ``if TYPE_CHECKING:`` blocks), parsed
with ``ast``, relative imports resolved. Third-party imports are ignored; an import of a
generic top-level ``experiments`` is an error (the experiments are
``simulator.experiments``).
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Lowest first. A module may import from its own layer or any lower one.
LAYERS = ("base", "measures", "distributions", "sources", "models", "codes", "bounds",
          "engine", "api", "spec", "experiments", "cli", "__main__")

#: Every module's layer, explicitly: a name, or "pkg.*" for every module of a subpackage
#: (its __init__ included). A module not listed fails the test.
LAYER_OF = {
    "simulator.errors": "base",
    "simulator._lazy": "base",
    "simulator._jitcache": "base",
    "simulator._files": "base",
    "simulator._validate": "base",
    "simulator.interfaces": "base",
    "simulator.measures": "measures",
    "simulator.distributions": "distributions",
    # the compiled kernels of distributions (sampling, counting), imported when first used
    "simulator._dist_kernels": "distributions",
    "simulator._chain_kernels": "measures",
    "simulator.corpus": "sources",
    "simulator.sources.*": "sources",
    "simulator.models.*": "models",
    "simulator.codes.*": "codes",
    "simulator.bounds": "bounds",
    "simulator.engine": "engine",
    "simulator.realdata": "engine",
    # the package's __init__ re-exports the public API (engine and below)
    "simulator": "api",
    "simulator.spec": "spec",
    "simulator.experiments.*": "experiments",
    "simulator.cli": "cli",
    "simulator.__main__": "__main__",
}


def layer_of(module: str) -> str | None:
    if module in LAYER_OF:
        return LAYER_OF[module]
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i]) + ".*"
        if key in LAYER_OF:
            return LAYER_OF[key]
    return None


def package_sources() -> dict[str, tuple[str, bool]]:
    """{module name: (source text, is a package __init__)} for every module of the
    installed package: simulator/ (not following the simulator/experiments link) and
    the top-level experiments/ folder as simulator.experiments."""
    out = {}

    def add(folder: Path, package: str):
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"
                           and not (Path(dirpath) / d).is_symlink()]
            rel = Path(dirpath).relative_to(folder)
            prefix = ".".join([package, *rel.parts])
            for f in filenames:
                if not f.endswith(".py"):
                    continue
                is_init = f == "__init__.py"
                name = prefix if is_init else f"{prefix}.{f[:-3]}"
                out[name] = ((Path(dirpath) / f).read_text(encoding="utf-8"), is_init)

    add(ROOT / "simulator", "simulator")
    add(ROOT / "experiments", "simulator.experiments")
    return out


def imports_of(name: str, source: str, is_init: bool, modules: set[str]) -> set[str]:
    """Modules of the package (and a generic top-level ``experiments``) that ``source``
    imports, anywhere in the file."""
    found = set()
    package = name if is_init else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
            found.update(t for t in targets)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            for a in node.names:
                sub = f"{mod}.{a.name}"
                found.add(sub if sub in modules else mod)
    keep = set()
    for t in found:
        if t in modules or t == "experiments" or t.startswith("experiments."):
            keep.add(t)
        elif t.split(".")[0] == "simulator":
            keep.add(t)  # a package module that does not exist: reported below
    return keep


def graph(sources: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """{module: modules it imports}. A generic ``experiments.X`` is kept (it is reported)
    and also counted as an edge to ``simulator.experiments.X``, the same file in a
    checkout, so that a cycle through it is found too."""
    modules = set(sources)
    g = {}
    for m, (src, init) in sources.items():
        targets = imports_of(m, src, init, modules)
        targets |= {"simulator." + t for t in targets
                    if t.split(".")[0] == "experiments" and "simulator." + t in modules}
        g[m] = targets - {m}
    return g


def layer_violations(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for m, targets in sorted(g.items()):
        lm = layer_of(m)
        for t in sorted(targets):
            if t == "experiments" or t.startswith("experiments."):
                bad.append(f"{m} imports the generic top-level {t!r}; use simulator.experiments")
                continue
            if t not in g:
                bad.append(f"{m} imports {t}, which is not a module of the package")
                continue
            lt = layer_of(t)
            if lm is None or lt is None:
                continue  # reported by the mapping test
            if LAYERS.index(lt) > LAYERS.index(lm):
                bad.append(f"{m} ({lm}) imports {t} ({lt}), a higher layer")
    return bad


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


@pytest.fixture(scope="module")
def package_graph():
    return graph(package_sources())


def test_the_walk_finds_the_package_modules(package_graph):
    for m in ("simulator", "simulator.cli", "simulator.engine", "simulator.codes.arithmetic",
              "simulator.experiments.runner", "simulator.experiments.common"):
        assert m in package_graph


def test_every_module_is_mapped_to_a_layer(package_graph):
    unmapped = sorted(m for m in package_graph if layer_of(m) is None)
    assert not unmapped, f"add these modules to LAYER_OF: {unmapped}"


def test_no_module_imports_from_a_higher_layer(package_graph):
    bad = layer_violations(package_graph)
    assert not bad, "\n".join(bad)


def test_no_import_cycle_between_modules(package_graph):
    found = cycles(package_graph)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


# The checks themselves can fail: on the import pair this test was written against
# (cli importing the runner at call time, the runner importing cli in its __main__ block)
# and on a lower layer reaching up from inside a function.

OLD_CLI = '''
def _cmd_reproduce(args):
    from experiments.runner import run_cli
    return run_cli(args)
'''
OLD_RUNNER = '''
from simulator._validate import XentsimError
if __name__ == "__main__":
    from simulator.cli import main
'''


def test_the_checks_catch_the_old_cli_runner_cycle():
    fixed_cli = OLD_CLI.replace("from experiments.runner", "from .experiments.runner")
    g = graph({"simulator.cli": (fixed_cli, False),
               "simulator.experiments.runner": (OLD_RUNNER, False),
               "simulator._validate": ("", False)})
    assert cycles(g) == [["simulator.cli", "simulator.experiments.runner"]]
    assert any("simulator.experiments.runner (experiments) imports simulator.cli (cli)" in b
               for b in layer_violations(g))
    g_old = graph({"simulator.cli": (OLD_CLI, False),
                   "simulator.experiments.runner": (OLD_RUNNER, False),
                   "simulator._validate": ("", False)})
    assert cycles(g_old) == [["simulator.cli", "simulator.experiments.runner"]]
    assert any("generic top-level 'experiments.runner'" in b for b in layer_violations(g_old))


def test_the_checks_see_imports_inside_functions_and_relative_imports():
    codes = "def f():\n    from ..engine import simulate\n"
    g = graph({"simulator.codes.huffman": (codes, False), "simulator.engine": ("", False)})
    assert g["simulator.codes.huffman"] == {"simulator.engine"}
    assert layer_violations(g) == [
        "simulator.codes.huffman (codes) imports simulator.engine (engine), a higher layer"]


def test_pyproject_installs_only_the_simulator_package():
    tomllib = pytest.importorskip("tomllib")
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = set(cfg["packages"])
    on_disk = {".".join(p.relative_to(ROOT).parts[:-1]) for p in (ROOT / "simulator").rglob("__init__.py")
               if "experiments" not in p.relative_to(ROOT).parts}
    assert packages == on_disk | {"simulator.experiments"}
    assert {p.split(".")[0] for p in packages} == {"simulator"}
    assert cfg["package-dir"] == {"simulator.experiments": "experiments"}
