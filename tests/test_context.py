"""Context models and codes: one Huffman code per context, the arithmetic coder reading
the context's row, adaptive counts per context; exact expectations with zero-padded
starts; the adaptive coder's redundancy of (contexts)(K-1)/2 log2 n bits."""

import itertools
import math

import numpy as np
import pytest
from bitarray import bitarray

from simulator import measures as M
from simulator._validate import UnencodableSymbolError, XentsimError
from simulator.codes import ContextArithmeticCode, ContextHuffmanCode, HuffmanCode
from simulator.codes.huffman import huffman_lengths
from simulator.models import AdaptiveContextModel, ContextModel
from simulator.models.context import adaptive_table_bytes, context_indices
from simulator.sources import IIDSource, MarkovSource

STICKY = [[0.9, 0.1], [0.2, 0.8]]


def random_chain(K, m, seed, alpha=1.0):
    return np.random.default_rng(seed).dirichlet(np.ones(K) * alpha, size=K**m)


# --------------------------------------------------------------------------- contexts

def test_context_indices_read_the_previous_symbols_oldest_first_zero_padded():
    x = np.array([2, 0, 1, 1, 2])
    # order 2 on K = 3: c_t = 3 x_{t-2} + x_{t-1}, positions before 0 read as 0
    ctx = [0, 2, 2 * 3 + 0, 0 * 3 + 1, 1 * 3 + 1]
    assert context_indices(x, 3, 2).tolist() == [c * 3 + s for c, s in zip(ctx, x)]
    assert context_indices(x, 3, 0).tolist() == x.tolist()
    assert context_indices(x[:1], 3, 3).tolist() == [2]


# --------------------------------------------------------------------------- Huffman per context

def reference_context_bits(Q, x, m):
    """The message as the concatenation of per-row HuffmanCode codewords."""
    K = len(Q[0])
    codes = [HuffmanCode(row) for row in np.asarray(Q)]
    out = bitarray(endian="big")
    for c, s in zip(context_indices(x, K, m) // K, x):
        out += codes[int(c)].codeword(int(s))
    return out


@pytest.mark.parametrize("K, m", [(2, 1), (3, 1), (5, 2), (4, 3), (256, 1)])
def test_context_huffman_is_the_per_context_huffman_code_bit_for_bit(K, m):
    P = random_chain(K, m, seed=K + m, alpha=0.5)
    code = ContextHuffmanCode(P)
    for c in range(K**m):
        assert code.lengths[c].tolist() == huffman_lengths(P[c]).tolist()
    x = MarkovSource(P).sample(3000, rng=np.random.default_rng(1))
    bits = code.encode(x)
    ref = reference_context_bits(P, x[:400], m)  # the first 400 symbols, by the slow path
    assert bits[: len(ref)] == ref
    assert len(bits) == code.unit_bits(x).sum()
    assert np.array_equal(code.decode(bits, x.size), x)


def test_context_huffman_handles_codewords_longer_than_64_bits_and_one_symbol_contexts():
    K = 72
    dyadic = np.array([2.0 ** -(i + 1) for i in range(K - 1)] + [2.0 ** -(K - 1)])
    certain = np.zeros(K)
    certain[3] = 1.0
    Q = np.tile(dyadic, (K, 1))
    Q[3] = certain  # after symbol 3 the next symbol is always 3: the empty codeword
    code = ContextHuffmanCode(Q)
    assert code.max_length == K - 1 > 64
    assert code.lengths[3].max() == 0
    x = np.array([1, 70, 71, 2, 0, 3, 3, 3], dtype=np.uint8)
    bits = code.encode(x)
    assert len(bits) == code.unit_bits(x).sum() == 2 + 71 + 71 + 3 + 1 + 4 + 0 + 0
    assert bits == reference_context_bits(Q, x, 1)
    assert np.array_equal(code.decode(bits, x.size), x)


def test_many_contexts_shrink_the_lookup_table_and_still_decode():
    P = random_chain(2, 16, seed=3)  # 65536 contexts
    code = ContextHuffmanCode(P)
    assert code._T < 12 and code._table.size <= 1 << 18
    P4 = random_chain(4, 5, seed=4, alpha=0.3)  # 1024 contexts, longer codewords
    code4 = ContextHuffmanCode(P4)
    x = MarkovSource(P4).sample(20000, rng=np.random.default_rng(2))
    assert np.array_equal(code4.decode(code4.encode(x), x.size), x)


def test_a_symbol_without_a_codeword_in_its_context_is_refused_naming_the_context():
    code = ContextHuffmanCode([[1.0, 0.0], [0.5, 0.5]])
    with pytest.raises(UnencodableSymbolError, match=r"symbol 1 \(at position 2\) has no codeword in context 0"):
        code.encode([0, 0, 1])  # (1 first would fail at 0: the padded context is 0)
    with pytest.raises(XentsimError, match="outside the alphabet 0..1"):
        code.encode([0, 2])


def test_damaged_context_huffman_streams_raise_and_never_invent_symbols():
    P = random_chain(3, 2, seed=9, alpha=0.4)
    code = ContextHuffmanCode(P)
    x = MarkovSource(P).sample(500, rng=np.random.default_rng(0))
    bits = code.encode(x)
    with pytest.raises(XentsimError, match="ended before"):
        code.decode(bits[:-5], x.size)
    with pytest.raises(XentsimError, match="left over"):
        code.decode(bits + bitarray("1"), x.size)
    rng = np.random.default_rng(5)
    for _ in range(200):  # random garbage: a clean error or a message of exactly n symbols
        junk = bitarray(rng.integers(0, 2, rng.integers(0, 2000)).tolist(), endian="big")
        try:
            y = code.decode(junk, 300)
        except XentsimError:
            continue
        assert y.size == 300 and int(y.max()) < 3
        assert code.encode(y) == junk  # what it returns is exactly what the stream encodes


def test_a_stream_that_ends_inside_the_next_contexts_codeword_raises():
    # context 0 codes {0, 1} with one bit each (symbol 2 has no codeword there); "1"
    # decodes symbol 1, whose context needs at least one more bit for the next symbol
    code = ContextHuffmanCode([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]])
    assert code.lengths[0].tolist() == [1, 1, 0]
    assert code.decode(bitarray("1"), 1).tolist() == [1]
    with pytest.raises(XentsimError, match="ended before 2 symbols"):
        code.decode(bitarray("1"), 2)


