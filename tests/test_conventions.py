"""Conventions of the symbol codes that the figures depend on, each pinned by a test.

Each test here was checked against a deliberate mutation of the convention it names
(applied, seen to fail, reverted):

- Huffman ties: a merged node taken before a leaf of equal weight;
- block weights: tuple products taken in base-K digit order instead of ascending order;
- Kraft: PrefixCode without its Kraft check, or with a floating one;
- the block code's unit: unit_bits per symbol, or with the partial block appended;
- a partial block: coded at the block code's rate, or left out of the expectation.
"""

import itertools

import numpy as np
import pytest

from simulator._validate import XentsimError
from simulator.codes import BlockHuffmanCode, HuffmanCode, PrefixCode, ShannonCode
from simulator.codes.huffman import huffman_lengths
from simulator.distributions import tuple_probabilities
from simulator.sources import IIDSource


def test_huffman_takes_a_leaf_before_a_merged_node_of_equal_weight():
    # .1 + .1 makes a node of weight .2 that ties with the leaves 1 and 2 (both .2),
    # and later a node .4 ties with leaf 0. Leaves first gives (2, 2, 2, 3, 3);
    # nodes first would give (1, 3, 2, 4, 4). Both are Huffman codes for q.
    q = [0.4, 0.2, 0.2, 0.1, 0.1]
    assert huffman_lengths(q).tolist() == [2, 2, 2, 3, 3]
    assert HuffmanCode(q).code_dict()[0].to01() == "00"


def test_block_tuple_weights_are_products_in_ascending_symbol_order_so_permutations_tie():
    q, k = np.array([0.1, 0.3, 0.6]), 3
    w = tuple_probabilities(q, k)
    for t in itertools.product(range(3), repeat=k):
        ref = _ascending_product(q, t)
        for perm in set(itertools.permutations(t)):
            index = int(np.ravel_multi_index(perm, (3,) * k))
            assert w[index] == ref  # bit for bit: every permutation ties exactly
    # The block code is the Huffman code of exactly these weights. (Taken in digit
    # order instead, 0.1 * 0.3 * 0.6 and 0.6 * 0.3 * 0.1 differ in the last bit here,
    # and three tuples change length.)
    code = BlockHuffmanCode(q, k)
    ref = np.array([_ascending_product(q, t) for t in itertools.product(range(3), repeat=k)])
    assert abs(ref.sum() - 1) <= 1e-12  # so the code takes them unnormalised
    assert code.lengths.tolist() == huffman_lengths(ref).tolist()


def _ascending_product(q, t):
    """q(t_1) ... q(t_k) multiplied left to right in ascending order of the symbols."""
    out = 1.0
    for s in sorted(t):
        out *= float(q[s])
    return out


def test_prefix_code_refuses_lengths_beyond_kraft_even_by_2_to_the_minus_60():
    for lengths in ([1, 1, 1], [1, 2, 2, 3], [1, 1, 60]):
        with pytest.raises(XentsimError, match="Kraft"):
            PrefixCode(lengths, [True] * len(lengths))
    # the Shannon lengths (1, 1, 57) of q = (1/2, 1/2, 1e-17) are refused with their cause
    with pytest.raises(XentsimError, match="more than 1.*Kraft"):
        ShannonCode([0.5, 0.5, 1e-17])


def test_block_code_unit_is_one_whole_block():
    q, k = [0.5, 0.3, 0.2], 3
    code = BlockHuffmanCode(q, k)
    x = np.array([2, 0, 1, 1, 1, 0, 2], dtype=np.uint8)  # two whole blocks and a tail of 1
    assert code.symbols_per_unit == k
    units = code.unit_bits(x)
    block_index = [2 * 9 + 0 * 3 + 1, 1 * 9 + 1 * 3 + 0]
    assert units.tolist() == [float(code.lengths[i]) for i in block_index]
    # the units and the tail's k = 1 codeword make up the real bitstream
    assert len(code.encode(x)) == units.sum() + HuffmanCode(q).lengths[2]
    law, lengths = code.unit_law(IIDSource([0.2, 0.3, 0.5]))
    assert law.size == lengths.size == 3**k
    assert lengths.tolist() == code.lengths.tolist()


