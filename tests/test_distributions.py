"""Validated pmfs, families, and the sampler."""

import numpy as np
import pytest

from simulator import distributions as D
from simulator._validate import XentsimError


def test_families_are_valid_pmfs_with_the_stated_shape():
    assert np.allclose(D.uniform(4).probs, 0.25)
    assert D.dyadic(4).probs.tolist() == [0.5, 0.25, 0.125, 0.125]
    z = D.zipf(256, 1.1).probs
    assert z[0] / z[1] == pytest.approx(2**1.1)
    g = D.geometric(5, 0.5).probs
    assert g[1] / g[0] == pytest.approx(0.5)
    assert D.bernoulli(0.9).probs.tolist() == pytest.approx([0.1, 0.9])
    d = D.dirichlet(10, 0.5, np.random.default_rng(0))
    assert d.n_symbols == 10 and abs(d.probs.sum() - 1) < 1e-12
    m = D.mix_uniform([1.0, 0.0], 0.1).probs
    assert m.tolist() == pytest.approx([0.95, 0.05])
    assert D.from_counts([3, 1]).probs.tolist() == [0.75, 0.25]


def test_pmf_rejects_instead_of_renormalising_unless_asked():
    with pytest.raises(XentsimError, match="q sums to 0.97, not 1"):
        D.Pmf([0.5, 0.47], "q")
    assert D.Pmf([0.5, 0.47], "q", normalize=True).probs.sum() == pytest.approx(1.0)


def test_pmf_is_read_only():
    p = D.Pmf([0.5, 0.5])
    with pytest.raises(ValueError):
        p.probs[0] = 1.0


@pytest.mark.parametrize("K", [1, 2, 3, 256, 1 << 20])
def test_large_and_tiny_alphabets_are_supported(K):
    p = D.zipf(K, 1.0)
    x = D.sample(p, 1000, np.random.default_rng(0))
    assert x.dtype == D.symbol_dtype(K) and x.max() < K


def test_sampler_frequencies_match_p_within_a_999_interval():
    # Each count is Binomial(n, p_i). With z = 4.42 (two-sided normal tail 1e-5) one
    # symbol falls outside |f_i - p_i| <= z sqrt(p_i (1 - p_i) / n) with probability
    # 1e-5; by Bonferroni all 256 stay inside with probability >= 99.7%.
    p = D.zipf(256, 1.1).probs
    n = 1_000_000
    x = D.sample(p, n, np.random.default_rng(7))
    f = np.bincount(x, minlength=256) / n
    assert np.all(np.abs(f - p) <= 4.42 * np.sqrt(p * (1 - p) / n))


def test_zero_probability_symbols_are_never_drawn():
    p = np.array([0.0, 0.5, 0.0, 0.5, 0.0])
    x = D.sample(p, 100_000, np.random.default_rng(1))
    assert set(np.unique(x).tolist()) == {1, 3}


def test_same_seed_gives_same_symbols():
    p = D.zipf(100, 1.0)
    a = D.sample(p, 200_000, np.random.default_rng(42))
    b = D.sample(p, 200_000, np.random.default_rng(42))
    assert np.array_equal(a, b)


def test_sampling_requires_an_explicit_generator():
    with pytest.raises(XentsimError, match="numpy Generator"):
        D.sample([0.5, 0.5], 10, 42)
