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

Chunked messages (``arithmetic.ArithmeticStreamEncoder`` / ``ArithmeticStreamDecoder``):
``encode`` and ``decode`` take a ``state`` array (``STATE_*``: low or code, rng, pos or
bpos, row, symbols so far) and resume from it and save into it; with ``state`` None
they code a whole message, the same loop run as one chunk. The streaming encoder
keeps in ``out`` only the bytes from the last byte below 0xFF on (all a carry can
reach), the streaming decoder only the fed bytes from its window on.

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
NEED_MORE = -3  # streaming decoder: the next symbol needs bytes that have not been fed

# A chunked message keeps the coder's state between calls in a uint64 array:
STATE_LOW = 0  # encoder: low
STATE_CODE = 0  # decoder: code = window - low
STATE_RNG = 1  # rng
STATE_POS = 2  # encoder: pos, the bytes shifted out, counted from out[0] of the next call
STATE_BPOS = 2  # decoder: bpos, the next byte to read, counted from buf[0] of the next call
STATE_ROW = 3  # the row of the next symbol
STATE_T = 4  # symbols coded so far in the message
STATE_DONE = 5  # decoder: symbols decoded by the last call
STATE_SIZE = 6


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
def encode(symbols, cum, precision, position, contexts, tree, freq, totals, inc, out, trace,
           state):
    """Encode ``symbols`` into ``out``. Symbols must lie in 0..K-1.

    ``state`` None: a whole message, from the initial interval to the termination;
    returns the length in bits. ``state`` (uint64 array of ``STATE_SIZE``): one chunk of
    a message (see ``STATE_*``), resumed from and saved back into ``state``; out[:pos]
    must hold the bytes a carry can still reach (the caller keeps them from the previous
    chunk, with pos = state[STATE_POS]); returns pos after the chunk, with no
    termination (``finish``). Errors (the state is then not saved): -(i + 1) when
    symbol i of this call has frequency 0, or ERR_OVERFLOW. ``trace[i]`` (when not
    empty) receives 8 pos after symbol i."""
    K = cum.shape[1] - 1
    if state is None:
        low = np.uint64(0)
        rng = np.uint64(0xFFFFFFFFFFFFFFFF)
        pos = 0
        row = 0
        t = 0
    else:
        low = state[STATE_LOW]
        rng = state[STATE_RNG]
        pos = np.int64(state[STATE_POS])
        row = np.int64(state[STATE_ROW])
        t = np.int64(state[STATE_T])
    b = np.uint64(precision)
    limit = out.size - 12  # room for the 4 look-ahead stores and the 8 final bytes
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
            row = t + i + 1
        if contexts is not None:
            row = (row * K + s) % contexts
    if state is None:
        return _finish(low, rng, pos, out)
    state[STATE_LOW] = low
    state[STATE_RNG] = rng
    state[STATE_POS] = np.uint64(pos)
    state[STATE_ROW] = np.uint64(row)
    state[STATE_T] = np.uint64(t + symbols.size)
    return pos


@njit(cache=True)
def finish(state, out):
    """The termination of a chunked message (``_finish``) from its saved ``state``;
    out[:pos] holds the bytes a carry can reach. Returns 8 pos + m."""
    return _finish(state[STATE_LOW], state[STATE_RNG], np.int64(state[STATE_POS]), out)


# ------------------------------------------------------------------------ decoding


@njit(cache=True, inline="always")
def _start(buf):
    code = np.uint64(0)
    for j in range(8):
        code = (code << np.uint64(8)) | np.uint64(buf[j])
    return code, np.uint64(0xFFFFFFFFFFFFFFFF), 8


@njit(cache=True, inline="always")
def _pull(code, rng, bpos, buf, r, c, f):
    rng = r * f
    return _pull_k(code - r * c, rng, bpos, buf, _shift_count(rng))


