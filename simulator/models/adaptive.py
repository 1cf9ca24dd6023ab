"""The adaptive models: counts updated after each symbol (Laplace or KT)."""

from __future__ import annotations

import math

import numpy as np

from .._validate import XentsimError, check_int
from ..distributions import earlier_occurrences, symbol_counts
from ..interfaces import Tables


class AdaptiveModel:
    """Sequential counts: the probability of x after i symbols is (c_x + a) / (i + K a).

    ``estimator="laplace"`` uses a = 1, ``"kt"`` (Krichevsky-Trofimov) a = 1/2 (as
    integer frequencies 2 c_x + 1 over 2 i + K). Only K is known in advance. As
    tables: every frequency starts at 1 (total K) and the coded symbol's frequency
    grows by ``increment`` (1 for Laplace, 2 for KT) after each symbol.
    """

    def __init__(self, n_symbols: int, estimator: str = "kt"):
        self.n_symbols = check_int(n_symbols, "n_symbols", minimum=1, maximum=1 << 24)
        if estimator not in ("laplace", "kt"):
            raise XentsimError(f"estimator is {estimator!r}; choose 'laplace' or 'kt'")
        self.estimator = estimator
        self.name = estimator
        self.increment = 1 if estimator == "laplace" else 2
        cum = np.arange(self.n_symbols + 1, dtype=np.uint64).reshape(1, -1)
        cum.setflags(write=False)
        self._tables = Tables(cum=cum, row="const", increment=self.increment)

    def tables(self, n: int) -> Tables:
        """One row of ones (total K), adaptive with this model's increment."""
        return self._tables

    def ideal_bits(self, symbols) -> float:
        """sum_i -log2 P(x_i | x_1..x_{i-1}) in closed form (a ratio of Gamma functions)."""
        x = np.asarray(symbols)
        n, K = x.size, self.n_symbols
        a = 1.0 if self.estimator == "laplace" else 0.5
        counts = symbol_counts(x, K).astype(np.float64)
        lg = math.lgamma
        log_p = (lg(K * a) - lg(n + K * a)
                 + sum(lg(c + a) - lg(a) for c in counts[counts > 0]))
        return -log_p / math.log(2)

    def symbol_bits(self, symbols) -> np.ndarray:
        """-log2 P(x_i | past) for each position (vectorised running counts)."""
        x = np.asarray(symbols).astype(np.int64)
        n, K = x.size, self.n_symbols
        before = earlier_occurrences(x)
        inc = self.increment
        num = inc * before + 1
        den = inc * np.arange(n) + K
        return np.log2(den) - np.log2(num)

    def length_moments(self, symbols) -> tuple[int, float, float]:
        """(n, sum of -log2 P(x_i | past), sum of their squares) of a message."""
        bits = self.symbol_bits(symbols)
        return int(bits.size), float(bits.sum()), float(bits @ bits)

    fixed_symbol_bits = None  # q^ changes with the counts

    def __repr__(self) -> str:
        return f"AdaptiveModel(K={self.n_symbols}, estimator={self.estimator!r})"
