"""A stationary Markov source of order m: each symbol drawn from the row of its context.

The chain is a (K^m, K) row-stochastic matrix P (see :mod:`simulator.measures`, section
"chains", for the row order). The first m symbols are drawn together from the
stationary law of the contexts, so the whole message is stationary: every position has
the marginal law and every window of k symbols the law ``block_law(k)``.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import measures
from .._validate import check_int, check_rng
from ..distributions import symbol_dtype

#: Uniform doubles drawn per chunk (one per symbol), as the i.i.d. sampler does.
_CHUNK = 1 << 16


class MarkovSource:
    """Symbols from a stationary order-m chain with transition matrix ``P``.

    Parameters
    ----------
    P : array_like, shape (K^m, K)
        Row c is the law of the next symbol after context c (the previous m symbols as
        a base-K number, oldest most significant). Rows must sum to 1 (or pass
        ``normalize=True``). The chain must have a unique stationary law and be
        aperiodic; otherwise a clear error says why.

    Examples
    --------
    >>> src = MarkovSource([[0.9, 0.1], [0.2, 0.8]])
    >>> round(src.entropy_rate_bits(), 6), src.marginal().round(6).tolist()
    (0.553306, [0.666667, 0.333333])
    """

    independent = False

    def __init__(self, P, *, normalize: bool = False, name: str = "P"):
        self.P, self.order = measures.check_chain(P, name, normalize=normalize)
        self.n_contexts, self.n_symbols = self.P.shape
        self.pi = measures.stationary_distribution(self.P, name)
        from .. import _dist_kernels as _DK  # numba loads on first use
        K = self.n_symbols
        self._threshold = np.empty((self.n_contexts, K))
        self._alias = np.empty((self.n_contexts, K), dtype=np.int64)
        for c in range(self.n_contexts):  # once per context, not per symbol
            self._threshold[c], self._alias[c] = _DK.build_alias(self.P[c])
        self._pi_cum = np.cumsum(self.pi)
        self._threshold = self._threshold.reshape(-1)

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """n symbols of the stationary chain (the first m from the context law)."""
        n = check_int(n, "n", minimum=0)
        return self.stream(check_rng(rng)).next(n)

    def stream(self, rng: np.random.Generator) -> "MarkovStream":
        """The symbols of ``sample(n, rng=rng)`` drawn a chunk at a time (any chunks)."""
        return MarkovStream(self, check_rng(rng))

    def marginal(self) -> np.ndarray:
        return measures.chain_block_law(self.P, 1, pi=self.pi)

    def block_law(self, k: int) -> np.ndarray:
        return measures.chain_block_law(self.P, k, pi=self.pi)

    def entropy_rate_bits(self) -> float:
        """H(mu) = sum_c pi(c) H(P[c, .]), bits per symbol."""
        return measures.entropy_rate(self.P, pi=self.pi)

    def cross_entropy_rate_bits(self, Q) -> float:
        """H(mu, Q) per symbol for a model Q of any order (a 1-D pmf is order 0)."""
        return measures.cross_entropy_rate(self.P, Q, pi=self.pi)

    def kl_rate_bits(self, Q) -> float:
        """The KL rate of the model Q from this chain, per symbol, summed term by term."""
        return measures.kl_rate(self.P, Q, pi=self.pi)

    def __repr__(self) -> str:
        return f"MarkovSource(K={self.n_symbols}, order={self.order})"


class MarkovStream:
    """The symbols of :meth:`MarkovSource.sample` a chunk at a time (see
    :class:`~simulator.interfaces.SymbolStream`).

    The first call draws one double u0 for the initial context (its m digits are the
    first m symbols); every later symbol takes one double and the chain's state is
    carried from chunk to chunk, so any split gives the symbols of one ``sample`` call.
    """

    def __init__(self, source: MarkovSource, rng: np.random.Generator):
        self._src = source
        self.rng = rng
        self._state = None  # the chain's state (context); None before u0 is drawn
        self._head: list[int] = []  # digits of the initial context not yet handed out
        self._buf = None

    def next(self, count: int) -> np.ndarray:
        count = check_int(count, "count", minimum=0)
        src = self._src
        K, m = src.n_symbols, src.order
        dtype = symbol_dtype(K)
        out = np.empty(count, dtype=dtype)
        if count == 0:
            return out
        if self._state is None:
            u0 = self.rng.random()
            state = int(min(np.searchsorted(src._pi_cum, u0 * src._pi_cum[-1], side="right"),
                            src.n_contexts - 1))
            self._head = [(state // K ** (m - 1 - j)) % K for j in range(m)]
            self._state = state
        head = min(len(self._head), count)
        out[:head] = self._head[:head]
        del self._head[:head]
        if count > head:
            if getattr(src, "_alias_symbols", None) is None:
                src._alias_symbols = src._alias.reshape(-1).astype(dtype)
            alias = src._alias_symbols
            if self._buf is None or self._buf.size < min(count - head, _CHUNK):
                self._buf = np.empty(min(count - head, _CHUNK))
            from .. import _chain_kernels as CK  # numba loads on first use
            state = self._state
            for start in range(head, count, _CHUNK):
                u = self._buf[: min(_CHUNK, count - start)]
                self.rng.random(out=u)
                state = CK.chain_draw(u, src._threshold, alias, K, state,
                                      out[start : start + u.size])
            self._state = int(state)
        return out

    def copy(self) -> "MarkovStream":
        other = MarkovStream(self._src, copy.deepcopy(self.rng))
        other._state, other._head = self._state, list(self._head)
        return other
