"""An i.i.d. source: every symbol drawn independently from one pmf p."""

from __future__ import annotations

import copy

import numpy as np

from .. import measures
from .._validate import XentsimError, check_int, check_pmf, check_rng
from ..distributions import sample, symbol_dtype, tuple_probabilities

#: Uniform doubles drawn at once by a stream (one per symbol; a reused buffer).
_DRAW = 1 << 16


class IIDStream:
    """The symbols of :meth:`IIDSource.sample` a chunk at a time (see
    :class:`~simulator.interfaces.SymbolStream`): each symbol takes one ``rng.random()``
    double, in order, through the same alias tables, so any split of the message into
    chunks gives the same symbols as one ``sample`` call on the same generator."""

    def __init__(self, threshold, alias, dtype, rng):
        self._threshold, self._alias, self._dtype = threshold, alias, dtype
        self.rng = rng
        self._buf = None

    def next(self, count: int) -> np.ndarray:
        count = check_int(count, "count", minimum=0)
        out = np.empty(count, dtype=self._dtype)
        if self._buf is None or self._buf.size < min(count, _DRAW):
            self._buf = np.empty(min(max(count, 1), _DRAW))
        from .. import _dist_kernels as _K  # numba loads on first use
        for start in range(0, count, _DRAW):
            u = self._buf[: min(_DRAW, count - start)]
            self.rng.random(out=u)
            _K.alias_draw(u, self._threshold, self._alias, out[start : start + u.size])
        return out

    def copy(self) -> "IIDStream":
        return IIDStream(self._threshold, self._alias, self._dtype, copy.deepcopy(self.rng))

    @property
    def seekable(self) -> bool:
        """True when :meth:`skip` can jump: the generator is a PCG64 (or PCG64DXSM),
        whose ``random()`` takes exactly one 64-bit step per double."""
        return isinstance(self.rng.bit_generator, (np.random.PCG64, np.random.PCG64DXSM))

    def skip(self, count: int) -> None:
        """Move past ``count`` symbols without drawing them (``advance(count)``), so the
        next ``next`` gives what it would have given after drawing them."""
        count = check_int(count, "count", minimum=0)
        if not self.seekable:
            raise XentsimError(f"skip needs a PCG64 generator, not "
                               f"{type(self.rng.bit_generator).__name__}")
        self.rng.bit_generator.advance(count)


class IIDSource:
    """Symbols drawn independently from ``p`` (alias sampler, one double per symbol)."""

    independent = True
    order = 0

    def __init__(self, p):
        self.p = check_pmf(p, "p")
        self.n_symbols = int(self.p.size)

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        return sample(self.p, n, rng)

    def stream(self, rng: np.random.Generator) -> IIDStream:
        """The symbols of ``sample(n, rng=rng)`` drawn a chunk at a time (any chunks)."""
        rng = check_rng(rng)
        if getattr(self, "_tables", None) is None:
            from .. import _dist_kernels as _K  # numba loads on first use
            threshold, alias = _K.build_alias(self.p)
            self._tables = (threshold, alias.astype(symbol_dtype(self.n_symbols)))
        threshold, alias = self._tables
        return IIDStream(threshold, alias, symbol_dtype(self.n_symbols), rng)

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
