"""The Shannon code built from q: lengths l(x) = ceil(-log2 q(x)), computed exactly.

The lengths rule, for every q that ``check_pmf`` accepts:

- l(x) = ceil(-log2 q(x)) for q(x) > 0, with no rounding error; no codeword for q(x) = 0.
- One exception: a symbol with q(x) = 1 gets 1 bit instead of 0 when some other symbol
  has q(y) > 0 (an empty codeword would be a prefix of every other codeword). Such a q
  sums to more than 1, which ``check_pmf`` tolerates by up to 1e-9, e.g. (1.0, 1e-300).
- If the lengths still violate Kraft's inequality (checked exactly), the code is
  refused with an error naming the q values whose codewords do not fit. Since
  2^-l(x) <= q(x), this can only happen when the exact sum of q's values exceeds 1,
  e.g. q = (1/2, 1/2, 1e-17) gives lengths (1, 1, 57).

The guarantee. Every l(x) >= -log2 q(x), and every l(x) < -log2 q(x) + 1 except at a
symbol lengthened by the exception, where l(x) = 1 = -log2 q(x) + 1. Hence, whenever
supp p lies within supp q, H(p,q) <= E_p[l] <= H(p,q) + 1, and E_p[l] < H(p,q) + 1
unless p puts all its mass on the lengthened symbol. When q sums to at most 1
(exactly), neither the exception nor a refusal can occur: the code always exists, its
lengths are exactly ceil(-log2 q) and H(p,q) <= E_p[l] < H(p,q) + 1.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import XentsimError, check_pmf
from .prefix import PrefixCode, kraft_excess_text, kraft_fraction, kraft_overflow


def shannon_lengths(q) -> np.ndarray:
    """ceil(-log2 q(x)) for q(x) > 0 (0 where q(x) = 0), with no rounding error; a q(x)
    of exactly 1 gets 1 bit when another symbol has q(y) > 0 (see the module doc).

    Write q = m 2^e with m in [1/2, 1) (``frexp``). Then -log2 q = 1 - e - log2(2m),
    and 0 <= log2(2m) < 1 with equality only at m = 1/2, so the ceiling is 1 - e in
    every case: an exact power of two gets its exact integer length.

    The lengths are returned even when they violate Kraft's inequality (possible only
    when q sums to more than 1); :class:`ShannonCode` refuses such a q.
    """
    q = check_pmf(q, "q")
    _, e = np.frexp(q)
    lengths = np.where(q > 0, 1 - e.astype(np.int64), 0)
    if np.count_nonzero(q) > 1:
        lengths[(q > 0) & (lengths == 0)] = 1  # q(x) = 1 beside other positive values
    return lengths


class ShannonCode(PrefixCode):
    """The Shannon code for ``q``: H(p,q) <= E_p[l] < H(p,q) + 1 whenever supp p is
    within supp q and q sums to at most 1 (the exact rule, also for a q that sums to a
    little more than 1, is in the module doc).

    Examples
    --------
    >>> ShannonCode([0.5, 0.25, 0.125, 0.125]).lengths.tolist()
    [1, 2, 3, 3]
    >>> int(ShannonCode([2.0**-29, 1 - 2.0**-29]).lengths[0])
    29
    >>> ShannonCode([1.0, 1e-300]).lengths.tolist()  # q(0) = 1: 1 bit, not 0
    [1, 997]
    """

    def __init__(self, q):
        q = check_pmf(q, "q")
        lengths = shannon_lengths(q)
        encodable = q > 0
        num, m = kraft_fraction(lengths, encodable)
        if num > 1 << m:
            over = kraft_overflow(lengths, encodable)
            shown = ", ".join(f"q[{int(x)}] = {float(q[x])!r} (length {int(lengths[x])})"
                              for x in over[:5])
            more = f" and {over.size - 5} more" if over.size > 5 else ""
            excess = math.fsum(q.tolist() + [-1.0])  # sum - 1, computed exactly, rounded once
            raise XentsimError(
                f"q's values sum to 1 + {excess:.3g}, more than 1, so its Shannon "
                f"lengths ceil(-log2 q) violate Kraft's inequality (sum 2^-l = 1 + "
                f"{kraft_excess_text(num, m)} > 1) and form no prefix code: handed out "
                f"shortest first, no codeword is left for {shown}{more}. Give a q that sums "
                f"to at most 1 "
                f"(q = {_show(q)})"
            )
        super().__init__(lengths, encodable, name="shannon")


def _show(q: np.ndarray) -> str:
    if q.size <= 8:
        return "(" + ", ".join(repr(float(v)) for v in q) + ")"
    return "(" + ", ".join(repr(float(v)) for v in q[:6]) + f", ... {q.size} values)"
