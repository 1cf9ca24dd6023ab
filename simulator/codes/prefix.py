"""Canonical prefix (symbol) codes: the common machinery behind Huffman and Shannon.

A :class:`PrefixCode` is defined by its codeword lengths alone; codewords are assigned
canonically (shorter codewords first, ties by symbol index), so two codes with the same
lengths are the same code bit for bit.

Kraft's inequality, sum_x 2^-l(x) <= 1, is checked exactly: the sum is a fraction with
denominator 2^max(l), computed in Python integers. A floating sum would round
1 + 2^-57 to 1.0 and accept lengths such as (1, 1, 57), which no prefix code has.
"""

from __future__ import annotations

import math

import numpy as np
from bitarray import bitarray

from .._validate import UnencodableSymbolError, XentsimError, check_int, check_memory, check_pmf
from .._lazy import Kernels


def _kernels():
    from . import _prefix_kernels
    return _prefix_kernels


K_ = Kernels(_kernels)  # numba loads on the first kernel call

#: Bits looked up at once by the decoder's table (2^TABLE_BITS entries at most).
TABLE_BITS = 12

#: Longest codeword a PrefixCode accepts, in bits. A Shannon code built from binary64
#: values never needs more than 1074 bits (q(x) = 2^-1074, the smallest positive double).
MAX_CODEWORD_BITS = 4096


def _as_symbols(symbols) -> np.ndarray:
    """A message as a contiguous, native-byte-order integer array with no negative entry."""
    arr = np.asarray(symbols)
    if arr.ndim != 1:
        raise XentsimError(f"symbols must be a 1-D array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise XentsimError(f"symbols must be integers, got dtype {arr.dtype}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint8)
    if not arr.dtype.isnative:  # e.g. '>i4' on a little-endian machine: same values
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if np.issubdtype(arr.dtype, np.signedinteger) and arr.min() < 0:
        i = int(np.flatnonzero(arr < 0)[0])
        raise XentsimError(f"symbols[{i}] is {arr[i]}: symbols are 0..K-1")
    return np.ascontiguousarray(arr)


def check_symbols(symbols: np.ndarray, n_symbols: int, encodable=None) -> None:
    """Refuse the first symbol outside 0..K-1 (or, given ``encodable``, without a
    codeword), naming its position and value. ``symbols`` comes from ``_as_symbols``."""
    if symbols.size == 0:
        return
    if int(symbols.max()) >= n_symbols:
        i = int(np.flatnonzero(symbols >= n_symbols)[0])
        raise XentsimError(
            f"symbols[{i}] is {symbols[i]}, outside the alphabet 0..{n_symbols - 1}"
        )
    if encodable is not None and not encodable.all():
        bad = ~encodable[symbols]
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            s = int(symbols[i])
            raise UnencodableSymbolError(
                f"symbol {s} (at position {i}) has no codeword: the code was built from "
                f"a q with q({s}) = 0, so H(p,q) is infinite for any p that can emit it"
            )


def kraft_fraction(lengths: np.ndarray, encodable: np.ndarray) -> tuple[int, int]:
    """(num, m) with sum over encodable x of 2^-l(x) = num / 2^m exactly (m = max l)."""
    ls = np.asarray(lengths)[np.asarray(encodable, dtype=bool)]
    m = int(ls.max())
    counts = np.bincount(ls, minlength=m + 1)
    return sum(int(c) << (m - l) for l, c in enumerate(counts.tolist()) if c), m


def kraft_excess_text(num: int, m: int) -> str:
    """num / 2^m - 1 (> 0) as text: "2^-57" when it is a power of two, else "about 2^-56.4"."""
    e = num - (1 << m)
    if e & (e - 1) == 0:
        return f"2^{e.bit_length() - 1 - m}"
    return f"about 2^{math.log2(e) - m:.1f}"


