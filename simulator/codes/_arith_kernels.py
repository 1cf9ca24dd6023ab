"""Compiled range-coder kernels. They mirror ``arithmetic.ReferenceCoder`` bit for bit.

One encode kernel and one decode kernel serve every kind of :class:`Tables`. The
kind is given by which optional arguments are None, and numba compiles one
specialisation per combination (branches on ``arg is None`` are removed at compile
time), so the static path carries no cost from the other kinds:

    position   None, or True: row t codes position t
    contexts   None, or R = K^order: after symbol s the row becomes (row K + s) mod R
               (both None: row 0 throughout, "const")
    tree       None (fixed tables, total 2^precision), or the adaptive state: a
               Fenwick tree per row (R, K + 1), ``freq`` (R, K), ``totals`` (R,) and
               ``inc``, the increment added to the coded symbol's frequency
    guide      (decoder, fixed const tables only) None, or a table giving the first
               candidate symbol for each value of the top bits of the target

Encoder state, its ranges and invariants (all integers, 64-bit unsigned):

    low      0 <= low < 2^64     bottom of the interval inside the 64-bit window
    rng      2^56 <= rng < 2^64  width of the interval, after renormalisation
    pos      out[:pos] are the bytes shifted out of the window so far

Where the reference coder holds back a cache byte and a count of 0xFF bytes until no
carry can reach them, these kernels keep the whole output in memory and add a carry
straight into it, walking back over 0xFF bytes (which become 0x00). Both write the
binary digits of the same final point, so the streams are identical. The interval
[low, low + rng) stays inside [0, 2^64 - 1) of the initial window, so a carry always
stops at a byte below 0xFF inside out[:pos].
Coding symbol s with (cum, freq, total): r = rng // total (rng >> b for 2^b), low += r cum, rng = r freq;
then bytes leave the window while rng < 2^56. Truncating rng // total loses at most
a factor (1 - total / 2^56) per symbol.

The decoder keeps ``code`` = (the stream's 64-bit window) - low, with 0 <= code < rng;
this is exact (no wrap-around) for any input, so after n symbols low = window - code
and the decoder re-derives the encoder's termination and compares it with the
stream's end (``_check_end``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

TOP = np.uint64(1 << 56)
ERR_CORRUPT = -1  # a target outside the model's total: not a stream of this model
ERR_END = -2  # the stream does not end as the encoding of the decoded message would
ERR_OVERFLOW = -(1 << 62)  # encoder: the output buffer would overflow (tables break their contract)


@njit(cache=True, inline="always")
def _shift_count(rng):
    # bytes to shift out so that rng >= 2^56 again; rng >= 2^24 here (total <= 2^32), so <= 4
    return ((rng < np.uint64(1 << 56)) + (rng < np.uint64(1 << 48))
            + (rng < np.uint64(1 << 40)) + (rng < np.uint64(1 << 32)))


@njit(cache=True, inline="always")
def _push(low, rng, pos, out, cum, freq, r):
    # r = rng // total, computed by the caller (a shift when total is 2^b).
    new_low = low + r * cum
    if new_low < low:  # carry: add one to the bytes already out, through any 0xFF run
        j = pos - 1
        while out[j] == 0xFF:
            out[j] = 0
            j -= 1
        out[j] += 1
    low = new_low
    rng = r * freq
    # Branch-free renormalisation: always store the top 4 bytes of low, keep k of them.
    k = _shift_count(rng)
    out[pos] = np.uint8(low >> np.uint64(56))
    out[pos + 1] = np.uint8((low >> np.uint64(48)) & np.uint64(0xFF))
    out[pos + 2] = np.uint8((low >> np.uint64(40)) & np.uint64(0xFF))
    out[pos + 3] = np.uint8((low >> np.uint64(32)) & np.uint64(0xFF))
    pos += k
    sh = np.uint64(8 * k)
    low = low << sh
    rng = rng << sh
    return low, rng, pos


@njit(cache=True, inline="always")
def _terminate(low, rng):
    """(m, x, carry): the smallest m in 0..64 such that a multiple of 2^(64-m) lies in
    [low, low + rng), x the smallest such multiple (mod 2^64), carry whether it is
    >= 2^64. rng >= 2^56 gives m <= 8."""
    for mm in range(65):
        if mm == 64:
            mask = np.uint64(0)
        else:
            mask = np.uint64(0xFFFFFFFFFFFFFFFF) >> np.uint64(mm)
        t = low + mask
        xx = t & ~mask
        if xx - low < rng:
            return mm, xx, t < low
    return 64, low, False  # not reached: m = 64 always qualifies (x = low)


@njit(cache=True)
def _finish(low, rng, pos, out):
    """Append the first m bits of x (``_terminate``) after the pos bytes already out.

    Returns the stream length in bits, 8 * pos + m. The bytes of x after its m-th bit
    are zeros, and the decoder pads with zeros, so they are dropped.
    """
    m, x, carry = _terminate(low, rng)
    if carry:
        j = pos - 1
        while out[j] == 0xFF:
            out[j] = 0
            j -= 1
        out[j] += 1
    for j in range(8):
        out[pos + j] = np.uint8((x >> np.uint64(56 - 8 * j)) & np.uint64(0xFF))
    return 8 * pos + m


@njit(cache=True, inline="always")
def _fenwick_prefix(tree, row, s):
    # sum of the frequencies of symbols 0..s-1 in ``row``
    acc = np.uint64(0)
    i = s
    while i > 0:
        acc += tree[row, i]
        i -= i & -i
    return acc


@njit(cache=True, inline="always")
def _fenwick_add(tree, row, s, delta):
    i = s + 1
    K = tree.shape[1] - 1
    while i <= K:
        tree[row, i] += delta
        i += i & -i


@njit(cache=True)
def encode(symbols, cum, precision, position, contexts, tree, freq, totals, inc, out, trace):
    """Encode ``symbols`` into ``out``; returns the length in bits, -(i + 1) when
    symbol i has frequency 0, or ERR_OVERFLOW. Symbols must lie in 0..K-1."""
    K = cum.shape[1] - 1
    low = np.uint64(0)
    rng = np.uint64(0xFFFFFFFFFFFFFFFF)
    pos = 0
    b = np.uint64(precision)
    limit = out.size - 12  # room for the 4 look-ahead stores and the 8 final bytes
    row = 0
    for i in range(symbols.size):
        s = np.int64(symbols[i])
        if tree is None:
            c = cum[row, s]
            f = cum[row, s + 1] - c
            r = rng >> b
        else:
            c = _fenwick_prefix(tree, row, s)
            f = freq[row, s]
            r = rng // totals[row]
        if f == 0:
            return -(i + 1)
        if pos > limit:
            return ERR_OVERFLOW
        low, rng, pos = _push(low, rng, pos, out, c, f, r)
        if tree is not None:
            freq[row, s] += inc
            _fenwick_add(tree, row, s, inc)
            totals[row] += inc
        if trace.size:
            trace[i] = 8 * pos
        if position is not None:
            row = i + 1
        if contexts is not None:
            row = (row * K + s) % contexts
    return _finish(low, rng, pos, out)


# ------------------------------------------------------------------------ decoding


@njit(cache=True, inline="always")
def _start(buf):
    code = np.uint64(0)
    for j in range(8):
        code = (code << np.uint64(8)) | np.uint64(buf[j])
    return code, np.uint64(0xFFFFFFFFFFFFFFFF), 8


@njit(cache=True, inline="always")
def _pull(code, rng, bpos, buf, r, c, f):
    code -= r * c
    rng = r * f
    k = _shift_count(rng)
    if bpos + 4 <= buf.size:  # branch-free: read 4 bytes, keep the first k
        w = ((np.uint64(buf[bpos]) << np.uint64(24)) | (np.uint64(buf[bpos + 1]) << np.uint64(16))
             | (np.uint64(buf[bpos + 2]) << np.uint64(8)) | np.uint64(buf[bpos + 3]))
    else:  # near the end of the buffer: zero fill
        w = np.uint64(0)
        for j in range(4):
            w = w << np.uint64(8)
            if bpos + j < buf.size:
                w |= np.uint64(buf[bpos + j])
    sh = np.uint64(8 * k)
    code = (code << sh) | (w >> np.uint64(32 - 8 * k))
    rng = rng << sh
    bpos += k
    return code, rng, bpos


@njit(cache=True)
def _check_end(buf, nbits, code, rng, bpos):
    """bpos if the stream is exactly what the encoder writes for the decoded message,
    else ERR_END.

    S = bpos - 8 bytes have left the window. The encoder would append the first m bits
    of x (``_terminate`` of low = window - code): the stream must then be 8 S + m bits
    long and its window (zero padded) must equal x. The window and low are exact big
    integers modulo 2^64 at the same alignment, and the stream value minus the
    encoder's interval bottom is code in both, so equal windows mean equal streams
    (carry included).
    """
    S = bpos - 8
    if S + 8 > buf.size:  # the decoder ran past the stream: it cannot end here
        return ERR_END
    window = np.uint64(0)
    for j in range(8):
        window = (window << np.uint64(8)) | np.uint64(buf[S + j])
    m, x, _ = _terminate(window - code, rng)
    if x != window or nbits != 8 * S + m:
        return ERR_END
    return bpos


@njit(cache=True)
def decode(buf, nbits, n, cum, precision, position, contexts, tree, freq, totals, inc,
           guide, guide_shift, out):
    """Decode n symbols of a stream of ``nbits`` bits (``buf``: its bytes and 8 zero
    bytes) into ``out``. Returns bpos >= 8, ERR_CORRUPT or ERR_END."""
    code, rng, bpos = _start(buf)
    K = cum.shape[1] - 1
    b = np.uint64(precision)
    total = np.uint64(1) << b
    gmax = 0
    if guide is not None:
        gmax = guide.size - 1
    gshift = np.uint64(guide_shift)
    top_bit = 1
    while top_bit * 2 <= K:
        top_bit *= 2
    row = 0
    for i in range(n):
        if tree is None:
            r = rng >> b
            v = code // r
            if v >= total:
                return ERR_CORRUPT
            if guide is not None:
                j = np.int64(v >> gshift)
                lo = guide[j]
                hi = guide[j + 1] if j < gmax else K - 1
            else:
                lo = 0
                hi = K - 1
            # largest s in [lo, hi] with cum[s] <= v
            while lo < hi:
                mid = (lo + hi + 1) >> 1
                if cum[row, mid] <= v:
                    lo = mid
                else:
                    hi = mid - 1
            s = lo
            c = cum[row, s]
            f = cum[row, s + 1] - c
        else:
            r = rng // totals[row]
            v = code // r
            if v >= totals[row]:
                return ERR_CORRUPT
            # Fenwick descent: the largest s with prefix(s) <= v, and that prefix
            s = 0
            c = np.uint64(0)
            step = top_bit
            while step > 0:
                nxt = s + step
                if nxt <= K and c + tree[row, nxt] <= v:
                    s = nxt
                    c += tree[row, nxt]
                step >>= 1
            f = freq[row, s]
        out[i] = s
        code, rng, bpos = _pull(code, rng, bpos, buf, r, c, f)
        if bpos > buf.size:  # past the stream and its padding: cannot end validly
            return ERR_END
        if tree is not None:
            freq[row, s] += inc
            _fenwick_add(tree, row, s, inc)
            totals[row] += inc
        if position is not None:
            row = i + 1
        if contexts is not None:
            row = (row * K + s) % contexts
    return _check_end(buf, nbits, code, rng, bpos)


# ------------------------------------------------------------------------ checks


@njit(cache=True)
def scan(symbols, cum, precision, position, contexts, neglog, adaptive):
    """(ideal bits, i): i is -1, or the first position whose symbol lies outside
    0..K-1 or has frequency 0 in its row (the ideal is then 0).

    The ideal length sum -log2 q^(x_t) comes from ``neglog`` (-log2 q^ per symbol,
    const tables) or from the row's frequencies (other fixed tables); it is not
    computed for adaptive tables (``adaptive`` not None).
    """
    K = cum.shape[1] - 1
    ideal = 0.0
    row = 0
    for i in range(symbols.size):
        s = np.int64(symbols[i])
        if s < 0 or s >= K:
            return 0.0, i
        if neglog is not None:  # const tables, validated: frequency 0 <=> inf
            if neglog[s] == np.inf:
                return 0.0, i
            ideal += neglog[s]
        else:
            f = cum[row, s + 1] - cum[row, s]
            if f == 0 or cum[row, s + 1] < cum[row, s] or cum[row, s + 1] > cum[row, K]:
                return 0.0, i
            if adaptive is None:
                ideal += precision - np.log2(np.float64(f))
        if position is not None:
            row = i + 1
        if contexts is not None:
            row = (row * K + s) % contexts
    return ideal, -1