@njit(cache=True, inline="always")
def _pull_k(code, rng, bpos, buf, k):
    # code and rng narrowed to the symbol; shift k bytes of buf into the window
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
           guide, guide_shift, out, state, last):
    """Decode n symbols into ``out``.

    ``state`` None: a whole stream of ``nbits`` bits (``buf``: its bytes and 8 zero
    bytes); returns bpos >= 8 when it ends exactly as the encoding of the decoded
    message (``_check_end``), ERR_CORRUPT or ERR_END.

    ``state`` (uint64 array of ``STATE_SIZE``): the next n symbols of a chunked
    stream, resumed from and saved back into ``state``; ``buf`` holds the fed bytes
    from the window's first byte on (bpos = state[STATE_BPOS] indexes it). ``last``:
    buf also holds the stream's end and 8 zero bytes (reading past them is ERR_END, as
    for a whole stream); otherwise a symbol whose renormalisation would read a byte
    beyond buf stops the call with NEED_MORE, the state saved before that symbol
    (no byte that was not fed is ever read into the window). Returns 0 when all n
    were decoded; state[STATE_DONE] counts the symbols decoded by this call. ``nbits``
    is not used (the end check is ``_check_end``, called on its own)."""
    if state is None:
        code, rng, bpos = _start(buf)
        row = 0
        t = 0
    else:
        code = state[STATE_CODE]
        rng = state[STATE_RNG]
        bpos = np.int64(state[STATE_BPOS])
        row = np.int64(state[STATE_ROW])
        t = np.int64(state[STATE_T])
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
        if state is None:  # a whole stream (the check as in the loop of old, for speed)
            out[i] = s
            code, rng, bpos = _pull(code, rng, bpos, buf, r, c, f)
            if bpos > buf.size:  # past the stream and its padding: cannot end validly
                return ERR_END
        else:
            nrng = r * f
            k = _shift_count(nrng)
            if bpos + k > buf.size:  # the window would read past buf
                if last:  # past the stream and its padding: cannot end validly
                    return ERR_END
                state[STATE_CODE] = code
                state[STATE_RNG] = rng
                state[STATE_BPOS] = np.uint64(bpos)
                state[STATE_ROW] = np.uint64(row)
                state[STATE_T] = np.uint64(t + i)
                state[STATE_DONE] = np.uint64(i)
                return NEED_MORE
            out[i] = s
            code, rng, bpos = _pull_k(code - r * c, nrng, bpos, buf, k)
        if tree is not None:
            freq[row, s] += inc
            _fenwick_add(tree, row, s, inc)
            totals[row] += inc
        if position is not None:
            row = t + i + 1
        if contexts is not None:
            row = (row * K + s) % contexts
    if state is None:
        return _check_end(buf, nbits, code, rng, bpos)
    state[STATE_CODE] = code
    state[STATE_RNG] = rng
    state[STATE_BPOS] = np.uint64(bpos)
    state[STATE_ROW] = np.uint64(row)
    state[STATE_T] = np.uint64(t + n)
    state[STATE_DONE] = np.uint64(n)
    return 0


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


# ------------------------------------------------------------------ mapped contexts
#
# Tables with row "mapped" (``simulator.models.trained.ContextTables``): the context of
# position t is c_t = (c_{t-1} K + x_{t-1}) mod K^order (positions before the start read
# as 0), computed as (c - x_{t-1-order} K^(order-1)) K + x_{t-1} without a division, and
# mapped to a row through an open-addressing hash table ``table`` of (key, row) pairs,
# key = c + 1 (0 marks an empty slot), size a power of two 2^(64 - shift), at most half
# full. Fixed rows (``tree`` None): a context missing from the table is coded with
# ``default_row`` (-1: it cannot be coded). Adaptive rows: a missing context gets the
# next of ``pool`` rows, inserted into the table; every row starts from ``cum[0]`` and
# holds only its increments, in a Fenwick tree ``tree`` (pool, K + 1) with the plain
# increments ``ext`` (pool, K) and their sum ``tot`` (pool,), all zero at the start.
# The adaptive decoder finds the symbol by comparing r * cum with ``code`` (the largest
# s with r cum(s) <= code is the largest s with cum(s) <= code // r); the fixed-row
# decoder divides once and looks the target's top bits up in a per-row guide.

ERR_POOL = -(1 << 61)  # encoder: more distinct contexts than the pool's rows
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _slot(table, key, shift):
    """The slot holding ``key``, or the empty slot where it would go (linear probing)."""
    mask = table.shape[0] - 1
    j = np.int64((key * _GOLDEN) >> np.uint64(shift))
    while True:
        k = table[j, 0]
        if k == key or k == 0:
            return j
        j = (j + 1) & mask


@njit(cache=True)
def map_insert(table, shift, contexts):
    """Put contexts[j] -> row j into an empty table."""
    for j in range(contexts.size):
        key = contexts[j] + np.uint64(1)
        i = _slot(table, key, shift)
        table[i, 0] = key
        table[i, 1] = np.uint64(j)


