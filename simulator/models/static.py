"""The static model (q quantised once) and the optimal quantisation rule it uses."""

from __future__ import annotations

import math

import numpy as np

from .._validate import XentsimError, check_int, check_pmf
from ..distributions import symbol_counts
from ..interfaces import Tables

#: Default frequency precision b (frequencies total 2^b). With the coder's 64-bit range
#: kept at >= 2^56, b = 24 costs at most 1.443 * 2^(24-56) ~ 3e-10 bits per symbol in
#: truncation, while the quantisation gap |H(p, q^) - H(p, q)| shrinks by 2^8 against
#: b = 16 (typically from 1e-5..1e-4 to below 1e-6 bits per symbol).
DEFAULT_PRECISION = 24
MIN_PRECISION, MAX_PRECISION = 8, 32


def check_precision(precision) -> int:
    """b as an int in [8, 32]; None means DEFAULT_PRECISION."""
    if precision is None:
        return DEFAULT_PRECISION
    return check_int(precision, "precision", minimum=MIN_PRECISION, maximum=MAX_PRECISION)


def _unit_gain(qs: np.ndarray, f: np.ndarray) -> np.ndarray:
    """q log(1 + 1/f): what one more unit on a symbol adds to sum q log f (nats).

    The loss of taking a unit away from f is the gain at f - 1, computed by this same
    expression, so exact ties (equal q) compare equal in floating point.
    """
    return qs * np.log1p(1.0 / f)


def quantise(q, precision: int = DEFAULT_PRECISION) -> np.ndarray:
    """Integer frequencies f (sum 2^b, f >= 1 where q > 0, f = 0 where q = 0) that
    minimise the coding loss KL(q || f / 2^b), i.e. maximise sum_x q(x) log f(x).

    The objective is separable and concave in f, so the optimum takes the 2^b - m
    largest marginal gains g(x, f) = q(x) log(1 + 1/f) over all symbols (m = |supp q|,
    every symbol starting at f = 1). A threshold lambda found by bisection gives
    f(x) = max(1, ceil(1/expm1(lambda/q(x)))) with sum at most 2^b; the units left over
    go to the largest next gains; an exchange pass then moves single units from the
    symbol that loses least to the one that gains most while that strictly raises the
    objective. It stops at the optimality certificate: no unit move raises
    sum q log f (gains and losses compared in floating point, the loss at f being the
    gain at f - 1), which for a separable concave objective means a global optimum.

    Examples
    --------
    >>> quantise([0.5, 0.3, 0.2], precision=8).tolist()
    [128, 77, 51]
    >>> quantise([1 - 1e-12, 1e-12], precision=8).tolist()  # every q > 0 gets f >= 1
    [255, 1]
    >>> int(quantise(np.full(139, 1 / 139), precision=8).max())  # 117 symbols get 2
    2
    """
    q = check_pmf(q, "q")
    b = check_precision(precision)
    T = 1 << b
    on = q > 0
    m = int(on.sum())
    if m > T:
        raise XentsimError(
            f"precision {b} gives 2^{b} = {T} frequency units, fewer than the {m} symbols "
            "with q > 0: raise the precision"
        )
    qs = q[on]
    f = np.ones(m, dtype=np.int64)
    if m < T:
        def alloc(lam):
            with np.errstate(over="ignore", divide="ignore"):
                x = 1.0 / np.expm1(lam / qs)
            return np.maximum(1, np.ceil(np.minimum(x, 2.0 * T))).astype(np.int64)

        # At lam = max q every lam / q >= 1, so 1/expm1 < 0.6 and every f is 1 (sum m
        # <= T); at lam = 0 every f is 2T (sum > T). Keep sum(alloc(hi)) <= T.
        lo, hi = 0.0, float(qs.max())
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            if alloc(mid).sum() > T:
                lo = mid
            else:
                hi = mid
        f = alloc(hi)
        if f.sum() > T:  # cannot happen (see above); refuse rather than guess
            raise XentsimError(f"quantise: the bracket gave {int(f.sum())} > {T} units (internal error)")
        left = T - int(f.sum())
        while left > 0:  # one unit each to the largest next gains
            top = np.argsort(-_unit_gain(qs, f), kind="stable")[:left]
            f[top] += 1
            left -= top.size
        # exchange pass: stop at the certificate max gain <= min loss
        for _ in range(10 * m + 100):
            gain = _unit_gain(qs, f)
            loss = np.where(f > 1, _unit_gain(qs, np.maximum(f - 1, 1)), np.inf)
            i, j = int(np.argmax(gain)), int(np.argmin(loss))
            if not gain[i] > loss[j]:
                break
            f[i] += 1
            f[j] -= 1
        else:
            raise XentsimError("quantise: the exchange pass did not settle (internal error)")
    if int(f.sum()) != T or (f < 1).any():
        raise XentsimError(f"quantise: frequencies sum to {int(f.sum())}, not {T} (internal error)")
    out = np.zeros(q.size, dtype=np.int64)
    out[on] = f
    return out


