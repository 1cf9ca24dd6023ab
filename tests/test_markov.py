"""Markov sources and the rate measures: exact values, refusals, and the sampler's law."""

import math
from fractions import Fraction

import numpy as np
import pytest

from simulator import measures as M
from simulator.errors import XentsimError
from simulator.sources.markov import MarkovSource

STICKY = [[0.9, 0.1], [0.2, 0.8]]  # pi = (2/3, 1/3)


def h2(*ps):
    return -sum(p * math.log2(p) for p in ps if p > 0)


def test_sticky_chain_rates_match_hand_computation():
    # pi = (2/3, 1/3); H(mu) = 2/3 h(.1) + 1/3 h(.2); H(pi) = h(1/3)
    rate = 2 / 3 * h2(0.9, 0.1) + 1 / 3 * h2(0.2, 0.8)
    assert M.entropy_rate(STICKY) == pytest.approx(rate, rel=1e-13)
    assert M.entropy_rate(STICKY) == pytest.approx(0.553306, abs=1e-6)
    # order-0 q = pi pays H(pi): rate + memory 0.364989
    assert M.cross_entropy_rate(STICKY, [2 / 3, 1 / 3]) == pytest.approx(0.918296, abs=1e-6)
    assert M.cross_entropy_rate(STICKY, [2 / 3, 1 / 3]) - rate == pytest.approx(0.364989, abs=1e-6)
    # q = (1/2, 1/2) adds KL(pi || u) = 0.081704
    assert M.cross_entropy_rate(STICKY, [0.5, 0.5]) == pytest.approx(1.0, rel=1e-14)
    assert M.kl_rate(STICKY, [0.5, 0.5]) == pytest.approx(1.0 - rate, rel=1e-13)
    q = [[0.7, 0.3], [0.4, 0.6]]
    want = -(2 / 3 * (0.9 * math.log2(0.7) + 0.1 * math.log2(0.3))
             + 1 / 3 * (0.2 * math.log2(0.4) + 0.8 * math.log2(0.6)))
    assert M.cross_entropy_rate(STICKY, q) == pytest.approx(want, rel=1e-13)
    assert M.cross_entropy_rate(STICKY, q) == pytest.approx(0.709194, abs=1e-6)
    assert M.kl_rate(STICKY, q) == pytest.approx(want - rate, rel=1e-12)


def test_stationary_law_of_a_three_state_chain_is_exact():
    P = [[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]]
    # detailed balance: pi = (1/4, 1/2, 1/4)
    assert M.stationary_distribution(P).tolist() == pytest.approx([0.25, 0.5, 0.25], abs=1e-15)


def test_an_order_two_chain_that_ignores_its_oldest_symbol_has_the_order_one_rates():
    P2 = np.array([STICKY[c % 2] for c in range(4)])
    assert M.entropy_rate(P2) == pytest.approx(M.entropy_rate(STICKY), rel=1e-13)
    assert M.cross_entropy_rate(P2, [0.5, 0.5]) == pytest.approx(1.0, rel=1e-13)
    assert M.cross_entropy_rate(P2, STICKY) == pytest.approx(M.entropy_rate(STICKY), rel=1e-13)
    assert M.kl_rate(P2, STICKY) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(M.chain_block_law(P2, 3), M.chain_block_law(STICKY, 3), atol=1e-15)


def test_an_order_three_chain_rate_equals_its_block_entropy_increment():
    rng = np.random.default_rng(5)
    P = rng.dirichlet(np.ones(3), size=27)
    # for an order-m chain, H(X_1..X_{k+1}) - H(X_1..X_k) equals the rate once k >= m
    hk = [M.entropy(M.chain_block_law(P, k)) for k in (3, 4, 5)]
    assert hk[1] - hk[0] == pytest.approx(M.entropy_rate(P), rel=1e-10)
    assert hk[2] - hk[1] == pytest.approx(M.entropy_rate(P), rel=1e-10)


def test_block_laws_are_stationary_and_consistent():
    rng = np.random.default_rng(2)
    P = rng.dirichlet(np.ones(3) * 0.7, size=9)  # order 2 on 3 symbols
    for k in range(1, 5):
        law = M.chain_block_law(P, k)
        nxt = M.chain_block_law(P, k + 1).reshape(3**k, 3)
        first = M.chain_block_law(P, k + 1).reshape(3, 3**k)
        np.testing.assert_allclose(nxt.sum(axis=1), law, atol=1e-15)  # drop the last symbol
        np.testing.assert_allclose(first.sum(axis=0), law, atol=1e-15)  # drop the first


def test_a_model_that_misses_an_occurring_transition_costs_infinity():
    assert M.cross_entropy_rate(STICKY, [[1.0, 0.0], [0.2, 0.8]]) == math.inf
    assert M.kl_rate(STICKY, [1.0, 0.0]) == math.inf


def test_kl_rate_keeps_its_accuracy_when_the_chains_nearly_agree():
    from decimal import Decimal, getcontext

    getcontext().prec = 60
    # dyadic rows: every row of P and of Q sums to exactly 1 in binary64
    d = 2.0**-46
    P = [[0.75, 0.25], [0.5, 0.5]]  # pi = (2/3, 1/3)
    Q = [[0.75 + d, 0.25 - d], [0.5, 0.5]]
    row = sum(Decimal(p) * (Decimal(p) / Decimal(q)).ln() for p, q in zip(P[0], Q[0]))
    exact = float(Decimal(2) / Decimal(3) * row / Decimal(2).ln())  # about 3.2e-28 bits
    assert exact > 0
    # the terms are second order in d and summed without first-order cancellation: a
    # few ulps of relative error
    assert M.kl_rate(P, Q) == pytest.approx(exact, rel=1e-12, abs=0)
    assert M.kl_rate(P, P) == 0.0


