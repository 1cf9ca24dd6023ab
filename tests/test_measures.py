"""Information measures: known values, the decomposition, Gibbs, asymmetry, conventions."""

import math

import numpy as np
import pytest

from simulator.measures import cross_entropy, entropy, js_divergence, kl_divergence
from simulator._validate import XentsimError

# THEORY.md, examples C and A (computed exactly).
EXAMPLE_C = ([0.7, 0.2, 0.1], [0.2, 0.3, 0.5], 1.156780, 2.072743)
EXAMPLE_A = ([0.1, 0.9], [0.9, 0.1], 0.468996, 3.004936)  # p = Bern(.9), q = Bern(.1)


@pytest.mark.parametrize("p, q, h, hpq", [EXAMPLE_C, EXAMPLE_A])
def test_textbook_values_to_six_decimals(p, q, h, hpq):
    assert entropy(p) == pytest.approx(h, abs=5e-7)
    assert cross_entropy(p, q) == pytest.approx(hpq, abs=5e-7)


def test_hand_computed_values_to_1e12():
    # H(1/2,1/4,1/4) = 1.5 exactly; H(p,u_4) = 2 for every p; KL(Bern) in closed form.
    assert abs(entropy([0.5, 0.25, 0.25]) - 1.5) < 1e-12
    assert abs(cross_entropy([0.1, 0.2, 0.3, 0.4], [0.25] * 4) - 2.0) < 1e-12
    expected = 0.9 * math.log2(0.9 / 0.1) + 0.1 * math.log2(0.1 / 0.9)
    assert abs(kl_divergence([0.9, 0.1], [0.1, 0.9]) - expected) < 1e-12
    assert abs(entropy([0.5, 0.5], base=math.e) - math.log(2)) < 1e-12


@pytest.mark.parametrize("seed", range(20))
def test_cross_entropy_is_entropy_plus_kl(seed):
    rng = np.random.default_rng(seed)
    K = int(rng.integers(1, 300))
    p, q = rng.dirichlet(np.full(K, 0.3)), rng.dirichlet(np.full(K, 0.3))
    assert abs(cross_entropy(p, q) - (entropy(p) + kl_divergence(p, q))) < 1e-12 * max(1, cross_entropy(p, q))


@pytest.mark.parametrize("seed", range(20))
def test_kl_is_nonnegative_and_zero_only_at_q_equals_p(seed):
    rng = np.random.default_rng(100 + seed)
    K = int(rng.integers(2, 50))
    p, q = rng.dirichlet(np.ones(K)), rng.dirichlet(np.ones(K))
    assert kl_divergence(p, q) > 0
    assert kl_divergence(p, p) == 0.0
    assert cross_entropy(p, q) > entropy(p)


def test_kl_and_cross_entropy_are_asymmetric():
    p, q = [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]
    kl_pq = sum(a * math.log2(a / b) for a, b in zip(p, q))
    kl_qp = sum(b * math.log2(b / a) for a, b in zip(p, q))
    assert round(kl_pq, 6) == 0.915963 and round(kl_qp, 6) == 0.974982
    assert kl_divergence(p, q) == pytest.approx(kl_pq, abs=1e-12)
    assert kl_divergence(q, p) == pytest.approx(kl_qp, abs=1e-12)
    assert cross_entropy(q, p) == pytest.approx(entropy(q) + kl_qp, abs=1e-12)
    assert cross_entropy(q, p) != pytest.approx(cross_entropy(p, q), abs=0.1)


def test_js_divergence_is_symmetric_and_bounded_by_one_bit():
    p, q = [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]
    assert js_divergence(p, q) == pytest.approx(js_divergence(q, p), abs=1e-15)
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(1.0, abs=1e-15)
    assert js_divergence(p, p) == 0.0