@njit(cache=True)
def count_contexts(symbols, K, order):
    """The number of distinct contexts of a message (module convention), with a hash
    table that doubles whenever it is half full."""
    n = symbols.size
    if n == 0:
        return 0
    if order == 0:
        return 1
    Ku = np.uint64(K)
    kk1 = np.uint64(1)
    for _ in range(order - 1):
        kk1 *= Ku
    bits = 10
    table = np.zeros((1 << bits, 2), dtype=np.uint64)
    count = 0
    ctx = np.uint64(0)
    for i in range(n):
        key = ctx + np.uint64(1)
        j = _slot(table, key, 64 - bits)
        if table[j, 0] == 0:
            table[j, 0] = key
            count += 1
            if 2 * count > table.shape[0]:  # grow: re-insert every key
                old = table
                bits += 1
                table = np.zeros((1 << bits, 2), dtype=np.uint64)
                for m in range(old.shape[0]):
                    if old[m, 0] != 0:
                        table[_slot(table, old[m, 0], 64 - bits), 0] = old[m, 0]
        drop = np.uint64(symbols[i - order]) if i >= order else np.uint64(0)
        ctx = (ctx - drop * kk1) * Ku + np.uint64(symbols[i])
    return count


@njit(cache=True, inline="always")
def _mapped_row(table, shift, ctx, default_row, adaptive, used, pool):
    """(row, used): the row of context ``ctx``; -1 when it has none and none can be
    given (fixed tables without a default row, or the adaptive pool is exhausted)."""
    key = ctx + np.uint64(1)
    j = _slot(table, key, shift)
    if table[j, 0] == key:
        return np.int64(table[j, 1]), used
    if not adaptive:
        return np.int64(default_row), used
    if used >= pool:
        return np.int64(-1), used
    table[j, 0] = key
    table[j, 1] = np.uint64(used)
    return np.int64(used), used + 1


@njit(cache=True)
def encode_mapped(symbols, K, order, cum, precision, table, shift, default_row,
                  tree, ext, tot, inc, pool, out):
    """Encode with mapped context rows; returns the length in bits, -(i + 1) when
    symbol i cannot be coded (outside 0..K-1, frequency 0, or a context without a row),
    ERR_POOL or ERR_OVERFLOW."""
    Ku = np.uint64(K)
    kk1 = np.uint64(1)
    for _ in range(order - 1):
        kk1 *= Ku
    low = np.uint64(0)
    rng = np.uint64(0xFFFFFFFFFFFFFFFF)
    pos = 0
    b = np.uint64(precision)
    limit = out.size - 12
    adaptive = tree is not None
    total0 = cum[0, K]
    used = 0
    ctx = np.uint64(0)
    for i in range(symbols.size):
        s = np.int64(symbols[i])
        if s < 0 or s >= K:
            return -(i + 1)
        row, used2 = _mapped_row(table, shift, ctx, default_row, adaptive, used, pool)
        if row < 0:
            if adaptive and used >= pool:
                return ERR_POOL
            return -(i + 1)
        used = used2
        if tree is None:
            c = cum[row, s]
            f = cum[row, s + 1] - c
            r = rng >> b
        else:
            c = cum[0, s] + _fenwick_prefix(tree, row, s)
            f = cum[0, s + 1] - cum[0, s] + np.uint64(ext[row, s])
            r = rng // (total0 + tot[row])
        if f == 0:
            return -(i + 1)
        if pos > limit:
            return ERR_OVERFLOW
        low, rng, pos = _push(low, rng, pos, out, c, f, r)
        if tree is not None:
            ext[row, s] += inc
            _fenwick_add(tree, row, s, inc)
            tot[row] += inc
        if order > 0:
            drop = np.uint64(symbols[i - order]) if i >= order else np.uint64(0)
            ctx = (ctx - drop * kk1) * Ku + np.uint64(s)
    return _finish(low, rng, pos, out)


@njit(cache=True)
def row_guides(cum, precision, g, guide):
    """Fill ``guide`` (R, 2^g + 1) for fixed rows of total 2^precision: guide[row, j] is
    the largest s in 0..K-1 with cum[row, s] <= j 2^(precision - g), and
    guide[row, 2^g] = K - 1. The symbol of a target v with top g bits j then lies in
    guide[row, j] .. guide[row, j + 1]."""
    K = cum.shape[1] - 1
    sh = np.uint64(precision - g)
    for row in range(cum.shape[0]):
        s = 0
        for j in range(1 << g):
            t = np.uint64(j) << sh
            while s + 1 < K and cum[row, s + 1] <= t:
                s += 1
            guide[row, j] = s
        guide[row, 1 << g] = K - 1


