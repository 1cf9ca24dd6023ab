"""Codes built from an order-m model Q: one Huffman code per context, and the
arithmetic coder reading the context's row.

Row convention (as everywhere in xentsim): Q has K^m rows; position t is coded with
row c_t = (x_{t-m}, ..., x_{t-1}) read as a base-K number, oldest symbol most
significant, positions before the start read as symbol 0.

Exact expectations. On a stationary source the pair (c_t, x_t) of a position t >= m is
distributed as the source's (m+1)-block law, so the expected cost per symbol there is
sum_w law_{m+1}(w) l(w) (w = c K + x); position t < m sees the zero-padded context, of
law law_{t+1}. ``expected_message_bits(source, n)`` adds these up exactly
(:func:`simulator.models.context.expected_context_message_bits`): it is what the
engine reports as ``expected_bits_per_symbol`` (times n).
"""

from __future__ import annotations

import math

import numpy as np
from bitarray import bitarray

from .._validate import UnencodableSymbolError, XentsimError, check_int
from ..distributions import symbol_dtype
from ..measures import check_chain
from ..models.context import ContextModel, context_indices, expected_context_message_bits
from .._lazy import Kernels
from .arithmetic import ArithmeticCode
from .huffman import huffman_lengths
from .prefix import (TABLE_BITS, PrefixStreamDecoder, PrefixStreamEncoder, _as_bits,
                     _as_symbols, padded_bytes)



def _context_kernels():
    from . import _context_kernels
    return _context_kernels


def _prefix_kernels():
    from . import _prefix_kernels
    return _prefix_kernels


CK = Kernels(_context_kernels)  # numba loads on the first kernel call
PK = Kernels(_prefix_kernels)

#: The decoder's per-context lookup tables hold at most this many int32 entries in all
#: (contexts times 2^T, 1 MiB): the decoder jumps between contexts at every symbol, so
#: the tables should stay in cache. With many contexts T shrinks and long codewords
#: take the (slower) canonical walk.
MAX_TABLE_ENTRIES = 1 << 18


def _check_message(symbols, K: int) -> np.ndarray:
    symbols = _as_symbols(symbols)
    if symbols.size and int(symbols.max()) >= K:
        i = int(np.argmax(symbols >= K))
        raise XentsimError(f"symbols[{i}] is {symbols[i]}, outside the alphabet 0..{K - 1}")
    return symbols


