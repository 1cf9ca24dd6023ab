"""The conditional model: a different distribution at every position."""

from __future__ import annotations

import math

import numpy as np

from .._validate import XentsimError
from ..interfaces import Tables
from .static import check_precision


def rounding_loss_bound_bits(K: int, top_freq, precision: int):
    """The bound on KL(q_i || q^_i), in bits, that ConditionalModel's rule guarantees:

        log2(1 + ((K - 1) + (K - 1)^2 / f_top) 2^-b),

    where f_top is the row's frequency on its most probable symbol (see
    :class:`ConditionalModel`). ``top_freq`` may be an array (one bound per row).
    """
    k1 = float(K - 1)
    return np.log2(1.0 + (k1 + k1 * k1 / np.asarray(top_freq, dtype=np.float64)) / float(1 << precision))


class ConditionalModel:
    """A distribution per position: ``probs[i]`` is the model for symbol i.

    Rows are validated like any pmf and quantised to 2^b = T with a fast vectorised
    rule (not the optimal one of :func:`quantise`): f = max(1, rint(q T)) where q > 0,
    f = 0 where q = 0, and the rounding remainder added to (or taken from) each row's
    most probable symbol a (the first one on a tie).

    Rounding loss, proven per row: every other symbol is off by |f - q T| < 1 unit
    (at most 1/2 unless it was raised to 1), so the top symbol is off by less than
    K - 1 units, and the chi-square divergence obeys
    chi2(q || q^) < ((K - 1) + (K - 1)^2 / f_a) / T. As KL <= log(1 + chi2),

        KL(q_i || q^_i) < log2(1 + ((K - 1) + (K - 1)^2 / f_a) 2^-b)   bits per symbol

    (:func:`rounding_loss_bound_bits`). Since f_a >= T/K - (K - 1), when 2^b >= 2 K^2
    this is below 2 (K - 1) 2^-b / ln 2 = 2.886 (K - 1) 2^-b bits: 1.6e-6 bits for
    K = 10 at the default b = 24. The optimal rounding's loss is >= 0, so the rule
    loses at most this much against it too.
    """

    name = "conditional"

    def __init__(self, probs, precision: int | None = None):
        probs = np.array(probs, dtype=np.float64)
        if probs.ndim != 2 or probs.shape[1] == 0:
            raise XentsimError(f"probs must be an (n, K) array, got shape {probs.shape}")
        if not np.isfinite(probs).all() or (probs < 0).any():
            raise XentsimError("probs must be finite and >= 0")
        sums = probs.sum(axis=1)
        bad = np.abs(sums - 1) > 1e-9
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise XentsimError(f"probs[{i}] sums to {sums[i]:.12g}, not 1")
        self.precision = check_precision(precision)
        self.total = T = 1 << self.precision
        n, K = probs.shape
        if K > T:
            raise XentsimError(f"precision {self.precision} is too low for K = {K} symbols")
        f = np.where(probs > 0, np.maximum(1, np.rint(probs * T)), 0).astype(np.int64)
        top = np.argmax(probs, axis=1)
        f[np.arange(n), top] += T - f.sum(axis=1)
        if (f[np.arange(n), top] < 1).any():
            i = int(np.flatnonzero(f[np.arange(n), top] < 1)[0])
            raise XentsimError(f"probs[{i}] has too many tiny probabilities for precision {self.precision}")
        self.freqs = f
        cum = np.zeros((n, K + 1), dtype=np.uint64)
        np.cumsum(f, axis=1, out=cum[:, 1:])
        cum.setflags(write=False)
        self.cum = cum
        self.n_positions, self.n_symbols = n, K
        self._tables = Tables(cum=cum, row="position", precision=self.precision)

    def tables(self, n: int) -> Tables:
        """Row t codes position t; only messages of exactly n_positions symbols."""
        if n != self.n_positions:
            raise XentsimError(
                f"the conditional model has {self.n_positions} positions but the message has "
                f"{n} symbols"
            )
        return self._tables

    def ideal_bits(self, symbols) -> float:
        """sum_i -log2 q^_i(x_i) in bits."""
        fx = self.freqs[np.arange(len(symbols)), np.asarray(symbols)]
        if (fx == 0).any():
            return math.inf
        return float((self.precision - np.log2(fx)).sum())

    def length_moments(self, symbols) -> tuple[int, float, float]:
        """(n, sum of -log2 q^_i(x_i), sum of their squares) of a message."""
        bits = self.symbol_bits(symbols)
        return int(bits.size), float(bits.sum()), float(bits @ bits)

    def symbol_bits(self, symbols) -> np.ndarray:
        """-log2 q^_i(x_i) for each position i."""
        with np.errstate(divide="ignore"):
            return self.precision - np.log2(self.freqs[np.arange(len(symbols)), np.asarray(symbols)])

    fixed_symbol_bits = None  # a different q^ at every position

    def __repr__(self) -> str:
        return f"ConditionalModel(n={self.n_positions}, K={self.n_symbols}, precision={self.precision})"
