"""Block (extended) Huffman codes: Huffman over k-tuples, built from q^k.

A k-tuple (x_1, ..., x_k) is the symbol sum_j x_j K^(k-j) of the extended alphabet.
Its weight q(x_1)...q(x_k) is multiplied in ascending order of the symbols, so every
permutation of a tuple gets the bit-identical weight: ties that exist in q^k stay ties,
and the Huffman tie rule (see ``huffman``) decides them, not rounding.

A message whose length n is not a multiple of k ends in a partial block of r = n mod k
symbols. It is coded with the ordinary (k = 1) Huffman code of q, symbol by symbol,
and those bits are counted in the message like every other bit.

The coding unit (``symbols_per_unit`` = k) is one whole block: ``unit_bits`` returns
one entry per whole block, and ``expected_message_bits`` for n = bk + r symbols is
b E[l_k] + r E_p[l_1] exactly, l_1 being the k = 1 Huffman code of q.

The extended alphabet is limited to K^k <= 2^20 tuples; the limit is checked from k
and K before any power is formed, so a huge k is refused at once.
"""

from __future__ import annotations

import math

import numpy as np
from bitarray import bitarray

from .._validate import XentsimError, check_int, check_pmf
from ..distributions import tuple_probabilities
from .huffman import HuffmanCode
from .prefix import (PrefixStreamDecoder, PrefixStreamEncoder, _as_bits, _as_symbols,
                     check_code_pmf, check_symbols, padded_bytes)

#: Largest extended alphabet (number of k-tuples, K^k) a block code may be built on.
#: On K = 1 symbol (one tuple for every k), k itself is held to this limit.
MAX_BLOCK_ALPHABET = 1 << 20
_LIMIT_BITS = MAX_BLOCK_ALPHABET.bit_length() - 1  # 20


def check_block_size(K: int, k: int) -> int:
    """K^k, or a refusal naming k, K and the limit, decided before any big power is formed.

    For K >= 2, K^k <= 2^20 needs k <= 20, so a larger k is refused from its size alone
    (k log2 K is only formatted for the message); for k <= 20, K^k is computed exactly.
    """
    if K == 1:
        if k > MAX_BLOCK_ALPHABET:
            raise XentsimError(
                f"block size k={k} on K=1 symbol is above the limit of {MAX_BLOCK_ALPHABET} "
                f"(2^{_LIMIT_BITS}): use a smaller k"
            )
        return 1
    if k > _LIMIT_BITS or K**k > MAX_BLOCK_ALPHABET:
        raise XentsimError(
            f"block size k={k} on K={K} symbols gives K^k = 2^{k * math.log2(K):.6g} tuples, "
            f"above the limit of {MAX_BLOCK_ALPHABET} (2^{_LIMIT_BITS}): use a smaller k"
        )
    return K**k