# --------------------------------------------------------------------------- exact expectations

def brute_force_expected_bits(P, bits_of, n):
    """E[sum of per-position lengths] over every n-symbol message of the stationary
    chain, message by message."""
    K = P.shape[1]
    src = MarkovSource(P)
    law = src.block_law(n)
    total = 0.0
    for idx, msg in enumerate(itertools.product(range(K), repeat=n)):
        if law[idx] > 0:
            total += law[idx] * bits_of(np.array(msg))
    return total


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_context_codes_expected_message_bits_include_the_zero_padded_start_exactly(n):
    P = random_chain(3, 2, seed=11, alpha=0.6)  # order-2 source
    Q = random_chain(3, 2, seed=12)  # order-2 model
    src = MarkovSource(P)
    huff = ContextHuffmanCode(Q)
    arith = ContextArithmeticCode.from_chain(Q, precision=16)
    for code in (huff, arith):
        want = brute_force_expected_bits(P, lambda x: code.unit_bits(x).sum(), n)
        assert code.expected_message_bits(src, n) == pytest.approx(want, rel=1e-12)
    # the stationary per-symbol cost is the (m+1)-block law against the lengths
    law = src.block_law(3)
    assert huff.expected_bits_per_symbol(src) == pytest.approx(float(law @ huff.bits_flat), rel=1e-13)


def test_a_context_model_of_the_true_chain_costs_the_entropy_rate_up_to_rounding():
    src = MarkovSource(STICKY)
    code = ContextArithmeticCode.from_chain(STICKY)
    model = code.model
    h_model = code.expected_bits_per_symbol(src)  # H(mu, q^)
    gap = h_model - M.entropy_rate(STICKY)
    # H(mu, q^) - H(mu) = sum_c pi(c) KL(P_c || q^_c) <= sum_c pi(c) bound_c (proven bound)
    assert 0 <= gap <= float(src.marginal() @ model.rounding_loss_bound_bits())
    assert M.cross_entropy_rate(STICKY, model.probs) == pytest.approx(h_model, rel=1e-12)


def test_context_model_rows_total_two_to_the_b_and_obey_the_rounding_bound():
    Q = random_chain(16, 2, seed=7, alpha=0.2)
    model = ContextModel(Q, precision=12)
    assert (model.freqs.sum(axis=1) == 1 << 12).all()
    kl = np.array([M.kl_divergence(Q[c], model.probs[c]) for c in range(Q.shape[0])])
    assert (kl < model.rounding_loss_bound_bits()).all()
    assert model.tables(10).row == "context" and model.tables(10).order == 2


def test_context_arithmetic_round_trips_within_the_coders_slack():
    P = random_chain(4, 2, seed=2, alpha=0.5)
    code = ContextArithmeticCode.from_chain(P)
    x = MarkovSource(P).sample(50_000, rng=np.random.default_rng(3))
    bits = code.encode(x)
    assert np.array_equal(code.decode(bits, x.size), x)
    ideal = code.unit_bits(x).sum()
    lo, hi = code.message_slack_bits(x.size)
    assert ideal + lo <= len(bits) <= ideal + hi


# --------------------------------------------------------------------------- adaptive per context

