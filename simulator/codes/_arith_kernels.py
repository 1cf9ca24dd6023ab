"""Compiled range-coder kernels. They mirror ``arithmetic.ReferenceCoder`` bit for bit.

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

The decoder keeps ``code`` = (the stream's 64-bit window) - low, with 0 <= code < rng.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TOP = np.uint64(1 << 56)
ERR_CORRUPT = -1  # a value outside the model's total: not a stream of this model


@njit(cache=True, inline="always")
def _shift_count(rng):
    # bytes to shift out so that rng >= 2^56 again; rng >= 2^24 here (b <= 32), so <= 4
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


@njit(cache=True)
def _finish(low, rng, pos, out):
    """Terminate with the fewest bits: the shortest x = k 2^(64-m) in [low, low + rng).

    Returns the stream length in bits, 8 * (bytes shifted out) + m. The bytes of x
    after its m-th bit are zeros, and the decoder pads with zeros, so they are dropped.
    """
    m = 0
    x = np.uint64(0)
    carry = False
    for mm in range(65):
        if mm == 64:
            mask = np.uint64(0)
        else:
            mask = np.uint64(0xFFFFFFFFFFFFFFFF) >> np.uint64(mm)
        t = low + mask
        c = t < low
        xx = t & ~mask
        if xx - low < rng:
            m, x, carry = mm, xx, c
            break
    if carry:
        j = pos - 1
        while out[j] == 0xFF:
            out[j] = 0
            j -= 1
        out[j] += 1
    for j in range(8):
        out[pos + j] = np.uint8((x >> np.uint64(56 - 8 * j)) & np.uint64(0xFF))
    return 8 * pos + m


@njit(cache=True)
def encode_static(symbols, cum, precision, out, trace):
    low = np.uint64(0)
    rng = np.uint64(0xFFFFFFFFFFFFFFFF)
    pos = 0
    b = np.uint64(precision)
    for i in range(symbols.size):
        s = symbols[i]
        c = cum[s]
        f = cum[s + 1] - c
        if f == 0:
            return -(i + 1)
        low, rng, pos = _push(low, rng, pos, out, c, f, rng >> b)
        if trace.size:
            trace[i] = 8 * pos
    return _finish(low, rng, pos, out)


@njit(cache=True)
def encode_conditional(symbols, cum, precision, out, trace):
    low = np.uint64(0)
    rng = np.uint64(0xFFFFFFFFFFFFFFFF)
    pos = 0
    b = np.uint64(precision)
    for i in range(symbols.size):
        s = symbols[i]
        c = cum[i, s]
        f = cum[i, s + 1] - c
        if f == 0:
            return -(i + 1)
        low, rng, pos = _push(low, rng, pos, out, c, f, rng >> b)
        if trace.size:
            trace[i] = 8 * pos
    return _finish(low, rng, pos, out)


@njit(cache=True)
def _fenwick_init(K, value):
    tree = np.zeros(K + 1, dtype=np.uint64)
    for i in range(1, K + 1):
        tree[i] += value
        j = i + (i & -i)
        if j <= K:
            tree[j] += tree[i]
    return tree


@njit(cache=True, inline="always")
def _fenwick_prefix(tree, s):
    # sum of frequencies of symbols 0..s-1
    acc = np.uint64(0)
    i = s
    while i > 0:
        acc += tree[i]
        i -= i & -i
    return acc


@njit(cache=True, inline="always")
def _fenwick_add(tree, s, delta):
    i = s + 1
    K = tree.size - 1
    while i <= K:
        tree[i] += delta
        i += i & -i


@njit(cache=True)
def encode_adaptive(symbols, K, increment, out, trace):
    # frequencies start at 1 (Laplace: c + 1; KT: 2c + 1) and grow by ``increment``
    tree = _fenwick_init(K, np.uint64(1))
    freq = np.ones(K, dtype=np.uint64)
    total = np.uint64(K)
    inc = np.uint64(increment)
    low = np.uint64(0)
    rng = np.uint64(0xFFFFFFFFFFFFFFFF)
    pos = 0
    for i in range(symbols.size):
        s = np.int64(symbols[i])
        if s >= K:
            return -(i + 1)
        c = _fenwick_prefix(tree, s)
        low, rng, pos = _push(low, rng, pos, out, c, freq[s],
                              rng // total)
        freq[s] += inc
        _fenwick_add(tree, s, inc)
        total += inc
        if trace.size:
            trace[i] = 8 * pos
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
    else:  # near the end of the buffer (only a corrupt stream gets here): zero fill
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
def decode_static(buf, n, cum, precision, guide, guide_shift, out):
    code, rng, bpos = _start(buf)
    total = np.uint64(1) << np.uint64(precision)
    gmax = guide.size - 1
    for i in range(n):
        r = rng >> np.uint64(precision)
        v = code // r
        if v >= total:
            return ERR_CORRUPT
        j = np.int64(v >> np.uint64(guide_shift))
        lo = guide[j]
        hi = guide[j + 1] if j < gmax else cum.size - 2
        # largest s in [lo, hi] with cum[s] <= v
        while lo < hi:
            mid = (lo + hi + 1) >> 1
            if cum[mid] <= v:
                lo = mid
            else:
                hi = mid - 1
        out[i] = lo
        code, rng, bpos = _pull(code, rng, bpos, buf, r, cum[lo], cum[lo + 1] - cum[lo])
    return bpos


@njit(cache=True)
def decode_conditional(buf, n, cum, precision, out):
    code, rng, bpos = _start(buf)
    total = np.uint64(1) << np.uint64(precision)
    K = cum.shape[1] - 1
    for i in range(n):
        r = rng >> np.uint64(precision)
        v = code // r
        if v >= total:
            return ERR_CORRUPT
        lo = 0
        hi = K - 1
        while lo < hi:
            mid = (lo + hi + 1) >> 1
            if cum[i, mid] <= v:
                lo = mid
            else:
                hi = mid - 1
        out[i] = lo
        code, rng, bpos = _pull(code, rng, bpos, buf, r, cum[i, lo], cum[i, lo + 1] - cum[i, lo])
    return bpos


@njit(cache=True)
def decode_adaptive(buf, n, K, increment, out):
    tree = _fenwick_init(K, np.uint64(1))
    freq = np.ones(K, dtype=np.uint64)
    total = np.uint64(K)
    inc = np.uint64(increment)
    code, rng, bpos = _start(buf)
    top_bit = 1
    while top_bit * 2 <= K:
        top_bit *= 2
    for i in range(n):
        r = rng // total
        v = code // r
        if v >= total:
            return ERR_CORRUPT
        # Fenwick descent: the largest s with prefix(s) <= v, and that prefix
        s = 0
        acc = np.uint64(0)
        step = top_bit
        while step > 0:
            nxt = s + step
            if nxt <= K and acc + tree[nxt] <= v:
                s = nxt
                acc += tree[nxt]
            step >>= 1
        out[i] = s
        code, rng, bpos = _pull(code, rng, bpos, buf, r, acc, freq[s])
        freq[s] += inc
        _fenwick_add(tree, s, inc)
        total += inc
    return bpos


# ------------------------------------------------------------------------ checks


@njit(cache=True)
def static_ideal_bits(symbols, neglog):
    """(sum of -log2 q^(x_i), -1), or (0, i) for the first symbol that cannot be coded.

    ``neglog[s]`` is -log2 q^(s), inf where the frequency is 0.
    """
    K = neglog.size
    total = 0.0
    for i in range(symbols.size):
        s = np.int64(symbols[i])
        if s < 0 or s >= K or neglog[s] == np.inf:
            return 0.0, i
        total += neglog[s]
    return total, -1


@njit(cache=True)
def conditional_ideal_bits(symbols, cum, precision):
    K = cum.shape[1] - 1
    total = 0.0
    for i in range(symbols.size):
        s = np.int64(symbols[i])
        if s < 0 or s >= K or cum[i, s + 1] == cum[i, s]:
            return 0.0, i
        total += precision - np.log2(np.float64(cum[i, s + 1] - cum[i, s]))
    return total, -1


@njit(cache=True)
def first_outside(symbols, K):
    """Index of the first symbol outside 0..K-1, or -1."""
    for i in range(symbols.size):
        s = np.int64(symbols[i])
        if s < 0 or s >= K:
            return i
    return -1