class ContextHuffmanCode:
    """One Huffman code per context of an order-m model ``Q`` (shape (K^m, K)).

    Row c gets the Huffman code of q(. | c) under the tie rule of
    :mod:`simulator.codes.huffman`, with canonical codewords; a row with one symbol of
    positive probability gets the empty codeword. A symbol with q(x | c) = 0 has no
    codeword in context c: encoding it raises :class:`UnencodableSymbolError`.

    Encoding is vectorised (the flat index c_t K + x_t of every position, then the
    prefix encoder); decoding walks the message with each context's lookup table
    (``_context_kernels.decode_from``).

    Examples
    --------
    >>> code = ContextHuffmanCode([[0.9, 0.05, 0.05], [0.2, 0.4, 0.4], [0.1, 0.1, 0.8]])
    >>> code.lengths.tolist()  # row c codes the symbol after symbol c
    [[1, 2, 2], [2, 2, 1], [2, 2, 1]]
    """

    name = "huffman"
    symbols_per_unit = 1
    slack_bits = (0.0, 0.0)  # the message is exactly its codewords

    def __init__(self, Q, *, name: str = "q"):
        self.Q, self.order = check_chain(Q, name)
        self.context_order = self.order
        S, K = self.Q.shape
        self.n_contexts, self.n_symbols = S, K
        uniq, inverse = np.unique(self.Q, axis=0, return_inverse=True)
        per_row = np.array([huffman_lengths(r) for r in uniq], dtype=np.int64)
        lengths = per_row[np.asarray(inverse).reshape(-1)]
        enc = self.Q > 0
        lengths[~enc] = 0
        lengths.setflags(write=False)
        #: codeword lengths, shape (K^m, K) (0 where q(x | c) = 0: no codeword)
        self.lengths = lengths
        self.encodable = enc
        self.max_length = int(lengths.max())
        self._lengths_flat = np.ascontiguousarray(lengths.reshape(-1))
        self._enc_flat = np.ascontiguousarray(enc.reshape(-1))
        bits = lengths.astype(np.float64)
        bits[~enc] = np.inf
        #: -log2-like cost table at flat index c K + x: the codeword length, inf where none
        self.bits_flat = bits.reshape(-1)
        self.bits_flat.setflags(write=False)
        self._build()

    # ------------------------------------------------------------------ tables

    def _build(self) -> None:
        S, K = self.n_contexts, self.n_symbols
        lengths, enc = self.lengths, self.encodable
        maxlen = max(self.max_length, 1)
        W = max(1, (maxlen + 63) // 64)
        rows, syms = np.nonzero(enc & (lengths > 0))
        L = lengths[rows, syms]
        order = np.lexsort((syms, L, rows))
        rows, syms, L = rows[order], syms[order], L[order]
        count = np.zeros((S, maxlen + 1), dtype=np.int64)
        np.add.at(count, (rows, L), 1)
        first_index = np.zeros((S, maxlen + 1), dtype=np.int64)
        first_index[:, 1:] = np.cumsum(count, axis=1)[:, :-1]
        sorted_syms = np.full((S, K), -1, dtype=np.int64)
        key = rows * (maxlen + 1) + L
        rank = np.arange(key.size) - np.searchsorted(key, key, side="left")
        pos_in_row = first_index[rows, L] + rank
        sorted_syms[rows, pos_in_row] = syms
        words = np.zeros((S * K, W), dtype=np.uint64)
        if maxlen <= 63:
            first = np.zeros((S, maxlen + 1), dtype=np.uint64)
            for length in range(2, maxlen + 1):
                first[:, length] = (first[:, length - 1] + count[:, length - 1].astype(np.uint64)) << np.uint64(1)
            words[rows * K + syms, W - 1] = first[rows, L] + rank.astype(np.uint64)
        else:  # codewords beyond 63 bits: Python integers, row by row (rare)
            for c in np.unique(rows):
                code = 0
                sel = np.flatnonzero(rows == c)
                firsts = [0] * (maxlen + 1)
                for length in range(2, maxlen + 1):
                    code = (code + int(count[c, length - 1])) << 1
                    firsts[length] = code
                for j in sel:
                    v = firsts[int(L[j])] + int(rank[j])
                    for w in range(W - 1, -1, -1):
                        words[c * K + syms[j], w] = v & 0xFFFFFFFFFFFFFFFF
                        v >>= 64
        self._words = words
        self._count, self._first_index, self._sorted_syms = count, first_index, sorted_syms
        single = np.full(S, -1, dtype=np.int64)
        one = enc.sum(axis=1) == 1
        single[one] = np.argmax(enc[one], axis=1)
        self._single = single
        T = max(1, min(TABLE_BITS, maxlen))
        while T > 1 and S << T > MAX_TABLE_ENTRIES:
            T -= 1
        table = np.zeros((S, 1 << T), dtype=np.int32)
        short = L <= T
        if short.any():
            r, s, ls = rows[short], syms[short], L[short]
            code = words[r * K + s, W - 1].astype(np.int64)
            starts = r * (1 << T) + (code << (T - ls))
            spans = np.int64(1) << (T - ls)
            idx = np.repeat(starts, spans) + (np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans))
            table.reshape(-1)[idx] = np.repeat((ls << 24) | s, spans)
        self._T, self._table = T, table

    # ------------------------------------------------------------------ coding

    def _flat(self, symbols) -> np.ndarray:
        return context_indices(_check_message(symbols, self.n_symbols), self.n_symbols, self.order)

    def encode(self, symbols) -> bitarray:
        """The codeword of each symbol in its context, concatenated (big-endian)."""
        symbols = _check_message(symbols, self.n_symbols)
        return self._encode_flat(context_indices(symbols, self.n_symbols, self.order))

    def decode(self, bits, n_symbols: int) -> np.ndarray:
        """Exactly ``n_symbols`` symbols, which must use every bit of ``bits``; a
        damaged stream raises XentsimError."""
        bits = _as_bits(bits)
        n = check_int(n_symbols, "n_symbols", minimum=0)
        out = np.empty(n, dtype=symbol_dtype(self.n_symbols))
        end, _ = CK.decode_from(padded_bytes(bits), len(bits), 0, 0, n, self.n_symbols,
                                self.n_contexts, self._single, self._table, self._T,
                                self._count, self._first_index, self._sorted_syms, out)
        if end == PK.ERR_SHORT:
            raise XentsimError(f"the bitstream ({len(bits)} bits) ended before {n} symbols were decoded")
        if end == PK.ERR_INVALID:
            raise XentsimError("the bitstream holds a bit pattern that is no codeword of its context's code")
        if end != len(bits):
            raise XentsimError(f"{len(bits) - end} bits are left over after decoding {n} symbols")
        return out

    # ------------------------------------------------------------------ Code interface

    def unit_bits(self, symbols) -> np.ndarray:
        """Codeword length of each symbol in its context, in bits."""
        return self._lengths_flat[self._flat(symbols)].astype(np.float64)

    def unit_law(self, source):
        """(law of (context, symbol) under the stationary ``source``, i.e. its
        (m+1)-block law, and the codeword lengths at flat index c K + x). A position's
        length depends on the past, so these units are not independent even for an
        i.i.d. source (the ``order`` in ``report()`` tells the engine)."""
        return np.asarray(source.block_law(self.order + 1), dtype=np.float64), self.bits_flat

    def expected_message_bits(self, source, n: int) -> float:
        """Exact E[bits] of an n-symbol message from the stationary ``source``, the
        first m symbols coded in their zero-padded contexts (module doc)."""
        return expected_context_message_bits(source.block_law, self.bits_flat,
                                             self.n_symbols, self.order, n)

    def expected_bits_per_symbol(self, source) -> float:
        """The stationary cost sum_w law_{m+1}(w) l(w): the limit of bits/symbol."""
        law, bits = self.unit_law(source)
        on = law > 0
        if not np.isfinite(bits[on]).all():
            return math.inf
        return math.fsum((law[on] * bits[on]).tolist())

    def report(self) -> dict:
        return {"order": self.order}

    # ------------------------------------------------------------------ streaming

    def encoder(self) -> PrefixStreamEncoder:
        """A chunk-by-chunk encoder giving ``encode``'s bits for any chunk sizes: it
        carries the last m symbols (zeros before the start) as the next chunk's context."""
        m, K = self.order, self.n_symbols
        carry = [np.zeros(m, dtype=np.int64)]

        def encode_chunk(symbols):
            symbols = _check_message(symbols, K)
            if m == 0:
                return self._encode_flat(context_indices(symbols, K, 0))
            joined = np.concatenate((carry[0], symbols.astype(np.int64, copy=False)))
            bits = self._encode_flat(context_indices(joined, K, m)[m:])
            carry[0] = joined[-m:].copy()
            return bits

        return PrefixStreamEncoder(encode_chunk)

    def decoder(self, n_symbols: int) -> PrefixStreamDecoder:
        """A decoder of an ``n_symbols``-symbol message fed in pieces (any pull sizes):
        the context carries over from one pull to the next."""
        ctx = [0]

        def pull_at(buf, nbits, pos, count, remaining):
            out = np.empty(count, dtype=symbol_dtype(self.n_symbols))
            end, ctx[0] = CK.decode_from(
                buf, nbits, pos, ctx[0], count, self.n_symbols, self.n_contexts, self._single,
                self._table, self._T, self._count, self._first_index, self._sorted_syms, out)
            if end == PK.ERR_SHORT:
                raise XentsimError(f"the bitstream ({nbits} bits) ended before "
                                   f"{count} symbols were decoded")
            if end == PK.ERR_INVALID:
                raise XentsimError("the bitstream holds a bit pattern that is no codeword "
                                   "of its context's code")
            return out, int(end)

        return PrefixStreamDecoder(n_symbols, pull_at)

    def _encode_flat(self, flat) -> bitarray:
        # flat: the index c_t K + x_t of every position
        total, bad = PK.total_bits(flat, self._lengths_flat, self._enc_flat)
        if total == PK.ERR_SYMBOL:
            c, s = divmod(int(flat[bad]), self.n_symbols)
            raise UnencodableSymbolError(
                f"symbol {s} (at position {bad}) has no codeword in context {c}: the model "
                f"gives q({s} | {c}) = 0, so its cross-entropy rate is infinite for this source"
            )
        bits = bitarray(int(total), endian="big")
        bits.setall(0)
        if total:
            buf = np.frombuffer(bits, dtype=np.uint8)
            kernel = PK.encode_short if self.max_length <= 56 else PK.encode
            kernel(flat, self._lengths_flat, self._words, buf)
            del buf
        return bits

    def __repr__(self) -> str:
        return (f"<ContextHuffmanCode order={self.order}: K={self.n_symbols}, "
                f"{self.n_contexts} contexts, max length {self.max_length}>")


