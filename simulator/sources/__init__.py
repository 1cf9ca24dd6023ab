"""Sources: where the symbols come from (the true distribution p, or process)."""

import numpy as np

from ..interfaces import Source
from .iid import IIDSource
from .markov import MarkovSource

__all__ = ["IIDSource", "MarkovSource", "as_source"]


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
