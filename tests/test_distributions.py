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


def test_dyadic_works_up_to_the_smallest_positive_double_and_refuses_beyond():
    p = D.dyadic(D.MAX_DYADIC_SYMBOLS).probs
    assert (p > 0).all() and p[-1] == 2.0**-1074 and p.sum() == 1.0
    with pytest.raises(XentsimError, match=r"dyadic\(2000\).*largest K that works is 1075"):
        D.dyadic(2000)
    with pytest.raises(XentsimError, match="1075"):
        D.dyadic(1076)


@pytest.mark.parametrize("make, fragment", [
    (lambda: D.zipf(1000, 200.0), r"zipf\(1000, 200.0\): p\(41\) underflows"),
    (lambda: D.geometric(5000, 1e-3), r"geometric\(5000, 0.001\): p\(108\) underflows"),
])
def test_families_refuse_probabilities_that_underflow_to_zero(make, fragment):
    # 41^-200 = 1.6e-323 is the last positive Zipf weight; 0.001^108 = 1e-324 is not.
    with pytest.raises(XentsimError, match=fragment):
        make()


def test_families_never_return_a_zero_where_the_probability_is_positive():
    for pmf in (D.zipf(41, 200.0), D.geometric(108, 1e-3), D.dyadic(1075)):
        assert (pmf.probs > 0).all()


def test_a_family_too_large_for_memory_is_refused_before_allocating(monkeypatch):
    monkeypatch.setenv("XENTSIM_MEMORY_LIMIT", "1M")
    with pytest.raises(XentsimError, match=r"uniform\(100000\) with K = 100000 symbols needs "
                                           r"about 3.81 MiB, above the memory limit of 1 MiB"):
        D.uniform(100_000)
    with pytest.raises(XentsimError, match="sampling n = 10000000 symbols"):
        D.sample([0.5, 0.5], 10_000_000, np.random.default_rng(0))
    assert D.uniform(1000).n_symbols == 1000  # 40 kB fits


def test_a_bad_memory_limit_is_named(monkeypatch):
    monkeypatch.setenv("XENTSIM_MEMORY_LIMIT", "lots")
    with pytest.raises(XentsimError, match="XENTSIM_MEMORY_LIMIT is 'lots'"):
        D.uniform(10)
