"""An i.i.d. source: every symbol drawn independently from one pmf p."""

from __future__ import annotations

import numpy as np

from .. import measures
from .._validate import check_pmf
from ..distributions import sample, tuple_probabilities


class IIDSource:
    """Symbols drawn independently from ``p`` (alias sampler, one double per symbol)."""

    independent = True
    order = 0

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

    def cross_entropy_rate_bits(self, Q) -> float:
        """H(p, q) for a pmf q; for an order-m model Q, E[-log2 Q(X_t | context)]."""
        if np.ndim(Q) == 1:
            return measures.cross_entropy(self.p, Q)
        return measures.cross_entropy_rate(self.p, Q)

    def kl_rate_bits(self, Q) -> float:
        """KL(p || q) for a pmf q; for an order-m model Q, the KL rate."""
        if np.ndim(Q) == 1:
            return measures.kl_divergence(self.p, Q)
        return measures.kl_rate(self.p, Q)

    def __repr__(self) -> str:
        return f"IIDSource(K={self.n_symbols})"