class BlockHuffmanCode:
    """Huffman code over k-tuples built from q^k, plus the k = 1 code for a partial block.

    Examples
    --------
    >>> code = BlockHuffmanCode([0.9, 0.1], k=2)
    >>> code.block.lengths.tolist()
    [1, 3, 2, 3]
    """

    def __init__(self, q, k: int):
        q = check_pmf(q, "q")
        k = check_int(k, "block size k", minimum=1)
        check_block_size(q.size, k)
        self.name = "block-huffman"
        self.k = k
        self.n_symbols = q.size
        w = tuple_probabilities(q, k)
        # q^k can underflow to 0 for a tuple of tiny probabilities: such a tuple would
        # get no codeword although every symbol in it has one. Refuse rather than lose it.
        if ((w == 0) & (tuple_probabilities((q > 0).astype(float), k) > 0)).any():
            raise XentsimError(
                f"q^k underflows to 0 for some tuple at k={k}: q is too small for this block size"
            )
        self.block = HuffmanCode(w / w.sum() if abs(w.sum() - 1) > 1e-12 else w)
        self.single = HuffmanCode(q)
        self._powers = q.size ** np.arange(k - 1, -1, -1, dtype=np.int64)

    symbols_per_codeword = property(lambda self: self.k)

    # ------------------------------------------------------------------ Code interface

    slack_bits = (0.0, 0.0)  # the message is exactly its codewords
    symbols_per_unit = property(lambda self: self.k)

    def unit_bits(self, symbols) -> np.ndarray:
        """Codeword length of each whole block of a message (the tail is not a unit)."""
        return self.symbol_lengths(symbols).astype(np.float64)

    def unit_law(self, source):
        """(law of a k-tuple under ``source``, codeword lengths of the k-tuples; inf for a
        tuple without a codeword)."""
        return np.asarray(source.block_law(self.k), dtype=np.float64), self.block._unit_lengths()

    def expected_message_bits(self, source, n: int) -> float:
        return self.expected_message_bits_p(source.marginal(), n)

    def report(self) -> dict:
        return {"block": self.k}

    @property
    def kraft_sum(self) -> float:
        return self.block.kraft_sum

    @property
    def lengths(self) -> np.ndarray:
        """Codeword lengths of the k-tuples (base-K order)."""
        return self.block.lengths

    def _check_p(self, p) -> np.ndarray:
        return check_code_pmf(p, self.n_symbols)

    def expected_length(self, p) -> float:
        """E[l_k] in bits per block under p^k, exactly (inf if p can emit an uncodable tuple)."""
        p = self._check_p(p)
        w = tuple_probabilities(p, self.k)
        if (w[~self.block.encodable] > 0).any():
            return math.inf
        return float(np.dot(w, self.block.lengths))

    def length_variance(self, p) -> float:
        mean = self.expected_length(p)
        if math.isinf(mean):
            return math.inf
        w = tuple_probabilities(self._check_p(p), self.k)
        return float(np.dot(w, (self.block.lengths - mean) ** 2))

    def expected_bits_per_symbol(self, p) -> float:
        """E[l_k] / k: bits per symbol of a message made of whole blocks."""
        return self.expected_length(p) / self.k

    def expected_message_bits_p(self, p, n: int) -> float:
        """Exact expected bits of an n-symbol message: whole blocks plus the partial one."""
        nb, r = divmod(n, self.k)
        whole = nb * self.expected_length(p) if nb else 0.0  # (0 blocks cost 0, also when
        tail = r * self.single.expected_length(p) if r else 0.0  # a block costs inf)
        return whole + tail

    def _split(self, symbols: np.ndarray):
        """(base-K index of each whole block, the partial block), after refusing the first
        symbol outside 0..K-1 or without a codeword (q(x) = 0), by position and value."""
        check_symbols(symbols, self.n_symbols, self.single.encodable)
        nb = symbols.size // self.k
        whole = symbols[: nb * self.k].reshape(nb, self.k).astype(np.int64)
        return whole @ self._powers, symbols[nb * self.k :]

    def symbol_lengths(self, symbols) -> np.ndarray:
        """Length of each block's codeword (one entry per whole block)."""
        tuples, _ = self._split(_as_symbols(symbols))
        return self.block.lengths[tuples]

    def length_moments(self, symbols) -> tuple[int, float, float]:
        """(number of whole blocks, sum and sum of squares of their codeword lengths)."""
        tuples, _ = self._split(_as_symbols(symbols))
        return self.block.length_moments(tuples)

    def encode(self, symbols) -> bitarray:
        """The whole blocks' codewords, then the partial block's k = 1 codewords."""
        symbols = _as_symbols(symbols)
        tuples, tail = self._split(symbols)
        bits = self.block.encode(tuples)
        if tail.size:
            bits += self.single.encode(tail)
        return bits

    def decode(self, bits: bitarray, n_symbols: int) -> np.ndarray:
        bits = _as_bits(bits)
        n = check_int(n_symbols, "n_symbols", minimum=0)
        nb, r = divmod(n, self.k)
        buf = padded_bytes(bits)
        tuples, pos = self.block._decode_at(buf, len(bits), 0, nb)
        digits = (tuples.astype(np.int64)[:, None] // self._powers) % self.n_symbols
        tail, pos = self.single._decode_at(buf, len(bits), pos, r)
        if pos != len(bits):
            raise XentsimError(f"{len(bits) - pos} bits are left over after decoding {n} symbols")
        out = np.empty(n, dtype=tail.dtype)
        out[: nb * self.k] = digits.reshape(-1)
        out[nb * self.k :] = tail
        return out

    # ------------------------------------------------------------------ streaming

    def encoder(self) -> PrefixStreamEncoder:
        """A chunk-by-chunk encoder giving ``encode``'s bits. Every chunk but the last
        must hold a multiple of k symbols: a chunk that ends in a partial block ends the
        message (its r symbols are coded with the k = 1 code, as ``encode`` does), and a
        later non-empty chunk is refused."""
        ended = [False]

        def encode_chunk(symbols):
            if ended[0] and symbols.size:
                raise XentsimError(
                    f"a chunk of {symbols.size} symbols after a chunk that ended in a "
                    f"partial block: every chunk but the last must hold a multiple of "
                    f"k = {self.k} symbols")
            bits = self.encode(symbols)  # a refused chunk is not coded: nothing ends
            ended[0] = symbols.size % self.k != 0
            return bits

        return PrefixStreamEncoder(encode_chunk)

    def decoder(self, n_symbols: int) -> PrefixStreamDecoder:
        """A decoder of an ``n_symbols``-symbol message fed in pieces; every pull but
        the one that ends the message takes a multiple of k symbols."""
        return PrefixStreamDecoder(n_symbols, self._pull_at)

    def _pull_at(self, buf, nbits, pos, count, remaining):
        nb, r = divmod(count, self.k)
        if r and count != remaining:
            raise XentsimError(
                f"count is {count}: a pull of a block code takes a multiple of k = {self.k} "
                f"symbols, except the last one ({remaining} symbols are left)")
        tuples, pos = self.block._decode_at(buf, nbits, pos, nb)
        tail, pos = self.single._decode_at(buf, nbits, pos, r)
        out = np.empty(count, dtype=tail.dtype)
        if nb:
            digits = out[: nb * self.k].reshape(nb, self.k)
            t = tuples.astype(np.int64)
            for j in range(self.k - 1, -1, -1):  # least significant digit last
                digits[:, j] = t % self.n_symbols
                t //= self.n_symbols
        out[nb * self.k :] = tail
        return out, pos

    def __repr__(self) -> str:
        return f"<BlockHuffmanCode k={self.k}: K={self.n_symbols}, {self.n_symbols**self.k} tuples>"
