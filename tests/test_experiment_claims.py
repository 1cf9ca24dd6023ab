"""The claims the experiments print, checked by direct exact computation (or quick sizes):
each test fails if the stated fact stops being true."""

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pytest

from simulator import BlockHuffmanCode, cross_entropy, dirichlet, entropy, kl_divergence, mix_uniform, zipf
from simulator.experiments import (asymmetry, block_huffman, classification, common, continuous,
                                   direction, learning, precision)
from simulator.models import StaticModel

# ------------------------------------------------------------------ block_huffman: ties


def _brute_force_range(q_weights, p_weights):
    """(min, max) of sum p l over every tie-breaking of Huffman's algorithm, by trying every
    admissible merge (any lightest item with any lightest of the rest) from every state."""

    @lru_cache(maxsize=None)
    def costs(state):  # state: sorted tuple of (q, p) nodes; returns the set of sum p l
        if len(state) == 1:
            return frozenset([0])
        out = set()
        nodes = list(state)
        w1 = min(q for q, _ in nodes)
        for i, a in enumerate(nodes):
            if a[0] != w1:
                continue
            rest = nodes[:i] + nodes[i + 1:]
            w2 = min(q for q, _ in rest)
            for j, b in enumerate(rest):
                if b[0] != w2:
                    continue
                merged = (a[0] + b[0], a[1] + b[1])
                nxt = tuple(sorted(rest[:j] + rest[j + 1:] + [merged]))
                out |= {c + merged[1] for c in costs(nxt)}
        return frozenset(out)

    found = costs(tuple(sorted(zip(q_weights, p_weights))))
    return min(found), max(found)


@pytest.mark.parametrize("q, p", [
    ([1, 1, 1], [2, 1, 1]),  # uniform q on 3 symbols, p = (1/2, 1/4, 1/4): 1.5 or 1.75
    ([4, 4, 3, 1], [1, 1, 7, 1]),  # docs/theory.md: 2.0 or 2.7
    ([1] * 9, [4, 2, 2, 2, 1, 1, 2, 1, 1]),  # its k = 2 block code
    ([2, 2, 1, 1, 1, 1], [1, 5, 2, 3, 1, 4]),  # ties between leaves and merged nodes
])
def test_tie_range_equals_the_brute_force_range_over_every_tie_breaking(q, p):
    lo = block_huffman._huffman_p_cost(q, p, +1)
    hi = block_huffman._huffman_p_cost(q, p, -1)
    assert (lo, hi) == _brute_force_range(tuple(q), tuple(p))


def test_the_theory_examples_of_tie_dependence_are_the_exact_ranges():
    assert block_huffman.tie_range(1, [0.5, 0.25, 0.25], [1 / 3] * 3) == (Fraction(3, 2), Fraction(7, 4))
    lo = Fraction(block_huffman._huffman_p_cost([4, 4, 3, 1], [1, 1, 7, 1], 1), 10)
    hi = Fraction(block_huffman._huffman_p_cost([4, 4, 3, 1], [1, 1, 7, 1], -1), 10)
    assert (lo, hi) == (Fraction(2), Fraction(27, 10))


def test_uniform_q_tie_ranges_per_block_and_where_the_rule_sits():
    per_block, top, inside = [], [], []
    for k in block_huffman.KS_TIES:
        lo, hi = block_huffman.tie_range(k, block_huffman.P_TIES, block_huffman.Q_TIES)
        rule = block_huffman.rule_value(k, block_huffman.P_TIES, block_huffman.Q_TIES)
        assert lo <= rule <= hi
        assert float(rule) == pytest.approx(
            BlockHuffmanCode(block_huffman.Q_TIES, k).expected_bits_per_symbol(block_huffman.P_TIES), abs=1e-12)
        per_block.append((hi - lo) * k)
        (top if rule == hi else inside if lo < rule < hi else []).append(k)
    assert per_block[:2] == [Fraction(1, 4), Fraction(1, 4)]
    assert per_block[5] == max(per_block) and round(float(per_block[5]), 4) == 0.5693
    assert round(float(min(per_block)), 4) == 0.1904  # k = 5
    assert (round(float(min(per_block)), 2), round(float(max(per_block)), 2)) == block_huffman.TIE_SPREAD
    assert top == [1, 2] and inside == [3, 4, 5, 6, 7, 8]


