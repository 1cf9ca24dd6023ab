"""Canonical prefix (symbol) codes: the common machinery behind Huffman and Shannon.

A :class:`PrefixCode` is defined by its codeword lengths alone; codewords are assigned
canonically (shorter codewords first, ties by symbol index), so two codes with the same
lengths are the same code bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from bitarray import bitarray

from .._validate import UnencodableSymbolError, XentsimError, check_int, check_pmf
from . import _prefix_kernels as K_

#: Bits looked up at once by the decoder's table (2^TABLE_BITS entries at most).
TABLE_BITS = 12


def _as_symbols(symbols) -> np.ndarray:
    arr = np.asarray(symbols)
    if arr.ndim != 1:
        raise XentsimError(f"symbols must be a 1-D array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise XentsimError(f"symbols must be integers, got dtype {arr.dtype}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint8)
    if np.issubdtype(arr.dtype, np.signedinteger) and arr.min() < 0:
        i = int(np.argmin(arr))
        raise XentsimError(f"symbols[{i}] is {arr[i]}: symbols are 0..K-1")
    return np.ascontiguousarray(arr)


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
        Codeword length of each symbol; must satisfy Kraft's inequality.
    encodable : array_like of bool
        Which symbols have a codeword. A symbol with q(x) = 0 has none: encoding it
        raises :class:`UnencodableSymbolError`. An encodable symbol of length 0 is only
        allowed when it is the only one (the empty codeword: the decoder, which is
        given the number of symbols, needs no bits).
    name : str
        Shown in reports ("huffman", "shannon", ...).
    """

    def __init__(self, lengths, encodable, name: str = "prefix"):
        lengths = np.asarray(lengths, dtype=np.int64).copy()
        encodable = np.asarray(encodable, dtype=bool).copy()
        if lengths.ndim != 1 or lengths.shape != encodable.shape or lengths.size == 0:
            raise XentsimError("lengths and encodable must be 1-D arrays of the same size >= 1")
        if (lengths < 0).any():
            raise XentsimError("codeword lengths must be >= 0")
        if not encodable.any():
            raise XentsimError("a code needs at least one encodable symbol")
        lengths[~encodable] = 0
        n_enc = int(encodable.sum())
        if n_enc > 1 and (lengths[encodable] == 0).any():
            raise XentsimError("only a one-symbol code may have an empty codeword")
        if self._kraft(lengths, encodable) > 1:
            raise XentsimError("codeword lengths violate Kraft's inequality (sum 2^-l > 1)")
        lengths.setflags(write=False)
        encodable.setflags(write=False)
        self.name = name
        self.lengths = lengths
        self.encodable = encodable
        self.n_symbols = int(lengths.size)
        self.max_length = int(lengths.max())
        self._build_tables()

    # ------------------------------------------------------------------ properties

    @staticmethod
    def _kraft(lengths, encodable) -> float:
        ls = lengths[encodable]
        # exact: sum of 2^-l as a fraction with denominator 2^max
        m = int(ls.max())
        counts = np.bincount(ls, minlength=m + 1)
        num = sum(int(c) << (m - l) for l, c in enumerate(counts) if c)
        return num / (1 << m)

    @property
    def kraft_sum(self) -> float:
        """sum over encodable symbols of 2^-l(x); <= 1 for every prefix code."""
        return self._kraft(self.lengths, self.encodable)

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
        """Exact expected length in bits of an n-symbol message from p."""
        return n * self.expected_length(p)

    # ------------------------------------------------------------------ Code interface

    slack_bits = (0.0, 0.0)  # the message is exactly its codewords
    symbols_per_unit = 1

    def unit_bits(self, symbols) -> np.ndarray:
        """Codeword length of each symbol of a message, in bits."""
        return self.symbol_lengths(symbols).astype(np.float64)

    def unit_law(self, source):
        """(law of one symbol under ``source``, codeword lengths)."""
        return np.asarray(source.marginal(), dtype=np.float64), self.lengths.astype(np.float64)

    def expected_message_bits(self, source, n: int) -> float:
        return self.expected_message_bits_p(source.marginal(), n)

    def report(self) -> dict:
        return {}

    def symbol_lengths(self, symbols) -> np.ndarray:
        """The codeword length of each symbol of a message."""
        return self.lengths[_as_symbols(symbols)]

    def length_moments(self, symbols) -> tuple[int, float, float]:
        """(number of codewords, sum of lengths, sum of squared lengths) of a message,
        from symbol counts (no per-symbol temporary): the inputs of a confidence interval."""
        from ..distributions import symbol_counts

        counts = symbol_counts(_as_symbols(symbols), self.n_symbols)
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
        code = 0  # first codeword value of the current length (a Python int: may be long)
        for L in range(1, maxlen + 1):
            code = (code + int(count[L - 1])) << 1 if L > 1 else 0
            c = int(count[L])
            if c == 0:
                continue
            syms = order[first_index[L] : first_index[L] + c]
            if L <= 63:
                words[syms, W - 1] = np.uint64(code) + np.arange(c, dtype=np.uint64)
            else:
                for r, s in enumerate(syms):
                    v = code + r
                    for w in range(W - 1, -1, -1):
                        words[s, w] = v & 0xFFFFFFFFFFFFFFFF
                        v >>= 64
        self._words = words
        self._count = count
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

        out = np.empty(n, dtype=symbol_dtype(self.n_symbols))
        if self.max_length == 0:  # one-symbol code: the empty codeword
            out[:] = int(np.flatnonzero(self.encodable)[0])
            return out, pos
        end = K_.decode(
            buf, nbits, pos, n, self._table_sym, self._table_len, self._table_bits,
            self._count, self._first_index, self._sorted_syms, out,
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

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: K={self.n_symbols}, max length {self.max_length}>"