def test_adaptive_context_model_costs_match_the_real_coder_and_its_closed_form():
    P = random_chain(3, 1, seed=5)
    x = MarkovSource(P).sample(4000, rng=np.random.default_rng(4))
    for est, a in (("kt", 0.5), ("laplace", 1.0)):
        model = AdaptiveContextModel(3, est, order=2)
        code = ContextArithmeticCode(model)
        bits = code.encode(x)
        assert np.array_equal(code.decode(bits, x.size), x)
        ideal = model.ideal_bits(x)
        # closed form per context: log2 of Gamma ratios, context by context
        flat = context_indices(x, 3, 2)
        closed = 0.0
        for c in np.unique(flat // 3):
            counts = np.bincount(flat[flat // 3 == c] % 3, minlength=3)
            closed -= (math.lgamma(3 * a) - math.lgamma(counts.sum() + 3 * a)
                       + sum(math.lgamma(k + a) - math.lgamma(a) for k in counts)) / math.log(2)
        assert ideal == pytest.approx(closed, rel=1e-10)
        lo, hi = code.message_slack_bits(x.size)
        assert ideal + lo <= len(bits) <= ideal + hi


def test_an_order_too_large_for_memory_is_refused_before_allocating():
    with pytest.raises(XentsimError, match=r"order = 4 \(256\^4 contexts of 256 symbols\) needs about"):
        AdaptiveContextModel(256, "kt", 4)  # 24 * 256^4 * 257 bytes = 26 TiB
    with pytest.raises(XentsimError, match="cannot be tabled"):
        AdaptiveContextModel(256, "kt", 10**6)
    with pytest.raises(XentsimError, match=r"order = 3 .* above the memory limit of 1 MiB"):
        AdaptiveContextModel(16, "kt", 3, memory_limit="1M")  # 24 * 4096 * 17 = 1.6 MiB
    assert adaptive_table_bytes(16, 3) == 24 * 16**3 * 17


def test_adaptive_redundancy_grows_like_contexts_times_k_minus_1_over_2_log2_n():
    # KT per context on a K = 3 chain, order-2 contexts (S = 9): the expected excess of
    # the real bits over the true chain's -log2 P(x) is
    #   sum_c (K-1)/2 log2(pi_c n) + const + O(1/n_c)   (Krichevsky-Trofimov / Clarke-Barron),
    # so between n1 = 10^3 and n2 = 10^5 it grows by S (K-1)/2 log2(100) = 59.79 bits,
    # whatever pi and the constants. Tolerance: the coder's slack (real - ideal lies in
    # [-8, +1] bits at each n: 9 bits), plus the 99.9% t-interval of the difference of
    # the two means, plus 1 bit for the O(1/n_c) terms at n1 (n_c ~ 110).
    K, order, S = 3, 2, 9
    P = random_chain(K, 1, seed=21, alpha=2.0)
    src = MarkovSource(P)
    rng = np.random.default_rng(8)
    logP = np.log2(P)
    logpi = np.log2(src.marginal())
    model = AdaptiveContextModel(K, "kt", order)
    code = ContextArithmeticCode(model)
    red = {}
    for n in (10**3, 10**5):
        vals = []
        for child in rng.spawn(40):
            x = src.sample(n, rng=child).astype(np.int64)
            bits = code.encode(x)
            true_bits = -(logpi[x[0]] + logP[x[:-1], x[1:]].sum())
            vals.append(len(bits) - true_bits)
        red[n] = np.array(vals)
    want = S * (K - 1) / 2 * math.log2(100)
    got = red[10**5].mean() - red[10**3].mean()
    se = math.sqrt(red[10**5].var(ddof=1) / 40 + red[10**3].var(ddof=1) / 40)
    print(f"redundancy growth {got:.2f} bits, theory {want:.2f}, se {se:.2f}")
    assert abs(got - want) <= 9 + 3.56 * se + 1  # t_{0.9995, ~70} < 3.5
    # a single set of counts (S = 1) would grow by 6.6 bits only: far outside
    assert abs(got - (K - 1) / 2 * math.log2(100)) > 9 + 3.56 * se + 1


def test_context_codes_work_on_an_iid_source_too():
    src = IIDSource([0.5, 0.3, 0.2])
    Q = random_chain(3, 1, seed=1)
    code = ContextHuffmanCode(Q)
    x = src.sample(1000, rng=np.random.default_rng(0))
    assert np.array_equal(code.decode(code.encode(x), 1000), x)
    want = brute_force_expected_bits_iid([0.5, 0.3, 0.2], code, 3)
    assert code.expected_message_bits(src, 3) == pytest.approx(want, rel=1e-12)


def brute_force_expected_bits_iid(p, code, n):
    total = 0.0
    for msg in itertools.product(range(len(p)), repeat=n):
        w = math.prod(p[s] for s in msg)
        total += w * code.unit_bits(np.array(msg)).sum()
    return total