@njit(cache=True, error_model="numpy")
def decode_mapped(buf, nbits, n, K, order, cum, precision, table, shift, default_row,
                  tree, ext, tot, inc, pool, guide, guide_bits, out):
    """Decode n symbols with mapped context rows into ``out``. Returns bpos >= 8,
    ERR_CORRUPT (a target outside the total, or a context that cannot get a row) or
    ERR_END. Fixed rows: the target v = code // r (r = rng >> precision) and the row's
    ``guide`` (``row_guides``, g = ``guide_bits``) narrow the search to
    guide[row, j] .. guide[row, j + 1], j = v >> (precision - g): one symbol for most
    targets, since a frequent symbol spans many of the 2^g slices. (Divisors are never
    zero: r >= 2^24 and adaptive totals are positive, so numba's zero test is left out.)"""
    code, rng, bpos = _start(buf)
    Ku = np.uint64(K)
    kk1 = np.uint64(1)
    for _ in range(order - 1):
        kk1 *= Ku
    b = np.uint64(precision)
    adaptive = tree is not None
    total0 = cum[0, K]
    top_bit = 1
    while top_bit * 2 <= K:
        top_bit *= 2
    gs = np.uint64(precision - guide_bits)
    used = 0
    ctx = np.uint64(0)
    for i in range(n):
        row, used = _mapped_row(table, shift, ctx, default_row, adaptive, used, pool)
        if row < 0:
            return ERR_CORRUPT
        if tree is None:
            r = rng >> b
            v = code // r
            if v >> b:  # v >= 2^precision
                return ERR_CORRUPT
            j = np.int64(v >> gs)
            lo = np.int64(guide[row, j])
            hi = np.int64(guide[row, j + 1])
            while lo < hi:  # largest s with cum[s] <= v
                mid = (lo + hi + 1) >> 1
                if cum[row, mid] <= v:
                    lo = mid
                else:
                    hi = mid - 1
            s = lo
            c = np.uint64(cum[row, s])
            f = np.uint64(cum[row, s + 1]) - c
        else:
            r = rng // (total0 + tot[row])
            if code >= r * (total0 + tot[row]):
                return ERR_CORRUPT
            # Fenwick descent over cum0(s) + E(s), E the increments below s
            s = 0
            e = np.uint64(0)
            step = top_bit
            while step > 0:
                nxt = s + step
                if nxt <= K:
                    t = e + np.uint64(tree[row, nxt])
                    if r * (cum[0, nxt] + t) <= code:
                        s = nxt
                        e = t
                step >>= 1
            c = cum[0, s] + e
            f = cum[0, s + 1] - cum[0, s] + np.uint64(ext[row, s])
        out[i] = s
        code, rng, bpos = _pull(code, rng, bpos, buf, r, c, f)
        if bpos > buf.size:
            return ERR_END
        if tree is not None:
            ext[row, s] += inc
            _fenwick_add(tree, row, s, inc)
            tot[row] += inc
        if order > 0:
            drop = np.uint64(out[i - order]) if i >= order else np.uint64(0)
            ctx = (ctx - drop * kk1) * Ku + np.uint64(s)
    return _check_end(buf, nbits, code, rng, bpos)


# ------------------------------------------------------------------ sparse adaptive rows
#
# Adaptive mapped tables for large context spaces keep, per context, only the symbols
# seen after it: a segment of entries (symbol << 32 | increments), sorted by symbol, in
# a shared pool. cum(s) = cum0[s] + E(s), E(s) the increments of the context's symbols
# below s; freq(s) = cum0[s + 1] - cum0[s] + its increments. A context's row lives in
# its hash slot: (key, segment start, size << 32 | slots, increments total), one cache
# line with the key. A segment starts with 4 slots and moves to one twice as large when
# full, so a context with m symbols has used fewer than 4 m slots in all, and the pool
# needs fewer than 4 P slots for P distinct (context, symbol) pairs. The table and the
# pool grow as needed, up to ``max_rows`` contexts and ``max_pairs`` pairs (beyond them:
# ERR_POOL when encoding, ERR_CORRUPT when decoding). ``stats`` receives (contexts,
# pairs).

_SEG0 = 4
_LO32 = np.uint64(0xFFFFFFFF)


