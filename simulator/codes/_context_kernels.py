"""Compiled decoder for per-context prefix codes (one canonical code per context).

The encoder needs no kernel of its own: once every position's flat index c_t K + x_t
is known (a vectorised pass, :func:`simulator.models.context.context_indices`), the
per-context code is one prefix code over the flat indices, and the prefix encoder of
``_prefix_kernels`` writes it. The decoder cannot know c_t before it has decoded the
previous symbols, so it walks the message: per position, the current context's table.

Tables, one row per context c (S = K^m rows):

    single[c]           the symbol, when context c has a one-symbol code (the empty
                        codeword: 0 bits), else -1
    table[c, v]         for the next T bits v: (length << 24) | symbol, for the
                        codeword of at most T bits that begins them; 0 when no
                        codeword of at most T bits does (int32: one load per symbol)
    count[c, l]         number of codewords of length l in context c
    first_index[c, l]   their offset in sorted_syms[c] (codewords sorted by length,
                        then symbol: the canonical order)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._prefix_kernels import ERR_INVALID, ERR_SHORT, _peek


@njit(cache=True)
def decode_from(buf, nbits, pos, ctx, n, K, S, single, table, T, count, first_index,
                 sorted_syms, out):
    """Decode n symbols from bit ``pos`` in context ``ctx``; return (the end position,
    ERR_SHORT or ERR_INVALID; the context after the last symbol decoded).

    A whole message starts at bit 0 in context 0 (positions before the start read as
    symbol 0); the context becomes (c K + s) mod S after symbol s. Long codewords take
    the canonical walk, which keeps d, the offset of the current prefix among the
    non-leaf nodes of its depth.
    """
    maxlen = count.shape[1] - 1
    for i in range(n):
        s = single[ctx]
        if s < 0:
            e = table[ctx, _peek(buf, pos, T)]
            if e > 0:
                s = e & 0xFFFFFF
                pos += e >> 24
            else:
                d = 0
                l = 0
                while l < maxlen:
                    l += 1
                    if pos + l > nbits:
                        return ERR_SHORT, ctx
                    bit = (buf[(pos + l - 1) >> 3] >> (7 - ((pos + l - 1) & 7))) & 1
                    d = 2 * d + bit
                    if d < count[ctx, l]:
                        s = sorted_syms[ctx, first_index[ctx, l] + d]
                        break
                    d -= count[ctx, l]
                if s < 0:
                    return ERR_INVALID, ctx
                pos += l
            if pos > nbits:
                return ERR_SHORT, ctx
        out[i] = s
        ctx = (ctx * K + s) % S
    return pos, ctx