def kraft_overflow(lengths: np.ndarray, encodable: np.ndarray) -> np.ndarray:
    """The symbols that find no free codeword when codewords are handed out in canonical
    order (by length, then symbol): empty exactly when Kraft's inequality holds."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.lexsort((np.arange(lengths.size), lengths))
    order = order[np.asarray(encodable, dtype=bool)[order]]
    m = int(lengths[order].max())
    room = 1 << m  # free space, in units of 2^-m
    ls = lengths[order].tolist()
    for j, L in enumerate(ls):
        room -= 1 << (m - L)
        if room < 0:
            return order[j:]
    return order[:0]


def _as_bits(bits) -> bitarray:
    if not isinstance(bits, bitarray):
        raise XentsimError(f"bits must be a bitarray, got {type(bits).__name__}")
    if bits.endian != "big":
        raise XentsimError("bits must be a big-endian bitarray (as encode returns)")
    return bits


def check_code_pmf(p, n_symbols: int) -> np.ndarray:
    """A validated p on the same alphabet as the code, or a clear error."""
    p = check_pmf(p, "p")
    if p.size != n_symbols:
        raise XentsimError(f"p has {p.size} symbols but the code has {n_symbols}")
    return p


def padded_bytes(bits: bitarray) -> np.ndarray:
    """The stream's bytes followed by 8 zero bytes, so decoders may read ahead."""
    out = np.zeros((len(bits) + 7) // 8 + 8, dtype=np.uint8)
    out[: (len(bits) + 7) // 8] = np.frombuffer(bits.tobytes(), dtype=np.uint8)
    return out


class PrefixCode:
    """A canonical prefix code on the symbols 0..K-1.

    Parameters
    ----------
    lengths : array_like of int
        Codeword length of each symbol, 0..MAX_CODEWORD_BITS; the lengths of the
        encodable symbols must satisfy Kraft's inequality exactly (see the module doc),
        otherwise the code is refused and the symbols that find no codeword are named.
    encodable : array_like of bool
        Which symbols have a codeword. A symbol with q(x) = 0 has none: encoding it
        raises :class:`UnencodableSymbolError`. An encodable symbol of length 0 is only
        allowed when it is the only one (the empty codeword: the decoder, which is
        given the number of symbols, needs no bits).
    name : str
        Shown in reports ("huffman", "shannon", ...).
    """

    def __init__(self, lengths, encodable, name: str = "prefix"):
        raw = np.asarray(lengths)
        if raw.dtype.kind not in "iuf" or (raw.dtype.kind == "f" and not (
                np.isfinite(raw).all() and (raw == np.round(raw)).all())):
            raise XentsimError(f"lengths must be whole numbers of bits, got {raw!r}")
        encodable = np.asarray(encodable, dtype=bool).copy()
        if raw.ndim != 1 or raw.shape != encodable.shape or raw.size == 0:
            raise XentsimError("lengths and encodable must be 1-D arrays of the same size >= 1")
        too_long = f"is above the limit of {MAX_CODEWORD_BITS} bits"
        for bad, rule in ((raw < 0, "must be >= 0"), (raw > MAX_CODEWORD_BITS, too_long)):
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise XentsimError(f"lengths[{i}] is {raw[i]}: a codeword length {rule}")
        lengths = raw.astype(np.int64)
        if not encodable.any():
            raise XentsimError("a code needs at least one encodable symbol")
        lengths[~encodable] = 0
        n_enc = int(encodable.sum())
        empty = encodable & (lengths == 0)
        if n_enc > 1 and empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise XentsimError(
                f"lengths[{i}] is 0 but {n_enc} symbols have codewords: only a one-symbol "
                "code may have an empty codeword (it would be a prefix of every other)"
            )
        num, m = kraft_fraction(lengths, encodable)
        if num > 1 << m:
            over = kraft_overflow(lengths, encodable)
            shown = ", ".join(f"{int(x)} (length {int(lengths[x])})" for x in over[:5])
            more = f" and {over.size - 5} more" if over.size > 5 else ""
            raise XentsimError(
                f"codeword lengths violate Kraft's inequality: sum 2^-l = 1 + "
                f"{kraft_excess_text(num, m)} > 1 (exact), so no prefix code has them; "
                f"handed out shortest first, no codeword is left for "
                f"symbol{'s' if over.size > 1 else ''} {shown}{more}"
            )
        lengths.setflags(write=False)
        encodable.setflags(write=False)
        self.name = name
        self.lengths = lengths
        self.encodable = encodable
        self.n_symbols = int(lengths.size)
        self.max_length = int(lengths.max())
        self.min_length = int(lengths[encodable].min())
        self._build_tables()

    # ------------------------------------------------------------------ properties

    @property
    def kraft_sum(self) -> float:
        """sum over encodable symbols of 2^-l(x), rounded to the nearest float for display
        (the constructor checks the exact sum <= 1; 1.0 here may hide 1 - 2^-60)."""
        num, m = kraft_fraction(self.lengths, self.encodable)
        return num / (1 << m)

    def codeword(self, symbol: int) -> bitarray:
        """The codeword of one symbol, as a bitarray."""
        s = check_int(symbol, "symbol", minimum=0, maximum=self.n_symbols - 1)
        if not self.encodable[s]:
            raise UnencodableSymbolError(f"symbol {s} has no codeword (q({s}) = 0)")
        L = int(self.lengths[s])
        value = 0
        for w in self._words[s]:
            value = (value << 64) | int(w)
        out = bitarray(endian="big")
        if L:
            out.extend(format(value, f"0{L}b"))
        return out

    def code_dict(self) -> dict:
        """{symbol: codeword} for every encodable symbol (for bitarray and inspection)."""
        return {int(s): self.codeword(int(s)) for s in np.flatnonzero(self.encodable)}

    # ------------------------------------------------------------------ expectations

    def _check_p(self, p) -> np.ndarray:
        return check_code_pmf(p, self.n_symbols)

    def expected_length(self, p) -> float:
        """E_p[l(X)] = sum_x p(x) l(x) in bits, exactly; inf if p puts mass where the
        code has no codeword."""
        p = self._check_p(p)
        if (p[~self.encodable] > 0).any():
            return math.inf
        return float(np.dot(p, self.lengths))

    def length_variance(self, p) -> float:
        """Var_p[l(X)] in bits^2 (inf if p puts mass on an unencodable symbol)."""
        mean = self.expected_length(p)
        if math.isinf(mean):
            return math.inf
        p = self._check_p(p)
        return float(np.dot(p, (self.lengths - mean) ** 2))

    # Uniform interface with the block code: one codeword per symbol here.
    symbols_per_codeword = 1

    def expected_bits_per_symbol(self, p) -> float:
        return self.expected_length(p)

    def expected_message_bits_p(self, p, n: int) -> float:
        """Exact expected length in bits of an n-symbol message from p (0 when n = 0,
        also when a symbol p can emit has no codeword)."""
        return n * self.expected_length(p) if n else 0.0

    # ------------------------------------------------------------------ Code interface

    slack_bits = (0.0, 0.0)  # the message is exactly its codewords
    symbols_per_unit = 1

    def unit_bits(self, symbols) -> np.ndarray:
        """Codeword length of each symbol of a message, in bits."""
        return self.symbol_lengths(symbols).astype(np.float64)

    def unit_law(self, source):
        """(law of one symbol under ``source``, codeword lengths); a symbol without a
        codeword (q(x) = 0) has length inf, so a source that can emit it costs inf."""
        return np.asarray(source.marginal(), dtype=np.float64), self._unit_lengths()

    def _unit_lengths(self) -> np.ndarray:
        return np.where(self.encodable, self.lengths.astype(np.float64), np.inf)

    def expected_message_bits(self, source, n: int) -> float:
        return self.expected_message_bits_p(source.marginal(), n)

    def report(self) -> dict:
        return {}

    def symbol_lengths(self, symbols) -> np.ndarray:
        """The codeword length of each symbol of a message."""
        symbols = _as_symbols(symbols)
        check_symbols(symbols, self.n_symbols, self.encodable)
        return self.lengths[symbols]

    def length_moments(self, symbols) -> tuple[int, float, float]:
        """(number of codewords, sum of lengths, sum of squared lengths) of a message,
        from symbol counts (no per-symbol temporary): the inputs of a confidence interval."""
        from ..distributions import symbol_counts

        symbols = _as_symbols(symbols)
        check_symbols(symbols, self.n_symbols)
        counts = symbol_counts(symbols, self.n_symbols)
        if counts[~self.encodable].any():
            check_symbols(symbols, self.n_symbols, self.encodable)  # names the position
        L = self.lengths.astype(np.float64)
        return int(counts.sum()), float(counts @ L), float(counts @ (L * L))

    # ------------------------------------------------------------------ tables

    def _build_tables(self) -> None:
        lengths, enc = self.lengths, self.encodable
        maxlen = self.max_length
        W = max(1, (maxlen + 63) // 64)
        words = np.zeros((self.n_symbols, W), dtype=np.uint64)
        # canonical order: by length, then symbol index
        order = np.lexsort((np.arange(self.n_symbols), lengths))
        order = order[enc[order]]
        ls = lengths[order]
        count = np.bincount(ls, minlength=maxlen + 1).astype(np.int64)
        count[0] = 0
        first_index = np.zeros(maxlen + 2, dtype=np.int64)
        first_index[1:] = np.cumsum(np.bincount(ls, minlength=maxlen + 1))
        first_index = first_index[:-1]
        # inner[l]: depth-l nodes that are proper prefixes of longer codewords (the
        # decoder's walk refuses any other prefix at once; see _prefix_kernels.decode)
        inner = np.zeros(maxlen + 1, dtype=np.int64)
        for L in range(maxlen - 1, -1, -1):
            inner[L] = (int(count[L + 1]) + int(inner[L + 1]) + 1) // 2
        mask = (1 << 64) - 1
        code = 0  # first codeword value of the current length (a Python int: may be long)
        for L in range(1, maxlen + 1):
            code = (code + int(count[L - 1])) << 1 if L > 1 else 0
            c = int(count[L])
            if c == 0:
                continue
            syms = order[first_index[L] : first_index[L] + c]
            # codewords code, code + 1, ..., code + c - 1: the low 64-bit word wraps at
            # most once (c < 2^64), carrying 1 into the words above it
            low0 = np.uint64(code & mask)
            low = low0 + np.arange(c, dtype=np.uint64)  # modulo 2^64
            words[syms, W - 1] = low
            if W > 1:
                high = code >> 64
                plain = [(high >> (64 * j)) & mask for j in range(W - 2, -1, -1)]
                carried = [((high + 1) >> (64 * j)) & mask for j in range(W - 2, -1, -1)]
                words[syms, : W - 1] = np.where(
                    (low < low0)[:, None], np.array(carried, dtype=np.uint64),
                    np.array(plain, dtype=np.uint64),
                )
        self._words = words
        self._count = count
        self._inner = inner
        self._first_index = first_index
        self._sorted_syms = order.astype(np.int64)
        # decoding table over the first T bits
        T = max(1, min(TABLE_BITS, maxlen))
        table_sym = np.zeros(1 << T, dtype=np.int64)
        table_len = np.zeros(1 << T, dtype=np.int64)
        short = order[(lengths[order] >= 1) & (lengths[order] <= T)]
        if short.size:
            ls_short = lengths[short]
            starts = words[short, W - 1].astype(np.int64) << (T - ls_short)
            spans = np.int64(1) << (T - ls_short)
            idx = np.repeat(starts, spans) + (
                np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans)
            )
            table_sym[idx] = np.repeat(short, spans)
            table_len[idx] = np.repeat(ls_short, spans)
        self._table_bits = T
        self._table_sym = table_sym
        self._table_len = table_len

    # ------------------------------------------------------------------ coding

    def _message_bits(self, symbols: np.ndarray) -> int:
        total, bad = K_.total_bits(symbols, self.lengths, self.encodable)
        if total == K_.ERR_SYMBOL:
            s = int(symbols[bad])
            if s >= self.n_symbols:
                raise XentsimError(
                    f"symbols[{bad}] is {s}, outside the alphabet 0..{self.n_symbols - 1}"
                )
            raise UnencodableSymbolError(
                f"symbol {s} (at position {bad}) has no codeword: the code was built from "
                f"a q with q({s}) = 0, so H(p,q) is infinite for any p that can emit it"
            )
        return int(total)

    def encode(self, symbols) -> bitarray:
        """Encode a message; returns a big-endian bitarray of exactly sum l(x_i) bits."""
        symbols = _as_symbols(symbols)
        nbits = self._message_bits(symbols)
        bits = bitarray(nbits, endian="big")
        bits.setall(0)
        if nbits:
            buf = np.frombuffer(bits, dtype=np.uint8)
            kernel = K_.encode_short if self.max_length <= 56 else K_.encode
            kernel(symbols, self.lengths, self._words, buf)
            del buf  # release the exported buffer so the bitarray stays resizable
        return bits

    def _decode_at(self, buf: np.ndarray, nbits: int, pos: int, n: int) -> tuple[np.ndarray, int]:
        from ..distributions import symbol_dtype

        if self.max_length == 0:  # one-symbol code: the empty codeword
            dtype = symbol_dtype(self.n_symbols)
            check_memory(n * dtype.itemsize, f"n_symbols = {n}",
                         "decode fewer symbols at a time")
            return np.full(n, int(np.flatnonzero(self.encodable)[0]),
                           dtype=symbol_dtype(self.n_symbols)), pos
        if n > (nbits - pos) // self.min_length:  # refused before allocating n symbols
            raise XentsimError(
                f"the bitstream ({nbits} bits) ended before {n} symbols were decoded: "
                f"{nbits - pos} bits hold at most {(nbits - pos) // self.min_length} "
                f"codewords of >= {self.min_length} bits"
            )
        out = np.empty(n, dtype=symbol_dtype(self.n_symbols))
        end = K_.decode(
            buf, nbits, pos, n, self._table_sym, self._table_len, self._table_bits,
            self._count, self._inner, self._first_index, self._sorted_syms, out,
        )
        if end == K_.ERR_SHORT:
            raise XentsimError(f"the bitstream ({nbits} bits) ended before {n} symbols were decoded")
        if end == K_.ERR_INVALID:
            raise XentsimError("the bitstream holds a bit pattern that is no codeword of this code")
        return out, int(end)

    def decode(self, bits: bitarray, n_symbols: int) -> np.ndarray:
        """Decode exactly ``n_symbols`` symbols, which must use every bit of ``bits``."""
        bits = _as_bits(bits)
        n = check_int(n_symbols, "n_symbols", minimum=0)
        out, end = self._decode_at(padded_bytes(bits), len(bits), 0, n)
        if end != len(bits):
            raise XentsimError(
                f"{len(bits) - end} bits are left over after decoding {n} symbols"
            )
        return out

    # ------------------------------------------------------------------ streaming

    def encoder(self) -> "PrefixStreamEncoder":
        """A chunk-by-chunk encoder (:class:`~simulator.interfaces.StreamEncoder`): its
        chunks' bits, concatenated, are ``encode`` of the whole message."""
        return PrefixStreamEncoder(self.encode)

    def decoder(self, n_symbols: int) -> "PrefixStreamDecoder":
        """A decoder of an ``n_symbols``-symbol message fed in pieces
        (:class:`~simulator.interfaces.StreamDecoder`)."""
        return PrefixStreamDecoder(n_symbols, self._pull_at)

    def _pull_at(self, buf, nbits, pos, count, remaining):
        return self._decode_at(buf, nbits, pos, count)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: K={self.n_symbols}, max length {self.max_length}>"


def _in_chunk(exc: XentsimError, start: int) -> XentsimError:
    """The same error, saying where the chunk it names positions in begins."""
    return type(exc)(f"{exc} (position within the chunk starting at symbol {start})")


class PrefixStreamEncoder:
    """Chunk-by-chunk encoder for codes whose bits are final as soon as they are
    written (prefix, block and per-context prefix codes): ``push`` returns the chunk's
    codewords, so ``need_bits`` is the number of bits handed out so far.

    ``encode_chunk(symbols) -> bitarray`` codes one chunk; a code that carries state
    between chunks (a context, a partial block) keeps it in that callable.
    """

    def __init__(self, encode_chunk):
        self._encode = encode_chunk
        self.need_bits = 0
        self.pushed = 0  # symbols pushed so far
        self._finished = False

    def push(self, symbols) -> bitarray:
        if self._finished:
            raise XentsimError("push after finish: the message has ended")
        symbols = _as_symbols(symbols)
        try:
            bits = self._encode(symbols)
        except XentsimError as exc:
            raise _in_chunk(exc, self.pushed) from None
        self.pushed += symbols.size
        self.need_bits += len(bits)
        return bits

    def finish(self) -> bitarray:
        """Nothing is held back: the remaining bits are none."""
        self._finished = True
        return bitarray(endian="big")


class PrefixStreamDecoder:
    """Decoder of an n-symbol message fed in pieces; it keeps only the fed bits not yet
    decoded (whole consumed bytes are dropped after each ``pull``).

    ``pull_at(buf, nbits, pos, count, remaining) -> (symbols, end)`` decodes ``count``
    symbols from bit ``pos`` of the padded buffer ``buf`` holding ``nbits`` bits
    (``remaining`` symbols are left in the message before this pull).
    """

    def __init__(self, n_symbols: int, pull_at):
        self.n_symbols = check_int(n_symbols, "n_symbols", minimum=0)
        self._pull_at = pull_at
        self._bits = bitarray(endian="big")
        self._pos = 0  # next bit to decode, in self._bits
        self._remaining = self.n_symbols
        self._last = False

    def feed(self, bits, *, last: bool = False) -> None:
        bits = _as_bits(bits)
        if self._last:
            raise XentsimError("bits fed after the stream was marked complete (last=True)")
        if not isinstance(last, (bool, np.bool_)):
            raise XentsimError(f"last must be a bool, got {last!r}")
        self._bits += bits
        self._last = bool(last)

    def pull(self, count: int) -> np.ndarray:
        count = check_int(count, "count", minimum=0)
        if count > self._remaining:
            raise XentsimError(f"count is {count}, but only {self._remaining} of the "
                               f"message's {self.n_symbols} symbols are left")
        nbits = len(self._bits)
        out, end = self._pull_at(padded_bytes(self._bits), nbits, self._pos, count,
                                 self._remaining)
        self._remaining -= count
        whole = end // 8  # drop the decoded whole bytes
        if whole:
            del self._bits[: 8 * whole]
        self._pos = end - 8 * whole
        return out

    def close(self) -> None:
        if self._remaining:
            raise XentsimError(f"{self._remaining} of {self.n_symbols} symbols were not decoded")
        if not self._last:
            raise XentsimError("the stream was not marked complete (feed(..., last=True))")
        if self._pos != len(self._bits):
            raise XentsimError(f"{len(self._bits) - self._pos} bits are left over after "
                               f"decoding {self.n_symbols} symbols")
