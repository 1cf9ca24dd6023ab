"""An i.i.d. source: every symbol drawn independently from one pmf p."""

from __future__ import annotations

import numpy as np

from .. import measures
from .._validate import check_pmf
from ..distributions import sample, tuple_probabilities


class IIDSource:
    """Symbols drawn independently from ``p`` (alias sampler, one double per symbol)."""

    independent = True

    def __init__(self, p):
        self.p = check_pmf(p, "p")
        self.n_symbols = int(self.p.size)

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        return sample(self.p, n, rng)

    def marginal(self) -> np.ndarray:
        return self.p

    def block_law(self, k: int) -> np.ndarray:
        return tuple_probabilities(self.p, k)

    def entropy_rate_bits(self) -> float:
        return measures.entropy(self.p)

    def __repr__(self) -> str:
        return f"IIDSource(K={self.n_symbols})"
