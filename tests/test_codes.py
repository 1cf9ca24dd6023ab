"""Symbol codes built from q: optimality, bounds, Kraft, exact lengths, round trips."""

import math

import numpy as np
import pytest
from bitarray import bitarray
from bitarray.util import huffman_code
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simulator._validate import UnencodableSymbolError, XentsimError
from simulator.codes import BlockHuffmanCode, HuffmanCode, PrefixCode, ShannonCode
from simulator.codes.block import MAX_BLOCK_ALPHABET
from simulator.codes.prefix import MAX_CODEWORD_BITS
from simulator.codes.huffman import huffman_lengths
from simulator.codes.shannon import shannon_lengths
from simulator.distributions import dirichlet, sample, zipf
from simulator.measures import cross_entropy, entropy

SYMBOL_CODES = [HuffmanCode, ShannonCode, lambda q: BlockHuffmanCode(q, 2)]


@st.composite
def pmfs(draw, max_k=40):
    """Distributions with some probabilities near 1e-12 and some exact zeros."""
    k = draw(st.integers(1, max_k))
    raw = draw(st.lists(
        st.one_of(st.floats(1e-3, 1.0), st.sampled_from([1e-12, 3e-12, 0.0])),
        min_size=k, max_size=k,
    ))
    w = np.array(raw)
    if w.sum() == 0:
        w[0] = 1.0
    return w / w.sum()


# ---------------------------------------------------------------- known answers


def test_cover_thomas_example_5_1():
    p = [0.25, 0.25, 0.2, 0.15, 0.15]
    code = HuffmanCode(p)
    assert sorted(code.lengths.tolist()) == [2, 2, 2, 3, 3]
    assert code.expected_length(p) == pytest.approx(2.3, abs=1e-15)


def test_huffman_under_mismatch_is_its_own_expected_length_not_cross_entropy():
    # THEORY.md: far below H(p,q) in one case, above H(p,q) + 1 in the other.
    low = HuffmanCode([0.6, 0.3, 0.1])
    assert low.lengths.tolist() == [1, 2, 2]
    assert low.expected_length([0.1, 0.1, 0.8]) == pytest.approx(1.9)
    assert cross_entropy([0.1, 0.1, 0.8], [0.6, 0.3, 0.1]) == pytest.approx(2.905, abs=1e-3)
    high = HuffmanCode([0.35, 0.34, 0.30, 0.01])
    assert high.lengths.tolist() == [1, 2, 3, 3]
    assert high.expected_length([0.01, 0.01, 0.97, 0.01]) == pytest.approx(2.97)


def test_huffman_tie_rule_is_documented_and_exact():
    # Uniform q on 3 symbols: symbols 0 and 1 (lowest index) merge first, so 2 gets 1 bit.
    assert huffman_lengths(np.full(3, 1 / 3)).tolist() == [2, 2, 1]
    assert HuffmanCode(np.full(3, 1 / 3)).expected_length([0.5, 0.25, 0.25]) == pytest.approx(1.75)
    # The rule depends on the given numbers only: permuting q permutes the lengths.
    q = np.array([0.2, 0.2, 0.2, 0.2, 0.2])
    assert huffman_lengths(q).tolist() == [3, 3, 2, 2, 2]


def test_one_symbol_support_gets_the_empty_codeword():
    code = HuffmanCode([0.0, 1.0, 0.0])
    assert code.lengths.tolist() == [0, 0, 0]
    bits = code.encode(np.ones(5, dtype=np.uint8))
    assert len(bits) == 0
    assert code.decode(bits, 5).tolist() == [1] * 5
    assert ShannonCode([1.0]).lengths.tolist() == [0]


# ---------------------------------------------------------------- optimality and bounds