def test_expected_bits_of_a_partial_block_use_the_k1_huffman_code_exactly():
    # All 2^7 messages of n = 7 symbols with k = 3 (two blocks and one tail symbol):
    # the expected length of the real bitstreams, weighted by p^n, is the formula
    # 2 E[l_3] + 1 E[l_1], where l_1 is the k = 1 Huffman code of q.
    p, q, k, n = np.array([0.7, 0.3]), [0.2, 0.8], 3, 7
    code = BlockHuffmanCode(q, k)
    measured = 0.0
    for x in itertools.product(range(2), repeat=n):
        x = np.array(x, dtype=np.uint8)
        measured += np.prod(p[x]) * len(code.encode(x))
    exact = 2 * code.expected_length(p) + HuffmanCode(q).expected_length(p)
    assert code.expected_message_bits(IIDSource(p), n) == pytest.approx(measured, rel=1e-12)
    assert code.expected_message_bits_p(p, n) == pytest.approx(exact, rel=1e-12)
    # the tail is not coded at the block rate: that would be 7/3 E[l_3]
    assert abs(measured - n / k * code.expected_length(p)) > 0.01


# --- mutation: arithmetic coder core (reference coder, interval arithmetic, refusals)

import math  # noqa: E402

from bitarray import bitarray  # noqa: E402

from simulator._validate import UnencodableSymbolError  # noqa: E402
from simulator.codes.arithmetic import ArithmeticCode, ReferenceCoder, decode, encode  # noqa: E402
from simulator.interfaces import Tables  # noqa: E402
from simulator.models.trained import ContextTables  # noqa: E402


class _TablesGiven:
    """A model that codes with exactly the tables it is given (any totals)."""

    def __init__(self, tables, K):
        self.t, self.n_symbols = tables, K

    def tables(self, n):
        return self.t


def _given(cum, row="const", precision=32, increment=0):
    cum = np.array(cum, dtype=np.uint64)
    cum = cum[None] if cum.ndim == 1 else cum
    return _TablesGiven(Tables(cum=cum, row=row, precision=precision, increment=increment),
                        cum.shape[1] - 1)


def test_a_symbol_of_q_zero_is_unencodable_by_symbol_and_position_and_its_neighbours_code():
    model = ArithmeticCode([0.0, 0.5, 0.5]).model
    for coder in (encode, ReferenceCoder.encode):
        with pytest.raises(UnencodableSymbolError, match=r"^symbol 0 \(at position 1\) has "
                                                         r"frequency 0: .* q\(0\) = 0"):
            coder(np.array([1, 0, 2]), model)
        with pytest.raises(XentsimError, match=r"^symbols\[1\] is 3, outside the model's "
                                               r"alphabet 0\.\.2$"):
            coder(np.array([1, 3, 2]), model)
        # symbol 1 follows the empty interval of symbol 0 in the table: it codes
        assert coder(np.array([1, 2, 1, 1]), model) == bitarray("01")


def test_expected_message_bits_ignore_symbols_that_neither_p_nor_q_can_emit():
    # q(0) = p(0) = 0: symbol 0 has infinite length but probability 0, so
    # E[length] = n H(p, q^) = 10 * 1 bit exactly
    code = ArithmeticCode([0.0, 0.5, 0.5])
    assert np.isinf(code.model.fixed_symbol_bits[0])
    assert code.expected_message_bits(IIDSource([0.0, 0.5, 0.5]), 10) == 10.0
    assert code.expected_message_bits(IIDSource([0.1, 0.45, 0.45]), 10) == math.inf