@njit(cache=True)
def _grow_rows(table):
    """A row table twice as large holding every row of ``table``."""
    bits = 1
    while (1 << bits) < 2 * table.shape[0]:
        bits += 1
    new = np.zeros((1 << bits, 4), dtype=np.uint64)
    for m in range(table.shape[0]):
        if table[m, 0] != 0:
            j = _slot(new, table[m, 0], 64 - bits)
            for c in range(4):
                new[j, c] = table[m, c]
    return new, 64 - bits


@njit(cache=True)
def _grow1(a, size):
    b = np.zeros(size, dtype=a.dtype)
    b[: a.size] = a
    return b


_NEED_ROWS = 1  # _sparse_run: the row table must grow before symbol w[7]
_NEED_SEG = 2  # _sparse_run: the segment pool must grow before symbol w[7]


@njit(cache=True)
def sparse_code(symbols, buf, nbits, n, K, order, cum, inc, max_rows, max_pairs, out, stats):
    """One loop for both directions: ``buf`` None encodes ``symbols`` into the bytes
    ``out``; ``symbols`` None decodes ``buf`` (``nbits`` bits) into the symbols ``out``
    (numba compiles each direction separately: the ``is None`` tests are resolved at
    compile time). Returns as encode_mapped / decode_mapped.

    The coding loop (``_sparse_run``) takes the row table and the pool as arguments and
    returns here whenever one of them must grow, so that no array variable is rebound
    inside it (a rebound array costs numba reference-count calls on every symbol)."""
    tbits = 10
    table = np.zeros((1 << tbits, 4), dtype=np.uint64)
    shift = 64 - tbits
    seg_limit = 4 * max_pairs
    pcap = min(max(seg_limit, 1), 4096)
    seg = np.zeros(pcap, dtype=np.uint64)
    # w: coder state (code or low, rng, bpos or pos), context, rows used, pool top,
    # pairs, next symbol
    w = np.zeros(8, dtype=np.uint64)
    w[1] = np.uint64(0xFFFFFFFFFFFFFFFF)
    if buf is not None:
        code, rng, bpos = _start(buf)
        w[0] = code
        w[1] = rng
        w[2] = np.uint64(bpos)
    while True:
        res = _sparse_run(symbols, buf, n, K, order, cum, inc, max_rows, max_pairs,
                          table, shift, seg, w, out)
        if res == _NEED_ROWS:
            table, shift = _grow_rows(table)
        elif res == _NEED_SEG:
            pcap = min(2 * pcap, seg_limit)
            seg = _grow1(seg, pcap)
        else:
            break
    if res < 0:
        return res
    stats[0] = np.int64(w[4])
    stats[1] = np.int64(w[6])
    if buf is not None:
        return _check_end(buf, nbits, w[0], w[1], np.int64(w[2]))
    return _finish(w[0], w[1], np.int64(w[2]), out)


