"""Intervals and bounds: how far a measured length may be from its exact expectation.

The engine, the experiments and the tests compute every interval here, reading codes
only through the Code interface (``symbols_per_unit``, ``slack_bits``, ``unit_law``)
and sources through the Source interface. The theory constants are defined once:

- ``DELTA`` = 0.01, the miss probability of one interval (``LEVEL`` = 0.99);
- ``Z99`` = z_{0.995}, the two-sided 99% standard-normal quantile;
- :func:`per_interval_delta` splits a family-wise ``DELTA`` over several intervals
  (Bonferroni), as the figures do.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import XentsimError
from .sources import as_source

#: Miss probability of one interval; its coverage level is ``LEVEL`` = 1 - DELTA.
DELTA = 0.01
LEVEL = 1 - DELTA
#: Two-sided 99% standard-normal quantile, z_{0.995}.
Z99 = 2.5758293035489004


def per_interval_delta(count: int, delta: float = DELTA) -> float:
    """The miss probability per interval that keeps ``count`` intervals family-wise at
    1 - delta (Bonferroni: delta / count)."""
    if count < 1:
        raise XentsimError(f"count is {count}, must be >= 1")
    return delta / count


def bernstein_half_width(var: float, dev: float, m: int, delta: float) -> float:
    """Half-width t with P(|mean - mu| >= t) <= delta for the mean of m i.i.d. values
    with variance ``var`` and |X - mu| <= ``dev`` (Bernstein's inequality).

    Solves m t^2 = (2 var + 2 dev t / 3) ln(2 / delta). Unlike the normal interval it
    holds at every m, including skewed cases where rare symbols carry long codewords.
    """
    c = math.log(2 / delta)
    a = 2 * dev * c / 3
    return (a + math.sqrt(a * a + 8 * m * var * c)) / (2 * m)


# --------------------------------------------------------------------------- exact sums


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, e) with p + e = a * b exactly (Dekker's product with Veltkamp splitting)."""
    p = a * b
    split = 134217729.0  # 2^27 + 1
    ca, cb = split * a, split * b
    ah = ca - (ca - a)
    bh = cb - (cb - b)
    al, bl = a - ah, b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def exact_mean(w: np.ndarray, values: np.ndarray) -> float:
    """sum w v / sum w for weights w > 0 and finite values v, with every product and
    both sums exact before the final division (one rounding there, one in each sum).
    Equal values return that value exactly."""
    w = np.asarray(w, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if values.size and (values == values[0]).all():
        return float(values[0])
    p, e = _two_product(w, values)
    return math.fsum(p.tolist() + e.tolist()) / math.fsum(w.tolist())


def unit_spread(code, source) -> tuple[float, float, float] | None:
    """(mean, variance, largest |deviation|) of one unit's length in bits under
    ``source``, exactly from the code's unit law; None when the code has no fixed law.

    Units with probability 0 are left out; the law's weights are taken relative to
    their sum (a pmf may miss 1 by rounding). A mean of inf (the source emits a unit
    the code cannot encode) gives (inf, inf, inf).
    """
    law = code.unit_law(source)
    if law is None:
        return None
    w, lengths = law
    w = np.asarray(w, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.float64)
    on = w > 0
    w, lengths = w[on], lengths[on]
    if not np.isfinite(lengths).all():
        return math.inf, math.inf, math.inf
    mean = exact_mean(w, lengths)
    dev = lengths - mean
    var = math.fsum((w * dev * dev).tolist()) / math.fsum(w.tolist())
    return mean, var, float(np.max(np.abs(dev)))


def length_spread(code, p) -> tuple[float, float, float, int]:
    """(mean, variance, largest |deviation|, symbols per unit) of the per-unit code
    length under ``p`` (a pmf or a Source): exact, from the code's unit law (ideal
    lengths -log2 q^ for the arithmetic coder, per block for block codes)."""
    spread = unit_spread(code, as_source(p))
    if spread is None:
        raise XentsimError(f"the {code.name} code has no fixed unit law (an adaptive model)")
    return (*spread, code.symbols_per_unit)


def theory_half_width(code, p, n: int, messages: int, delta: float) -> float:
    """Half-width, in bits per symbol, of an interval that holds with probability at
    least 1 - delta around the code's exact expected bits per symbol for ``messages``
    messages of n symbols from ``p`` (a pmf or an i.i.d. Source): Bernstein on the
    unit lengths (n must be a whole number of units: a partial unit is not bounded here), plus the larger side of the code's ``slack_bits``
    per message (the arithmetic coder's [-8, +1] bits), plus 1e-9 for the rounding of
    the exact expectation."""
    _, var, dev, k = length_spread(code, p)
    if n < k or n % k:
        raise XentsimError(
            f"n is {n}: theory_half_width bounds whole units, so n must be a positive multiple "
            f"of the code's {k} symbols per unit (simulate handles a partial unit)")
    units = messages * (n // k)
    half = bernstein_half_width(var, dev, units, delta) * (n // k) / n if var > 0 else 0.0
    lo, hi = code.slack_bits
    return half + max(-lo, hi) / n + 1e-9


# --------------------------------------------------------------------------- Student t


def _t_two_sided(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with integer df (Abramowitz & Stegun 26.7.3-4)."""
    theta = math.atan(t / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2:  # odd: (2/pi)[theta + sin cos (1 + (2/3) cos^2 + (2*4)/(3*5) cos^4 + ...)]
        if df == 1:
            return 2 * theta / math.pi
        term = acc = math.cos(theta)
        for m in range(1, (df - 3) // 2 + 1):
            term *= c2 * (2 * m) / (2 * m + 1)
            acc += term
        return 2 / math.pi * (theta + s * acc)
    term = acc = 1.0  # even: sin (1 + (1/2) cos^2 + (1*3)/(2*4) cos^4 + ...)
    for m in range(1, (df - 2) // 2 + 1):
        term *= c2 * (2 * m - 1) / (2 * m)
        acc += term
    return s * acc


def student_t_quantile(level: float, df: int) -> float:
    """t with P(|T| <= t) = level for Student's t with ``df`` degrees of freedom.

    Exact (bisection on the closed-form distribution) for df <= 200, Cornish-Fisher to
    order df^-4 beyond (error below 1e-9 there)."""
    if df < 1:
        raise XentsimError(f"degrees of freedom is {df}, must be >= 1")
    if df > 200:
        z = _normal_quantile(0.5 + level / 2)
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
        g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
        return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4
    lo, hi = 0.0, 1.0
    while _t_two_sided(hi, df) < level:
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if _t_two_sided(mid, df) < level:
            lo = mid
        else:
            hi = mid
    return hi


def _normal_quantile(u: float) -> float:
    """Phi^-1(u) by bisection on erf (to full double precision)."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < u:
            lo = mid
        else:
            hi = mid
    return hi


def t_half_width(values: np.ndarray, level: float = LEVEL) -> float:
    """Half-width t_{df} s / sqrt(m) of the Student-t interval for the mean of the m
    values (df = m - 1, s their sample standard deviation); inf when m < 2."""
    values = np.asarray(values, dtype=np.float64)
    m = values.size
    if m < 2:
        return math.inf
    s = float(np.std(values, ddof=1))
    return student_t_quantile(level, m - 1) * s / math.sqrt(m)
