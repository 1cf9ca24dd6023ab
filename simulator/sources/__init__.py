"""Sources: where the symbols come from (the true distribution p, or process)."""

import math

import numpy as np

from .. import measures
from ..interfaces import Source
from .iid import IIDSource
from .markov import MarkovSource

__all__ = ["IIDSource", "MarkovSource", "as_source", "model_rates", "order_of_source"]


def as_source(p) -> Source:
    """``p`` itself if it is a :class:`~simulator.interfaces.Source`; the
    :class:`MarkovSource` of a 2-D (K^m, K) transition matrix; else the i.i.d. source of
    the pmf ``p`` (validated; see ``check_pmf``)."""
    if isinstance(p, Source) and not isinstance(p, (list, tuple)):
        return p
    if not hasattr(p, "probs"):
        try:
            two_d = np.ndim(p) == 2
        except ValueError:  # ragged nested lists: let the pmf check name the problem
            two_d = False
        if two_d:
            return MarkovSource(p, name="p")
    return IIDSource(p)


def order_of_source(source) -> int | None:
    """The memory of a source: 0 for an independent one, m for an order-m
    :class:`MarkovSource`, None for another source with memory."""
    if source.independent:
        return 0
    order = getattr(source, "order", None)
    return None if order is None else int(order)


def model_rates(source, q, q_order: int, *, decompose: bool = True) -> dict:
    """The rates of a model q (a pmf, or a (K^m, K) matrix of order ``q_order``) on a
    stationary source, in bits per symbol:

    - ``entropy_rate_bits`` H(mu), ``cross_entropy_rate_bits`` H(mu, q),
      ``kl_rate_bits``: from the source itself when it offers
      ``cross_entropy_rate_bits(q)`` and ``kl_rate_bits(q)`` (the i.i.d. and Markov
      sources, KL summed term by term); for any other source the cross-entropy rate
      comes from its (q_order + 1)-block law and the KL rate is the difference;
    - for an order-0 q on a source with memory (and ``decompose``), the decomposition
      H(pi, q) = H(mu) + [H(pi) - H(mu)] + KL(pi || q): ``marginal_entropy_bits``
      H(pi), ``memory_bits`` H(pi) - H(mu) and ``marginal_kl_bits`` KL(pi || q).
    """
    h = float(source.entropy_rate_bits())
    own = getattr(source, "cross_entropy_rate_bits", None)
    if own is not None:
        cross, kl = float(own(q)), float(source.kl_rate_bits(q))
    else:
        cross = measures.block_cross_entropy(source.block_law(q_order + 1), q)
        kl = max(cross - h, 0.0) if math.isfinite(cross) else math.inf
    out = dict(entropy_rate_bits=h, cross_entropy_rate_bits=cross, kl_rate_bits=kl)
    if decompose and q_order == 0 and not source.independent:
        pi = source.marginal()
        h_pi = measures.entropy(pi)
        out.update(marginal_entropy_bits=h_pi, memory_bits=h_pi - h,
                   marginal_kl_bits=measures.kl_divergence(pi, q))
    return out