def test_bern_pair_has_a_single_value_over_every_tie_breaking():
    for k in block_huffman.KS:
        lo, hi = block_huffman.tie_range(k)
        assert lo == hi == block_huffman.rule_value(k)


# ------------------------------------------------------------------ the coder's rounding


def _old_one_unit_bound(p, q, precision):
    on = p > 0
    return float(np.max(np.log2(1 + 1 / np.maximum(q[on] * 2.0**precision - 1, 1e-300))))


def test_the_one_unit_rounding_bound_fails_and_the_derived_range_holds():
    rng = np.random.default_rng(0)
    q = mix_uniform(dirichlet(4, 0.1, rng), 1e-3).probs
    p = np.zeros(4)
    p[np.argmax(q)] = 1.0  # all of p on q's largest symbol
    gap = StaticModel(q).cross_entropy(p) - cross_entropy(p, q)
    assert abs(gap) > _old_one_unit_bound(p, q, 24)  # the claim kl_excess used to make
    lo, hi = common.quantised_cross_entropy_range(p, q, 24)
    assert lo <= StaticModel(q).cross_entropy(p) <= hi


@pytest.mark.parametrize("seed", range(4))
def test_quantised_cost_bounds_hold_for_every_symbol_at_every_precision(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        K = int(rng.choice([2, 3, 16, 64, 256, 1000]))
        b = int(rng.integers(8, 25))
        if K > 2**b:
            continue
        q = dirichlet(K, float(rng.choice([0.02, 0.1, 1.0, 5.0])), rng).probs
        model = StaticModel(q, b)
        lo, hi = common.quantised_cost_bounds(q, b)
        on = q > 0
        assert np.all(lo[on] <= model.neglog[on]) and np.all(model.neglog[on] <= hi[on])


def test_asymmetry_coding_distributions_smallest_probability():
    q_min = min(float(np.min(np.concatenate([p, q, (p + q) / 2]))) for p, q in asymmetry.pairs().values())
    assert round(q_min, 5) == 0.00083  # not ">= 0.005"


# ------------------------------------------------------------------ continuous


@pytest.fixture(scope="module")
def continuous_exact():
    out = {}
    for D in continuous.DS:
        p, q = continuous.discretised(D)
        hq = StaticModel(q.probs).cross_entropy(p.probs)
        out[D] = dict(hq=hq, hpq=cross_entropy(p, q), hp=entropy(p), kl=kl_divergence(p, q),
                      floored=int((q.probs * 2.0**24 < 1).sum()), bins=q.probs.size)
    return out


def test_continuous_coder_excess_crosses_kl_between_005_and_002(continuous_exact):
    below = [D for D, v in continuous_exact.items() if v["hq"] - v["hp"] < continuous.KL_PQ]
    assert tuple(below) == continuous.EXCESS_BELOW_KL == (1.0, 0.5, 0.2, 0.1, 0.05)


def test_continuous_kl_approaches_from_below_within_the_hoeffding_bound(continuous_exact):
    for D, v in continuous_exact.items():
        shortfall = continuous.KL_PQ - v["kl"]
        assert 0 <= shortfall <= continuous.binning_kl_bound(D)
        assert shortfall == pytest.approx(0.625 / (24 * math.log(2)) * D**2, rel=0.02 if D <= 0.1 else 1)


def test_continuous_docstring_numbers(continuous_exact):
    gap = {D: v["hq"] - v["hpq"] for D, v in continuous_exact.items()}
    assert [f"{gap[D]:.1e}" for D in (0.1, 0.01, 0.001)] == ["2.4e-06", "4.3e-05", "6.0e-04"]
    assert all(g1 < g2 for g1, g2 in zip(gap.values(), list(gap.values())[1:]))
    assert (continuous_exact[0.001]["floored"], continuous_exact[0.001]["bins"]) == (7886, 24002)
    err = {D: v["hpq"] + math.log2(D) - continuous.H_PQ for D, v in continuous_exact.items()}
    assert (f"{err[1.0]:.4g}", f"{err[0.1]:.4g}") == ("0.02225", "0.0002254")
    v = continuous_exact[0.001]
    assert f"{v['hq'] + math.log2(0.001) - continuous.H_PQ:.1e}" == "6.0e-04"


# ------------------------------------------------------------------ precision


def test_precision_gap_sign_pattern_and_where_the_floor_binds():
    hpq = cross_entropy(precision.P, precision.Q)
    gap = {b: StaticModel(precision.Q, b).cross_entropy(precision.P) - hpq for b in precision.BS}
    binds = [b for b in precision.BS if float(precision.Q.min()) * 2.0**b < 1]
    assert binds == list(precision.FLOOR_BINDS) == list(range(8, 13))
    assert all(gap[b] < 0 for b in binds)
    free = [b for b in precision.BS if b not in binds]
    assert [b for b in free if gap[b] < 0] == [13, 14, 15, 17, 19, 23, 24]
    assert [b for b in free if gap[b] > 0] == [16, 18, 20, 21, 22]
    assert [f"{gap[b]:.2g}" for b in (8, 12, 13, 15, 17, 24)] == \
        ["-0.64", "-0.012", "-0.0041", "-6.2e-05", "-0.00095", "-2.6e-07"]
    assert [sum(float(precision.Q[x]) * 2.0**b < 1 for x in range(64)) for b in (8, 12)] == [52, 14]


# ------------------------------------------------------------------ learning


def test_expected_redundancy_matches_a_sum_over_every_count_vector():
    p, n = np.array([0.3, 0.7]), 12
    for est, a in learning.PRIOR.items():
        total = 0.0
        for c in range(n + 1):
            prob = math.comb(n, c) * p[0] ** c * p[1] ** (n - c)
            log_m = (math.lgamma(2 * a) - math.lgamma(n + 2 * a) + math.lgamma(c + a) + math.lgamma(n - c + a)
                     - 2 * math.lgamma(a))
            total += prob * (-log_m / math.log(2) + c * math.log2(p[0]) + (n - c) * math.log2(p[1]))
        assert learning.expected_redundancy_bits(p, n, est) == pytest.approx(total, abs=1e-9)


def test_leading_term_overstates_the_k256_redundancy_1_7_times_and_kt_laplace_differ_by_43_bits():
    p = zipf(256, 1.0).probs
    exact = learning.expected_redundancy_bits(p, 10**6, "kt")
    assert round(255 / 2 * math.log2(10**6) / exact, 1) == 1.7
    diff = learning.expected_redundancy_bits(p, 1000, "laplace") - learning.expected_redundancy_bits(p, 1000, "kt")
    assert round(diff) == 43
    assert abs(exact - learning.clarke_barron_bits(256, 10**6, "kt", p)) < 1e-3


@pytest.fixture
def swapped_estimators():
    yield learning.ESTIMATORS.update(kt="laplace", laplace="kt")
    learning.ESTIMATORS.update(kt="kt", laplace="laplace")


def test_learning_verdicts_tell_kt_from_laplace():
    result = learning.compute(2026, **learning.EXPERIMENT.sizes(quick=True))
    assert all(v.passed for v in result.verdicts)


def test_learning_verdicts_fail_when_kt_and_laplace_are_swapped(swapped_estimators):
    result = learning.compute(2026, **learning.EXPERIMENT.sizes(quick=True))
    assert [v.passed for v in result.verdicts[:3]] == [False, False, False]


# ------------------------------------------------------------------ bases, classification, direction


def test_bases_are_documented_and_include_sample():
    assert common.BASES == ("measured", "sample", "exact")


def test_chi_square_quantiles():
    assert classification.chi2_quantile(0.99, 9) == pytest.approx(21.665994, abs=1e-5)
    assert classification.chi2_quantile(0.95, 1) == pytest.approx(3.841459, abs=1e-5)
    assert classification.FREE_PARAMETERS == 9


def test_direction_mode_seeking_cost_is_capped_below_its_cross_entropy():
    p = direction.bimodal()
    q = direction.gaussian(*direction.fit(p, direction.reverse))
    hq = StaticModel(q).cross_entropy(p)
    lo, hi = common.quantised_cross_entropy_range(p, q, 24)
    assert lo <= hq <= hi < cross_entropy(p, q)
    assert (round(cross_entropy(p, q), 2), round(hq, 2)) == (21.38, 14.71)
