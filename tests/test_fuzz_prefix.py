"""Fuzzing the prefix decoders with damaged streams, for codes built from extreme q.

For Huffman, Shannon and block Huffman codes, built from q with values as small as
5e-324 and 1e-300, as large as 1 - 1e-16, and K from 1 to 2^16, every case encodes a
random message, damages the bits (bit flips, truncation, extension, a bit inserted or
deleted, a wrong symbol count, or a stream of random bytes) and decodes. Each decode
must either

- return exactly ``n`` symbols that re-encode to exactly the damaged stream (the
  undetectable case: the damage turned it into the stream of another message), or
- raise :class:`XentsimError`;

it never crashes, hangs or returns a symbol that the stream does not encode. An
undamaged stream must decode to the message itself. The loop draws from one seeded
numpy Generator, so every run checks the same cases; each code is built once per q.
"""

import numpy as np
import pytest
from bitarray import bitarray

from simulator._validate import XentsimError
from simulator.codes import BlockHuffmanCode, HuffmanCode, ShannonCode

#: Cases (one message, one damage, one decode) per code family in a normal run.
CASES = 10_000
MAX_SYMBOLS = 40


def _extreme_qs() -> list[np.ndarray]:
    rng = np.random.default_rng(20261130)
    wide = rng.dirichlet(np.full(1 << 16, 0.05))  # K = 2^16, values down to ~1e-300
    return [
        np.array([1e-300, 1 - 1e-16]),
        np.array([1.0, 1e-300]),  # q(0) = 1 beside a tiny value (sum 1 + 1e-300)
        np.array([5e-324, 1.0]),  # the smallest double: a 1074-bit Shannon codeword
        np.array([1.0]),  # K = 1: the empty codeword
        np.array([0.0, 1.0, 0.0]),  # one symbol in the support
        np.array([0.5, 0.5, 0.0]),
        np.full(3, 1 / 3),
        np.append(np.ldexp(1.0, -np.arange(1, 1074)), 2.0**-1073),  # lengths 1..1073
        rng.dirichlet(np.full(8, 0.05)),
        rng.dirichlet(np.full(200, 0.3)),
        wide / wide.sum(),
    ]


def _block(q):
    """A block code with as large a k as the 2^20 limit and underflow allow (k <= 3)."""
    for k in (3, 2, 1):
        if q.size**k <= 1 << 16:
            try:
                return BlockHuffmanCode(q, k)
            except XentsimError as exc:  # q^k underflows for k > 1: a refusal, by design
                assert "underflows" in str(exc)
    raise AssertionError("even k = 1 was refused")


FAMILIES = {"huffman": HuffmanCode, "shannon": ShannonCode, "block-huffman": _block}


def _damage(bits: bitarray, n: int, rng: np.random.Generator) -> tuple[bitarray, int]:
    """A damaged copy of ``bits`` and the symbol count to decode it with."""
    kind = int(rng.integers(8))
    out = bits.copy()
    if kind == 0:  # undamaged
        return out, n
    if kind == 1 and len(out):  # flip 1 to 3 bits
        for i in rng.integers(0, len(out), int(rng.integers(1, 4))):
            out.invert(int(i))
    elif kind == 2 and len(out):  # truncate
        del out[len(out) - int(rng.integers(1, min(len(out), 64) + 1)):]
    elif kind == 3:  # extend with random bits
        out.extend(rng.integers(0, 2, int(rng.integers(1, 65))).tolist())
    elif kind == 4:  # insert or delete one bit
        i = int(rng.integers(0, len(out) + 1))
        if len(out) and rng.integers(2):
            del out[min(i, len(out) - 1)]
        else:
            out.insert(i, int(rng.integers(2)))
    elif kind == 5:  # the wrong number of symbols
        return out, max(0, n + int(rng.choice([-2, -1, 1, 2])))
    elif kind == 6:  # random bytes, cut to any bit length
        out = bitarray(endian="big")
        out.frombytes(rng.bytes(int(rng.integers(0, 160))))
        del out[len(out) - int(rng.integers(0, min(len(out), 8) + 1)):]
        return out, int(rng.integers(0, MAX_SYMBOLS + 1))
    else:  # damage at the very end: the last bit flipped (or a bit added to an empty stream)
        if len(out):
            out.invert(len(out) - 1)
        else:
            out.append(1)
    return out, n


@pytest.mark.parametrize("family", list(FAMILIES))
def test_damaged_streams_decode_to_a_message_that_re_encodes_to_them_or_are_refused(family):
    rng = np.random.default_rng(7 + list(FAMILIES).index(family))
    codes = []
    for q in _extreme_qs():
        try:
            codes.append((FAMILIES[family](q), np.flatnonzero(q > 0)))
        except XentsimError as exc:  # only Shannon may refuse, for a q that sums above 1
            assert family == "shannon" and "more than 1" in str(exc), exc
    assert len(codes) >= len(_extreme_qs()) - 1
    outcomes = {"exact": 0, "refused": 0, "undetected": 0}
    for case in range(CASES):
        code, support = codes[case % len(codes)]
        n = int(rng.integers(0, MAX_SYMBOLS + 1))
        # symbols uniform over q's support, so the longest codewords occur too
        x = support[rng.integers(0, support.size, n)].astype(np.int64)
        bits = code.encode(x)
        damaged, m = _damage(bits, n, rng)
        try:
            y = code.decode(damaged, m)
        except XentsimError:
            outcomes["refused"] += 1
            assert (damaged, m) != (bits, n), "an undamaged stream was refused"
            continue
        assert y.shape == (m,) and y.dtype.kind == "u"
        assert code.encode(y) == damaged  # every returned symbol is in the stream
        if (damaged, m) == (bits, n):
            assert np.array_equal(y, x)
            outcomes["exact"] += 1
        else:
            outcomes["undetected"] += 1
    # all three outcomes occur, so each assertion above was exercised
    assert min(outcomes.values()) > 100, outcomes