class StaticModel:
    """q quantised once: q^(x) = f(x) / 2^b, the same at every position.

    Parameters
    ----------
    q : array_like
        The assumed distribution. Symbols with q(x) = 0 get f(x) = 0 and cannot be
        encoded: for such an x, H(p,q) is infinite.
    precision : int
        b, with 8 <= b <= 32 (default 24).
    """

    name = "static"

    def __init__(self, q, precision: int | None = None):
        self.q = check_pmf(q, "q")
        self.precision = check_precision(precision)
        self.total = 1 << self.precision
        self.freqs = quantise(self.q, self.precision)
        self.freqs.setflags(write=False)
        with np.errstate(divide="ignore"):
            #: -log2 q^(x) in bits for each symbol (inf where q(x) = 0)
            self.neglog = self.precision - np.log2(self.freqs.astype(np.float64))
        self.neglog.setflags(write=False)
        cum = np.zeros(self.q.size + 1, dtype=np.uint64)
        np.cumsum(self.freqs, out=cum[1:])
        cum.setflags(write=False)
        #: cumulative frequencies, K + 1 entries from 0 to 2^b
        self.cum = cum
        self.n_symbols = self.q.size
        self._tables = Tables(cum=cum.reshape(1, -1), row="const", precision=self.precision)

    def tables(self, n: int) -> Tables:
        """One row, the same at every position, total 2^b (the same object every call)."""
        return self._tables

    @property
    def probs(self) -> np.ndarray:
        """q^ = f / 2^b, the distribution the coder really uses."""
        return self.freqs / self.total

    def cross_entropy(self, p) -> float:
        """H(p, q^) = -sum p log2 q^ in bits: what the coder's bits per symbol converge to."""
        p = check_pmf(p, "p")
        if p.size != self.n_symbols:
            raise XentsimError(f"p has {p.size} symbols but the model has {self.n_symbols}")
        on = p > 0
        if (self.freqs[on] == 0).any():
            return math.inf
        return float(-(p[on] * np.log2(self.freqs[on] / self.total)).sum())

    def ideal_bits(self, symbols) -> float:
        """sum_i -log2 q^(x_i): the ideal code length of this message under q^."""
        counts = symbol_counts(symbols, self.n_symbols)
        if (counts[self.freqs == 0] > 0).any():
            return math.inf
        on = counts > 0
        return float(counts[on] @ self.neglog[on])

    def symbol_bits(self, symbols) -> np.ndarray:
        """-log2 q^(x_i) for each symbol of a message."""
        return self.neglog[np.asarray(symbols)]

    @property
    def fixed_symbol_bits(self) -> np.ndarray:
        """-log2 q^(x) per symbol x: the same at every position for a static model."""
        return self.neglog

    def length_moments(self, symbols) -> tuple[int, float, float]:
        """(n, sum of -log2 q^(x_i), sum of their squares) of a message."""
        counts = symbol_counts(symbols, self.n_symbols)
        bits = self.neglog
        on = counts > 0
        return int(counts.sum()), float(counts[on] @ bits[on]), float(counts[on] @ bits[on] ** 2)

    def __repr__(self) -> str:
        return f"StaticModel(K={self.n_symbols}, precision={self.precision})"
