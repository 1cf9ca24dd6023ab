"""The compiled kernels behind :mod:`simulator.distributions` (alias sampling, counting).

They live apart from the pure-Python constructors so that parsing and validating a
distribution never imports numba (about 0.2 s): :mod:`simulator.distributions` imports
this module inside the functions that call a kernel. Compiled with ``cache=True``; the
cache folder is chosen by :mod:`simulator._jitcache` when ``simulator`` is imported.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def build_alias(probs):
    # Vose's alias method. Column j is chosen with probability 1/K; it yields j when
    # the coin falls below threshold[j], and alias[j] otherwise.
    K = probs.size
    scaled = probs * K
    threshold = np.ones(K)
    alias = np.arange(K)
    small = np.empty(K, np.int64)
    large = np.empty(K, np.int64)
    ns = 0
    nl = 0
    for i in range(K):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        threshold[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    # Leftovers are 1 up to rounding: they keep threshold 1 (always themselves).
    top = np.argmax(probs)
    for i in range(K):
        if probs[i] == 0.0:  # never yield a symbol of zero probability
            threshold[i] = 0.0
            if alias[i] == i:
                alias[i] = top
    return threshold, alias


@njit(cache=True)
def alias_draw(u, threshold, alias, out):
    # One uniform double per symbol: its integer part (times K) picks the column and
    # its fractional part is the coin; 53 bits leave >= 33 bits for the coin at K <= 2^20.
    K = threshold.size
    # Branch-free, with alias in the compact symbol dtype, so the loop vectorises.
    for i in range(u.size):
        x = u[i] * K
        j = min(np.int64(x), K - 1)
        a = alias[j]
        out[i] = a + (j - a) * ((x - j) < threshold[j])


@njit(cache=True)
def count_symbols(symbols, counts):
    for i in range(symbols.size):
        counts[symbols[i]] += 1
