"""Intervals and bounds: how far a measured length may be from its exact expectation.

Moved here from the experiment helpers so that the engine, the experiments and the
tests compute every interval the same way.
"""

from __future__ import annotations

import math

import numpy as np


def bernstein_half_width(var: float, dev: float, m: int, delta: float) -> float:
    """Half-width t with P(|mean - mu| >= t) <= delta for the mean of m i.i.d. values
    with variance ``var`` and |X - mu| <= ``dev`` (Bernstein's inequality).

    Solves m t^2 = (2 var + 2 dev t / 3) ln(2 / delta). Unlike the normal interval it
    holds at every m, including skewed cases where rare symbols carry long codewords.
    """
    c = math.log(2 / delta)
    a = 2 * dev * c / 3
    return (a + math.sqrt(a * a + 8 * m * var * c)) / (2 * m)


def length_spread(code, p) -> tuple[float, float, float, int]:
    """(mean, variance, largest |deviation|, symbols per codeword) of the per-codeword
    length under p: exact, from the code's own lengths (ideal lengths -log2 q^ for the
    arithmetic coder, per block for block codes)."""
    from .distributions import tuple_probabilities

    p = np.asarray(p, dtype=float)
    if hasattr(code, "model"):  # arithmetic, static model
        w, lengths, k = p, code.model.neglog, 1
    elif hasattr(code, "block"):
        w, lengths, k = tuple_probabilities(p, code.k), code.block.lengths, code.k
    else:
        w, lengths, k = p, code.lengths, 1
    on = w > 0
    lengths = np.asarray(lengths, dtype=float)[on]
    w = w[on] / w[on].sum()
    mean = float(w @ lengths)
    var = float(w @ (lengths - mean) ** 2)
    return mean, var, float(np.max(np.abs(lengths - mean))), k


def theory_half_width(code, p, n: int, messages: int, delta: float) -> float:
    """Half-width, in bits per symbol, of an interval that holds with probability at
    least 1 - delta around the code's exact expected bits per symbol for ``messages``
    messages of n symbols: Bernstein on the codeword lengths (whole blocks only), plus
    for the arithmetic coder its proven [-8, +1] bits per message."""
    _, var, dev, k = length_spread(code, p)
    units = messages * (n // k)
    half = bernstein_half_width(var, dev, units, delta) / k if var > 0 else 0.0
    if hasattr(code, "model"):
        half += 8 / n
    return half + 1e-9  # floating-point rounding of the exact expectation
