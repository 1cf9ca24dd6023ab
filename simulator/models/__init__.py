"""Probability models for the arithmetic coder: static, conditional and adaptive.

A model turns "what the coder believes" into integer frequencies. The coder never owns
a model; it is handed one for every message (``encode(symbols, model)``).

- :class:`StaticModel`: q quantised once to frequencies that total 2^b.
- :class:`ConditionalModel`: a different distribution at every position (an (n, K)
  array), e.g. a classifier's predicted probabilities for each example.
- :class:`AdaptiveModel`: counts updated after each symbol, Laplace (add 1) or
  Krichevsky-Trofimov (add 1/2); it learns q from the data and knows only K.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import XentsimError, check_int, check_pmf
from ..distributions import symbol_counts

#: Default frequency precision b (frequencies total 2^b). With the coder's 64-bit range
#: kept at >= 2^56, b = 24 costs at most 1.443 * 2^(24-56) ~ 3e-10 bits per symbol in
#: truncation, while the quantisation gap |H(p, q^) - H(p, q)| shrinks by 2^8 against
#: b = 16 (typically from 1e-5..1e-4 to below 1e-6 bits per symbol).
DEFAULT_PRECISION = 24
MIN_PRECISION, MAX_PRECISION = 8, 32


def _check_precision(precision) -> int:
    if precision is None:
        return DEFAULT_PRECISION
    return check_int(precision, "precision", minimum=MIN_PRECISION, maximum=MAX_PRECISION)


def quantise(q, precision: int = DEFAULT_PRECISION) -> np.ndarray:
    """Integer frequencies f (sum 2^b, f >= 1 where q > 0, f = 0 where q = 0) that
    minimise the coding loss KL(q || f / 2^b), i.e. maximise sum_x q(x) log f(x).

    The objective is separable and concave in f, so the optimum takes the 2^b - m
    largest marginal gains q(x) log((f+1)/f) over all symbols (m = |supp q|). A
    threshold lambda found by bisection gives f(x) = max(1, ceil(1/expm1(lambda/q(x))));
    the few units left over go to the largest next gains, and a final exchange pass
    (move one unit while some gain exceeds some loss) certifies local, hence global,
    optimality.

    Examples
    --------
    >>> quantise([0.5, 0.3, 0.2], precision=8).tolist()
    [128, 77, 51]
    >>> quantise([1 - 1e-12, 1e-12], precision=8).tolist()  # every q > 0 gets f >= 1
    [255, 1]
    """
    q = check_pmf(q, "q")
    b = _check_precision(precision)
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
        def total(lam):
            with np.errstate(over="ignore", divide="ignore"):
                x = 1.0 / np.expm1(lam / qs)
            return np.maximum(1, np.ceil(np.minimum(x, 2.0 * T))).astype(np.int64)

        lo, hi = 0.0, float(qs.max()) * math.log(2.0)  # at hi every f is 1
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            if total(mid).sum() > T:
                lo = mid
            else:
                hi = mid
        f = total(hi)
        left = T - int(f.sum())
        if left > 0:
            gain = qs * np.log1p(1.0 / f)
            top = np.argsort(-gain, kind="stable")[:left]
            f[top] += 1
        # exchange pass: certify optimality (and repair any bisection rounding)
        for _ in range(10 * m + 10):
            gain = qs * np.log1p(1.0 / f)
            loss = np.where(f > 1, -qs * np.log1p(-1.0 / np.maximum(f, 2)), np.inf)
            i, j = int(np.argmax(gain)), int(np.argmin(loss))
            if not gain[i] > loss[j] * (1 + 1e-12) or i == j:
                break
            f[i] += 1
            f[j] -= 1
        assert f.sum() == T and (f >= 1).all()
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

    kind = "static"

    def __init__(self, q, precision: int | None = None):
        self.q = check_pmf(q, "q")
        self.precision = _check_precision(precision)
        self.total = 1 << self.precision
        self.freqs = quantise(self.q, self.precision)
        self.freqs.setflags(write=False)
        with np.errstate(divide="ignore"):
            #: -log2 q^(x) in bits for each symbol (inf where q(x) = 0)
            self.neglog = self.precision - np.log2(self.freqs.astype(np.float64))
        self.neglog.setflags(write=False)
        cum = np.zeros(self.q.size + 1, dtype=np.uint64)
        np.cumsum(self.freqs, out=cum[1:])
        self.cum = cum
        self.n_symbols = self.q.size
        g = min(self.precision, 16)
        starts = np.arange(1 << g, dtype=np.uint64) << np.uint64(self.precision - g)
        self._guide_shift = self.precision - g
        self._guide = (np.searchsorted(cum, starts, side="right") - 1).astype(np.int64)

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
        counts = symbol_counts(symbols, self.n_symbols)
        bits = self.neglog
        on = counts > 0
        return int(counts.sum()), float(counts[on] @ bits[on]), float(counts[on] @ bits[on] ** 2)

    def __repr__(self) -> str:
        return f"StaticModel(K={self.n_symbols}, precision={self.precision})"


class ConditionalModel:
    """A distribution per position: ``probs[i]`` is the model for symbol i.

    Rows are validated like any pmf and quantised to 2^b with a fast vectorised rule:
    f = max(1, round(q 2^b)) where q > 0, the rounding remainder added to (or taken
    from) each row's most probable symbol. Its loss against the optimal rounding is
    below K 2^-b relative on that symbol, negligible at the default b = 24.
    """

    kind = "conditional"

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
        self.precision = _check_precision(precision)
        self.total = T = 1 << self.precision
        n, K = probs.shape
        if K > T:
            raise XentsimError(f"precision {self.precision} is too low for K = {K} symbols")
        f = np.where(probs > 0, np.maximum(1, np.rint(probs * T)), 0).astype(np.int64)
        top = np.argmax(probs, axis=1)
        f[np.arange(n), top] += T - f.sum(axis=1)
        if (f[np.arange(n), top] < 1).any():
            raise XentsimError("a row has too many tiny probabilities for this precision")
        self.freqs = f
        cum = np.zeros((n, K + 1), dtype=np.uint64)
        np.cumsum(f, axis=1, out=cum[:, 1:])
        self.cum = cum
        self.n_positions, self.n_symbols = n, K

    def ideal_bits(self, symbols) -> float:
        """sum_i -log2 q^_i(x_i) in bits."""
        fx = self.freqs[np.arange(len(symbols)), np.asarray(symbols)]
        if (fx == 0).any():
            return math.inf
        return float((self.precision - np.log2(fx)).sum())

    def length_moments(self, symbols) -> tuple[int, float, float]:
        bits = self.symbol_bits(symbols)
        return int(bits.size), float(bits.sum()), float(bits @ bits)

    def symbol_bits(self, symbols) -> np.ndarray:
        """-log2 q^_i(x_i) for each position i."""
        with np.errstate(divide="ignore"):
            return self.precision - np.log2(self.freqs[np.arange(len(symbols)), np.asarray(symbols)])

    fixed_symbol_bits = None  # a different q^ at every position

    def __repr__(self) -> str:
        return f"ConditionalModel(n={self.n_positions}, K={self.n_symbols}, precision={self.precision})"


class AdaptiveModel:
    """Sequential counts: the probability of x after i symbols is (c_x + a) / (i + K a).

    ``estimator="laplace"`` uses a = 1, ``"kt"`` (Krichevsky-Trofimov) a = 1/2 (as
    integer frequencies 2 c_x + 1 over 2 i + K). Only K is known in advance.
    """

    kind = "adaptive"

    def __init__(self, n_symbols: int, estimator: str = "kt"):
        self.n_symbols = check_int(n_symbols, "n_symbols", minimum=1, maximum=1 << 24)
        if estimator not in ("laplace", "kt"):
            raise XentsimError(f"estimator is {estimator!r}; choose 'laplace' or 'kt'")
        self.estimator = estimator
        self.increment = 1 if estimator == "laplace" else 2

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
        order = np.argsort(x, kind="stable")
        sorted_x = x[order]
        starts = np.searchsorted(sorted_x, sorted_x, side="left")
        before = np.empty(n, dtype=np.int64)
        before[order] = np.arange(n) - starts  # earlier occurrences of the same symbol
        inc = self.increment
        num = inc * before + 1
        den = inc * np.arange(n) + K
        return np.log2(den) - np.log2(num)

    def length_moments(self, symbols) -> tuple[int, float, float]:
        bits = self.symbol_bits(symbols)
        return int(bits.size), float(bits.sum()), float(bits @ bits)

    fixed_symbol_bits = None  # q^ changes with the counts

    def __repr__(self) -> str:
        return f"AdaptiveModel(K={self.n_symbols}, estimator={self.estimator!r})"
