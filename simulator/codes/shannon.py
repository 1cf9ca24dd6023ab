"""The Shannon code built from q: lengths l(x) = ceil(-log2 q(x)), computed exactly."""

from __future__ import annotations

import numpy as np

from .._validate import check_pmf
from .prefix import PrefixCode


def shannon_lengths(q) -> np.ndarray:
    """ceil(-log2 q(x)) for q(x) > 0 (0 where q(x) = 0), with no rounding error.

    Write q = m 2^e with m in [1/2, 1) (``frexp``). Then -log2 q = 1 - e - log2(2m),
    and 0 <= log2(2m) < 1 with equality only at m = 1/2, so the ceiling is 1 - e in
    every case: an exact power of two gets its exact integer length.
    """
    q = check_pmf(q, "q")
    _, e = np.frexp(q)
    return np.where(q > 0, 1 - e.astype(np.int64), 0)


class ShannonCode(PrefixCode):
    """The Shannon code for ``q``: H(p,q) <= E_p[l] < H(p,q) + 1 whenever supp p is
    within supp q.

    Examples
    --------
    >>> ShannonCode([0.5, 0.25, 0.125, 0.125]).lengths.tolist()
    [1, 2, 3, 3]
    >>> int(ShannonCode([2.0**-29, 1 - 2.0**-29]).lengths[0])
    29
    """

    def __init__(self, q):
        q = check_pmf(q, "q")
        super().__init__(shannon_lengths(q), q > 0, name="shannon")
