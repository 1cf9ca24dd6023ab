"""Arithmetic coding: quantisation, exact decoding, the length bound, fast == reference."""

import itertools
import math
import re

import numpy as np
from bitarray import bitarray
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator._validate import UnencodableSymbolError, XentsimError
import simulator.codes.arithmetic as arithmetic
from simulator.codes.arithmetic import (SLACK_BITS, TRUNCATION_BITS, ArithmeticCode, ReferenceCoder,
                                        decode, encode, slack_bounds)
from simulator.interfaces import Tables
from simulator.models import AdaptiveModel, ConditionalModel, StaticModel, quantise
from simulator.distributions import mix_uniform, sample, zipf
from simulator.engine import simulate
from simulator.measures import cross_entropy, entropy


@st.composite
def pmfs(draw, max_k=40):
    k = draw(st.integers(1, max_k))
    raw = draw(st.lists(st.one_of(st.floats(1e-3, 1.0), st.sampled_from([1e-12, 3e-12])),
                        min_size=k, max_size=k))
    w = np.array(raw)
    return w / w.sum()


def bound_ok(nbits, ideal, n, total):
    # The module's proof: ideal - 8 < nbits <= ideal + 1 + n * 1.443 * total * 2^-56
    # + 2^-63 (slack_bounds); 1e-6 covers rounding in the float sum ``ideal``.
    lo, hi = slack_bounds(n, total)
    return ideal + lo - 1e-6 <= nbits <= ideal + hi + 1e-6


# ---------------------------------------------------------------- quantisation


def test_quantise_is_optimal_against_exhaustive_search():
    rng = np.random.default_rng(0)
    for _ in range(30):
        q = rng.dirichlet(np.ones(3) * 0.5)
        T = 1 << 8
        best = max(
            ((a, b, T - a - b) for a, b in itertools.product(range(1, T), repeat=2) if a + b < T),
            key=lambda f: sum(qi * math.log(fi) for qi, fi in zip(q, f)),
        )
        got = quantise(q, 8)
        score = lambda f: sum(qi * math.log(fi) for qi, fi in zip(q, f))  # noqa: E731
        assert score(got) >= score(best) - 1e-12


@settings(max_examples=60, deadline=None)
@given(pmfs(max_k=300), st.integers(9, 24))
def test_quantise_sums_to_2_to_the_b_with_every_symbol_kept(q, b):
    f = quantise(q, b)
    assert f.sum() == 1 << b and (f[q > 0] >= 1).all()
    # local optimality: no unit can move from j to i with a gain
    gain = np.max(q * np.log1p(1 / f))
    with np.errstate(divide="ignore"):
        loss = np.min(np.where(f > 1, -q * np.log1p(-1 / np.maximum(f, 2)), np.inf))
    assert gain <= loss * (1 + 1e-9)


def test_zero_probability_gets_zero_frequency_and_too_low_precision_is_refused():
    assert quantise([0.5, 0.0, 0.5], 8).tolist() == [128, 0, 128]
    with pytest.raises(XentsimError, match="fewer than the 300 symbols"):
        quantise(np.full(300, 1 / 300), 8)
    for bad in (7, 33):
        with pytest.raises(XentsimError, match="precision is"):
            StaticModel([0.5, 0.5], precision=bad)


@pytest.mark.parametrize("b, expected", [(12, 6.0), (16, 8.0), (24, 12.0)])
def test_precision_floor_makes_the_coder_cheaper_than_cross_entropy(b, expected):
    # THEORY.md: p = (.5,.5), q = (1 - 1e-12, 1e-12): H(p,q) = 19.93 but H(p,q^) ~ b/2.
    model = StaticModel([1 - 1e-12, 1e-12], precision=b)
    assert model.cross_entropy([0.5, 0.5]) == pytest.approx(expected, abs=1e-3)
    assert cross_entropy([0.5, 0.5], [1 - 1e-12, 1e-12]) == pytest.approx(19.93, abs=0.01)


def test_quantisation_gap_is_tiny_for_ordinary_q_at_b16():
    p, q = zipf(256, 1.1), mix_uniform(zipf(256, 0.8), 0.1)
    gap = StaticModel(q, 16).cross_entropy(p) - cross_entropy(p, q)
    assert abs(gap) < 1e-3
    assert abs(StaticModel(q, 24).cross_entropy(p) - cross_entropy(p, q)) < abs(gap)


# ---------------------------------------------------------------- coding


def _models(q, n, rng):
    yield StaticModel(q)
    yield StaticModel(q, precision=12 if q.size <= 1 << 12 else 24)
    yield AdaptiveModel(q.size, "kt")
    yield AdaptiveModel(q.size, "laplace")
    rows = rng.dirichlet(np.ones(q.size), size=n) if n else np.zeros((0, q.size))
    if n:
        rows[:, :] = 0.5 * rows + 0.5 * q  # keep q's symbols codable
    yield ConditionalModel(rows)


@settings(max_examples=40, deadline=None)
@given(q=pmfs(), n=st.integers(0, 400), seed=st.integers(0, 2**32 - 1))
def test_every_model_round_trips_and_meets_the_length_bound(q, n, seed):
    rng = np.random.default_rng(seed)
    x = sample(q, n, rng)
    for model in _models(q, n, rng):
        bits = encode(x, model)
        assert np.array_equal(decode(bits, model, n), x)
        total = getattr(model, "total", 2 * n + q.size)
        assert bound_ok(len(bits), model.ideal_bits(x), n, total)


@settings(max_examples=25, deadline=None)
@given(q=pmfs(max_k=12), n=st.integers(0, 150), seed=st.integers(0, 2**32 - 1))
def test_fast_path_equals_the_reference_bit_for_bit(q, n, seed):
    rng = np.random.default_rng(seed)
    x = sample(q, n, rng)
    for model in _models(q, n, rng):
        fast = encode(x, model)
        ref = ReferenceCoder.encode(x, model)
        assert fast == ref
        assert np.array_equal(ReferenceCoder.decode(ref, model, n), x)


def test_long_runs_of_the_least_likely_symbol_and_extreme_alphabets():
    q = np.array([1 - 3e-12, 1e-12, 2e-12])
    x = np.full(5000, 1, dtype=np.uint8)  # 5000 x the 1e-12 symbol: b bits each
    for model in (StaticModel(q), StaticModel(q, 32)):
        bits = encode(x, model)
        assert np.array_equal(decode(bits, model, x.size), x)
        assert bound_ok(len(bits), model.ideal_bits(x), x.size, model.total)
        assert len(bits) >= model.ideal_bits(x) - 8
    one = StaticModel([1.0])
    assert len(encode(np.zeros(100, dtype=np.uint8), one)) == 0  # log2(1) = 0 bits
    assert decode(encode(np.zeros(100, dtype=np.uint8), one), one, 100).tolist() == [0] * 100
    big = StaticModel(np.full(1 << 16, 1 / (1 << 16)))
    y = sample(np.full(1 << 16, 1 / (1 << 16)), 20_000, np.random.default_rng(1))
    bits = encode(y, big)
    assert np.array_equal(decode(bits, big, y.size), y)
    assert abs(len(bits) - 16 * y.size) <= 2


@pytest.mark.parametrize("K, precision", [(2, 8), (256, 24), (300, 24), (4096, 16)])
def test_the_static_guide_names_the_symbol_holding_each_value_and_crowded_buckets_decode(K, precision):
    # Half the mass on symbol 0, the rest spread thinly: at K = 4096 and b = 16 most
    # guide buckets (2^2 values each) hold several symbols, which the search must sort out.
    q = np.full(K, 0.5 / (K - 1))
    q[0] = 0.5
    model = StaticModel(q, precision)
    plan = arithmetic._plan(model, 1)
    cum = plan.cum[0].astype(np.int64)
    g = min(precision, arithmetic.GUIDE_BITS)
    assert plan.guide.size == 1 << g and plan.guide_shift == precision - g
    assert plan.guide.dtype == np.min_scalar_type(K - 1)  # 1 byte up to K = 256
    values = np.arange(1 << g, dtype=np.int64) << plan.guide_shift
    s = plan.guide.astype(np.int64)
    assert ((cum[s] <= values) & (values < cum[s + 1])).all()
    x = np.concatenate([np.arange(K), sample(q, 5000, np.random.default_rng(7))]).astype(np.uint16)
    assert np.array_equal(decode(encode(x, model), model, x.size), x)


