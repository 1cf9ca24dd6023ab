"""Compiled helpers for Markov chains: the state graph's classes and period, sampling.

A chain of order m on K symbols is a chain on the S = K^m states (x_{t-m}, ..., x_{t-1}),
read as a base-K number with the oldest symbol most significant. From state c, symbol
x leads to state (c K + x) mod S.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def strong_components(P, K):
    """Strongly connected components of the state graph (edges where P[c, x] > 0).

    Returns (comp, n_comp): comp[c] is the component of state c. Iterative Tarjan, so
    deep graphs do not overflow a call stack.
    """
    S = P.shape[0]
    index = np.full(S, -1, np.int64)
    low = np.zeros(S, np.int64)
    on_stack = np.zeros(S, np.bool_)
    comp = np.full(S, -1, np.int64)
    stack = np.empty(S, np.int64)
    sp = 0
    call_v = np.empty(S, np.int64)
    call_x = np.empty(S, np.int64)
    cp = 0
    counter = 0
    n_comp = 0
    for root in range(S):
        if index[root] >= 0:
            continue
        call_v[0] = root
        call_x[0] = 0
        cp = 1
        index[root] = counter
        low[root] = counter
        counter += 1
        stack[sp] = root
        sp += 1
        on_stack[root] = True
        while cp > 0:
            v = call_v[cp - 1]
            x = call_x[cp - 1]
            if x < K:
                call_x[cp - 1] = x + 1
                if P[v, x] > 0.0:
                    w = (v * K + x) % S
                    if index[w] < 0:
                        index[w] = counter
                        low[w] = counter
                        counter += 1
                        stack[sp] = w
                        sp += 1
                        on_stack[w] = True
                        call_v[cp] = w
                        call_x[cp] = 0
                        cp += 1
                    elif on_stack[w]:
                        if index[w] < low[v]:
                            low[v] = index[w]
            else:
                cp -= 1
                if cp > 0:
                    u = call_v[cp - 1]
                    if low[v] < low[u]:
                        low[u] = low[v]
                if low[v] == index[v]:
                    while True:
                        sp -= 1
                        w = stack[sp]
                        on_stack[w] = False
                        comp[w] = n_comp
                        if w == v:
                            break
                    n_comp += 1
    return comp, n_comp


@njit(cache=True)
def closed_components(P, K, comp, n_comp):
    """closed[i] is True when no edge leaves component i."""
    S = P.shape[0]
    closed = np.ones(n_comp, np.bool_)
    for c in range(S):
        for x in range(K):
            if P[c, x] > 0.0:
                w = (c * K + x) % S
                if comp[w] != comp[c]:
                    closed[comp[c]] = False
    return closed


@njit(cache=True)
def period(P, K, comp, target):
    """The period of component ``target``: gcd of level[u] + 1 - level[w] over its edges."""
    S = P.shape[0]
    level = np.full(S, -1, np.int64)
    queue = np.empty(S, np.int64)
    start = -1
    for c in range(S):
        if comp[c] == target:
            start = c
            break
    level[start] = 0
    queue[0] = start
    head, tail = 0, 1
    g = 0
    while head < tail:
        v = queue[head]
        head += 1
        for x in range(K):
            if P[v, x] > 0.0:
                w = (v * K + x) % S
                if comp[w] != target:
                    continue
                if level[w] < 0:
                    level[w] = level[v] + 1
                    queue[tail] = w
                    tail += 1
                else:
                    d = level[v] + 1 - level[w]
                    if d < 0:
                        d = -d
                    a, b = g, d
                    while b:
                        a, b = b, a % b
                    g = a
    return g


@njit(cache=True)
def chain_draw(u, threshold, alias, K, state, out):
    """Walk the chain: out[i] from the row of the current state, with one uniform u[i]
    per symbol (column j = floor(u K), coin = fractional part, as the i.i.d. sampler).
    ``threshold`` and ``alias`` are the (S, K) alias tables flattened row by row.
    Returns the state after the last symbol."""
    S = threshold.size // K
    if S == K:  # order 1: the next state is the symbol itself (no modulo)
        for i in range(u.size):
            x = u[i] * K
            j = min(np.int64(x), K - 1)
            at = state * K + j
            s = j if (x - j) < threshold[at] else np.int64(alias[at])
            out[i] = s
            state = s
        return state
    if K & (K - 1) == 0:  # K a power of two: the modulo is a mask
        mask = S - 1
        for i in range(u.size):
            x = u[i] * K
            j = min(np.int64(x), K - 1)
            at = state * K + j
            s = j if (x - j) < threshold[at] else np.int64(alias[at])
            out[i] = s
            state = (state * K + s) & mask
        return state
    for i in range(u.size):
        x = u[i] * K
        j = min(np.int64(x), K - 1)
        at = state * K + j
        s = j if (x - j) < threshold[at] else np.int64(alias[at])
        out[i] = s
        state = (state * K + s) % S
    return state


@njit(cache=True)
def context_flat(symbols, K, S, m, out):
    """out[t] = c_t K + x_t, c_t the zero-padded context of order m (S = K^m).

    c_{t+1} = (c_t K + x_t) mod S, computed without a division: c_t K + x_t is
    sum_{j=0..m} x_{t-j} K^j, so dropping its top digit x_{t-m} (0 before the start)
    leaves c_{t+1} = c_t K + x_t - x_{t-m} S. Symbols must lie in 0..K-1.
    """
    ctx = np.int64(0)
    for i in range(symbols.size):
        a = ctx * K + np.int64(symbols[i])
        out[i] = a
        ctx = a
        if i >= m:
            ctx -= np.int64(symbols[i - m]) * S