@settings(max_examples=60, deadline=None)
@given(pmfs())
def test_huffman_matches_bitarray_expected_length_under_q(q):
    code = HuffmanCode(q)
    support = np.flatnonzero(q > 0)
    if support.size < 2:
        return
    ref = huffman_code({int(s): float(q[s]) for s in support})
    ref_len = sum(q[s] * len(ref[int(s)]) for s in support)
    assert code.expected_length(q) == pytest.approx(ref_len, rel=1e-12, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(pmfs())
def test_huffman_satisfies_entropy_bounds_under_q(q):
    L = HuffmanCode(q).expected_length(q)
    h = entropy(q)
    assert h - 1e-12 <= L < h + 1


@settings(max_examples=60, deadline=None)
@given(pmfs(), pmfs())
@example(q=np.array([1.0]), p=np.array([0.0, 1.0]))  # resizing p leaves only its 0
def test_shannon_code_satisfies_the_cross_entropy_bound(q, p):
    # H(p,q) <= E_p[l] < H(p,q) + 1 whenever supp p is within supp q.
    p = np.where(q > 0, np.resize(p, q.size), 0.0)
    if p.sum() == 0:  # checked before any division
        return
    p = p / p.sum()
    L = ShannonCode(q).expected_length(p)
    hpq = cross_entropy(p, q)
    assert hpq - 1e-9 <= L < hpq + 1


def test_shannon_lengths_are_exact_at_powers_of_two():
    q = np.array([2.0**-29, 2.0**-3, 0.5, 0.5 - 2.0**-3 - 2.0**-29])
    assert shannon_lengths(q).tolist() == [29, 3, 1, 2]
    # just below a power of two needs one bit more
    assert shannon_lengths([np.nextafter(0.5, 0), 1 - np.nextafter(0.5, 0)]).tolist() == [2, 1]


@settings(max_examples=60, deadline=None)
@given(pmfs())
def test_every_code_satisfies_kraft(q):
    for make in (HuffmanCode, ShannonCode):
        code = make(q)
        assert code.kraft_sum <= 1.0
    # A Huffman code is complete (the one-symbol empty codeword counts 2^0 = 1 too).
    assert HuffmanCode(q).kraft_sum == 1.0


@pytest.mark.parametrize("p, q", [([0.9, 0.1], [0.1, 0.9])])
def test_block_huffman_reproduces_the_non_monotone_values_of_theory(p, q):
    expected = [1.0000, 1.4450, 1.6473, 2.4005, 2.5115, 2.7573, 2.7788, 2.8461, 2.9804, 2.8696]
    got = [BlockHuffmanCode(q, k).expected_bits_per_symbol(p) for k in range(1, 11)]
    assert got == pytest.approx(expected, abs=6e-5)


def test_block_huffman_never_beats_the_entropy():
    p, q = [0.9, 0.1], [0.1, 0.9]
    for k in range(1, 9):
        assert BlockHuffmanCode(q, k).expected_bits_per_symbol(p) >= entropy(p) - 1e-12


def test_block_alphabet_above_the_limit_is_refused():
    with pytest.raises(XentsimError, match="2\\^20"):
        BlockHuffmanCode([0.5, 0.5], 21)
    assert 2**20 == MAX_BLOCK_ALPHABET


# ---------------------------------------------------------------- coding


@pytest.mark.parametrize("make", SYMBOL_CODES)
@settings(max_examples=40, deadline=None)
@given(q=pmfs(max_k=30), n=st.integers(0, 300), seed=st.integers(0, 2**32 - 1))
def test_round_trip_over_generated_distributions(make, q, n, seed):
    code = make(q)
    x = sample(q, n, np.random.default_rng(seed))  # only symbols q can code
    bits = code.encode(x)
    assert len(bits) == sum(int(v) for v in _lengths_of(code, x))
    assert np.array_equal(code.decode(bits, n), x)


def _lengths_of(code, x):
    if isinstance(code, BlockHuffmanCode):
        tail = x[(x.size // code.k) * code.k:]
        return list(code.symbol_lengths(x)) + list(code.single.lengths[tail])
    return code.symbol_lengths(x)


def test_codewords_are_the_canonical_ones():
    code = HuffmanCode([0.25, 0.25, 0.2, 0.15, 0.15])
    assert {s: w.to01() for s, w in code.code_dict().items()} == {
        0: "00", 1: "01", 2: "10", 3: "110", 4: "111"}
    x = np.array([4, 0, 3, 2, 1])
    assert code.encode(x).to01() == "111" "00" "110" "10" "01"


def test_long_codewords_beyond_64_bits_round_trip():
    q = np.ldexp(1.0, -np.arange(1, 101))  # dyadic: lengths 1..99, 99
    q[-1] = q[-2]
    for code in (HuffmanCode(q), ShannonCode(q)):
        assert code.max_length == 99
        x = np.array([99, 0, 98, 50, 70, 99, 1], dtype=np.uint8)
        assert np.array_equal(code.decode(code.encode(x), x.size), x)


def test_fast_encoder_agrees_with_bitarray_encode():
    q = zipf(256, 0.8)
    code = HuffmanCode(q)
    x = sample(zipf(256, 1.1), 20_000, np.random.default_rng(3))
    ref = bitarray(endian="big")
    ref.encode(code.code_dict(), x.tolist())
    assert code.encode(x) == ref
    assert list(ref.decode(code.code_dict())) == x.tolist()


def test_encoding_a_symbol_with_q_zero_is_refused_with_infinite_cross_entropy():
    code = HuffmanCode([0.5, 0.5, 0.0])
    with pytest.raises(UnencodableSymbolError, match="symbol 2 .*H\\(p,q\\) is infinite"):
        code.encode(np.array([0, 2, 1]))


def test_symbols_outside_the_alphabet_are_refused():
    with pytest.raises(XentsimError, match="outside the alphabet"):
        HuffmanCode([0.5, 0.5]).encode(np.array([0, 5]))
    with pytest.raises(XentsimError, match="symbols\\[1\\] is -1"):
        HuffmanCode([0.5, 0.5]).encode(np.array([0, -1]))


def test_truncated_or_padded_streams_are_refused():
    code = HuffmanCode([0.5, 0.25, 0.25])
    bits = code.encode(np.array([1, 2, 0]))
    with pytest.raises(XentsimError, match="ended before"):
        code.decode(bits[:-1], 3)
    with pytest.raises(XentsimError, match="left over"):
        code.decode(bits + bitarray("0"), 3)


def test_same_seed_gives_identical_bits():
    q, p = zipf(64, 0.5), zipf(64, 1.2)
    code = HuffmanCode(q)
    a = code.encode(sample(p, 50_000, np.random.default_rng(9)))
    b = code.encode(sample(p, 50_000, np.random.default_rng(9)))
    assert a == b


def test_expected_length_is_infinite_when_p_needs_a_missing_codeword():
    assert math.isinf(HuffmanCode([0.5, 0.5, 0.0]).expected_length([0.4, 0.4, 0.2]))


# ---------------------------------------------------------------- long codewords (>= 64 bits)


def _canonical_codewords(lengths):
    """Canonical codewords from first principles, in Python integers (any length)."""
    order = sorted((int(l), s) for s, l in enumerate(lengths))
    out, code, prev = {}, 0, order[0][0]
    for i, (l, s) in enumerate(order):
        if i:
            code = (code + 1) << (l - prev)
        out[s] = format(code, f"0{l}b")
        prev = l
    return out


def test_decoding_garbage_with_a_997_bit_codeword_is_refused_not_a_crash():
    # This call used to overflow the decoder's 64-bit walk and read out of bounds.
    code = ShannonCode([1e-300, 0.25, 0.75])
    assert code.lengths.tolist() == [997, 2, 1]
    with pytest.raises(XentsimError, match="no codeword"):
        code.decode(bitarray("11" + "1011" * 40, endian="big"), 1)


def test_spiky_dirichlet_shannon_codes_decode_random_bits_or_refuse_them():
    rng = np.random.default_rng(11)
    longest = 0
    for _ in range(20):
        code = ShannonCode(dirichlet(8, 0.05, rng))
        longest = max(longest, code.max_length)
        for _ in range(20):
            bits = bitarray(rng.integers(0, 2, int(rng.integers(0, 300))).tolist(), endian="big")
            n = int(rng.integers(0, 5))
            try:
                y = code.decode(bits, n)
            except XentsimError:
                continue
            assert code.encode(y) == bits
    assert longest >= 64  # the walk past 64 bits was exercised


def test_codewords_of_1073_bits_round_trip_and_are_canonical():
    q = np.ldexp(1.0, -np.arange(1, 1074))  # 2^-1 .. 2^-1073 and 2^-1073 again: sums to 1
    q = np.append(q, q[-1])
    for code in (ShannonCode(q), HuffmanCode(q)):
        assert code.max_length == 1073
        ref = _canonical_codewords(code.lengths)
        for s in (0, 62, 63, 64, 127, 128, 500, 1072, 1073):
            assert code.codeword(s).to01() == ref[s]
        x = sample(np.full(q.size, 1 / q.size), 300, np.random.default_rng(4)).astype(np.uint16)
        bits = code.encode(x)
        assert len(bits) == int(code.lengths[x].sum())
        assert np.array_equal(code.decode(bits, x.size), x)


def test_the_smallest_double_gets_a_1074_bit_codeword():
    code = ShannonCode([5e-324, 1.0])  # 1.0: one bit beside another positive value
    assert code.lengths.tolist() == [1074, 1]
    x = np.array([0, 1, 1, 0, 1], dtype=np.uint8)
    bits = code.encode(x)
    assert len(bits) == 3 * 1 + 2 * 1074
    assert np.array_equal(code.decode(bits, 5), x)


def test_codewords_whose_low_64_bit_word_wraps_carry_into_the_next_word():
    # Lengths 2..64 take 00, 010, ..., 0 1^62 0; the three 65-bit codewords are then
    # 2^64 - 2, 2^64 - 1 and 2^64: the last one carries into the upper word.
    lengths = list(range(2, 65)) + [65, 65, 65]
    code = PrefixCode(lengths, [True] * len(lengths))
    ref = _canonical_codewords(lengths)
    assert ref[len(lengths) - 1] == "1" + "0" * 64
    assert {s: w.to01() for s, w in code.code_dict().items()} == ref
    x = np.array([65, 64, 63, 0, 65, 62], dtype=np.uint8)
    bits = code.encode(x)
    assert bits.to01() == "".join(ref[int(s)] for s in x)
    assert np.array_equal(code.decode(bits, x.size), x)


def test_codeword_lengths_above_the_limit_are_refused():
    with pytest.raises(XentsimError, match=f"lengths\\[1\\] is {MAX_CODEWORD_BITS + 1}"):
        PrefixCode([1, MAX_CODEWORD_BITS + 1], [True, True])
    with pytest.raises(XentsimError, match="whole numbers"):
        PrefixCode([1, 1.5], [True, True])


def test_a_huge_symbol_count_is_refused_before_anything_is_allocated():
    code = HuffmanCode([0.5, 0.5])
    with pytest.raises(XentsimError, match="ended before 1000000000000 symbols"):
        code.decode(bitarray("0101", endian="big"), 10**12)


# ---------------------------------------------------------------- exact Kraft


@pytest.mark.parametrize("q, bad, length", [
    ((0.5, 0.5, 1e-17), 2, 57), ((0.5, 0.25, 0.25, 1e-20), 3, 67), ((5e-324, 0.5, 0.5), 0, 1074),
])
def test_shannon_lengths_beyond_kraft_are_refused_naming_q_and_the_cause(q, bad, length):
    assert int(shannon_lengths(q)[bad]) == length  # 2^-l sums to 1 + 2^-l: a float says 1.0
    with pytest.raises(XentsimError) as info:
        ShannonCode(q)
    msg = str(info.value)
    assert "sum to 1 + " in msg and "more than 1" in msg and "Kraft" in msg
    assert f"q[{bad}] = {q[bad]!r} (length {length})" in msg
    assert f"2^-{length} > 1" in msg


def test_prefix_code_checks_kraft_exactly():
    with pytest.raises(XentsimError, match="Kraft.*1 \\+ 2\\^-60 > 1.*symbol 2 \\(length 60\\)"):
        PrefixCode([1, 1, 60], [True, True, True])
    assert PrefixCode([1, 2, 3, 3], [True] * 4).kraft_sum == 1.0  # complete: accepted
    # 1 - 2^-60 < 1: accepted, though the float kraft_sum shows 1.0
    assert PrefixCode(list(range(1, 61)), [True] * 60).kraft_sum == 1.0
    # a symbol without a codeword does not count
    assert PrefixCode([1, 1, 60], [True, True, False]).lengths.tolist() == [1, 1, 0]


# ---------------------------------------------------------------- Shannon with q(x) = 1


def test_shannon_gives_q_of_one_a_single_bit_beside_tiny_positive_values():
    q = [1.0, 1e-300]  # check_pmf accepts it: the sum misses 1 by less than 1e-9
    code = ShannonCode(q)
    assert code.lengths.tolist() == [1, 997]
    assert shannon_lengths(q).tolist() == [1, 997]
    x = np.array([0, 1, 0], dtype=np.uint8)
    assert np.array_equal(code.decode(code.encode(x), 3), x)
    # The bound of the module doc: E_p[l] = H(p,q) + 1 only for p on the lengthened symbol.
    assert code.expected_length([1.0, 0.0]) == 1.0 == cross_entropy([1.0, 0.0], q) + 1
    for p in ([0.5, 0.5], [1e-9, 1 - 1e-9], [0.999, 0.001]):
        hpq = cross_entropy(p, q)
        assert hpq <= code.expected_length(p) < hpq + 1
    # alone, q(x) = 1 keeps its empty codeword
    assert ShannonCode([0.0, 1.0]).lengths.tolist() == [0, 0]


@settings(max_examples=80, deadline=None)
@given(pmfs(max_k=12), st.integers(0, 11), st.sampled_from([0.0, 1e-300, 5e-324, 1e-12]))
@example(q=np.array([1.0, 0.0]), i=1, tiny=1e-300)
def test_shannon_lengths_are_exactly_the_ceiling_when_q_sums_to_at_most_one(q, i, tiny):
    from fractions import Fraction

    q = q.copy()
    q[i % q.size] += tiny  # may push the exact sum above 1 (check_pmf still accepts it)
    total = sum(Fraction(float(v)) for v in q)
    try:
        code = ShannonCode(q)
    except XentsimError as exc:
        assert total > 1 and "more than 1" in str(exc)  # refusals only for sums above 1
        return
    ceil = [0 if v == 0 else next(l for l in range(1100) if Fraction(2) ** -l <= Fraction(float(v)))
            for v in q]
    if total <= 1:
        assert code.lengths.tolist() == ceil
    else:  # the only change: q(x) = 1 beside other positive values gets 1 bit
        changed = [s for s in range(q.size) if code.lengths[s] != ceil[s]]
        assert all(q[s] == 1.0 and code.lengths[s] == 1 for s in changed)


# ---------------------------------------------------------------- block code input


def test_a_huge_block_size_is_refused_at_once_naming_k_K_and_the_limit():
    import time

    t0 = time.perf_counter()
    with pytest.raises(XentsimError, match="k=1000000000 on K=3 .*2\\^20"):
        BlockHuffmanCode([0.2, 0.3, 0.5], 10**9)
    with pytest.raises(XentsimError, match="k=13 on K=3 .*2\\^20"):
        BlockHuffmanCode([0.2, 0.3, 0.5], 13)  # 3^13 = 1594323
    assert time.perf_counter() - t0 < 1.0
    assert BlockHuffmanCode([0.2, 0.3, 0.5], 12).lengths.size == 3**12  # 531441: allowed
    # on K = 1 there is one tuple for every k, and k itself is held to the limit
    with pytest.raises(XentsimError, match="k=1048577 on K=1 .*2\\^20"):
        BlockHuffmanCode([1.0], 2**20 + 1)
    assert BlockHuffmanCode([1.0], 5).lengths.tolist() == [0]


@pytest.mark.parametrize("make", SYMBOL_CODES)
@pytest.mark.parametrize("dtype", [">i4", ">u2", "<i8", ">i8"])
def test_symbols_in_either_byte_order_encode_alike(make, dtype):
    code = make([0.5, 0.3, 0.2])
    x = np.array([0, 2, 1, 1, 0, 2, 2], dtype=np.uint8)
    assert code.encode(x.astype(dtype)) == code.encode(x)


@pytest.mark.parametrize("x, where", [([0, 1, 2, 1, -1], "symbols\\[4\\] is -1"),
                                      ([0, 1, 3, 1, 2], "symbols\\[2\\] is 3, outside"),
                                      ([0, 1, 2, 1, 7], "symbols\\[4\\] is 7, outside")])
def test_block_code_names_the_position_and_value_of_a_bad_symbol(x, where):
    code = BlockHuffmanCode([0.5, 0.3, 0.2], 2)
    for call in (code.encode, code.unit_bits, code.length_moments):
        with pytest.raises(XentsimError, match=where):
            call(np.array(x))
    with pytest.raises(UnencodableSymbolError, match="symbol 2 \\(at position 4\\)"):
        BlockHuffmanCode([0.5, 0.5, 0.0], 2).encode(np.array([0, 1, 0, 1, 2]))


def test_a_one_symbol_code_refuses_to_decode_more_symbols_than_memory_holds():
    from bitarray import bitarray

    code = HuffmanCode([1.0])
    assert code.decode(bitarray(endian="big"), 5).tolist() == [0] * 5
    with pytest.raises(XentsimError, match="n_symbols = 1000000000000 needs about"):
        code.decode(bitarray(endian="big"), 10**12)


# --------------------------------------------------------------------------- mutation kills
# Properties found unprotected by mutation testing (README, "Testing"). Hand-checkable
# codes: Huffman on (1/2, 1/4, 1/4) has lengths (1, 2, 2); block Huffman k = 2 on
# (3/4, 1/4) codes the tuples (9, 3, 3, 1)/16 with lengths 1, 2 or 3, 3 and 3 (ties).

from simulator.codes.arithmetic import ArithmeticCode, ReferenceCoder, slack_bounds  # noqa: E402
from simulator.sources import IIDSource  # noqa: E402


def test_prefix_code_expectations_match_the_definitions_on_a_hand_checked_code():
    code = HuffmanCode([0.5, 0.25, 0.25])
    assert code.lengths.tolist() == [1, 2, 2]
    p = [0.25, 0.25, 0.5]
    assert code.expected_length(p) == 1.75
    assert code.expected_bits_per_symbol(p) == 1.75
    assert code.length_variance(p) == 0.25 * 0.75**2 + 0.75 * 0.25**2  # 0.1875
    assert code.expected_message_bits_p(p, 7) == 7 * 1.75
    assert code.expected_message_bits(IIDSource(p), 7) == 7 * 1.75
    assert code.report() == {}
    assert repr(code) == "<HuffmanCode 'huffman': K=3, max length 2>"


def test_mass_on_a_symbol_without_codeword_makes_mean_and_variance_infinite():
    code = HuffmanCode([0.5, 0.5, 0.0])
    assert code.expected_length([0.5, 0.25, 0.25]) == math.inf
    assert code.length_variance([0.5, 0.25, 0.25]) == math.inf
    assert code.length_variance([0.5, 0.5, 0.0]) == 0.0


def test_length_moments_are_count_sum_and_square_sum_of_the_real_codeword_lengths():
    code = HuffmanCode([0.5, 0.25, 0.25])
    x = np.array([0, 1, 2, 2, 0])
    n, s, s2 = code.length_moments(x)
    assert (n, s, s2) == (5, 8.0, 14.0)
    assert s == len(code.encode(x))
    with pytest.raises(UnencodableSymbolError, match="position 2"):
        HuffmanCode([0.5, 0.5, 0.0]).length_moments([0, 1, 2])
    with pytest.raises(XentsimError, match="3"):
        code.length_moments([0, 3])


def test_codeword_is_the_canonical_bit_string_and_refuses_bad_symbols():
    code = HuffmanCode([0.5, 0.25, 0.25])
    assert [code.codeword(s).to01() for s in range(3)] == ["0", "10", "11"]
    with pytest.raises(XentsimError, match="symbol"):
        code.codeword(3)
    with pytest.raises(UnencodableSymbolError, match="symbol 2"):
        HuffmanCode([0.5, 0.5, 0.0]).codeword(2)


def test_block_code_expectations_match_the_tuple_law():
    q = [0.75, 0.25]
    code = BlockHuffmanCode(q, 2)
    assert sorted(code.lengths.tolist()) == [1, 2, 3, 3] and code.lengths[0] == 1
    w = np.array([9, 3, 3, 1]) / 16
    mean = float(w @ code.lengths)
    assert code.expected_length(q) == mean == 27 / 16
    assert code.expected_bits_per_symbol(q) == mean / 2
    assert code.length_variance(q) == pytest.approx(float(w @ (code.lengths - mean) ** 2),
                                                    rel=1e-15, abs=0)
    # 5 symbols: two whole blocks, then one symbol with the k = 1 code (length 1)
    assert code.expected_message_bits_p(q, 5) == 2 * mean + 1.0
    assert code.expected_message_bits(IIDSource(q), 4) == 2 * mean
    assert code.report() == {"block": 2}
    assert code.kraft_sum == 1.0
    assert repr(code) == "<BlockHuffmanCode k=2: K=2, 4 tuples>"
    assert BlockHuffmanCode([0.5, 0.5, 0.0], 2).length_variance([0.0, 0.0, 1.0]) == math.inf


def test_block_length_moments_and_unit_bits_cover_whole_blocks_only():
    code = BlockHuffmanCode([0.75, 0.25], 2)
    x = np.array([0, 0, 1, 1, 0])  # blocks (0,0) -> length 1, (1,1) -> length 3; tail 0
    assert code.length_moments(x) == (2, 4.0, 10.0)
    assert code.unit_bits(x).tolist() == [1.0, 3.0]
    assert len(code.encode(x)) == 4 + 1
    law, lengths = code.unit_law(IIDSource([0.75, 0.25]))
    assert np.allclose(law, [9 / 16, 3 / 16, 3 / 16, 1 / 16]) and lengths.tolist() == code.lengths.tolist()


def test_arithmetic_code_reports_its_precision_and_model_and_names_q():
    assert ArithmeticCode([0.5, 0.5], precision=12).report() == {"precision": 12, "model": "static"}
    assert ArithmeticCode([0.5, 0.5]).report() == {"precision": 24, "model": "static"}
    assert ArithmeticCode([0.5, 0.5], model="laplace").report() == {"precision": None,
                                                                    "model": "laplace"}
    with pytest.raises(XentsimError, match=r"^q\[1\] is -0\.5"):
        ArithmeticCode([1.5, -0.5])


def test_arithmetic_expectations_are_the_quantised_cross_entropy():
    q, p = [0.5, 0.3, 0.2], np.array([0.2, 0.3, 0.5])
    code = ArithmeticCode(q, precision=12)
    bits = code.model.fixed_symbol_bits  # -log2 q^(x), q^ = counts / 2^12
    hpq_hat = math.fsum(p * bits)
    assert code.expected_bits_per_symbol(p) == pytest.approx(hpq_hat, rel=1e-14, abs=0)
    assert code.quantisation_gap(p) == pytest.approx(hpq_hat - cross_entropy(p, q), rel=1e-9)
    assert code.quantisation_gap(p) != 0.0  # 0.3 and 0.2 are not multiples of 2^-12
    assert code.expected_message_bits(IIDSource(p), 10) == pytest.approx(10 * hpq_hat,
                                                                         rel=1e-14, abs=0)
    # a p with mass where q^ is 0 costs infinitely many bits
    assert ArithmeticCode([0.5, 0.5, 0.0]).expected_message_bits(IIDSource([0.2, 0.3, 0.5]),
                                                                 10) == math.inf
    adaptive = ArithmeticCode(q, model="kt")
    assert adaptive.quantisation_gap(p) is None
    assert math.isnan(adaptive.expected_bits_per_symbol(p))
    assert adaptive.expected_message_bits(IIDSource(p), 10) is None


@pytest.mark.parametrize("model", ["static", "laplace"])
def test_real_minus_ideal_bits_lie_within_message_slack_bits(model):
    q = [0.5, 0.3, 0.2]
    code = ArithmeticCode(q, model=model)
    n = 400
    total = code.model.total if model == "static" else 3 + 2 * n  # adaptive totals <= K + 2n
    assert code.message_slack_bits(n) == slack_bounds(n, total)
    lo, hi = code.message_slack_bits(n)
    x = sample(np.array(q), n, np.random.default_rng(5))
    real_minus_ideal = len(code.encode(x)) - math.fsum(code.unit_bits(x))
    assert lo <= real_minus_ideal <= hi


def test_the_empty_message_round_trips_through_both_arithmetic_decoders():
    code = ArithmeticCode([0.5, 0.3, 0.2])
    bits = code.encode(np.zeros(0, dtype=np.int64))
    assert code.decode(bits, 0).size == 0
    assert ReferenceCoder.decode(bits, code.model, 0).size == 0
    with pytest.raises(XentsimError, match="n_symbols"):
        code.decode(bits, -1)


def test_reference_decoder_refuses_exactly_the_damaged_streams_the_fast_decoder_refuses():
    rng = np.random.default_rng(11)
    code = ArithmeticCode([0.6, 0.25, 0.1, 0.05], precision=16)
    refused = 0
    for trial in range(150):
        n = int(rng.integers(1, 40))
        x = sample(np.array([0.6, 0.25, 0.1, 0.05]), n, rng)
        bits = code.encode(x)
        kind = trial % 3
        if kind == 0 and len(bits):
            bits[int(rng.integers(len(bits)))] ^= 1
        elif kind == 1:
            del bits[max(0, len(bits) - int(rng.integers(1, 9))):]
        else:
            bits.extend(rng.integers(0, 2, int(rng.integers(1, 9))).tolist())
        outcomes = []
        for dec in (code.decode, lambda b, m: ReferenceCoder.decode(b, code.model, m)):
            try:
                outcomes.append(dec(bits, n).tolist())
            except XentsimError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1]
        if isinstance(outcomes[0], str):
            assert outcomes[0].startswith(f"bits ({len(bits)} bits) is not the encoding of any {n}-symbol")
            refused += 1
    assert refused > 50  # most damage is caught; the rest decodes to some other message


def test_shannon_refusal_names_q_the_excess_and_the_symbols_left_without_codeword():
    with pytest.raises(XentsimError) as err:
        ShannonCode([0.5, 0.5] + [1e-13] * 7)
    assert str(err.value) == (
        "q's values sum to 1 + 7e-13, more than 1, so its Shannon lengths ceil(-log2 q) "
        "violate Kraft's inequality (sum 2^-l = 1 + about 2^-41.2 > 1) and form no prefix "
        "code: handed out shortest first, no codeword is left for q[2] = 1e-13 (length 44), "
        "q[3] = 1e-13 (length 44), q[4] = 1e-13 (length 44), q[5] = 1e-13 (length 44), "
        "q[6] = 1e-13 (length 44) and 2 more. Give a q that sums to at most 1 "
        "(q = (0.5, 0.5, 1e-13, 1e-13, 1e-13, 1e-13, ... 9 values))")
    # up to 8 values of q are shown in full; up to 5 refused symbols need no "more"
    with pytest.raises(XentsimError, match=r"\(length 44\) and 1 more\. .*\(q = \(0\.5, 0\.5, "
                       r"1e-13, 1e-13, 1e-13, 1e-13, 1e-13, 1e-13\)\)$"):
        ShannonCode([0.5, 0.5] + [1e-13] * 6)
    with pytest.raises(XentsimError, match=r"q\[6\] = 1e-13 \(length 44\)\. Give"):
        ShannonCode([0.5, 0.5] + [1e-13] * 5)
    with pytest.raises(XentsimError, match=r"^q\[1\] is -0\.5"):
        ShannonCode([1.5, -0.5])
    with pytest.raises(XentsimError, match=r"^q\[1\] is -0\.5"):
        shannon_lengths([1.5, -0.5])
    assert repr(ShannonCode([0.5, 0.5])) == "<ShannonCode 'shannon': K=2, max length 1>"


def test_kraft_excess_is_exact_for_a_power_of_two_and_approximate_otherwise():
    from simulator.codes.prefix import kraft_excess_text, kraft_overflow
    assert kraft_excess_text(9, 3) == "2^-3"
    assert kraft_excess_text(12, 3) == "2^-1"
    assert kraft_excess_text(11, 3) == "about 2^-1.4"  # 3/8
    assert kraft_overflow(np.array([1, 2, 2]), np.array([True, True, True])).size == 0
    assert kraft_overflow(np.array([1, 1, 1]), np.array([True, True, True])).tolist() == [2]


def test_bad_symbols_and_pmfs_are_refused_by_name_and_value():
    code = HuffmanCode([0.5, 0.25, 0.25])
    with pytest.raises(XentsimError, match=r"^symbol is 3, must be <= 2"):
        code.codeword(3)
    with pytest.raises(XentsimError, match=r"^symbol is -1, must be >= 0"):
        code.codeword(-1)
    with pytest.raises(XentsimError, match=r"^p has 2 symbols but the code has 3$"):
        code.expected_length([0.5, 0.5])
    with pytest.raises(XentsimError, match=r"^p\[1\] is -0\.5"):
        code.expected_length([0.5, -0.5, 1.0])
    with pytest.raises(UnencodableSymbolError, match=r"^symbol 2 \(at position 1\)"):
        HuffmanCode([0.5, 0.5, 0.0]).symbol_lengths([0, 2])
    with pytest.raises(UnencodableSymbolError, match=r"^symbol 2 has no codeword \(q\(2\) = 0\)"):
        HuffmanCode([0.5, 0.5, 0.0]).codeword(2)


def test_block_decoder_counts_left_over_bits_and_names_n_symbols():
    code = BlockHuffmanCode([0.75, 0.25], 2)
    x = np.array([0, 1, 1, 0, 1])
    bits = code.encode(x)
    assert code.decode(bits, 5).tolist() == x.tolist()
    bits.extend("101")
    with pytest.raises(XentsimError, match=r"^3 bits are left over after decoding 5 symbols$"):
        code.decode(bits, 5)
    with pytest.raises(XentsimError, match=r"^n_symbols is -1, must be >= 0"):
        code.decode(bits, -1)
    # a tuple with probability 0 and no codeword does not make the expectation infinite
    assert BlockHuffmanCode([0.5, 0.5, 0.0], 2).expected_length([0.5, 0.5, 0.0]) == 2.0


def test_huffman_breaks_weight_ties_by_symbol_index_lowest_merged_first():
    # 20 equal weights: 8 codewords of length 5 and 12 of length 4; the ties go to the
    # first symbols, as the (weight, symbol) order documents.
    assert HuffmanCode([1 / 20] * 20).lengths.tolist() == [5] * 8 + [4] * 12


def test_zero_probability_symbols_get_no_shannon_length():
    assert shannon_lengths([0.5, 0.5, 0.0]).tolist() == [1, 1, 0]
    assert shannon_lengths([1.0, 0.0]).tolist() == [0, 0]


def test_constructors_and_decoders_name_the_bad_argument():
    for make in (HuffmanCode, huffman_lengths, lambda q: BlockHuffmanCode(q, 2)):
        with pytest.raises(XentsimError, match=r"^q\[1\] is -0\.5"):
            make([1.5, -0.5])
    with pytest.raises(XentsimError, match=r"^block size k is 0, must be >= 1"):
        BlockHuffmanCode([0.5, 0.5], 0)
    assert BlockHuffmanCode([0.5, 0.5], 2).name == "block-huffman"
    assert repr(BlockHuffmanCode([0.5, 0.25, 0.25], 2)) == "<BlockHuffmanCode k=2: K=3, 9 tuples>"
    code = HuffmanCode([0.5, 0.25, 0.25])
    with pytest.raises(XentsimError, match=r"^symbols\[1\] is 3, outside the alphabet 0\.\.2$"):
        code.encode([0, 3])
    bits = code.encode([0, 1])
    bits.extend("0")
    with pytest.raises(XentsimError, match=r"^1 bits are left over after decoding 2 symbols$"):
        code.decode(bits, 2)
    with pytest.raises(XentsimError, match=r"^n_symbols is -1, must be >= 0"):
        code.decode(bits, -1)


# ---------------------------------------------------------------------------------------
# Mutation-testing follow-up (symbol codes): tests that pin behaviour the earlier suite
# left open. Each one failed under at least one surviving mutant of prefix.py, huffman.py
# or block.py (see README, "Testing").

import re  # noqa: E402

from simulator._validate import MEMORY_ENV  # noqa: E402
from simulator.codes.block import check_block_size  # noqa: E402
from simulator.codes.prefix import kraft_fraction, kraft_overflow  # noqa: E402


def test_prefix_code_refusals_name_the_argument_and_value():
    code = PrefixCode([1, 2, 2], [True, True, True])
    with pytest.raises(XentsimError, match=r"^symbols must be a 1-D array, got shape \(2, 2\)$"):
        code.encode(np.zeros((2, 2), dtype=int))
    with pytest.raises(XentsimError, match=r"^symbols must be integers, got dtype float64$"):
        code.encode(np.array([0.0, 1.0]))
    # a symbol equal to K is outside the alphabet (not an unencodable symbol)
    for call in (code.encode, code.symbol_lengths):
        with pytest.raises(XentsimError, match=r"^symbols\[1\] is 3, outside the alphabet 0\.\.2$"):
            call(np.array([0, 3]))
    with pytest.raises(XentsimError, match=r"^bits must be a bitarray, got bytes$"):
        code.decode(b"\x00", 1)
    with pytest.raises(XentsimError, match=r"^bits must be a big-endian bitarray \(as encode returns\)$"):
        code.decode(bitarray("0", endian="little"), 1)
    with pytest.raises(XentsimError, match=r"^q\[1\] is -0\.5"):
        HuffmanCode([1.5, -0.5])


def test_prefix_code_constructor_refusals_are_specific():
    shape = r"^lengths and encodable must be 1-D arrays of the same size >= 1$"
    with pytest.raises(XentsimError, match=shape):
        PrefixCode([1, 1], [True])
    with pytest.raises(XentsimError, match=shape):
        PrefixCode([[1, 1]], [[True, True]])
    with pytest.raises(XentsimError, match=r"^lengths\[1\] is -1: a codeword length must be >= 0$"):
        PrefixCode([1, -1], [True, True])
    with pytest.raises(XentsimError, match=r"^lengths\[0\] is 4097: a codeword length is above the limit of 4096 bits$"):
        PrefixCode([MAX_CODEWORD_BITS + 1, 1], [True, True])
    with pytest.raises(XentsimError, match=r"^a code needs at least one encodable symbol$"):
        PrefixCode([1, 1], [False, False])
    with pytest.raises(XentsimError, match=(
            r"^lengths\[0\] is 0 but 2 symbols have codewords: only a one-symbol code may have "
            r"an empty codeword \(it would be a prefix of every other\)$")):
        PrefixCode([0, 1], [True, True])


@pytest.mark.parametrize("n_ones, tail", [
    (4, "symbols 2 (length 1), 3 (length 1)"),
    (7, "symbols 2 (length 1), 3 (length 1), 4 (length 1), 5 (length 1), 6 (length 1)"),
    (8, "symbols 2 (length 1), 3 (length 1), 4 (length 1), 5 (length 1), 6 (length 1) and 1 more"),
    (3, "symbol 2 (length 1)"),
])
def test_kraft_refusal_lists_at_most_five_symbols_then_counts_the_rest(n_ones, tail):
    with pytest.raises(XentsimError) as err:
        PrefixCode([1] * n_ones, [True] * n_ones)
    assert str(err.value).endswith("no codeword is left for " + tail), str(err.value)


def test_prefix_code_accepts_the_length_limit_whole_floats_and_integer_flags():
    code = PrefixCode([1, MAX_CODEWORD_BITS, MAX_CODEWORD_BITS], [True, True, True])
    assert code.max_length == MAX_CODEWORD_BITS
    msg = np.array([2, 0, 1, 2])
    assert code.decode(code.encode(msg), 4).tolist() == msg.tolist()
    as_float = PrefixCode(np.array([1.0, 2.0, 2.0]), [True, True, True])
    assert as_float.lengths.dtype == np.int64 and as_float.lengths.tolist() == [1, 2, 2]
    flags = PrefixCode([1, 3, 1], [1, 0, 1])  # 0/1 integers are flags, not indices
    assert flags.encodable.tolist() == [True, False, True]
    assert flags.lengths.tolist() == [1, 0, 1]
    assert kraft_fraction([1, 2, 2, 5], [1, 1, 1, 0]) == (4, 2)
    assert kraft_overflow(np.array([1.0, 1.0, 1.0]), [1, 1, 1]).tolist() == [2]
    assert kraft_overflow([1, 1, 1, 1], [1, 0, 1, 1]).tolist() == [3]


def test_prefix_code_is_read_only_and_named_prefix_by_default():
    code = PrefixCode([1, 1], [True, True])
    assert code.name == "prefix"
    assert not code.lengths.flags.writeable and not code.encodable.flags.writeable


def test_codewords_above_128_bits_carry_across_64_bit_words():
    # '0', then one codeword at each length 3..129, then three of length 130: the first
    # 130-bit codeword is 10 1^127 0, so the low 64-bit word wraps between the 2nd and
    # the 3rd, carrying into the top word (11 0^128)
    lengths = [1] + list(range(3, 130)) + [130] * 3
    code = PrefixCode(lengths, [True] * len(lengths))
    expected = _canonical_codewords(lengths)
    assert code.codeword(130).to01() == "11" + "0" * 128
    for s in (0, 1, 127, 128, 129, 130):
        assert code.codeword(s).to01() == expected[s]
    msg = np.array([130, 0, 129, 128, 5, 130])
    bits = code.encode(msg)
    assert bits.to01() == "".join(expected[int(s)] for s in msg)
    assert code.decode(bits, msg.size).tolist() == msg.tolist()


@pytest.mark.parametrize("top", [56, 57, 64, 65])
def test_encoding_matches_the_codewords_at_the_short_kernel_boundary(top):
    lengths = list(range(1, top)) + [top, top]  # complete code, max length = top
    code = PrefixCode(lengths, [True] * len(lengths))
    expected = _canonical_codewords(lengths)
    msg = np.random.default_rng(5).integers(0, len(lengths), 200)
    bits = code.encode(msg)
    assert bits.to01() == "".join(expected[int(s)] for s in msg)
    assert code.decode(bits, msg.size).tolist() == msg.tolist()


def test_decoder_reports_a_non_codeword_before_running_out_of_bits():
    # '0', '100', '101': the prefix '11' starts no codeword, even though the stream
    # also ends right after it
    code = PrefixCode([1, 3, 3], [True, True, True])
    with pytest.raises(XentsimError, match=r"^the bitstream holds a bit pattern that is no codeword of this code$"):
        code.decode(bitarray("011"), 2)


def test_short_stream_refusal_counts_whole_codewords_and_the_remaining_bits():
    code = PrefixCode([2, 2, 2, 2], [True] * 4)
    with pytest.raises(XentsimError, match=(
            r"^the bitstream \(5 bits\) ended before 3 symbols were decoded: "
            r"5 bits hold at most 2 codewords of >= 2 bits$")):
        code.decode(bitarray("00011"), 3)
    # the partial block of a block code is decoded from where the whole blocks end
    block = BlockHuffmanCode([0.5, 0.5], 2)
    bits = block.encode(np.array([0, 1, 1]))
    assert len(bits) == 3
    with pytest.raises(XentsimError, match=(
            r"^the bitstream \(2 bits\) ended before 1 symbols were decoded: "
            r"0 bits hold at most 0 codewords of >= 1 bits$")):
        block.decode(bits[:2], 3)


def test_one_symbol_code_checks_memory_in_bytes_of_the_output(monkeypatch):
    # K = 1000 symbols (uint16 output) with one encodable: n symbols take 2n bytes
    code = PrefixCode([0] + [0] * 999, [True] + [False] * 999)
    monkeypatch.setenv(MEMORY_ENV, "1000")
    assert code.decode(bitarray(), 500).tolist() == [0] * 500
    with pytest.raises(XentsimError, match=r"^n_symbols = 800 needs .*; decode fewer symbols at a time, or raise"):
        code.decode(bitarray(), 800)


def test_length_moments_refuse_a_message_of_unencodable_symbols_only():
    code = PrefixCode([1, 1, 0], [True, True, False])
    with pytest.raises(UnencodableSymbolError, match=r"^symbol 2 \(at position 0\) has no codeword"):
        code.length_moments(np.array([2, 2]))


def test_block_size_limit_is_inclusive_and_powers_are_exact():
    assert check_block_size(1, 3) == 1
    assert check_block_size(1, MAX_BLOCK_ALPHABET) == 1
    with pytest.raises(XentsimError, match=r"^block size k=1048577 on K=1 symbol"):
        check_block_size(1, MAX_BLOCK_ALPHABET + 1)
    assert check_block_size(2, 20) == MAX_BLOCK_ALPHABET
    assert check_block_size(3, 4) == 81
    with pytest.raises(XentsimError, match=re.escape("block size k=21 on K=2 symbols gives K^k = 2^21 tuples")):
        check_block_size(2, 21)
    with pytest.raises(XentsimError, match=re.escape("block size k=11 on K=4 symbols gives K^k = 2^22 tuples")):
        check_block_size(4, 11)


def test_huffman_lengths_are_integers():
    assert huffman_lengths([0.5, 0.25, 0.25]).dtype == np.int64
    assert huffman_lengths([1.0, 0.0]).dtype == np.int64


def test_expected_block_message_bits_are_infinite_not_nan_for_whole_blocks():
    # p puts mass on a symbol without a codeword; n = 4 is two whole blocks, no tail
    block = BlockHuffmanCode([0.5, 0.5, 0.0], 2)
    assert block.expected_message_bits_p([0.2, 0.3, 0.5], 4) == math.inf
    assert block.expected_message_bits_p([0.5, 0.5, 0.0], 4) == 2 * block.expected_length([0.5, 0.5, 0.0])


def test_block_code_renormalises_q_to_the_k_within_the_sum_tolerance():
    # sum q = 1 + 9e-10 is accepted (tolerance 1e-9), but q^10 sums to about 1 + 9e-9,
    # outside it: the tuple weights must be renormalised before the Huffman code sees them
    block = BlockHuffmanCode([0.5 + 9e-10, 0.5], 10)
    assert block.block.lengths.tolist() == [10] * 1024


def test_expected_bits_of_an_empty_or_sub_block_message_are_never_nan():
    # 0 x inf was NaN ("no closed form"): a message shorter than one block from a p that
    # emits a symbol q cannot code costs inf, and an empty message costs 0 bits.
    from simulator.engine import simulate

    p, q = [0.5, 0.499999999999, 1e-12], [0.5, 0.5, 0.0]
    block = BlockHuffmanCode(q, 3)
    assert block.expected_message_bits_p(p, 2) == math.inf
    assert block.expected_message_bits_p(p, 0) == 0.0
    assert block.expected_message_bits_p([0.5, 0.5, 0.0], 4) == 4.0  # 1 block + 1 symbol
    assert HuffmanCode(q).expected_message_bits_p(p, 0) == 0.0
    assert HuffmanCode(q).expected_message_bits_p(p, 1) == math.inf
    m = simulate([0.5, 0.5 - 1e-12, 1e-12], q, "block-huffman", block=3, n=2,
                 rng=np.random.default_rng(0))
    assert m.expected_bits_per_symbol == math.inf
