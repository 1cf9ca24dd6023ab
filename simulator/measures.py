"""Information measures of probability mass functions.

All functions take pmfs in the order of the mathematics (``cross_entropy(p, q)``:
data from ``p``, code or model from ``q``), return bits by default, and accept
``base`` (2 gives bits, ``np.e`` nats). Conventions: 0 log 0 = 0, and the result is
``inf`` when q(x) = 0 < p(x). Inputs are validated, never renormalised.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import XentsimError, check_pmf, check_same_alphabet


def _log_factor(base: float) -> float:
    """Divide a log2 quantity by this to express it in ``base``."""
    if not (isinstance(base, (int, float)) and base > 0 and base != 1 and math.isfinite(base)):
        raise XentsimError(f"base is {base!r}: it must be a positive number other than 1")
    return math.log2(base)


def _pair(p, q):
    p = check_pmf(p, "p")
    q = check_pmf(q, "q")
    check_same_alphabet(p, q)
    return p, q


def entropy(p, base: float = 2) -> float:
    """Shannon entropy H(p) = -sum_x p(x) log p(x).

    Parameters
    ----------
    p : array_like
        A pmf on symbols 0..K-1.
    base : float
        Logarithm base; 2 (the default) gives bits, ``np.e`` nats.

    Examples
    --------
    >>> round(entropy([0.7, 0.2, 0.1]), 6)
    1.15678
    """
    p = check_pmf(p, "p")
    s = p[p > 0]
    return float(-(s * np.log2(s)).sum()) / _log_factor(base)


def cross_entropy(p, q, base: float = 2) -> float:
    """Cross-entropy H(p, q) = -sum_x p(x) log q(x): the cost of a q-code on p-data.

    Equals ``entropy(p) + kl_divergence(p, q)``; ``inf`` when q(x) = 0 < p(x).

    Examples
    --------
    >>> round(cross_entropy([0.7, 0.2, 0.1], [0.2, 0.3, 0.5]), 6)
    2.072743
    """
    p, q = _pair(p, q)
    on = p > 0
    if (q[on] == 0).any():
        return math.inf
    return float(-(p[on] * np.log2(q[on])).sum()) / _log_factor(base)


def kl_divergence(p, q, base: float = 2) -> float:
    """Kullback-Leibler divergence KL(p || q) = sum_x p(x) log(p(x) / q(x)).

    Summed over the support of p, term by term (not as H(p,q) - H(p), which loses
    accuracy when both are large). ``inf`` when q(x) = 0 < p(x); 0 only when p = q.

    Examples
    --------
    >>> round(kl_divergence([0.9, 0.1], [0.1, 0.9]), 6)
    2.53594
    """
    p, q = _pair(p, q)
    on = p > 0
    pp, qq = p[on], q[on]
    if (qq == 0).any():
        return math.inf
    with np.errstate(over="ignore", under="ignore"):
        ratio = pp / qq
    ok = np.isfinite(ratio) & (ratio > 0)
    logs = np.where(ok, np.log2(np.where(ok, ratio, 1.0)), np.log2(pp) - np.log2(qq))
    return max(float((pp * logs).sum()), 0.0) / _log_factor(base)


def js_divergence(p, q, base: float = 2) -> float:
    """Jensen-Shannon divergence JS(p, q) = KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2.

    Symmetric, finite (at most 1 bit) even when the supports differ.

    Examples
    --------
    >>> js_divergence([1.0, 0.0], [0.0, 1.0])
    1.0
    """
    p, q = _pair(p, q)
    m = (p + q) / 2
    return 0.5 * kl_divergence(p, m, base) + 0.5 * kl_divergence(q, m, base)
