"""Docstring examples are real output."""

import doctest
import importlib

import pytest

MODULES = ["simulator.measures", "simulator.codes.huffman", "simulator.codes.shannon",
           "simulator.codes.block", "simulator.engine"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