def test_messages_of_length_zero_and_one():
    model = StaticModel([0.25, 0.75])
    assert len(encode(np.zeros(0, dtype=np.uint8), model)) == 0
    for s in (0, 1):
        bits = encode(np.array([s]), model)
        assert decode(bits, model, 1).tolist() == [s]
        assert len(bits) <= model.ideal_bits([s]) + 1


def test_conditional_model_costs_its_ideal_length_within_the_proven_range():
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(10), size=50_000)
    x = np.array([rng.choice(10, p=row) for row in probs[:2000]] * 25)
    model = ConditionalModel(probs)
    bits = encode(x, model)
    assert np.array_equal(decode(bits, model, x.size), x)
    # the "within 2 bits" above; the proven range is [-8, +1]
    assert bound_ok(len(bits), model.ideal_bits(x), x.size, model.total)


def test_unencodable_symbols_and_mismatched_models_are_clear_errors():
    with pytest.raises(UnencodableSymbolError, match="symbol 2 .*H\\(p,q\\) is infinite"):
        encode(np.array([0, 2]), StaticModel([0.5, 0.5, 0.0]))
    with pytest.raises(XentsimError, match="outside the model's alphabet"):
        encode(np.array([0, 3]), StaticModel([0.5, 0.5]))
    with pytest.raises(XentsimError, match="3 positions but the message has 2"):
        encode(np.array([0, 1]), ConditionalModel(np.full((3, 2), 0.5)))
    with pytest.raises(XentsimError, match="probs\\[1\\] sums to 0.9"):
        ConditionalModel([[0.5, 0.5], [0.5, 0.4]])


def test_trace_commits_bits_monotonically_within_8_bits_of_the_ideal_prefix():
    model = StaticModel([0.7, 0.2, 0.1])
    x = sample([0.7, 0.2, 0.1], 5000, np.random.default_rng(2))
    bits, trace = encode(x, model, trace=True)
    ideal = np.cumsum(model.symbol_bits(x))
    assert np.all(np.diff(trace) >= 0) and trace[-1] <= len(bits)
    # encode's doc: ideal prefix length in (8S, 8S + 8], trace = 8S
    assert np.all(trace <= ideal + 1e-9) and np.all(ideal - trace <= 8 + 1e-9)
    ref_bits, ref_trace = ReferenceCoder.encode(x[:300], model, trace=True)
    assert np.array_equal(encode(x[:300], model, trace=True)[1], ref_trace)


# ---------------------------------------------------------------- statistics


def test_bern_example_bits_per_symbol_lie_in_the_interval_around_h_p_qhat():
    # The acceptance run: p = Bern(.9), q = Bern(.1), 10^6 symbols.
    m = simulate([0.1, 0.9], [0.9, 0.1], "arithmetic", n=1_000_000, rng=np.random.default_rng(0))
    assert m.ci99[0] <= m.model_cross_entropy_bits <= m.ci99[1]
    assert m.model_cross_entropy_bits == pytest.approx(3.004936, abs=1e-5)
    assert abs(m.quantisation_gap_bits) < 1e-6


def test_arithmetic_coder_converges_to_cross_entropy_not_the_huffman_length():
    p, q = zipf(256, 1.1), mix_uniform(zipf(256, 0.8), 0.1)
    m = simulate(p, q, "arithmetic", n=400_000, trials=2, rng=np.random.default_rng(3))
    assert m.ci99[0] <= m.model_cross_entropy_bits <= m.ci99[1]
    assert m.excess_bits == pytest.approx(m.kl_bits, abs=(m.ci99[1] - m.ci99[0]) / 2 + 1e-5)


def kt_redundancy_bits(K, n):
    """Clarke-Barron: the KT (Jeffreys-prior) mixture's expected redundancy over n H(p),
    (K-1)/2 log2(n / (2 pi e)) + log2(pi^(K/2) / Gamma(K/2)) + o(1), for p inside the simplex."""
    return (K - 1) / 2 * math.log2(n / (2 * math.pi * math.e)) + (
        K / 2 * math.log2(math.pi) - math.lgamma(K / 2) / math.log(2))


def test_adaptive_redundancy_over_entropy_shrinks_with_n_as_clarke_barron_predicts():
    # Uniform p: -log2 p(X) has no variance, so the redundancy is measured without
    # sampling noise from H. Real bits lie in [ideal - 8, ideal + 1] (module bound).
    K = 16
    p = np.full(K, 1 / K)
    per_symbol = []
    for n in (1_000, 10_000, 100_000):
        msgs = [sample(p, n, r) for r in np.random.default_rng(n).spawn(20)]
        bits = np.array([len(encode(x, AdaptiveModel(K, "kt"))) for x in msgs])
        ideal = np.array([AdaptiveModel(K, "kt").ideal_bits(x) for x in msgs])
        assert np.all(bits <= ideal + 1 + 1e-6) and np.all(bits >= ideal - 8)
        red = ideal.mean() - n * 4
        se = ideal.std(ddof=1) / math.sqrt(len(msgs))
        if n >= 10_000:  # the o(1) remainder is below a bit from here on
            assert abs(red - kt_redundancy_bits(K, n)) <= 1 + 3 * se
        per_symbol.append((bits.mean() - n * 4) / n)
    assert per_symbol[0] > per_symbol[1] > per_symbol[2] > 0


# ---------------------------------------------------------------- termination and bound


def test_slack_is_defined_once_and_used_by_the_code_interface():
    assert SLACK_BITS == (-8.0, 1.0)
    assert ArithmeticCode([0.5, 0.5]).slack_bits == SLACK_BITS
    assert ArithmeticCode([0.5, 0.5], model="kt").slack_bits == SLACK_BITS
    assert TRUNCATION_BITS == 1.443 * 2.0**-56
    assert TRUNCATION_BITS * 2**24 < 3.4e-10  # the module doc's number at b = 24
    assert ArithmeticCode([0.5, 0.5]).message_slack_bits(10**6) == slack_bounds(10**6, 2**24)
    assert -math.log2(1 - 2.0**32 * 2.0**-56) <= TRUNCATION_BITS * 2**32  # worst total 2^32


def test_real_minus_ideal_lies_in_the_proven_range_and_reaches_below_minus_2():
    # Module doc: real - ideal in [-8, 1 + n 1.443 total 2^-56]; "within 2 bits" would
    # be false: about 14% of these messages end more than 2 bits below their ideal.
    rng = np.random.default_rng(7)
    q = np.array([0.5, 0.3, 0.15, 0.05])
    model = StaticModel(q)
    d = []
    for _ in range(4000):
        n = int(rng.integers(1, 100))
        x = sample(q, n, rng)
        bits = encode(x, model)
        assert bound_ok(len(bits), model.ideal_bits(x), n, model.total)
        d.append(len(bits) - model.ideal_bits(x))
    d = np.array(d)
    below = (d < -2).mean()
    # 99% binomial interval around the documented 14%
    assert abs(below - 0.14) <= 2.576 * math.sqrt(0.14 * 0.86 / d.size)
    assert d.max() > 0.9 and d.min() < -7  # both ends of [-8, +1] are approached


def test_random_messages_of_every_model_meet_both_sides_of_the_bound():
    rng = np.random.default_rng(8)
    for _ in range(300):
        K = int(rng.integers(1, 300))
        q = rng.dirichlet(np.full(K, 0.5))
        n = int(rng.integers(0, 2000))
        x = sample(q, n, rng)
        rows = 0.5 * rng.dirichlet(np.ones(K), size=n) + 0.5 * q if n else np.zeros((0, K))
        for model, total in ((StaticModel(q, int(rng.integers(max(9, K.bit_length()), 33))), None),
                             (AdaptiveModel(K, "kt"), K + 2 * n), (AdaptiveModel(K, "laplace"), K + n),
                             (ConditionalModel(rows), None)):
            bits = encode(x, model)
            assert bound_ok(len(bits), model.ideal_bits(x), n, total or model.total)