@njit(cache=True, error_model="numpy")
def _sparse_run(symbols, buf, n, K, order, cum, inc, max_rows, max_pairs, table, shift, seg, w, out):
    """Code symbols w[7] .. n-1 (see sparse_code); returns 0 when done, an error code,
    or _NEED_ROWS / _NEED_SEG with ``w`` holding the state before the symbol that needs
    the larger table or pool. Before each symbol, the table has room for one more row
    below 3/4 full and the pool has room for the largest segment a move can ask for
    (max(4, 2 K) slots), unless the pool is at its limit 4 max_pairs."""
    Ku = np.uint64(K)
    kk1 = np.uint64(1)
    for _ in range(order - 1):
        kk1 *= Ku
    total0 = cum[0, K]
    seg_limit = 4 * max_pairs
    pcap = seg.size
    reserve = max(_SEG0, 2 * K)
    code = w[0]
    low = w[0]
    rng = w[1]
    bpos = np.int64(w[2])
    pos = np.int64(w[2])
    ctx = w[3]
    used = np.int64(w[4])
    top = np.int64(w[5])
    pairs = np.int64(w[6])
    limit = 0
    if symbols is not None:
        limit = out.size - 12
    for i in range(np.int64(w[7]), n):
        if top + reserve > pcap and pcap < seg_limit:
            res = _NEED_SEG
        elif 4 * (used + 1) > 3 * table.shape[0]:
            res = _NEED_ROWS
        else:
            res = 0
        if res != 0:
            w[0] = code if buf is not None else low
            w[1] = rng
            w[2] = np.uint64(bpos if buf is not None else pos)
            w[3] = ctx
            w[4] = np.uint64(used)
            w[5] = np.uint64(top)
            w[6] = np.uint64(pairs)
            w[7] = np.uint64(i)
            return res
        # ---- the context's row (its hash slot)
        key = ctx + np.uint64(1)
        j = _slot(table, key, shift)
        if table[j, 0] != key:
            if used >= max_rows:
                if buf is not None:
                    return ERR_CORRUPT
                return ERR_POOL
            table[j, 0] = key
            used += 1
        st = np.int64(table[j, 1])
        sz = np.int64(table[j, 2] >> np.uint64(32))
        total = total0 + table[j, 3]
        r = rng // total
        E = np.uint64(0)
        k = 0
        found = False
        s = 0
        if buf is not None:
            if code >= r * total:
                return ERR_CORRUPT
            # the first seen symbol whose interval ends above the target ...
            lo_s = 0
            while k < sz:
                e = seg[st + k]
                sj = np.int64(e >> np.uint64(32))
                E1 = E + (e & _LO32)
                if r * (cum[0, sj + 1] + E1) > code:
                    break
                E = E1
                lo_s = sj + 1
                k += 1
            if k < sz:  # ... is the symbol when its interval also starts at or below it
                sj = np.int64(seg[st + k] >> np.uint64(32))
                if r * (cum[0, sj] + E) <= code:
                    s = sj
                    found = True
            if not found:  # a symbol not seen in this context: in [lo_s, next seen - 1]
                hi_s = np.int64(seg[st + k] >> np.uint64(32)) - 1 if k < sz else K - 1
                while lo_s < hi_s:
                    mid = (lo_s + hi_s + 1) >> 1
                    if r * (cum[0, mid] + E) <= code:
                        lo_s = mid
                    else:
                        hi_s = mid - 1
                s = lo_s
        if symbols is not None:
            s = np.int64(symbols[i])
            if s < 0 or s >= K:
                return -(i + 1)
            su = np.uint64(s) << np.uint64(32)
            while k < sz:
                e = seg[st + k]
                if e >= su:
                    found = (e >> np.uint64(32)) == np.uint64(s)
                    break
                E += e & _LO32
                k += 1
        c = cum[0, s] + E
        f = cum[0, s + 1] - cum[0, s]
        if found:
            f += seg[st + k] & _LO32
        if buf is not None:
            out[i] = s
            code, rng, bpos = _pull(code, rng, bpos, buf, r, c, f)
            if bpos > buf.size:
                return ERR_END
        if symbols is not None:
            if f == 0:
                return -(i + 1)
            if pos > limit:
                return ERR_OVERFLOW
            low, rng, pos = _push(low, rng, pos, out, c, f, r)
        # ---- update: add inc to s in this row (insert s at k when new)
        table[j, 3] += inc
        if found:
            seg[st + k] += inc
        else:
            if pairs >= max_pairs:
                if buf is not None:
                    return ERR_CORRUPT
                return ERR_POOL
            pairs += 1
            slots = np.int64(table[j, 2] & _LO32)
            if sz == slots:  # move the row to a segment twice as large
                ncap = _SEG0 if sz == 0 else 2 * sz
                if top + ncap > seg_limit:
                    if buf is not None:
                        return ERR_CORRUPT
                    return ERR_POOL
                for m in range(sz):
                    seg[top + m] = seg[st + m]
                st = top
                table[j, 1] = np.uint64(top)
                slots = ncap
                top += ncap
            for m in range(sz, k, -1):
                seg[st + m] = seg[st + m - 1]
            seg[st + k] = (np.uint64(s) << np.uint64(32)) | inc
            table[j, 2] = (np.uint64(sz + 1) << np.uint64(32)) | np.uint64(slots)
        if order > 0:
            drop = np.uint64(0)
            if buf is not None:
                if i >= order:
                    drop = np.uint64(out[i - order])
            if symbols is not None:
                if i >= order:
                    drop = np.uint64(symbols[i - order])
            ctx = (ctx - drop * kk1) * Ku + np.uint64(s)
    w[0] = code if buf is not None else low
    w[1] = rng
    w[2] = np.uint64(bpos if buf is not None else pos)
    w[3] = ctx
    w[4] = np.uint64(used)
    w[5] = np.uint64(top)
    w[6] = np.uint64(pairs)
    w[7] = np.uint64(n)
    return 0
