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


# --------------------------------------------------------------------------- mutation kills
# Properties found unprotected by mutation testing (README, "Testing"). Reference
# quantiles: scipy.stats.t.ppf / norm.ppf (scipy 1.17), written out here.

T_REF = {  # df: (two-sided 99%, two-sided 95%)
    1: (63.656741162871526, 12.706204736174694),
    2: (9.924843200918287, 4.302652729749462),
    3: (5.840909309733355, 3.1824463052837078),
    10: (3.16927267261695, 2.228138851986274),
    201: (2.6005099190831933, 1.971836506779859),
    1000: (2.580754698065951, 1.9623390808264083),
    100000: (2.575878469908375, 1.9599877075346095),
}


@pytest.mark.parametrize("df", sorted(T_REF))
def test_student_t_quantile_matches_reference_values_exact_below_201_and_within_1e9_above(df):
    for level, ref in zip((0.99, 0.95), T_REF[df]):
        got = B.student_t_quantile(level, df)
        if df <= 200:  # bisection on the closed form: a few ulps
            assert got == pytest.approx(ref, rel=1e-13, abs=0)
        else:  # Cornish-Fisher to order df^-4: the docstring's 1e-9
            assert abs(got - ref) < 1e-9


def test_student_t_quantile_refuses_zero_degrees_of_freedom():
    with pytest.raises(XentsimError, match="degrees of freedom is 0"):
        B.student_t_quantile(0.99, 0)


def test_normal_quantile_gives_z99_and_the_95_percent_point():
    assert B._normal_quantile(0.995) == pytest.approx(B.Z99, rel=1e-14, abs=0)  # a few ulps
    assert B._normal_quantile(0.975) == pytest.approx(1.959963984540054, rel=1e-14, abs=0)
    assert B._normal_quantile(0.001) == pytest.approx(-3.090232306167813, rel=1e-14, abs=0)


def test_t_half_width_is_t_times_s_over_root_m_at_the_given_level():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    s = math.sqrt(5 / 3)
    assert B.t_half_width(v) == pytest.approx(T_REF[3][0] * s / 2, rel=1e-13, abs=0)
    assert B.t_half_width(v, 0.95) == pytest.approx(T_REF[3][1] * s / 2, rel=1e-13, abs=0)
    assert B.t_half_width(np.array([1.0])) == math.inf
    assert B.t_half_width(np.array([1.0, 3.0]), 0.95) == pytest.approx(T_REF[1][1], rel=1e-13)


def test_per_interval_delta_is_bonferroni_and_refuses_zero_intervals():
    assert B.per_interval_delta(4) == 0.0025
    assert B.per_interval_delta(4, 0.1) == 0.025
    assert B.per_interval_delta(1) == B.DELTA
    with pytest.raises(XentsimError, match="count is 0"):
        B.per_interval_delta(0)


def test_theory_half_width_is_bernstein_per_symbol_plus_slack_plus_rounding():
    # Constant lengths (uniform p, Huffman lengths 2): no variance, so only the
    # rounding term for a prefix code and the arithmetic coder's 8-bit slack per message.
    uniform = [0.25] * 4
    assert B.theory_half_width(HuffmanCode(uniform), uniform, 100, 10, 0.01) == 1e-9
    assert B.theory_half_width(ArithmeticCode(uniform), uniform, 100, 10, 0.01) == \
        pytest.approx(8 / 100 + 1e-9, rel=1e-15, abs=0)
    # Lengths 1, 2, 2 under p = (1/2, 1/4, 1/4): var 1/4, largest deviation 1/2.
    code, p = HuffmanCode([0.5, 0.25, 0.25]), [0.5, 0.25, 0.25]
    want = B.bernstein_half_width(0.25, 0.5, 7 * 100, 0.01) + 1e-9
    assert B.theory_half_width(code, p, 100, 7, 0.01) == pytest.approx(want, rel=1e-15, abs=0)
    # Block code k = 2 on 100 symbols: 50 whole blocks per message, bits spread over 100.
    block = BlockHuffmanCode([0.5, 0.5], 2)
    assert B.theory_half_width(block, [0.5, 0.5], 100, 3, 0.01) == 1e-9
    block = BlockHuffmanCode([0.75, 0.25], 2)
    _, var, dev, _ = B.length_spread(block, [0.75, 0.25])
    want = B.bernstein_half_width(var, dev, 3 * 50, 0.01) * 50 / 100 + 1e-9
    assert B.theory_half_width(block, [0.75, 0.25], 100, 3, 0.01) == \
        pytest.approx(want, rel=1e-15, abs=0)


