"""Docstring examples are real output: every module that shows one is run here."""

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules_with_examples():
    for path in sorted((ROOT / "simulator").rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            rel = path.relative_to(ROOT).with_suffix("")
            yield ".".join(rel.parts)


MODULES = list(_modules_with_examples())


def test_the_docstring_examples_are_found():
    assert "simulator.measures" in MODULES and "simulator.models.static" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
