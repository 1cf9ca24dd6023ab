"""Intervals and bounds: the formulas, exact expectations, and the Code interface only."""

import ast
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from simulator import bounds as B
from simulator.codes import BlockHuffmanCode, HuffmanCode, ShannonCode
from simulator.codes.arithmetic import ArithmeticCode
from simulator.errors import XentsimError
from simulator.sources import IIDSource

ROOT = Path(__file__).resolve().parents[1]


def test_the_theory_constants_are_the_99_percent_level():
    assert B.DELTA == 0.01 and B.LEVEL == 1 - B.DELTA
    assert 0.5 * math.erfc(B.Z99 / math.sqrt(2)) == pytest.approx(0.005, rel=1e-12)
    assert B.per_interval_delta(4) == 0.0025


@pytest.mark.parametrize("var, dev, m, delta", [(0.81, 2.7, 10_000, 0.01), (1e-6, 19.0, 7, 1e-4),
                                                (0.0, 1.0, 100, 0.01)])
def test_bernstein_half_width_solves_its_defining_equation(var, dev, m, delta):
    t = B.bernstein_half_width(var, dev, m, delta)
    c = math.log(2 / delta)
    assert m * t * t == pytest.approx((2 * var + 2 * dev * t / 3) * c, rel=1e-12)


# Two-sided 99% points of Student's t from standard tables (three decimals).
@pytest.mark.parametrize("df, table", [(1, 63.657), (2, 9.925), (5, 4.032), (19, 2.861),
                                       (29, 2.756), (120, 2.617), (1000, 2.581)])
def test_student_t_quantile_matches_the_tables(df, table):
    assert abs(B.student_t_quantile(0.99, df) - table) < 5e-4


@pytest.mark.parametrize("df", [1, 2, 3, 10, 200, 201, 5000])
def test_student_t_quantile_agrees_with_scipy(df):
    stats = pytest.importorskip("scipy.stats")
    assert B.student_t_quantile(0.99, df) == pytest.approx(stats.t.ppf(0.995, df), rel=1e-9)


def test_exact_mean_is_the_rational_value_rounded_once():
    rng = np.random.default_rng(4)
    w = rng.dirichlet(np.full(300, 0.3))
    v = rng.integers(1, 40, 300).astype(float) + rng.random(300)
    exact = sum(Fraction(a) * Fraction(b) for a, b in zip(w, v)) / sum(Fraction(a) for a in w)
    # two roundings (the two exact sums) and the division: within 2 ulps
    assert abs(B.exact_mean(w, v) - float(exact)) <= 2 * math.ulp(float(exact))


def test_exact_mean_of_equal_lengths_is_that_length_whatever_the_weights_sum_to():
    w = np.full(10, 0.1)  # sums to 0.9999999999999999 in binary64
    assert float(np.dot(w, np.full(10, 2.0))) == 1.9999999999999998
    assert B.exact_mean(w, np.full(10, 2.0)) == 2.0


class InterfaceOnly:
    """A Code with nothing but the interface (no ``lengths``, ``model`` or ``block``)."""

    def __init__(self, inner):
        self._inner = inner
        self.name = inner.name
        self.n_symbols = inner.n_symbols
        self.symbols_per_unit = inner.symbols_per_unit
        self.slack_bits = inner.slack_bits

    def encode(self, symbols):
        return self._inner.encode(symbols)

    def decode(self, bits, n_symbols):
        return self._inner.decode(bits, n_symbols)

    def unit_bits(self, symbols):
        return self._inner.unit_bits(symbols)

    def unit_law(self, source):
        return self._inner.unit_law(source)

    def expected_message_bits(self, source, n):
        return self._inner.expected_message_bits(source, n)

    def report(self):
        return self._inner.report()


P, Q = [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]


@pytest.mark.parametrize("code", [HuffmanCode(Q), ShannonCode(Q), BlockHuffmanCode(Q, 2),
                                  ArithmeticCode(Q)], ids=["huffman", "shannon", "block", "arith"])
def test_length_spread_reads_only_the_code_interface_and_takes_a_pmf_or_a_source(code):
    wrapped = InterfaceOnly(code)
    a = B.length_spread(wrapped, P)
    b = B.length_spread(wrapped, IIDSource(P))
    assert a == b
    mean, var, dev, k = a
    w, lengths = code.unit_law(IIDSource(P))
    assert k == code.symbols_per_unit
    assert mean == pytest.approx(float(w @ lengths), rel=1e-14)
    assert var == pytest.approx(float(w @ (lengths - mean) ** 2), rel=1e-12)
    assert dev == pytest.approx(float(np.max(np.abs(lengths[w > 0] - mean))), rel=1e-14)


def test_theory_half_width_adds_the_codes_slack_per_message():
    code = ArithmeticCode(Q)
    _, var, dev, _ = B.length_spread(code, P)
    n = 1000
    expected = B.bernstein_half_width(var, dev, n, 0.01) + 8 / n + 1e-9
    assert B.theory_half_width(code, P, n, 1, 0.01) == pytest.approx(expected, rel=1e-14)
    huff = HuffmanCode(Q)
    _, var, dev, _ = B.length_spread(huff, P)
    assert B.theory_half_width(huff, P, n, 1, 0.01) == pytest.approx(
        B.bernstein_half_width(var, dev, n, 0.01) + 1e-9, rel=1e-14)


def test_a_code_without_a_unit_law_is_a_clear_error():
    with pytest.raises(XentsimError, match="no fixed unit law"):
        B.length_spread(ArithmeticCode(Q, model="kt"), P)


@pytest.mark.parametrize("module", ["engine.py", "bounds.py"])
def test_engine_and_bounds_read_codes_only_through_the_interface(module):
    tree = ast.parse((ROOT / "simulator" / module).read_text(encoding="utf-8"))
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "hasattr" not in calls and "getattr" not in calls
    classes = {"HuffmanCode", "ShannonCode", "BlockHuffmanCode", "ArithmeticCode", "PrefixCode",
               "StaticModel", "AdaptiveModel", "IIDSource"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            named = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
            assert not named & classes, f"{module} branches on a concrete class"
        # no if-chains on code names: no comparison of a name with a code's string
        if isinstance(node, ast.Compare):
            consts = {c.value for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)}
            assert not consts & {"huffman", "shannon", "block-huffman", "arithmetic"}
