"""Sources: the i.i.d. source and the pmf-or-Source boundary."""

import math

import numpy as np
import pytest

from simulator.errors import XentsimError
from simulator.interfaces import Source
from simulator.measures import entropy
from simulator.sources import IIDSource, as_source


def test_a_pmf_becomes_an_iid_source_and_a_source_is_kept():
    s = as_source([0.25, 0.75])
    assert isinstance(s, IIDSource) and isinstance(s, Source) and s.independent
    assert as_source(s) is s
    assert as_source(np.array([0.5, 0.5])).n_symbols == 2


def test_a_bad_pmf_is_refused_by_name():
    with pytest.raises(XentsimError, match="p sums to 0.9"):
        as_source([0.5, 0.4])


def test_the_iid_source_laws_are_exact_products():
    s = IIDSource([0.5, 0.25, 0.25])
    law = s.block_law(2)
    assert law.tolist() == [a * b for a in (0.5, 0.25, 0.25) for b in (0.5, 0.25, 0.25)]
    assert s.marginal().tolist() == [0.5, 0.25, 0.25]
    assert s.entropy_rate_bits() == entropy([0.5, 0.25, 0.25]) == 1.5


def test_the_iid_source_draws_from_its_pmf_within_a_999_interval():
    s = IIDSource([0.9, 0.1])
    x = s.sample(100_000, rng=np.random.default_rng(2))
    # Binomial(10^5, 0.1): sd 94.9; 3.29 sd is the two-sided 99.9% normal point.
    assert abs(int((x == 1).sum()) - 10_000) <= 3.29 * math.sqrt(100_000 * 0.09)
