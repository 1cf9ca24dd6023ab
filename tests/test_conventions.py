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