def _final_interval(x, model):
    """(L, W, scale): the encoder's final interval [L, L + W) in units of 2^-scale."""
    x = arithmetic._as_message(x)
    plan = arithmetic._plan(model, x.size)
    enc, cursor = arithmetic._Encoder(), arithmetic._TableCursor(plan)
    for s in x.tolist():
        cum, total = cursor.table()
        enc._narrow(cum[s], cum[s + 1] - cum[s], total)
        cursor.update(s)
    out = bytes(enc.out[1:]) + (bytes([enc.cache]) + b"\xff" * enc.pending if enc.out else b"")
    return (int.from_bytes(out, "big") << 64) + enc.low, enc.rng, 8 * len(out) + 64


def _fewest_bits(L, W, scale):
    """The fewest bits whose zero-padded value lies in [L, L + W)."""
    for m in range(scale + 1):
        step = 1 << (scale - m)
        if -(-L // step) * step - L < W:
            return m


def test_termination_is_not_always_the_shortest_stream_as_documented():
    # Module doc: 10 zero bytes (K = 256) take 56 bits with Laplace, 48 with KT; 0 would do.
    zeros = np.zeros(10, dtype=np.uint8)
    for est, expected in (("laplace", 56), ("kt", 48)):
        model = AdaptiveModel(256, est)
        assert len(encode(zeros, model)) == expected
        assert _fewest_bits(*_final_interval(zeros, model)) == 0
        with pytest.raises(XentsimError):  # the decoder wants the encoder's own ending
            decode(bitarray_empty(), model, 10)
    # About 10% of random messages have a shorter stream than the coder writes.
    rng = np.random.default_rng(7)
    q = np.array([0.5, 0.3, 0.15, 0.05])
    model = StaticModel(q)
    saved = []
    for _ in range(1000):
        x = sample(q, int(rng.integers(1, 100)), rng)
        saved.append(len(encode(x, model)) - _fewest_bits(*_final_interval(x, model)))
    saved = np.array(saved)
    assert saved.min() >= 0
    frac = (saved > 0).mean()
    assert abs(frac - 0.10) <= 2.576 * math.sqrt(0.1 * 0.9 / saved.size)
    # "usually 1 to 3 bits"
    assert ((saved >= 1) & (saved <= 3)).sum() > (saved > 3).sum()


def bitarray_empty():
    from bitarray import bitarray

    return bitarray(endian="big")


# ---------------------------------------------------------------- tables only


class _ContextModel:
    """A test model with order-k context tables, fixed or adaptive: no coder changes."""

    def __init__(self, K, order, increment=0, seed=0, precision=12):
        rng = np.random.default_rng(seed)
        self.n_symbols, self.name = K, "context"
        R = K ** order
        if increment:
            f = rng.integers(1, 4, size=(R, K))
            prec = None
        else:
            f = np.array([quantise(rng.dirichlet(np.ones(K)), precision) for _ in range(R)])
            prec = precision
        cum = np.zeros((R, K + 1), dtype=np.uint64)
        np.cumsum(f, axis=1, out=cum[:, 1:])
        cum.setflags(write=False)
        self._t = Tables(cum=cum, row="context", order=order, increment=increment, precision=prec)

    def tables(self, n):
        return self._t


@pytest.mark.parametrize("order, increment", [(0, 0), (1, 0), (2, 0), (1, 1), (2, 2), (3, 1)])
def test_context_tables_fixed_and_adaptive_code_with_the_same_kernels(order, increment):
    model = _ContextModel(3, order, increment, seed=order + 10 * increment)
    rng = np.random.default_rng(order)
    for n in (0, 1, 5, 300):
        x = rng.integers(0, 3, size=n)
        bits = encode(x, model)
        assert bits == ReferenceCoder.encode(x, model)
        assert np.array_equal(decode(bits, model, n), x)
        assert np.array_equal(ReferenceCoder.decode(bits, model, n), x)


def test_the_coder_module_never_names_a_model_class():
    import inspect

    src = inspect.getsource(arithmetic)
    for name in ("StaticModel", "ConditionalModel", "AdaptiveModel", "isinstance(model", "model.kind", "type(model"):
        assert name not in src


# ---------------------------------------------------------------- bad input


def test_a_missing_or_foreign_model_is_a_clear_error():
    x = np.array([0, 1])
    for bad in (None, object(), "static", [0.5, 0.5]):
        with pytest.raises(XentsimError, match="model must be a model"):
            encode(x, bad)
        with pytest.raises(XentsimError, match="model must be a model"):
            decode(encode(x, StaticModel([0.5, 0.5])), bad, 2)
        with pytest.raises(XentsimError, match="model must be a model"):
            ReferenceCoder.encode(x, bad)


def test_big_endian_symbols_encode_like_native_ones():
    model = StaticModel([0.5, 0.3, 0.2])
    for dt in (">i4", ">u2", ">i8", "<i4"):
        x = np.array([0, 1, 2, 2, 1], dtype=dt)
        assert encode(x, model) == encode(x.astype(np.int64), model)
        assert encode(x, AdaptiveModel(3)) == encode(x.astype(np.int64), AdaptiveModel(3))


def test_symbols_out_of_range_or_negative_name_their_position_and_value():
    model = StaticModel([0.5, 0.5])
    with pytest.raises(XentsimError, match=r"symbols\[2\] is -1"):
        encode(np.array([0, 1, -1]), model)
    with pytest.raises(XentsimError, match=r"symbols\[1\] is 7, outside the model's alphabet 0..1"):
        encode(np.array([0, 7]), model)
    with pytest.raises(XentsimError, match=r"symbols\[0\] is -5"):
        encode(np.array([-5], dtype=">i2"), AdaptiveModel(2))
    with pytest.raises(XentsimError, match="must be integers"):
        encode(np.array([0.0, 1.0]), model)
    with pytest.raises(XentsimError, match="1-D"):
        encode(np.zeros((2, 2), dtype=int), model)


# ---------------------------------------------------------------- mapped context tables
# (rows reached through a context hash map: the byte-file models of simulator.models.trained)

from simulator.models import ContextAdaptiveModel, TrainedModel  # noqa: E402
from simulator.models.trained import ContextTables  # noqa: E402


class _Given:
    """A model that returns the tables it was given (to test the plan's checks)."""

    def __init__(self, tables, K):
        self.t, self.n_symbols = tables, K

    def tables(self, n):
        return self.t

    def __repr__(self):
        return "Given"


def _fixed_rows(K=3, b=8):
    # two context rows and a default row, each totalling 2^b
    t = 1 << b
    cum = np.array([[0, 1, 2, t], [0, t - 2, t - 1, t], [0, t // 4, t // 2, t]], dtype=np.uint64)
    return ContextTables(cum=cum[:, : K + 1], row="mapped", order=1, precision=b,
                         contexts=np.array([0, 1], dtype=np.uint64), default_row=2)


def _mapped(**changes):
    base = dict(cum=_fixed_rows().cum, row="mapped", order=1, precision=8,
                contexts=np.array([0, 1], dtype=np.uint64), default_row=2)
    base.update(changes)
    return _Given(ContextTables(**base), changes.pop("K", 3) if "K" in changes else 3)


@pytest.mark.parametrize("changes, why", [
    (dict(cum=np.zeros((0, 4), dtype=np.uint64)), r"cum must be an \(R, K \+ 1\) = \(R, 4\) array with R >= 1, got \(0, 4\)"),
    (dict(cum=np.zeros((3, 3), dtype=np.uint64)), r"= \(R, 4\) array with R >= 1, got \(3, 3\)"),
    (dict(cum=np.zeros(4, dtype=np.uint64)), r"got \(4,\)"),
    (dict(cum=[[0, 1, 2, 256]]), r"got list"),
    (dict(cum=_fixed_rows().cum.astype(float)), "non-negative integers, got dtype float64"),
    (dict(cum=-_fixed_rows().cum.astype(np.int64)), "non-negative integers, got dtype int64"),
    (dict(cum=np.array([[1, 2, 3, 256]] * 3)), "start at 0 and not decrease"),
    (dict(cum=np.array([[0, 3, 2, 256]] * 3)), "start at 0 and not decrease"),
    (dict(order=-1), "order must be an integer >= 0 with K\\^order <= 2\\^62, got -1"),
    (dict(order=True), "got True"),
    (dict(order=1.0), "got 1.0"),
    (dict(order=40), "got 40"),
    (dict(increment=-1), "increment must be an integer >= 0, got -1"),
    (dict(increment=True), "increment must be an integer >= 0, got True"),
    (dict(increment=1.0), "increment must be an integer >= 0, got 1.0"),
    (dict(contexts=np.array([0], dtype=np.uint64)), "contexts must list distinct context numbers"),
    (dict(contexts=np.array([0, 1, 2, 2], dtype=np.uint64)), "contexts must list distinct"),
    (dict(contexts=np.array([0, 3], dtype=np.uint64)), "below K\\^order, one per row"),
    (dict(contexts=np.array([1, 1], dtype=np.uint64)), "distinct context numbers"),
    (dict(contexts=np.zeros((1, 2), dtype=np.uint64)), "contexts must list"),
    (dict(default_row=3), "default_row 3 must be -1 or a row without a context"),
    (dict(default_row=1), "default_row 1 must be -1 or a row without a context"),
    (dict(default_row=-2), "default_row -2 must be"),
    (dict(precision=7), "precision must be an integer in 8..32 for fixed tables, got 7"),
    (dict(precision=None), "got None"),
])
def test_mapped_tables_are_validated_naming_what_is_wrong(changes, why):
    with pytest.raises(XentsimError, match=why) as err:
        encode(np.array([0, 1, 2]), _mapped(**changes))
    assert str(err.value).startswith("model Given returned bad tables: ")


@pytest.mark.parametrize("increment, precision", [(1, None), (0, 17)])
def test_decreasing_cumulative_frequencies_are_refused_also_in_rows_above_2_to_16_entries(
        increment, precision):
    # Found by mutation testing: large adaptive rows skipped this check, so the streaming
    # encoder coded with a negative frequency and encode() blamed symbol 0.
    K = 70_000
    cum = np.arange(K + 1, dtype=np.uint64)
    if precision:
        cum[K] = 1 << precision  # a fixed row: total 2^17
    cum[K // 2] = cum[K // 2 - 1] - np.uint64(1)  # one step down in the middle of the row
    model = _Given(Tables(cum=cum[None, :], row="const", increment=increment,
                          precision=precision), K)
    x = np.array([0, 1, 2])
    for call in (lambda: encode(x, model), lambda: decode(encode(x[:0], StaticModel([1.0])), model, 3),
                 lambda: arithmetic.ArithmeticStreamEncoder(model).push(x)):
        with pytest.raises(XentsimError, match="cumulative frequencies must not decrease along a row"):
            call()


@pytest.mark.parametrize("contexts, shown", [([0.0, 1.7], "dtype float64 with values from 0.0 to 1.7"),
                                             ([-1, 1], "dtype int64 with values from -1 to 1"),
                                             ([True, False], "dtype bool with values from False to True")])
def test_context_numbers_that_are_not_non_negative_integers_are_refused_not_truncated(contexts, shown):
    # A float context was truncated (1.7 coded as context 1) and -1 raised numpy's OverflowError.
    cum = np.array([[0, 128, 256], [0, 1, 256]], dtype=np.uint64)
    with pytest.raises(XentsimError, match=re.escape(
            f"ContextTables contexts must be context numbers (integers >= 0), got {shown}")):
        ContextTables(cum=cum, row="mapped", order=1, precision=8, contexts=contexts)
    ok = ContextTables(cum=cum, row="mapped", order=1, precision=8, contexts=np.array([0, 1], dtype=np.int8))
    x = np.array([0, 1, 1, 0])
    assert np.array_equal(decode(encode(x, _Given(ok, 2)), _Given(ok, 2), 4), x)


def test_mapped_tables_need_context_tables_and_a_model_with_an_alphabet():
    plain = Tables(cum=_fixed_rows().cum, row="mapped", order=1, precision=8)
    with pytest.raises(XentsimError, match="row 'mapped' needs ContextTables"):
        encode(np.array([0]), _Given(plain, 3))
    for K in (0, True, "3", None, -1):
        with pytest.raises(XentsimError, match=f"n_symbols >= 1, got {K!r} from Given"):
            encode(np.array([0]), _Given(_fixed_rows(), K))


@pytest.mark.parametrize("changes, why", [
    (dict(cum=np.array([[0, 1, 2, 3], [0, 1, 2, 3]], dtype=np.uint64)), "one starting row"),
    (dict(cum=np.zeros((1, 4), dtype=np.uint64)), "one starting row with a positive total"),
    (dict(contexts=np.array([0], dtype=np.uint64)), "no contexts, no default row"),
    (dict(default_row=0), "no contexts, no default row"),
    (dict(pool=-1), "pool >= 0 and pairs >= 0"),
    (dict(pairs=-1), "pool >= 0 and pairs >= 0"),
])
def test_adaptive_mapped_tables_are_validated(changes, why):
    base = dict(cum=np.array([[0, 1, 2, 3]], dtype=np.uint64), row="mapped", order=1,
                increment=2, contexts=np.zeros(0, dtype=np.uint64), default_row=-1,
                pool=9, pairs=9)
    base.update(changes)
    with pytest.raises(XentsimError, match="returned bad tables: adaptive mapped tables have .*" + why):
        encode(np.array([0, 1, 2]), _Given(ContextTables(**base), 3))


def test_mapped_fixed_tables_code_each_context_with_its_row_and_others_with_the_default():
    m = _Given(_fixed_rows(), 3)
    x = np.array([0, 0, 1, 2, 2, 0, 1, 1, 2, 0])
    # row of position t: context x[t-1] (0 before the start); contexts 0, 1 own rows 0, 1,
    # context 2 the default row 2
    cum = _fixed_rows().cum.astype(np.int64)
    ctx = np.concatenate(([0], x[:-1]))
    ideal = -np.log2((cum[ctx, x + 1] - cum[ctx, x]) / 256.0).sum()
    bits = encode(x, m)
    assert bound_ok(len(bits), ideal, x.size, 256)
    assert np.array_equal(decode(bits, m, x.size), x)
    assert ReferenceCoder.encode(x, m) == bits
    assert np.array_equal(ReferenceCoder.decode(bits, m, x.size), x)
    # the same rows laid out densely, one per context: the same stream
    dense = Tables(cum=cum[[0, 1, 2]].astype(np.uint64), row="context", order=1, precision=8)
    assert encode(x, _Given(dense, 3)) == bits


@pytest.mark.parametrize("dtype", [np.uint32, np.int64, np.int32, np.uint16])
def test_mapped_fixed_rows_of_any_integer_dtype_code_like_uint64(dtype):
    x = np.array([0, 2, 1, 2, 2, 0, 1])
    want = encode(x, _Given(_fixed_rows(), 3))
    m = _mapped(cum=_fixed_rows().cum.astype(dtype))
    assert encode(x, m) == want
    assert np.array_equal(decode(want, m, x.size), x)


def test_mapped_uint32_rows_at_precision_32_code_like_uint64():
    t = 1 << 32
    cum = np.array([[0, 1, 2, t], [0, t - 2, t - 1, t], [0, t // 4, t // 2, t]], dtype=np.uint64)
    x = np.array([0, 2, 1, 2, 2, 0, 1, 0])
    want = encode(x, _mapped(cum=cum, precision=32))
    assert want == ReferenceCoder.encode(x, _mapped(cum=cum, precision=32))
    # 2^32 does not fit in uint32: such rows are refused rather than wrapped
    wrapped = cum.astype(np.uint32)
    with pytest.raises(XentsimError, match="bad tables"):
        encode(x, _mapped(cum=wrapped, precision=32))


def test_a_context_without_a_row_and_no_default_is_refused_naming_the_context():
    m = _mapped(default_row=-1, cum=_fixed_rows().cum[:2])
    x = np.array([1, 0, 0, 1, 2, 1])  # position 5 follows symbol 2: context 2 has no row
    with pytest.raises(UnencodableSymbolError,
                       match=r"symbol 1 \(at position 5\) follows context 2 \(the previous 1 "
                             r"symbols as a base-3 number\), which the model has no row for"):
        encode(x, m)
    with pytest.raises(UnencodableSymbolError, match=r"follows context 2 "):
        ReferenceCoder.encode(x, m)
    # order 2: the context is the previous two symbols, oldest first
    m2 = _Given(ContextTables(cum=_fixed_rows().cum[:2], row="mapped", order=2, precision=8,
                              contexts=np.array([0, 1], dtype=np.uint64), default_row=-1), 3)
    # contexts at t = 0..3: (0, 0) = 0, (0, 0) = 0, (0, 1) = 1, then (1, 0) = 3 has no row
    with pytest.raises(UnencodableSymbolError, match=r"position 3\) follows context 3 \(the previous 2"):
        encode(np.array([0, 1, 0, 0]), m2)
    with pytest.raises(UnencodableSymbolError, match=r"position 3\) follows context 3 "):
        ReferenceCoder.encode(np.array([0, 1, 0, 0]), m2)


def test_a_zero_frequency_in_a_mapped_row_is_refused_naming_symbol_and_position():
    cum = _fixed_rows().cum.copy()
    cum[0] = [0, 256, 256, 256]  # context 0 can only be followed by symbol 0
    m = _mapped(cum=cum)
    for coder in (encode, ReferenceCoder.encode):
        with pytest.raises(UnencodableSymbolError,
                           match=r"symbol 2 \(at position 2\) has frequency 0 in its context's row"):
            coder(np.array([0, 0, 2]), m)


@pytest.mark.parametrize("bad, where", [(3, "symbols\\[1\\] is 3, outside the model's alphabet 0..2"),
                                        (-1, "symbols\\[1\\] is -1, outside")])
def test_mapped_coders_refuse_symbols_outside_the_alphabet_by_position(bad, where):
    for m in (_Given(_fixed_rows(), 3), ContextAdaptiveModel(3, 2, "kt")):
        for coder in (encode, ReferenceCoder.encode):
            with pytest.raises(XentsimError, match=where):
                coder(np.array([0, bad, 1]), m)


def test_an_adaptive_mapped_message_with_more_contexts_than_its_pool_is_refused():
    x = np.array([0, 1, 2, 0, 1, 2, 2, 2])  # order 1: contexts 0, 1, 2 occur
    small = ContextAdaptiveModel(3, 1, "kt", 2, 9)
    with pytest.raises(XentsimError, match=r"more distinct contexts or \(context, symbol\) pairs "
                                           r"than the model allows \(2 and 9"):
        encode(x, small)
    with pytest.raises(XentsimError, match="opens more distinct contexts than the model's pool of 2"):
        ReferenceCoder.encode(x, small)
    ok = ContextAdaptiveModel(3, 1, "kt", 3, 9)
    assert np.array_equal(decode(encode(x, ok), ok, x.size), x)


@pytest.mark.parametrize("K, k", [(2, 16), (2, 17), (16, 3), (16, 4), (5, 0), (5, 2)])
def test_adaptive_mapped_rows_are_dense_up_to_one_mebibyte_and_code_alike(K, k):
    # dense Fenwick rows while K^k * 8 K <= 2^20 bytes, else sparse rows: the same bits
    m = ContextAdaptiveModel(K, k, "laplace")
    plan = arithmetic._plan(m, 500)
    assert plan.sparse == (K ** k * 8 * K > 1 << 20)
    assert plan.pool == min(500, K ** k)
    rng = np.random.default_rng(K + k)
    x = rng.integers(0, K, 500)
    bits = encode(x, m)
    assert bits == ReferenceCoder.encode(x, m)
    assert np.array_equal(decode(bits, m, x.size), x)
    assert np.array_equal(ReferenceCoder.decode(bits, m, x.size), x)


def test_empty_maps_have_at_least_twice_the_entries_and_sixteen_slots():
    for entries, slots in ((0, 16), (1, 16), (8, 16), (9, 32), (16, 32), (17, 64), (1000, 2048)):
        table, shift = arithmetic._empty_map(entries)
        assert table.shape == (slots, 2) and table.dtype == np.uint64 and not table.any()
        assert shift == 64 - slots.bit_length() + 1
    plan = arithmetic._plan(ContextAdaptiveModel(4, 2, "kt"), 10)
    table, shift, tree, ext, tot = plan.fresh_map()
    assert table.shape[0] >= 2 * plan.pool and tree.shape == (plan.pool, 5)
    assert ext.shape == (plan.pool, 4) and tot.shape == (plan.pool,) and tot.dtype == np.uint64
    assert tree.dtype == ext.dtype == np.uint32 and not (tree.any() or ext.any() or tot.any())


def test_mapped_fixed_rows_of_a_large_alphabet_decode_through_wide_guides():
    # K > 256 needs uint16 guide entries, K > 65536 int64 ones
    for K in (300, 70000):
        b = 20
        w = np.full(K, (1 << b) // K, dtype=np.int64)
        w[: (1 << b) - w.sum()] += 1
        cum = np.concatenate(([0], np.cumsum(w))).astype(np.uint64)[None, :]
        m = _Given(ContextTables(cum=cum, row="mapped", order=0, precision=b,
                                 contexts=np.array([0], dtype=np.uint64), default_row=-1), K)
        x = np.array([0, K - 1, K // 2, 1, K - 2, 255, 256, 257])
        bits = encode(x, m)
        assert np.array_equal(decode(bits, m, x.size), x)
        assert np.array_equal(ReferenceCoder.decode(bits, m, x.size), x)


def test_trained_mapped_models_decode_damaged_streams_only_to_their_own_encoding():
    rng = np.random.default_rng(7)
    train = rng.integers(0, 6, 400)
    x = rng.integers(0, 6, 300)
    for m in (TrainedModel(train, 2, 6, alpha=0.5), ContextAdaptiveModel(6, 2, "kt"),
              ContextAdaptiveModel(6, 9, "kt")):
        bits = encode(x, m)
        for cut in (len(bits) - 1, len(bits) + 1, 0):
            bad = bits[:cut] if cut <= len(bits) else bits + [0]
            try:
                y = decode(bad, m, x.size)
            except XentsimError:
                continue
            assert encode(y, m) == bad and not np.array_equal(y, x)


def test_mapped_refusals_say_whether_the_context_has_no_row_or_the_symbol_no_frequency():
    cum = _fixed_rows().cum.copy()
    cum[0] = [0, 256, 256, 256]  # context 0: only symbol 0
    no_default = _Given(ContextTables(cum=cum[:2], row="mapped", order=1, precision=8,
                                      contexts=np.array([0, 1], dtype=np.uint64),
                                      default_row=-1), 3)
    only_default = _Given(ContextTables(cum=cum[:1], row="mapped", order=1, precision=8,
                                        contexts=np.zeros(0, dtype=np.uint64), default_row=0), 3)
    whole = (r"^symbol 2 \(at position 2\) has frequency 0 in its context's row: the model "
             r"gives it probability 0, so no code built from it can encode it \(H\(p,q\) is "
             r"infinite\)$")
    for m in (no_default, only_default):
        for coder in (encode, ReferenceCoder.encode):
            with pytest.raises(UnencodableSymbolError, match=whole):
                coder(np.array([0, 0, 2]), m)
    order2 = _Given(ContextTables(cum=cum[:2], row="mapped", order=2, precision=8,
                                  contexts=np.array([0, 1], dtype=np.uint64), default_row=-1), 3)
    no_row = (r"^symbol 0 \(at position 2\) follows context 7 \(the previous 2 symbols as a "
              r"base-3 number\), which the model has no row for: q\(\. \| context\) is 0 "
              r"everywhere \(an unsmoothed model that never saw this context\), so H\(p,q\) "
              r"is infinite$")
    for coder in (encode, ReferenceCoder.encode):
        # contexts (0, 0) = 0 and (0, 2) = 2 have rows; position 2 follows (2, 1) = 7
        with pytest.raises(UnencodableSymbolError, match=no_row):
            coder(np.array([2, 1, 0]), _Given(ContextTables(
                cum=np.repeat(_fixed_rows().cum[2:3], 2, axis=0), row="mapped", order=2,
                precision=8, contexts=np.array([0, 2], dtype=np.uint64), default_row=-1), 3))


@pytest.mark.parametrize("model", [StaticModel([0.5, 0.25, 0.25]), AdaptiveModel(3, "kt")])
def test_damaged_streams_are_refused_with_the_same_words_by_both_decoders(model):
    x = np.array([0, 1, 2, 0, 0, 1, 2, 2, 1, 0] * 3)
    bits = encode(x, model)
    longer = bits + [0] * 8
    end = (rf"^bits \({len(longer)} bits\) is not the encoding of any 30-symbol message under "
           r"this model: it does not end where the decoded message's encoding ends "
           r"\(truncated, extended, or the wrong n\)$")
    for decoder in (decode, ReferenceCoder.decode):
        with pytest.raises(XentsimError, match=end):
            decoder(longer, model, x.size)
        with pytest.raises(XentsimError, match=rf"^bits \({len(bits)} bits\) is not the encoding "
                                               r"of any 0-symbol message under this model: it "
                                               r"does not end where"):
            decoder(bits, model, 0)
        with pytest.raises(XentsimError, match=r"^n_symbols is -1, must be >= 0$"):
            decoder(bits, model, -1)


@pytest.mark.parametrize("model", [StaticModel([0.5, 0.25, 0.25]), AdaptiveModel(3, "kt")])
def test_a_target_outside_the_total_is_called_garbage_by_both_decoders(model):
    # all ones: the first target lies in the sliver above the total (rng is not a
    # multiple of it), which no encoder ever produces
    from bitarray import bitarray
    for nbits in (64, 100, 200):
        ones = bitarray("1" * nbits)
        for decoder in (decode, ReferenceCoder.decode):
            with pytest.raises(XentsimError, match=rf"^bits \({nbits} bits\) is not the encoding of "
                                                   r"any 40-symbol message under this model: a "
                                                   r"target value falls outside the frequency "
                                                   r"total \(garbage\)$"):
                decoder(ones, model, 40)


def test_adaptive_messages_may_be_as_long_as_totals_below_2_to_32_allow():
    # KT adds 2 per symbol to an initial total of 256, Laplace 1 (README, "Scale")
    kt, laplace = AdaptiveModel(256, "kt"), AdaptiveModel(256, "laplace")
    arithmetic._plan(kt, (2**32 - 1 - 256) // 2)
    with pytest.raises(XentsimError, match="frequency totals below 2\\^32"):
        arithmetic._plan(kt, (2**32 - 1 - 256) // 2 + 1)
    arithmetic._plan(laplace, 2**32 - 1 - 256)
    with pytest.raises(XentsimError, match="frequency totals below 2\\^32"):
        arithmetic._plan(laplace, 2**32 - 256)


# --- mutation: mapped context tables (plan checks, refusals, edge messages, state)


def _adaptive_given(K=3, **changes):
    base = dict(cum=np.arange(K + 1, dtype=np.uint64)[None, :], row="mapped", order=1,
                increment=2, pool=9, pairs=9)
    base.update(changes)
    return _Given(ContextTables(**base), K)


_BAD = "model Given returned bad tables: "


@pytest.mark.parametrize("model, message", [
    (_Given(Tables(cum=_fixed_rows().cum, row="mapped", order=1, precision=8), 3),
     "row 'mapped' needs ContextTables (simulator.models.trained)"),
    (_mapped(cum=np.array([[0, 3, 2, 256]] * 3)),
     "every row of cum must start at 0 and not decrease"),
    # a decrease between two counts above 2^53, where float64 would see two equal numbers
    (_adaptive_given(cum=np.array([[0, 2**60 + 2, 2**60, 2**61]], dtype=np.uint64)),
     "every row of cum must start at 0 and not decrease"),
    (_mapped(contexts=np.array([1, 1], dtype=np.uint64)),
     "contexts must list distinct context numbers below K^order, one per row"),
    (_mapped(default_row=0), "default_row 0 must be -1 or a row without a context"),
    (_Given(ContextTables(cum=np.array([[0, 128, 256]], dtype=np.uint64), row="mapped", order=63,
                          precision=8, contexts=np.array([0], dtype=np.uint64)), 2),
     "order must be an integer >= 0 with K^order <= 2^62, got 63"),
    (_adaptive_given(cum=np.array([[0, 1, 2, 3]] * 2, dtype=np.uint64)),
     "adaptive mapped tables have one starting row with a positive total"),
    (_adaptive_given(pool=-1),
     "adaptive mapped tables have no contexts, no default row, and pool >= 0 and pairs >= 0"),
])
def test_mapped_table_refusals_are_whole_sentences_naming_the_model(model, message):
    for coder in (encode, ReferenceCoder.encode):
        with pytest.raises(XentsimError) as err:
            coder(np.array([0, 1, 2, 1]), model)
        assert str(err.value) == _BAD + message


def test_a_mapped_model_without_an_alphabet_size_is_refused_naming_it():
    class NoAlphabet:
        def tables(self, n):
            return _fixed_rows()

        def __repr__(self):
            return "NoAlphabet"

    with pytest.raises(XentsimError) as err:
        encode(np.array([0, 1]), NoAlphabet())
    assert str(err.value) == "model must have n_symbols >= 1, got None from NoAlphabet"


def test_one_symbol_alphabets_cost_zero_bits_under_mapped_tables():
    # K = 1: every symbol has probability 1, so the ideal length and the stream are empty
    fixed = _Given(ContextTables(cum=np.array([[0, 256]], dtype=np.uint64), row="mapped",
                                 order=2, precision=8, contexts=np.array([0], dtype=np.uint64)), 1)
    x = np.zeros(7, dtype=np.int64)
    for m in (fixed, ContextAdaptiveModel(1, 2, "kt"), ContextAdaptiveModel(1, 0, "laplace")):
        bits = encode(x, m)
        assert len(bits) == 0 and ReferenceCoder.encode(x, m) == bits
        assert np.array_equal(decode(bits, m, x.size), x)
        assert np.array_equal(ReferenceCoder.decode(bits, m, x.size), x)


def test_the_empty_message_codes_to_zero_bits_under_every_mapped_model():
    # an adaptive model's pool is the message length (0 here) unless it sets one
    train = np.random.default_rng(3).integers(0, 3, 50)
    empty = np.zeros(0, dtype=np.int64)
    for m in (TrainedModel(train, 2, 3), TrainedModel(train, 1, 3, alpha=0),
              ContextAdaptiveModel(3, 2, "kt"), ContextAdaptiveModel(2, 17, "kt"),
              ContextAdaptiveModel(3, 1, "kt", 0, 0)):
        for coder in (encode, ReferenceCoder.encode):
            assert len(coder(empty, m)) == 0
        for decoder in (decode, ReferenceCoder.decode):
            assert decoder(encode(empty, m), m, 0).size == 0


def test_the_largest_context_space_k_to_the_order_equal_to_2_to_the_62_codes():
    m = ContextAdaptiveModel(2, 62, "kt")  # 2^62 contexts: the largest the tables allow
    x = np.random.default_rng(62).integers(0, 2, 120)
    bits = encode(x, m)
    assert bits == ReferenceCoder.encode(x, m)
    assert np.array_equal(decode(bits, m, x.size), x)


def test_mapped_plans_of_read_only_tables_are_built_once_and_read_the_rows_in_place():
    # arithmetic._plan: tables are validated once per read-only table; a trained model's
    # uint32 rows (precision < 32) are coded as they are, not copied to uint64
    trained = TrainedModel(np.random.default_rng(4).integers(0, 5, 300), 2, 5)
    plan = arithmetic._plan(trained, 10)
    assert plan.cum is trained.cum and plan.cum.dtype == np.uint32
    assert arithmetic._plan(trained, 1000) is plan
    # fixed tables share one prebuilt map, which no message may change
    table = plan.fresh_map()[0]
    assert plan.fresh_map()[0] is table and not table.flags.writeable
    with pytest.raises(ValueError):
        table[0, 0] = 1
    adaptive = ContextAdaptiveModel(5, 2, "kt")
    plan = arithmetic._plan(adaptive, 40)
    assert plan.cum is adaptive.tables(40).cum and arithmetic._plan(adaptive, 40) is plan


def test_an_order_0_adaptive_model_keeps_exactly_one_row_of_counts():
    plan = arithmetic._plan(ContextAdaptiveModel(4, 0, "kt"), 100)
    table, shift, tree, ext, tot = plan.fresh_map()
    assert plan.pool == 1 and tree.shape == (1, 5) and ext.shape == (1, 4) and tot.shape == (1,)


@pytest.mark.parametrize("order", [1, 12])  # dense and sparse adaptive rows
@pytest.mark.parametrize("dtype", [np.uint32, np.int64, np.int32, np.uint16])
def test_adaptive_mapped_starting_rows_of_any_integer_dtype_code_like_uint64(dtype, order):
    x = np.random.default_rng(order).integers(0, 3, 200)
    start = np.array([[0, 1, 3, 4]])
    want = encode(x, _adaptive_given(cum=start.astype(np.uint64), order=order, pool=200, pairs=200))
    m = _adaptive_given(cum=start.astype(dtype), order=order, pool=200, pairs=200)
    assert arithmetic._plan(m, x.size).sparse == (order == 12)
    assert encode(x, m) == want == ReferenceCoder.encode(x, m)
    assert np.array_equal(decode(want, m, x.size), x)


@pytest.mark.parametrize("contexts", [[0, 1], np.array([0, 1]), np.array([0, 1], dtype=np.int32)])
def test_mapped_contexts_given_as_any_integer_sequence_code_like_uint64(contexts):
    x = np.array([0, 0, 1, 2, 2, 0, 1, 1, 2, 0])
    want = encode(x, _Given(_fixed_rows(), 3))
    m = _mapped(contexts=contexts)
    assert encode(x, m) == want
    assert np.array_equal(decode(want, m, x.size), x)


@pytest.mark.parametrize("b", [8, 32])
def test_a_message_of_the_rarest_symbols_costs_b_bits_each_and_fits_the_coders_buffer(b):
    # every symbol has frequency 1 of 2^b: the ideal length n b is the scan's bound
    # itself, the longest message the mapped coder sizes its output for
    t = 1 << b
    cum = np.array([[0, t - 1, t], [0, 1, t]], dtype=np.uint64)  # context 0: 1 rare; 1: 0
    m = _Given(ContextTables(cum=cum, row="mapped", order=1, precision=b,
                             contexts=np.array([0, 1], dtype=np.uint64)), 2)
    x = np.array([1, 0] * 150)  # position 0 reads context 0, then 1 follows 0 and 0 follows 1
    ideal = x.size * b
    bits = encode(x, m)
    assert bound_ok(len(bits), ideal, x.size, t)
    assert bits == ReferenceCoder.encode(x, m)
    dense = Tables(cum=cum, row="context", order=1, precision=b)
    assert encode(x, _Given(dense, 2)) == bits
    assert np.array_equal(decode(bits, m, x.size), x)


def test_trace_is_refused_for_mapped_tables_in_so_many_words():
    with pytest.raises(XentsimError) as err:
        encode(np.array([0, 1]), ContextAdaptiveModel(3, 1, "kt"), trace=True)
    assert str(err.value) == "trace=True is not available for mapped context tables"


def test_adaptive_mapped_bounds_are_refused_naming_both_bounds_and_the_model():
    x = np.array([0, 1, 2, 0, 1, 2, 2, 2])  # order 1: contexts 0, 1, 2
    small = ContextAdaptiveModel(3, 1, "kt", 2, 9)
    with pytest.raises(XentsimError) as err:
        encode(x, small)
    assert str(err.value) == ("the message has more distinct contexts or (context, symbol) "
                              "pairs than the model allows (2 and 9; model "
                              "ContextAdaptiveModel(K=3, order=1, estimator='kt'))")
    # sparse rows (2^17 contexts): the (context, symbol) pairs are bounded too
    few_pairs = ContextAdaptiveModel(2, 17, "kt", 100, 3)
    y = np.array([0, 0, 0, 1, 1, 0, 1, 0, 0, 1])
    with pytest.raises(XentsimError, match=r"than the model allows \(100 and 3; model "):
        encode(y, few_pairs)
    with pytest.raises(XentsimError) as err:
        ReferenceCoder.encode(y, few_pairs)
    assert str(err.value) == ("the message opens more than 3 distinct (context, symbol) "
                              "pairs, the model's bound")
    enough = ContextAdaptiveModel(2, 17, "kt", 100, 10)
    assert ReferenceCoder.encode(y, enough) == encode(y, enough)


def test_damage_reasons_are_filled_on_first_use_in_a_fresh_process(monkeypatch):
    # the reasons live in a dict filled the first time a decoder fails: start it empty
    monkeypatch.setattr(arithmetic, "_WHY", arithmetic._Why())
    from bitarray import bitarray
    m = TrainedModel(np.random.default_rng(5).integers(0, 4, 200), 1, 4)
    x = np.random.default_rng(6).integers(0, 4, 30)
    longer = encode(x, m) + [0] * 8
    end = (f"bits ({len(longer)} bits) is not the encoding of any 30-symbol message under "
           "this model: it does not end where the decoded message's encoding ends "
           "(truncated, extended, or the wrong n)")
    garbage = ("bits (64 bits) is not the encoding of any 30-symbol message under this model: "
               "a target value falls outside the frequency total (garbage)")
    for decoder in (decode, ReferenceCoder.decode):
        with pytest.raises(XentsimError) as err:
            decoder(longer, m, x.size)
        assert str(err.value) == end
        with pytest.raises(XentsimError) as err:
            decoder(bitarray("1" * 64), m, x.size)
        assert str(err.value) == garbage


# --- mutation: plan validation, round 2
# (arithmetic._make_plan / _plan refusals word for word, the static decoder's tables,
# messages of every integer layout, streaming refusals)

from simulator.codes.arithmetic import ArithmeticStreamDecoder, ArithmeticStreamEncoder  # noqa: E402


def _const(cum, **kw):
    return Tables(cum=np.asarray(cum), **{"precision": 8, **kw})


def _big_const(K=(1 << 16) + 1, b=17):
    # one row of K + 1 > 2^16 entries: symbol 0 has frequency 0, the last one the rest
    cum = np.zeros(K + 1, dtype=np.uint64)
    cum[2:K] = np.arange(1, K - 1, dtype=np.uint64)
    cum[K] = 1 << b
    return Tables(cum=cum[None, :], precision=b)


_big_decreasing = _big_const().cum.copy()
_big_decreasing[0, [5, 6]] = _big_decreasing[0, [6, 5]]


@pytest.mark.parametrize("tables, K, message", [
    ([[0, 128, 256]], 2, "tables(n) gave list, not Tables"),
    (_const(np.zeros((3, 3), dtype=np.uint64)), 3, "cum must be an (R, K + 1) = (R, 4) array, got (3, 3)"),
    (_const(np.zeros(4, dtype=np.uint64)), 3, "cum must be an (R, K + 1) = (R, 4) array, got (4,)"),
    (Tables(cum=[[0, 1, 2, 256]], precision=8), 3, "cum must be an (R, K + 1) = (R, 4) array, got list"),
    (_const([[0.0, 128.0, 256.0]]), 2, "cum must hold non-negative integers, got dtype float64"),
    (_const([[0, 128, 256]] * 2), 2, "row 'const' needs 1 row, got 2"),
    (_const([[0, 128, 256]] * 2, row="context", order=-1), 2, "order must be an integer >= 0, got -1"),
    (_const([[0, 128, 256]] * 2, row="context", order=1), 3,
     "cum must be an (R, K + 1) = (R, 4) array, got (2, 3)"),
    (_const([[0, 1, 128, 256]] * 2, row="context", order=1), 3,
     "row 'context' of order 1 needs K^order = 3 rows, got 2"),
    (_const([[0, 128, 256]], row="bogus"), 2, "row is 'bogus'; choose 'const', 'position' or 'context'"),
    (_const([[0, 128, 256]], increment=True), 2, "increment must be an integer >= 0, got True"),
    (_const([[0, 128, 256]], increment=1.0), 2, "increment must be an integer >= 0, got 1.0"),
    (_const([[0, 128, 256]], increment=-1), 2, "increment must be an integer >= 0, got -1"),
    (_const([[0, 3, 2, 256]]), 3, "cumulative frequencies must not decrease along a row"),
    # a row both decreasing and of the wrong total is refused for the decrease
    (_const([[0, 3, 2, 255]]), 3, "cumulative frequencies must not decrease along a row"),
    (Tables(cum=_big_decreasing, precision=17), (1 << 16) + 1,
     "cumulative frequencies must not decrease along a row"),
    (_const([[0, 0, 0]], increment=1, precision=None), 2, "an adaptive row has total 0"),
    (_const([[0, 1, 2], [0, 0, 0]], row="context", order=1, increment=1, precision=None), 2,
     "an adaptive row has total 0"),
    (_const([[0, 128, 256]] * 3, row="position"), 2, "3 position rows for a message of 4 symbols"),
])
def test_table_refusals_are_whole_sentences_naming_the_model(tables, K, message):
    model = _Given(tables, K)
    for coder in (encode, ReferenceCoder.encode):
        with pytest.raises(XentsimError,
                           match="^" + re.escape("model Given returned bad tables: " + message) + "$"):
            coder(np.array([0, 1, 1, 0]), model)


def test_a_model_without_an_alphabet_size_is_refused_naming_it_for_dense_tables():
    class NoAlphabet:
        def tables(self, n):
            return _const([[0, 128, 256]])

        def __repr__(self):
            return "NoAlphabet"

    with pytest.raises(XentsimError, match="^" + re.escape(
            "model must have n_symbols >= 1, got None from NoAlphabet") + "$"):
        encode(np.array([0, 1]), NoAlphabet())


def test_symbols_of_frequency_0_are_allowed_in_tables_of_any_size_without_warnings():
    # zero frequencies are valid tables (the symbol is unencodable, not the table bad):
    # the plan of a small or a > 2^16-entry table neither warns (log2 0) nor refuses them
    import warnings
    x_big = np.array([1, (1 << 16), 5, 1, 70, (1 << 16)])
    for tables, K, x in ((_const([[0, 0, 256]]), 2, np.array([1, 1, 1])),
                         (_big_const(), (1 << 16) + 1, x_big)):
        model = _Given(tables, K)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            bits = encode(x, model)
        assert bits == ReferenceCoder.encode(x, model)
        assert np.array_equal(decode(bits, model, x.size), x)
        with pytest.raises(UnencodableSymbolError, match=r"^symbol 0 \(at position 1\) has frequency 0"):
            encode(np.array([1, 0]), model)


def test_writeable_tables_are_validated_again_at_every_call():
    # only read-only tables are validated once; a model may change writeable ones in place
    cum = np.array([[0, 100, 200, 256]], dtype=np.uint64)
    model = _Given(Tables(cum=cum, precision=8), 3)
    x = np.array([0, 1, 2, 2, 1])
    assert np.array_equal(decode(encode(x, model), model, x.size), x)
    cum[0, 1] = 210  # now decreasing
    with pytest.raises(XentsimError, match="^" + re.escape(
            "model Given returned bad tables: cumulative frequencies must not decrease along a row") + "$"):
        encode(x, model)


def test_empty_non_integer_and_big_endian_messages_code_like_native_integers():
    model = _Given(_const([[0, 100, 200, 256]]), 3)
    empty = np.array([], dtype=np.float64)
    assert len(encode(empty, model)) == 0 and len(ReferenceCoder.encode(empty, model)) == 0
    enc = ArithmeticStreamEncoder(model)
    assert len(enc.push(empty)) == 0 and enc.finish() == encode(np.zeros(0, dtype=np.int64), model)
    x = np.array([0, 1, 2, 2, 1, 0, 0, 2])
    want = encode(x, model)
    for big in (x.astype(">i8"), x.astype(">u4")):
        assert encode(big, model) == ReferenceCoder.encode(big, model) == want
        enc = ArithmeticStreamEncoder(model)
        assert enc.push(big) + enc.finish() == want
    # a big-endian value above 2^53 is named exactly (not rounded through float64)
    for coder in (encode, ReferenceCoder.encode):
        with pytest.raises(XentsimError, match="^" + re.escape(
                "symbols[1] is 9007199254740993, outside the model's alphabet 0..2") + "$"):
            coder(np.array([0, 2**53 + 1], dtype=">i8"), model)


def test_streaming_refuses_per_position_and_mapped_tables_in_so_many_words():
    position = _Given(_const([[0, 128, 256]] * 4, row="position"), 2)
    with pytest.raises(XentsimError, match="^" + re.escape(
            "chunked (streaming) arithmetic coding supports const and context rows only; model "
            "Given has per-position tables: code its messages whole (encode / decode)") + "$"):
        ArithmeticStreamDecoder(position, 4)
    with pytest.raises(XentsimError, match="^" + re.escape(
            "chunked (streaming) arithmetic coding supports const and context rows only; model "
            "Given has mapped context tables: code its messages whole (encode / decode)") + "$"):
        ArithmeticStreamEncoder(_Given(_fixed_rows(), 3))


def test_a_stream_encoder_is_planned_for_the_empty_message_not_for_one_symbol():
    # adaptive totals 2^32 - 1 allow no symbol (one would reach 2^32), but the empty
    # message codes, whole or streamed
    model = _Given(Tables(cum=np.array([[0, 1, 2**32 - 1]], dtype=np.uint64), increment=1), 2)
    empty = np.zeros(0, dtype=np.int64)
    assert len(encode(empty, model)) == 0
    enc = ArithmeticStreamEncoder(model)
    assert len(enc.push(empty)) == 0 and len(enc.finish()) == 0
    with pytest.raises(XentsimError, match=r"below 2\^32; 1 symbols would reach 4294967296$"):
        encode(np.array([0]), model)


@pytest.mark.parametrize("contexts", [[], (), np.zeros(0, dtype=np.float64)])
def test_a_mapped_model_of_only_a_default_row_codes_with_contexts_of_any_empty_sequence(contexts):
    x = np.array([0, 1, 1, 0, 1, 1, 1])
    want = encode(x, _Given(_const([[0, 64, 256]]), 2))
    m = _Given(ContextTables(cum=np.array([[0, 64, 256]], dtype=np.uint64), row="mapped", order=1,
                             precision=8, contexts=contexts, default_row=0), 2)
    assert encode(x, m) == ReferenceCoder.encode(x, m) == want
    assert np.array_equal(decode(want, m, x.size), x)


# --- mutation: encode and decode, round 3
# (fixed-total refusal in words, non-contiguous and empty non-integer messages,
# the empty message decoded, the slack bound's truncation term)


def test_a_fixed_row_of_the_wrong_total_is_refused_naming_model_and_total():
    model = _Given(Tables(cum=np.array([[0, 100, 255]], dtype=np.uint64), precision=8), 2)
    with pytest.raises(XentsimError, match="^" + re.escape(
            "model Given returned bad tables: every row must total 2^8 = 256") + "$"):
        encode(np.array([0, 1]), model)


def test_strided_messages_code_like_their_contiguous_copies():
    model = _Given(Tables(cum=np.array([[0, 100, 200, 256]], dtype=np.uint64), precision=8), 3)
    x = np.array([0, 1, 2, 2, 1, 0, 0, 2, 1, 1, 2, 0])
    for view in (x[::2], x[::-1], x[1::3]):
        assert not view.flags.c_contiguous
        assert encode(view, model) == encode(view.copy(), model)


def test_an_empty_non_integer_message_traces_no_symbol():
    model = _Given(Tables(cum=np.array([[0, 255, 256]], dtype=np.uint64), precision=8), 2)
    bits, tr = encode(np.array([], dtype=np.float64), model, trace=True)
    assert len(bits) == 0 and tr.size == 0


def test_the_empty_message_decodes_from_no_bits():
    model = _Given(Tables(cum=np.array([[0, 100, 200, 256]], dtype=np.uint64), precision=8), 3)
    assert decode(encode(np.zeros(0, dtype=np.int64), model), model, 0).size == 0


def test_the_slack_bound_grows_with_the_frequency_total():
    # the truncation term is n * TRUNCATION_BITS * total: larger totals, more slack
    for n, total in ((1, 2**8), (1000, 2**32)):
        lo, hi = arithmetic.slack_bounds(n, total)
        assert lo == SLACK_BITS[0]
        assert hi >= SLACK_BITS[1] + n * TRUNCATION_BITS * total
    assert arithmetic.slack_bounds(1000, 2**32)[1] > arithmetic.slack_bounds(1000, 2**8)[1]



@pytest.mark.parametrize("order", [1, 12])  # dense and sparse adaptive mapped rows
def test_mapped_decoders_take_the_empty_message_and_name_damage_in_full(order):
    m = _adaptive_given(cum=np.array([[0, 1, 3, 4]], dtype=np.uint64), order=order, pool=200, pairs=200)
    assert decode(encode(np.zeros(0, dtype=np.int64), m), m, 0).size == 0
    x = np.random.default_rng(order).integers(0, 3, 40)
    bits = encode(x, m)
    for bad in (bits[:-9], bits + bitarray("1" * 40, endian="big")):
        with pytest.raises(XentsimError, match="^" + re.escape(
                f"bits ({len(bad)} bits) is not the encoding of any 40-symbol message under this "
                "model: ") + "(a target value falls outside|it does not end where)"):
            decode(bad, m, x.size)