@pytest.mark.parametrize("P, words", [
    ([[0.5, 0.5]] * 3, "3 rows and 2 columns"),
    ([[0.5, 0.4], [0.2, 0.8]], "row 0 sums to 0.9"),
    ([[1.1, -0.1], [0.2, 0.8]], "P[0, 1] is -0.1"),
    ([[float("nan"), 1.0], [0.2, 0.8]], "P[0, 0] is nan"),
    ([[1.0, 0.0], [0.0, 1.0]], "reducible"),
    ([[0.0, 1.0], [1.0, 0.0]], "periodic with period 2"),
    ([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], "reducible"),
])
def test_bad_chains_are_refused_naming_the_fault(P, words):
    with pytest.raises(XentsimError, match=words.replace("[", r"\[").replace("]", r"\]")):
        MarkovSource(P)


def test_a_transient_context_gets_stationary_probability_zero():
    P = [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.3, 0.3, 0.4]]
    assert M.stationary_distribution(P).tolist() == pytest.approx([0.5, 0.5, 0.0], abs=1e-15)


def test_sampled_transition_frequencies_match_the_matrix():
    src = MarkovSource(STICKY)
    x = src.sample(10**6, rng=np.random.default_rng(11)).astype(np.int64)
    pairs = np.bincount(x[:-1] * 2 + x[1:], minlength=4).reshape(2, 2)
    freq = pairs / pairs.sum(axis=1, keepdims=True)
    # each row is a binomial proportion given its visits: 99.99% normal half-width (z = 3.89)
    for s in range(2):
        half = 3.89 * math.sqrt(STICKY[s][1] * STICKY[s][0] / pairs[s].sum())
        assert abs(freq[s, 1] - STICKY[s][1]) < half


def test_sampling_starts_from_the_stationary_law():
    # the first symbol of many short messages is distributed as pi = (2/3, 1/3)
    src = MarkovSource(STICKY)
    rng = np.random.default_rng(3)
    firsts = np.array([src.sample(1, rng=child)[0] for child in rng.spawn(4000)])
    half = 3.89 * math.sqrt(2 / 9 / 4000)
    assert abs(firsts.mean() - 1 / 3) < half


def test_same_seed_same_symbols_and_order_m_contexts_start_stationary():
    rng = np.random.default_rng(9)
    P = rng.dirichlet(np.ones(4), size=16)
    src = MarkovSource(P)
    a = src.sample(5000, rng=np.random.default_rng(1))
    b = src.sample(5000, rng=np.random.default_rng(1))
    assert np.array_equal(a, b)
    assert src.order == 2 and a.dtype == np.uint8
    assert src.block_law(2).sum() == pytest.approx(1.0, abs=1e-14)


# x_t repeats x_{t-2} with probability 0.9 and ignores x_{t-1}: order 2, rows 00, 01, 10, 11
SKIP_ONE = [[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.1, 0.9]]


def test_an_order_two_chain_that_skips_a_symbol_has_hand_computed_rates():
    # by symmetry the four contexts are equally likely; the rate is h(0.1) = 0.468996;
    # x_t is independent of x_{t-1} alone, so every order-1 (or order-0) model with
    # uniform rows costs exactly 1 bit: the memory is invisible below order 2
    assert M.stationary_distribution(SKIP_ONE).tolist() == pytest.approx([0.25] * 4, abs=1e-15)
    assert M.entropy_rate(SKIP_ONE) == pytest.approx(h2(0.9, 0.1), rel=1e-13)
    assert M.entropy_rate(SKIP_ONE) == pytest.approx(0.468996, abs=1e-6)
    assert M.cross_entropy_rate(SKIP_ONE, [[0.5, 0.5], [0.5, 0.5]]) == pytest.approx(1.0, rel=1e-14)
    assert M.kl_rate(SKIP_ONE, [0.5, 0.5]) == pytest.approx(1 - h2(0.9, 0.1), rel=1e-12)
    lifted = [SKIP_ONE[c % 4] for c in range(8)]  # the same chain written as order 3
    assert M.kl_rate(SKIP_ONE, lifted) == 0.0
    # a model that swaps the roles: -(0.9 log2 0.1 + 0.1 log2 0.9) per symbol
    swapped = [SKIP_ONE[c ^ 2] for c in range(4)]
    assert M.cross_entropy_rate(SKIP_ONE, swapped) == pytest.approx(
        -(0.9 * math.log2(0.1) + 0.1 * math.log2(0.9)), rel=1e-13)


def test_adaptive_counts_need_order_two_to_see_the_skip_one_chain():
    from simulator.engine import simulate

    kw = dict(n=20_000, trials=20, rng=np.random.default_rng(6))
    one = simulate(SKIP_ONE, [0.5, 0.5], "arithmetic", model="kt", order=1, **kw)
    kw["rng"] = np.random.default_rng(6)
    two = simulate(SKIP_ONE, [0.5, 0.5], "arithmetic", model="kt", order=2, **kw)
    # order 1 pays about 1 bit (plus its learning cost), order 2 the rate (plus its own):
    # with 20 messages of 20000 symbols each interval is a few thousandths wide
    assert one.ci99[0] > 0.99 and two.ci99[1] < M.entropy_rate(SKIP_ONE) + 0.01