class ContextArithmeticCode(ArithmeticCode):
    """The arithmetic coder with a context model: a fixed
    :class:`~simulator.models.context.ContextModel` (q^ quantised per row) or an
    :class:`~simulator.models.context.AdaptiveContextModel` (counts per context).

    The coder, its bitstream and its [-8, +1]-bit slack are the arithmetic coder's
    (:mod:`simulator.codes.arithmetic`); only the model differs. So is chunked coding:
    ``encoder()`` and ``decoder(n)`` (inherited) carry the context row and, for
    adaptive counts, every context's counts from one chunk to the next.
    """

    def __init__(self, model):
        if not hasattr(model, "order") or not callable(getattr(model, "tables", None)):
            raise XentsimError(f"model must be a context model with an order, got {model!r}")
        self.model = model
        self.q = None
        self.precision = getattr(model, "precision", None)
        self.model_name = model.name
        self.n_symbols = model.n_symbols
        self.order = self.context_order = model.order

    @classmethod
    def from_chain(cls, Q, precision: int | None = None):
        """The static context model of ``Q`` (rows quantised at ``precision``)."""
        return cls(ContextModel(Q, precision, name="q"))

    def _bits_flat(self):
        return getattr(self.model, "neglog_flat", None)

    def unit_law(self, source):
        """((m+1)-block law, -log2 q^(x | c) at c K + x) for a fixed model; None for
        adaptive counts."""
        bits = self._bits_flat()
        if bits is None:
            return None
        return np.asarray(source.block_law(self.order + 1), dtype=np.float64), bits

    def expected_message_bits(self, source, n: int):
        """Exact sum of E[-log2 q^(x_t | c_t)] over an n-symbol message (slack
        excluded); None for adaptive counts."""
        bits = self._bits_flat()
        if bits is None:
            return None
        return expected_context_message_bits(source.block_law, bits, self.n_symbols,
                                             self.order, n)

    def expected_bits_per_symbol(self, source) -> float:
        """H(mu, q^): the stationary cost per symbol of the fixed model (NaN for adaptive)."""
        law = self.unit_law(source)
        if law is None:
            return math.nan
        w, bits = law
        on = w > 0
        if not np.isfinite(bits[on]).all():
            return math.inf
        return math.fsum((w[on] * bits[on]).tolist())

    def quantisation_gap(self, source):
        return None  # see the engine: H(mu, q^) - H(mu, q) needs the source's rates

    def report(self) -> dict:
        return {"precision": self.precision, "model": self.model_name, "order": self.order}