# Messages that drive the 64-bit interval onto the exact edge of each rule (found by
# solving for the tables; the comments give the state). Each stream is what both the
# reference coder and the compiled kernels write, and both decoders read it back.
_EDGES = {
    # step 2 computes low + r cum = 2^64 - 1 exactly: no carry (a carry needs 2^64)
    "low_plus_offset_is_2^64-1": (
        _given([[0, 2**24 - 1, 2**25 - 1, 2**32], [0, 257, 257 + 2**31, 2**32]], row="position"),
        [1, 1], "00000001"),
    # adaptive totals: step 2 leaves rng = 2^56 = TOP exactly, which needs no shift
    # (shifting would code the next symbols with 2^64 // total, not 2^56 // total)
    "rng_is_exactly_2^56": (
        _given([0, 2**26, 2**26 + 218203101, 1936156173], precision=None, increment=1),
        [1, 0, 1, 2, 0, 1, 0, 0], "000010001110110010110000011101"),
    # final interval [2^62 + 2^31, 2^63): its end 2^63 is excluded, so x = 3 2^61, m = 3
    "interval_end_excluded": (_given([0, 2**31 + 1, 2**32]), [0, 1], "011"),
    # the one-symbol stream of a frequency-1 symbol at the top: the target is
    # 2^32 - 1 - 1/(2^32 - 1), floor 2^32 - 2 (a float quotient would round it up)
    "target_just_below_a_boundary": (
        _given([0, 2**32 - 2, 2**32 - 1, 2**32]), [1], "1" * 31 + "0"),
    # the first target reads a window just above r cum[1]: r = rng // total must be
    # truncated (with rng / total the target falls to cum[1] - 1, symbol 0)
    "target_at_the_bottom_of_its_symbol": (
        _given([0, 2**16, 2**32]), [1, 0, 0, 0, 0], "0" * 16 + "1" * 32 + "0" * 16),
}


@pytest.mark.parametrize("edge", list(_EDGES))
def test_reference_coder_and_kernels_agree_on_the_exact_edges_of_the_interval_rules(edge):
    model, x, want = _EDGES[edge]
    x = np.array(x)
    assert encode(x, model) == bitarray(want)
    assert ReferenceCoder.encode(x, model) == bitarray(want)
    for dec in (decode, ReferenceCoder.decode):
        assert dec(bitarray(want), model, x.size).tolist() == x.tolist()


def test_the_reference_coder_gives_integer_arrays_also_for_an_empty_message():
    model = ArithmeticCode([0.5, 0.25, 0.25]).model
    bits, trace = ReferenceCoder.encode(np.zeros(0, dtype=np.int64), model, trace=True)
    assert len(bits) == 0 and trace.dtype == np.int64 and trace.size == 0
    assert encode(np.zeros(0, dtype=np.int64), model, trace=True)[1].dtype == np.int64
    for n, stream in ((0, bitarray()), (3, encode(np.array([0, 2, 1]), model))):
        y = ReferenceCoder.decode(stream, model, n)
        assert y.dtype == np.int64 and y.size == n


def test_mapped_decoders_name_a_context_without_a_row_garbage_and_a_stream_read_past_its_end():
    # order 1, rows for contexts 0 and 1 only: a decoded symbol 2 leads to a context
    # that no message can be in
    cum = np.array([[0, 100, 200, 256], [0, 50, 250, 256]], dtype=np.uint64)
    model = _TablesGiven(ContextTables(cum=cum, row="mapped", order=1, precision=8,
                                       contexts=np.array([0, 1], dtype=np.uint64),
                                       default_row=-1), 3)
    garbage = (r"^bits \(3 bits\) is not the encoding of any 3-symbol message under this model: "
               r"a target value falls outside the frequency total \(garbage\)$")
    # "100" with n = 51: both decoders stop once they have read 8 bytes past the
    # stream, which here comes before the walk reaches a context without a row
    past = (r"^bits \(3 bits\) is not the encoding of any 51-symbol message under this model: "
            r"it does not end where the decoded message's encoding ends \(truncated, "
            r"extended, or the wrong n\)$")
    for dec in (decode, ReferenceCoder.decode):
        with pytest.raises(XentsimError, match=garbage):
            dec(bitarray("111"), model, 3)  # 0.875: symbol 2 first, then context 2
        with pytest.raises(XentsimError, match=past):
            dec(bitarray("100"), model, 51)