def test_support_mismatch_gives_infinity():
    assert cross_entropy([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    # 0 log 0 = 0: mass of q where p has none costs nothing
    assert cross_entropy([1.0, 0.0], [0.5, 0.5]) == pytest.approx(1.0, abs=1e-15)


def test_tiny_probabilities_stay_accurate():
    q = np.array([1 - 1e-12, 1e-12])
    assert cross_entropy([0.5, 0.5], q) == pytest.approx(19.93157, abs=1e-5)  # THEORY.md


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ([0.5, 0.4], "p sums to 0.9"),
        ([[0.5, 0.5]], "1-D"),
        ([], "empty"),
        ([0.5, float("nan")], "p[1] is nan"),
        ([1.5, -0.5], "p[1] is -0.5"),
        ([0.5, float("inf")], "finite"),
    ],
)
def test_bad_pmf_is_rejected_with_its_name_and_value(bad, fragment):
    with pytest.raises(XentsimError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        entropy(bad)


def test_mismatched_alphabets_are_rejected():
    with pytest.raises(XentsimError, match="p has 2 symbols but q has 3"):
        cross_entropy([0.5, 0.5], [0.2, 0.3, 0.5])


def test_bad_base_is_rejected():
    with pytest.raises(XentsimError, match="base"):
        entropy([0.5, 0.5], base=1)


# --------------------------------------------------------------------------- exactness

from decimal import Decimal, localcontext  # noqa: E402
from fractions import Fraction  # noqa: E402


def _log1p_exact(x: Fraction, terms: int = 12) -> Fraction:
    """ln(1 + x) as a rational, by its series; for |x| <= 2^-20 the omitted terms are
    below 2^-(20 * 13), far beyond binary64."""
    return sum(((-1) ** (j + 1)) * x**j / j for j in range(1, terms + 1))


def _kl_reference_nats(p, q) -> float:
    """KL of the given binary64 numbers, evaluated with exact rationals for ratios near 1
    and 80-digit decimals otherwise."""
    total = Fraction(0)
    with localcontext() as ctx:
        ctx.prec = 80
        for a, b in zip(p, q):
            if a == 0:
                continue
            fa, fb = Fraction(a), Fraction(b)
            x = (fa - fb) / fb
            if abs(x) <= Fraction(1, 1 << 20):
                total += fa * _log1p_exact(x)
            else:
                total += fa * Fraction((Decimal(a) / Decimal(b)).ln())
    return float(total)


@pytest.mark.parametrize("a, b", [
    (0.5, 0.5 + 2.0**-46),          # parameters 1.4e-14 apart: KL ~ 4e-28 nats
    (0.75, 0.75 + 2.0**-50),
    (0.5 + 1e-14, 0.5),
    (0.9, 0.9 + 1e-10),
    (0.6, 0.6000001),
    (0.5, 0.999),
    (0.999999, 0.5),
])
def test_kl_keeps_its_relative_accuracy_when_p_and_q_nearly_agree(a, b):
    # a, b in [1/2, 1): 1 - a and 1 - b are exact, so both pmfs sum to exactly 1.
    p, q = [a, 1 - a], [b, 1 - b]
    exact = _kl_reference_nats(p, q)
    assert exact > 0
    got = kl_divergence(p, q, base=math.e)
    assert got == pytest.approx(exact, rel=1e-12, abs=0)
    assert kl_divergence(p, q) == pytest.approx(exact / math.log(2), rel=1e-12, abs=0)


def test_kl_of_a_three_symbol_pair_one_ulp_apart_is_positive_and_exact():
    e = 2.0**-45
    p, q = [0.25 + e, 0.25, 0.5 - e], [0.25, 0.25, 0.5]  # both sum to exactly 1
    exact = _kl_reference_nats(p, q)
    assert kl_divergence(p, q, base=math.e) == pytest.approx(exact, rel=1e-12, abs=0)


def test_entropy_and_cross_entropy_match_an_80_digit_reference():
    rng = np.random.default_rng(9)
    p = rng.dirichlet(np.full(1000, 0.5))
    q = rng.dirichlet(np.full(1000, 0.5))
    with localcontext() as ctx:
        ctx.prec = 80
        ln2 = Decimal(2).ln()
        h = -sum(Decimal(a) * Decimal(a).ln() for a in p if a > 0) / ln2
        hpq = -sum(Decimal(a) * Decimal(b).ln() for a, b in zip(p, q) if a > 0) / ln2
    assert entropy(p) == pytest.approx(float(h), rel=1e-14)
    assert cross_entropy(p, q) == pytest.approx(float(hpq), rel=1e-14)


# --------------------------------------------------------------------------- mutation kills
# Properties found unprotected by mutation testing (README, "Testing").

def test_base_zero_is_rejected_and_a_base_below_one_flips_the_sign():
    with pytest.raises(XentsimError, match="base is 0"):
        entropy([0.5, 0.5], base=0)
    # log_b x = log2 x / log2 b: base 1/2 is a legal (if odd) base and negates bits.
    assert entropy([0.5, 0.5], base=0.5) == -1.0


@pytest.mark.parametrize("f", [cross_entropy, kl_divergence, js_divergence])
def test_a_bad_pmf_is_named_p_or_q_in_the_message(f):
    with pytest.raises(XentsimError, match=r"^p\[1\] is -0\.5"):
        f([1.5, -0.5], [0.5, 0.5])
    with pytest.raises(XentsimError, match=r"^q\[1\] is -0\.5"):
        f([0.5, 0.5], [1.5, -0.5])


def test_zero_probability_symbols_contribute_nothing_0_log_0_is_0():
    assert entropy([0.5, 0.5, 0.0]) == 1.0
    # q(x) = 0 where p(x) = 0 is no impossibility: H(p, q) = H(p) = 0 and KL = 0.
    assert cross_entropy([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0.0


@pytest.mark.parametrize("f", [cross_entropy, kl_divergence, js_divergence])
def test_every_measure_in_base_4_is_half_its_value_in_bits(f):
    p, q = [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]
    assert f(p, q, base=4) == pytest.approx(f(p, q) / 2, rel=1e-15, abs=0)
    assert js_divergence(q, p, base=4) == pytest.approx(js_divergence(q, p) / 2, rel=1e-15, abs=0)


@pytest.mark.parametrize("a, b", [(0.5, 0.5 + 2.0**-46), (0.75, 0.75 + 2.0**-50)])
def test_kl_of_nearly_equal_pmfs_has_full_relative_accuracy_with_no_absolute_floor(a, b):
    # The same references as above, compared with abs=0: pytest.approx's default absolute
    # tolerance (1e-12) would accept 0 for a KL of 4e-28.
    p, q = [a, 1 - a], [b, 1 - b]
    exact = _kl_reference_nats(p, q)
    assert kl_divergence(p, q, base=math.e) == pytest.approx(exact, rel=1e-12, abs=0)


def test_kl_against_a_subnormal_q_uses_logs_when_the_ratio_overflows():
    # p/q overflows for q = 5e-324; the term must come from ln p - ln q, finite.
    tiny = 5e-324
    with np.errstate(over="ignore"):  # r = (p - q)/q overflows too (reported separately)
        got = kl_divergence([0.5, 0.5], [1.0, tiny], base=math.e)
    expected = 0.5 * math.log(0.5) + 0.5 * (math.log(0.5) - math.log(tiny))
    assert got == pytest.approx(expected, rel=1e-14, abs=0)


# ---------------------------------------------------------------- chains: rates and laws

from fractions import Fraction  # noqa: E402

import simulator.measures as measures  # noqa: E402
from simulator.measures import (block_cross_entropy, chain_block_law, cross_entropy_rate,  # noqa: E402
                                entropy_rate, stationary_distribution)


def _h2(row):
    return -sum(x * math.log2(x) for x in row if x > 0)


def test_entropy_rate_is_the_stationary_average_of_the_row_entropies():
    P = [[0.9, 0.1], [0.2, 0.8]]  # pi = (2/3, 1/3)
    want = (2 / 3) * _h2(P[0]) + (1 / 3) * _h2(P[1])
    assert entropy_rate(P) == pytest.approx(want, rel=1e-14)
    assert entropy_rate(P, base=math.e) == pytest.approx(want * math.log(2), rel=1e-14)
    # a given pi is used as it is (the caller's stationary law)
    assert entropy_rate(P, pi=np.array([0.5, 0.5])) == pytest.approx(
        0.5 * _h2(P[0]) + 0.5 * _h2(P[1]), rel=1e-14)
    # zero transitions contribute nothing (0 log 0 = 0), never nan
    Z = [[1.0, 0.0], [0.5, 0.5]]  # pi = (1, 0): the absorbing row has entropy 0
    assert entropy_rate(Z) == 0.0
    assert entropy_rate(Z, pi=np.array([0.25, 0.75])) == pytest.approx(0.75, rel=1e-15)


def test_chain_measures_name_the_matrix_they_refuse():
    bad = [[0.5, 0.6], [0.5, 0.5]]
    with pytest.raises(XentsimError, match=r"^P row 0 sums to 1\.1"):
        entropy_rate(bad)
    with pytest.raises(XentsimError, match=r"^Q row 0 sums to 1\.1"):
        block_cross_entropy([0.25] * 4, bad)
    with pytest.raises(XentsimError, match=r"^Q is on 3 symbols but the source on 2$"):
        cross_entropy_rate([[0.9, 0.1], [0.2, 0.8]], [0.2, 0.3, 0.5])


def test_block_cross_entropy_sums_the_block_law_against_the_model_rows():
    Q = [[0.75, 0.25], [0.5, 0.5]]
    law = np.array([0.4, 0.1, 0.2, 0.3])  # blocks 00, 01, 10, 11
    want = -(0.4 * math.log2(0.75) + 0.1 * math.log2(0.25) + 0.2 * math.log2(0.5)
             + 0.3 * math.log2(0.5))
    assert block_cross_entropy(law, Q) == pytest.approx(want, rel=1e-15)
    assert block_cross_entropy(law.reshape(2, 2), Q) == pytest.approx(want, rel=1e-15)
    assert block_cross_entropy(law, Q, base=math.e) == pytest.approx(want * math.log(2), rel=1e-14)
    # order 0: the law of single symbols against a pmf
    assert block_cross_entropy([0.25, 0.75], [0.5, 0.5]) == pytest.approx(1.0, rel=1e-15)
    # a block of probability 1 costs -log2 of its model probability
    assert block_cross_entropy([0, 1, 0, 0], Q) == pytest.approx(2.0, rel=1e-15)
    # zero model probability: infinite where the law is positive, harmless where it is 0
    Z = [[1.0, 0.0], [0.5, 0.5]]
    assert block_cross_entropy([0.5, 0.0, 0.25, 0.25], Z) == pytest.approx(0.5, rel=1e-15)
    assert block_cross_entropy([0.5, 0.1, 0.2, 0.2], Z) == math.inf
    with pytest.raises(XentsimError, match="^the block law has 3 entries but Q has 4$"):
        block_cross_entropy([0.5, 0.25, 0.25], Q)


def test_stationary_law_of_a_chain_with_one_closed_state_puts_all_mass_there():
    # symbol 0 forever once seen: context 1 is transient
    assert stationary_distribution([[1.0, 0.0], [1.0, 0.0]]).tolist() == [1.0, 0.0]
    # order 2 on 2 symbols: contexts 00 (closed) and the transient 01, 10, 11
    P = [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]
    assert stationary_distribution(P).tolist() == [1.0, 0.0, 0.0, 0.0]


def _exact_stationary(P):
    """pi of a small chain of contexts by exact elimination (Fractions)."""
    P = [[Fraction(x).limit_denominator(10**6) for x in row] for row in P]
    S, K = len(P), len(P[0])
    T = [[Fraction(0)] * S for _ in range(S)]
    for c in range(S):
        for x in range(K):
            T[c][(c * K + x) % S] += P[c][x]
    # solve pi (T - I) = 0, sum pi = 1
    A = [[T[j][i] - (1 if i == j else 0) for j in range(S)] for i in range(S)]
    A[-1] = [Fraction(1)] * S
    b = [Fraction(0)] * (S - 1) + [Fraction(1)]
    for i in range(S):
        piv = next(r for r in range(i, S) if A[r][i] != 0)
        A[i], A[piv], b[i], b[piv] = A[piv], A[i], b[piv], b[i]
        for r in range(S):
            if r != i and A[r][i] != 0:
                f = A[r][i] / A[i][i]
                A[r] = [a - f * c for a, c in zip(A[r], A[i])]
                b[r] -= f * b[i]
    return [float(b[i] / A[i][i]) for i in range(S)]


@pytest.mark.parametrize("dense_limit", [2048, 1])
def test_stationary_law_of_an_order_2_chain_matches_exact_elimination(dense_limit, monkeypatch):
    # (dense_limit 1: the iterative solver of large chains on the same small chain)
    monkeypatch.setattr(measures, "_DENSE_STATES", dense_limit)
    P = [[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6],
         [0.05, 0.9, 0.05], [0.6, 0.1, 0.3], [0.25, 0.5, 0.25], [0.4, 0.4, 0.2]]
    got = stationary_distribution(P)
    np.testing.assert_allclose(got, _exact_stationary(P), rtol=1e-12, atol=0)
    assert math.fsum(got.tolist()) == pytest.approx(1.0, abs=4e-16)


def test_stationary_law_of_a_chain_above_the_dense_limit_is_found_by_iteration():
    # order 12 on 2 symbols: 4096 contexts > _DENSE_STATES. The next symbol depends only on
    # the last one (P(1 | ...0) = 0.3, P(1 | ...1) = 0.6), so pi(context) is the law of 12
    # steps of that 2-state chain started at its stationary law (4/7, 3/7) for 0 and 1.
    m = 12
    S = 2**m
    assert S > measures._DENSE_STATES
    last = np.arange(S) % 2
    P = np.where(last[:, None] == 0, [0.7, 0.3], [0.4, 0.6])
    step = np.array([[0.7, 0.3], [0.4, 0.6]])
    bits = (np.arange(S)[:, None] >> np.arange(m - 1, -1, -1)[None, :]) & 1
    want = np.where(bits[:, 0] == 0, 4 / 7, 3 / 7)
    for j in range(1, m):
        want = want * step[bits[:, j - 1], bits[:, j]]
    got = stationary_distribution(P)
    # The iteration stops once one lazy step (I + T)/2 moves the law by < 1e-15 in L1.
    # This chain's slowest mode decays by (1 + 0.3)/2 = 0.65 a step (0.3 = 0.7 - 0.4, the
    # 2-state chain's second eigenvalue; the shift's other modes reach 0 within 12
    # steps), so what remains is below 1e-15 * 0.65 / 0.35 per mode: 1e-13 in L1 bounds it
    # with room for the 12-step transient and rounding over 4096 entries.
    assert np.abs(got - want).sum() < 1e-13


def test_sticky_chains_keep_their_stationary_law_to_full_precision():
    # pi_0 P(0 -> 1) = pi_1 P(1 -> 0): equal leaving rates give (1/2, 1/2) however sticky
    # (forming 1 - P(0 -> 0) by subtraction gave 0.50000553 at 1e-12)
    for e in (1e-6, 1e-9, 1e-12, 1e-15):
        sticky = [[1 - e, e], [e, 1 - e]]
        assert stationary_distribution(sticky).tolist() == pytest.approx([0.5, 0.5], rel=4e-16)
        lopsided = [[1 - e, e], [2 * e, 1 - 2 * e]]
        assert stationary_distribution(lopsided).tolist() == pytest.approx([2 / 3, 1 / 3], rel=1e-15)


def test_a_chain_of_exactly_the_dense_limit_is_solved_directly_and_slow_iteration_refuses(monkeypatch):
    # (the iteration starts from the uniform law: a chain whose law is not uniform and that
    # mixes this slowly cannot be solved by it, so only the direct solve passes)
    lopsided = [[1 - 1e-9, 1e-9], [2e-9, 1 - 2e-9]]
    monkeypatch.setattr(measures, "_DENSE_STATES", 2)
    assert stationary_distribution(lopsided).tolist() == pytest.approx([2 / 3, 1 / 3], rel=1e-15)
    monkeypatch.setattr(measures, "_DENSE_STATES", 1)
    lopsided = [[1 - 1e-9, 1e-9], [2e-9, 1 - 2e-9]]
    with pytest.raises(XentsimError, match="^the stationary distribution did not converge: "
                                           "the chain mixes too slowly$"):
        stationary_distribution(lopsided)


def test_chain_block_laws_of_an_order_1_chain_are_products_along_the_path():
    P = np.array([[0.9, 0.1], [0.2, 0.8]])
    pi = np.array([2 / 3, 1 / 3])
    law3 = chain_block_law(P, 3)
    for w in range(8):
        a, b, c = (w >> 2) & 1, (w >> 1) & 1, w & 1
        assert law3[w] == pytest.approx(pi[a] * P[a, b] * P[b, c], rel=1e-14)
    np.testing.assert_allclose(chain_block_law(P, 1), pi, rtol=1e-14)


from simulator.measures import kl_rate  # noqa: E402

_BAD = [[0.5, 0.6], [0.5, 0.5]]  # row 0 sums to 1.1
_CHAIN = [[0.9, 0.1], [0.2, 0.8]]  # pi = (2/3, 1/3)


@pytest.mark.parametrize("call, name", [
    (lambda: chain_block_law(_BAD, 2), "P"),
    (lambda: cross_entropy_rate(_BAD, [0.5, 0.5]), "P"),
    (lambda: cross_entropy_rate(_CHAIN, _BAD), "Q"),
    (lambda: kl_rate(_BAD, [0.5, 0.5]), "P"),
    (lambda: kl_rate(_CHAIN, _BAD), "Q"),
])
def test_every_chain_measure_names_the_matrix_it_refuses(call, name):
    with pytest.raises(XentsimError, match=rf"^{name} row 0 sums to 1\.1"):
        call()


def test_block_laws_too_large_are_refused_naming_their_size():
    with pytest.raises(XentsimError, match=r"^the law of 25-tuples on 2 symbols has 33554432 "
                                           r"entries, above the limit$"):
        chain_block_law(_CHAIN, 25)


def test_block_laws_of_an_iid_chain_are_products_of_its_one_row():
    p = np.array([[0.7, 0.2, 0.1]])  # a (1, K) matrix: order 0
    law = chain_block_law(p, 3)
    for w in range(27):
        a, b, c = w // 9, (w // 3) % 3, w % 3
        assert law[w] == pytest.approx(p[0, a] * p[0, b] * p[0, c], rel=1e-15)


def test_chain_rates_use_a_given_stationary_law_and_their_base():
    Q = [[0.6, 0.4], [0.3, 0.7]]
    wrong_pi = np.array([0.5, 0.5])  # not the stationary law: the caller's choice is used
    h = lambda row, qrow: -sum(a * math.log2(b) for a, b in zip(row, qrow))  # noqa: E731
    want = 0.5 * h(_CHAIN[0], Q[0]) + 0.5 * h(_CHAIN[1], Q[1])
    assert cross_entropy_rate(_CHAIN, Q, pi=wrong_pi) == pytest.approx(want, rel=1e-14)
    right = (2 / 3) * h(_CHAIN[0], Q[0]) + (1 / 3) * h(_CHAIN[1], Q[1])
    assert cross_entropy_rate(_CHAIN, Q) == pytest.approx(right, rel=1e-14)
    assert cross_entropy_rate(_CHAIN, Q, base=math.e) == pytest.approx(right * math.log(2), rel=1e-14)
    kl = lambda row, qrow: sum(a * math.log2(a / b) for a, b in zip(row, qrow))  # noqa: E731
    assert kl_rate(_CHAIN, Q, pi=wrong_pi) == pytest.approx(
        0.5 * kl(_CHAIN[0], Q[0]) + 0.5 * kl(_CHAIN[1], Q[1]), rel=1e-13)
    assert kl_rate(_CHAIN, Q, base=math.e) == pytest.approx(
        ((2 / 3) * kl(_CHAIN[0], Q[0]) + (1 / 3) * kl(_CHAIN[1], Q[1])) * math.log(2), rel=1e-13)


def test_zero_transitions_cost_nothing_and_a_sure_transition_costs_its_model_bits():
    P = [[1.0, 0.0], [0.5, 0.5]]  # pi = (1, 0): the chain stays at 0 for ever
    Q = [[1.0, 0.0], [0.5, 0.5]]  # Q rules out what never happens
    assert cross_entropy_rate(P, Q) == 0.0
    assert kl_rate(P, Q) == 0.0
    assert cross_entropy_rate(P, [[0.5, 0.5], [0.5, 0.5]]) == pytest.approx(1.0, rel=1e-15)
    assert kl_rate(P, [[0.5, 0.5], [0.5, 0.5]]) == pytest.approx(1.0, rel=1e-15)
    # Q's certainty where P is not certain: an occurring transition gets probability 0
    assert cross_entropy_rate(_CHAIN, [[1.0, 0.0], [0.5, 0.5]]) == math.inf
    assert kl_rate(_CHAIN, [[1.0, 0.0], [0.5, 0.5]]) == math.inf


from simulator.measures import check_chain  # noqa: E402


@pytest.mark.parametrize("P, kw, message", [
    ([["a", "b"], ["c", "d"]], {}, r"^Q is not a matrix of numbers: could not convert"),
    ([[[0.5, 0.5]]], {}, r"^Q must be a 2-D \(K\^m, K\) matrix, got shape \(1, 1, 2\)$"),
    (np.zeros((0, 2)), {}, r"^Q must be a 2-D \(K\^m, K\) matrix, got shape \(0, 2\)$"),
    (np.full((2**12, 2**12 + 1), 1.0 / (2**12 + 1)), {},
     r"^Q has 16781312 entries, above the limit of 16777216$"),
    ([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], {},
     r"^Q has 3 rows and 2 columns: an order-m chain on K symbols needs K\^m rows"),
    ([[0.5, 0.5], [0.5, np.nan]], {}, r"^Q\[1, 1\] is nan: probabilities must be finite$"),
    ([[0.5, 0.5], [1.5, -0.5]], {}, r"^Q\[1, 1\] is -0\.5: probabilities must be >= 0$"),
    ([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.5, 0.5]], {"normalize": True},
     r"^Q row 0 sums to 0: nothing to normalise$"),
    ([[1.0, 0.0], [0.2, 0.2], [0.0, 0.0], [0.5, 0.5]], {"normalize": True},
     r"^Q row 2 sums to 0: nothing to normalise$"),
    ([[1.0, 0.0], [0.2, 0.2]], {}, r"^Q row 1 sums to 0\.4, not 1 \(tolerance 1e-09\); pass "
                                   r"normalize=True \(--normalize\) to rescale each row$"),
    ([[0.0, 1.0], [1.5, -0.5]], {}, r"^Q\[1, 1\] is -0\.5: probabilities must be >= 0$"),
])
def test_check_chain_names_the_matrix_the_entry_and_the_rule(P, kw, message):
    with pytest.raises(XentsimError, match=message):
        check_chain(P, "Q", **kw)


def test_check_chain_rescales_small_and_overflowing_rows_only_when_asked():
    small, _ = check_chain([[0.2, 0.3], [1.0, 1.0]], normalize=True)
    assert small.tolist() == [[0.4, 0.6], [0.5, 0.5]]
    big = [[1e308, 1e308, 0.0], [1.5e308, 0.5e308, 1e308], [0.2, 0.3, 0.5]]
    P, _ = check_chain(big, normalize=True)
    np.testing.assert_allclose(P, [[0.5, 0.5, 0.0], [0.5, 1 / 6, 1 / 3], [0.2, 0.3, 0.5]],
                               rtol=1e-15, atol=0)


def test_a_chain_of_exactly_the_entry_limit_is_accepted():
    from simulator.measures import MAX_CHAIN_ENTRIES
    K = 4096
    assert K * K == MAX_CHAIN_ENTRIES
    P, m = check_chain(np.full((K, K), 1.0 / K))
    assert m == 1 and P.size == MAX_CHAIN_ENTRIES


def test_check_chain_accepts_zeros_and_exact_ones_and_a_pmf_as_order_0():
    P, m = check_chain([[1.0, 0.0], [0.0, 1.0]])
    assert m == 1 and P.dtype == np.float64 and not P.flags.writeable
    row, m0 = check_chain([0.25, 0.75])
    assert m0 == 0 and row.shape == (1, 2)
    scaled, _ = check_chain([[2.0, 2.0], [1e308, 1e308]], normalize=True)
    assert scaled.tolist() == [[0.5, 0.5], [0.5, 0.5]]


def test_reducible_and_periodic_chains_are_refused_naming_two_classes_or_the_period():
    two = [[1.0, 0.0], [0.0, 1.0]]  # contexts 0 and 1 never leave themselves
    with pytest.raises(XentsimError, match=r"^P is reducible: it has 2 closed classes of "
                                           r"contexts \(e\.g\. one holding context 0 and one "
                                           r"holding context 1\), so its stationary "
                                           r"distribution is not unique$"):
        stationary_distribution(two)
    three = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]  # 1 is transient
    with pytest.raises(XentsimError, match=r"holding context 0 and one holding context 2\)"):
        stationary_distribution(three)
    with pytest.raises(XentsimError, match=r"^P is periodic with period 2: the chain never "
                                           r"settles into its stationary distribution; a source "
                                           r"must be aperiodic$"):
        stationary_distribution([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(XentsimError, match=r"^Q is periodic with period 3"):
        stationary_distribution([[0, 1, 0], [0, 0, 1], [1, 0, 0]], name="Q")
    with pytest.raises(XentsimError, match=r"^Q is reducible: it has 3 closed classes of "
                                           r"contexts \(e\.g\. one holding context 0 and one "
                                           r"holding context 1\)"):
        stationary_distribution(np.eye(3), name="Q")
    with pytest.raises(XentsimError, match=r"^Q row 0 sums to 1\.1"):
        stationary_distribution([[0.5, 0.6], [0.5, 0.5]], name="Q")


def test_the_stationary_law_of_an_order_0_chain_is_its_one_context_read_only():
    pi = stationary_distribution([[0.3, 0.7]])
    assert pi.tolist() == [1.0]
    pi = stationary_distribution([[0.9, 0.1], [0.2, 0.8]])
    assert not pi.flags.writeable


def test_kl_rate_matches_its_definition_when_rows_have_zeros_and_ignores_unvisited_contexts():
    P = np.array([[0.9, 0.1, 0.0], [0.3, 0.3, 0.4], [0.5, 0.0, 0.5]])
    Q = np.full((3, 3), 1 / 3)
    pi = stationary_distribution(P)
    want = sum(pi[c] * sum(p * math.log2(p / q) for p, q in zip(P[c], Q[c]) if p > 0)
               for c in range(3))
    assert kl_rate(P, Q) == pytest.approx(want, rel=1e-13)
    # context 1 is never visited (pi = (1, 0)): Q may rule out what only it would emit
    assert kl_rate([[1.0, 0.0], [0.5, 0.5]], [[1.0, 0.0], [1.0, 0.0]]) == 0.0


def test_chain_measures_name_p_by_default():
    with pytest.raises(XentsimError, match=r"^P row 0 sums to 1\.1"):
        check_chain([[0.5, 0.6], [0.5, 0.5]])
    with pytest.raises(XentsimError, match=r"^P row 0 sums to 1\.1"):
        stationary_distribution([[0.5, 0.6], [0.5, 0.5]])


def test_chain_order_of_a_one_symbol_alphabet_ends_and_refuses_more_than_one_row():
    # K = 1: every power of 1 is 1, so the search for m with 1^m = rows never ended.
    import simulator.measures as M

    assert M.chain_order(1, 1) == 0
    assert M.chain_order(2, 1) is None and M.chain_order(7, 1) is None
    with pytest.raises(XentsimError, match="P has 2 rows and 1 columns"):
        M.check_chain([[1.0], [1.0]])
