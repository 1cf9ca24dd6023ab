"""The measurement: real bits, checked round trips, intervals centred where theory says."""

import math

import numpy as np
import pytest

from simulator._validate import UnencodableSymbolError, XentsimError
from simulator.distributions import mix_uniform, zipf
from simulator.engine import simulate

P_A, Q_A = [0.1, 0.9], [0.9, 0.1]  # THEORY example A: p = Bern(.9), q = Bern(.1)


@pytest.mark.parametrize("code, block", [("huffman", None), ("shannon", None), ("block-huffman", 6)])
def test_bits_per_symbol_lies_in_its_99_interval_around_the_exact_expected_length(code, block):
    p = zipf(256, 1.1)
    q = mix_uniform(zipf(256, 0.8), 0.1) if code != "block-huffman" else Q_A
    p = p if code != "block-huffman" else P_A
    m = simulate(p, q, code, n=200_000, trials=2, block=block, rng=np.random.default_rng(11))
    assert m.roundtrip_ok
    lo, hi = m.ci99
    assert lo <= m.expected_bits_per_symbol <= hi


def test_interval_half_width_is_bernstein_with_the_exact_variance_for_example_a():
    # The Shannon code's lengths (1 and 4 bits) under p = Bern(.9) have mean 3.7,
    # Var = 9 * 0.9 * 0.1 = 0.81 and largest deviation 2.7. Bernstein at delta = 0.01
    # for m = 10^4 units: m t^2 = (2 Var + 2 (2.7) t / 3) ln(200), solved for t.
    m = simulate(P_A, Q_A, "shannon", n=10_000, rng=np.random.default_rng(3))
    c = math.log(200)
    a = 2 * 2.7 * c / 3
    t = (a + math.sqrt(a * a + 8 * 10_000 * 0.81 * c)) / (2 * 10_000)
    half = (m.ci99[1] - m.ci99[0]) / 2
    assert half == pytest.approx(t, rel=1e-12)
    assert m.ci99[0] < m.bits_per_symbol < m.ci99[1]
    assert m.expected_bits_per_symbol == 3.7  # 0.9 * 4 + 0.1 * 1
    assert m.ci_method == "bernstein"


def test_measurement_reports_theory_beside_the_bits():
    m = simulate([0.7, 0.2, 0.1], [0.2, 0.3, 0.5], "huffman", n=1000, rng=np.random.default_rng(0))
    assert m.entropy_bits == pytest.approx(1.156780, abs=1e-6)
    assert m.cross_entropy_bits == pytest.approx(2.072743, abs=1e-6)
    assert m.kl_bits == pytest.approx(2.072743 - 1.156780, abs=2e-6)
    assert m.excess_bits == pytest.approx(m.bits_per_symbol - m.entropy_bits)
    assert m.total_bits == sum(m.trial_bits)
    d = m.to_dict()
    for key in ("code", "n_symbols", "trials", "seed", "total_bits", "bits_per_symbol",
                "entropy_bits", "cross_entropy_bits", "kl_bits", "excess_bits",
                "expected_bits_per_symbol", "ci99", "roundtrip_ok", "encode_seconds",
                "decode_seconds"):
        assert key in d


def test_same_seed_same_bits_and_different_seed_different_bits():
    kw = dict(n=50_000, trials=3)
    a = simulate(zipf(50, 1.0), zipf(50, 0.5), "huffman", rng=np.random.default_rng(5), **kw)
    b = simulate(zipf(50, 1.0), zipf(50, 0.5), "huffman", rng=np.random.default_rng(5), **kw)
    c = simulate(zipf(50, 1.0), zipf(50, 0.5), "huffman", rng=np.random.default_rng(6), **kw)
    assert a.trial_bits == b.trial_bits
    assert a.trial_bits != c.trial_bits


def test_trials_are_independent_messages():
    m = simulate(zipf(50, 1.0), zipf(50, 0.5), "shannon", n=10_000, trials=4, rng=np.random.default_rng(1))
    assert len(set(m.trial_bits)) == 4


def test_a_symbol_q_cannot_code_is_a_clear_error():
    with pytest.raises(UnencodableSymbolError, match="H\\(p,q\\) is infinite"):
        simulate([0.5, 0.5], [1.0, 0.0], "huffman", n=100, rng=np.random.default_rng(0))


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(code="lz77"), "code is 'lz77'"),
    (dict(code="huffman", block=3), "block size is only for block-huffman"),
    (dict(code="block-huffman"), "needs a block size"),
    (dict(code="huffman", n=0), "n is 0"),
    (dict(code="huffman", trials=0), "trials is 0"),
])
def test_bad_arguments_are_named(kwargs, fragment):
    args = dict(n=10, rng=np.random.default_rng(0))
    args.update(kwargs)
    with pytest.raises(XentsimError, match=fragment):
        simulate([0.5, 0.5], [0.5, 0.5], **args)


def test_an_rng_is_required_and_must_be_a_generator():
    with pytest.raises(XentsimError, match="numpy Generator"):
        simulate([0.5, 0.5], [0.5, 0.5], "huffman", n=10, rng=1)