def test_student_t_quantile_is_bisected_up_to_df_200_and_below_t_equal_1():
    assert B.student_t_quantile(0.99, 200) == pytest.approx(2.600634436191558, rel=1e-13, abs=0)
    assert B.student_t_quantile(0.5, 10) == pytest.approx(0.6998120613124317, rel=1e-13, abs=0)
    assert B.student_t_quantile(0.5, 1) == pytest.approx(1.0, rel=1e-13, abs=0)  # tan(pi/4)


def test_exact_mean_survives_cancellation_that_a_float_dot_product_loses():
    from fractions import Fraction
    rng = np.random.default_rng(3)
    w = rng.uniform(0.1, 1, 50)
    v = rng.uniform(-1, 1, 50) * 2.0**30
    v[-1] = -(w[:-1] @ v[:-1]) / w[-1]  # sum w v is now ~1e-8 of terms ~1e9
    exact = sum(Fraction(a) * Fraction(b) for a, b in zip(w, v)) / sum(Fraction(a) for a in w)
    assert B.exact_mean(w, v) == pytest.approx(float(exact), rel=1e-15, abs=0)
    assert B.exact_mean([0.3], [7.0]) == 7.0
    assert B.exact_mean([0.3, 0.7], [7.0, 7.0]) == 7.0


def test_unit_spread_drops_impossible_units_and_normalises_the_weights():
    src = IIDSource([0.5, 0.5, 0.0])
    # the arithmetic coder gives the impossible symbol -log2 0 = inf bits; p(2) = 0 drops it
    assert B.unit_spread(ArithmeticCode([0.5, 0.5, 0.0]), src) == (1.0, 0.0, 0.0)

    class Stub:  # a unit law whose weights sum to 4, not 1
        def unit_law(self, source):
            return np.array([2.0, 2.0]), np.array([1.0, 3.0])

    assert B.unit_spread(Stub(), src) == (2.0, 1.0, 1.0)


def test_theory_half_width_refuses_a_message_that_is_not_whole_units():
    from simulator.codes import BlockHuffmanCode
    code = BlockHuffmanCode([0.7, 0.3], 3)
    for n in (2, 4, 10):  # n < k (no whole unit: it divided by zero) or a partial unit
        with pytest.raises(XentsimError, match=f"^n is {n}: theory_half_width bounds whole units"):
            B.theory_half_width(code, [0.6, 0.4], n, 1, 0.01)
    assert B.theory_half_width(code, [0.6, 0.4], 3, 1, 0.01) > 0


def test_the_t_quantile_expansion_beyond_200_degrees_of_freedom_is_within_1e_10_of_exact():
    # Above df = 200 the quantile is the Cornish-Fisher series to order df^-4; the exact
    # value is the same bisection on the closed-form law used at df <= 200. The series'
    # own truncation error at df = 201 is 2.6e-11 (level 0.99) and 2.2e-12 (0.95); a wrong
    # df^-3 coefficient moves it by 6e-10 or more.
    def exact(level, df):
        lo, hi = 0.0, 1.0
        while B._t_two_sided(hi, df) < level:
            hi *= 2
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            lo, hi = (mid, hi) if B._t_two_sided(mid, df) < level else (lo, mid)
        return hi
    for df in (201, 250, 1000):
        for level in (0.95, 0.99):
            assert abs(B.student_t_quantile(level, df) - exact(level, df)) < 1e-10
