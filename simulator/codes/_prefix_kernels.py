"""Compiled kernels for canonical prefix codes: measure, encode, decode.

Bit order is big-endian throughout (bitarray's ``endian='big'``): the first bit of the
stream is the most significant bit of byte 0.

Codeword table: ``words[s, :]`` holds the codeword of symbol ``s`` right-aligned in
``W`` big-endian 64-bit words (``words[s, W - 1]`` is the low 64 bits). A codeword of
length ``L`` uses the last ``ceil(L / 64)`` words.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Error codes returned by the kernels (>= 0 is success).
ERR_SYMBOL = -1  # a symbol outside the alphabet or without a codeword
ERR_SHORT = -2  # the bitstream ended before n symbols were decoded
ERR_INVALID = -3  # a bit pattern that is no codeword (possible for incomplete codes)


@njit(cache=True)
def total_bits(symbols, lengths, encodable):
    """Sum of codeword lengths, or (ERR_SYMBOL, index of the first bad symbol)."""
    K = lengths.size
    total = 0
    for i in range(symbols.size):
        s = np.int64(symbols[i])
        if s < 0 or s >= K or not encodable[s]:
            return ERR_SYMBOL, i
        total += lengths[s]
    return total, -1


@njit(cache=True)
def encode(symbols, lengths, words, out):
    """Write the codewords of ``symbols`` into the zeroed byte buffer ``out``.

    Invariant: ``acc`` holds ``nacc`` pending bits (right-aligned), 0 <= nacc < 8
    between symbols, so a 32-bit piece never overflows the 64-bit accumulator.
    """
    W = words.shape[1]
    acc = np.uint64(0)
    nacc = 0
    pos = 0
    for i in range(symbols.size):
        s = np.int64(symbols[i])
        L = lengths[s]
        rest = L
        # Walk the codeword from its most significant word: the first word written
        # holds L mod 64 bits (or 64), later words 64.
        nw = (L + 63) // 64
        for w in range(W - nw, W):
            nbits = rest - 64 * (W - 1 - w)
            value = words[s, w]
            while nbits > 0:
                take = 32 if nbits > 32 else nbits
                piece = (value >> np.uint64(nbits - take)) & np.uint64((1 << take) - 1)
                acc = (acc << np.uint64(take)) | piece
                nacc += take
                nbits -= take
                while nacc >= 8:
                    nacc -= 8
                    out[pos] = np.uint8((acc >> np.uint64(nacc)) & np.uint64(0xFF))
                    pos += 1
            rest = 64 * (W - 1 - w)
    if nacc > 0:
        out[pos] = np.uint8((acc << np.uint64(8 - nacc)) & np.uint64(0xFF))


@njit(cache=True)
def encode_short(symbols, lengths, words, out):
    """``encode`` for codes whose longest codeword has at most 56 bits.

    Invariant: ``acc`` holds ``nacc`` < 8 pending bits between symbols, so appending
    a codeword of <= 56 bits never overflows the 64-bit accumulator.
    """
    acc = np.uint64(0)
    nacc = 0
    pos = 0
    for i in range(symbols.size):
        s = np.int64(symbols[i])
        L = lengths[s]
        acc = (acc << np.uint64(L)) | words[s, 0]
        nacc += L
        while nacc >= 8:
            nacc -= 8
            out[pos] = np.uint8((acc >> np.uint64(nacc)) & np.uint64(0xFF))
            pos += 1
    if nacc > 0:
        out[pos] = np.uint8((acc << np.uint64(8 - nacc)) & np.uint64(0xFF))


@njit(cache=True)
def _peek(buf, pos, nbits):
    # The next ``nbits`` (<= 24) bits from bit position ``pos``; ``buf`` carries at
    # least 4 zero bytes of padding past the stream, so reads never go out of bounds.
    b = pos >> 3
    v = (
        (np.uint32(buf[b]) << np.uint32(24))
        | (np.uint32(buf[b + 1]) << np.uint32(16))
        | (np.uint32(buf[b + 2]) << np.uint32(8))
        | np.uint32(buf[b + 3])
    )
    v = (v << np.uint32(pos & 7)) & np.uint32(0xFFFFFFFF)
    return np.int64(v >> np.uint32(32 - nbits))


@njit(cache=True)
def decode(buf, nbits, pos, n, table_sym, table_len, table_bits, count, inner, first_index,
           sorted_syms, out):
    """Decode ``n`` symbols from bit ``pos``; return the end position or an error code.

    ``buf`` must hold the stream's bytes followed by at least 4 bytes of padding (reads
    of the lookup table may run up to 3 bytes past the last bit; the result is then
    refused by the length check).

    Fast path: the next ``table_bits`` bits index a table that gives (symbol, length)
    for every codeword of at most ``table_bits`` bits. Longer codewords fall back to
    the canonical walk. At depth l the prefix read so far is the canonical value
    ``first_code[l] + count[l] + d``; the walk keeps only ``d``. ``inner[l]`` is the
    number of depth-l nodes that are proper prefixes of longer codewords, and in a
    canonical code they are exactly the values with 0 <= d < inner[l]. A d at or above
    ``inner[l]`` starts no codeword (possible when Kraft's sum is below 1): the walk
    stops there. So d < inner[l] <= K before every doubling and the 64-bit integer
    can never overflow, whatever the codeword lengths (any number of 64-bit words).
    """
    maxlen = count.size - 1
    if pos < 0 or pos > nbits or buf.size < (nbits + 7) // 8 + 4:
        return ERR_SHORT
    for i in range(n):
        t = _peek(buf, pos, table_bits)
        L = table_len[t]
        if L > 0:
            out[i] = table_sym[t]
            pos += L
        else:
            d = 0
            l = 0
            while True:
                l += 1
                if l > maxlen:
                    return ERR_INVALID
                if pos + l > nbits:
                    return ERR_SHORT
                bit = (buf[(pos + l - 1) >> 3] >> (7 - ((pos + l - 1) & 7))) & 1
                d = 2 * d + np.int64(bit)
                if d < count[l]:
                    out[i] = sorted_syms[first_index[l] + d]
                    break
                d -= count[l]
                if d >= inner[l]:
                    return ERR_INVALID
            pos += l
        if pos > nbits:
            return ERR_SHORT
    return pos
