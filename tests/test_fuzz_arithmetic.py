"""Fuzz: damaged streams never crash, hang or invent symbols, for every model kind.

Each case draws q (extremes included: 1e-300, 1 - 1e-16, K = 1, K = 2^16), a message,
and one damage (bit flips, truncation, extension, random bytes, a wrong n, an empty
stream). The decoder must either raise XentsimError or return a message whose encoding
is exactly the damaged stream: then the damaged stream *is* a valid stream of that
message, which no decoder can tell from the intended one without a checksum.
"""

import numpy as np
import pytest
from bitarray import bitarray

from simulator._validate import XentsimError
from simulator.codes.arithmetic import ReferenceCoder, decode, encode
from simulator.distributions import sample
from simulator.models import AdaptiveModel, ConditionalModel, StaticModel

KINDS = ("static", "conditional", "laplace", "kt")
CASES_PER_KIND = 10_000
DAMAGES = ("flip", "truncate", "extend", "random", "wrong_n", "empty")


def draw_q(rng):
    """A pmf with the extremes the issue asks for, or an ordinary random one."""
    c = rng.integers(8)
    if c == 0:
        return np.array([1.0])
    if c == 1:
        return np.array([1 - 1e-16, 1e-16])[rng.permutation(2)]
    if c == 2:  # some symbols at 1e-300
        K = int(rng.integers(2, 40))
        q = rng.dirichlet(np.ones(K))
        q[rng.random(K) < 0.4] = 1e-300
        return q / q.sum()
    if c == 3:
        K = 1 << 16
        return np.full(K, 1.0 / K) if rng.random() < 0.5 else rng.dirichlet(np.ones(K))
    K = int(rng.integers(2, 300))
    return rng.dirichlet(np.full(K, rng.choice([0.05, 0.5, 1.0, 5.0])))


def draw_message(q, n, rng):
    """Half the time from q, else uniform over q's support (rare symbols appear)."""
    if q.size == 1:
        return np.zeros(n, dtype=np.uint8)
    if rng.random() < 0.5:
        return sample(q, n, rng)
    return rng.choice(np.flatnonzero(q > 0), size=n).astype(np.int64)


def draw_model(kind, rng):
    """(model, n or None for any n, q): a model of the given kind."""
    q = draw_q(rng)
    K = q.size
    if kind == "static":
        b = int(rng.integers(max(8, (K - 1).bit_length()), 33))
        return StaticModel(q, b), None, q
    if kind == "conditional":
        n = int(rng.integers(0, 9 if K > 1000 else 120))
        b = int(rng.integers(28 if K > 1000 else max(16, (K - 1).bit_length() + 1), 33))
        rows = np.tile(q, (n, 1))
        if n and K <= 1000:  # mix in a different distribution per position
            w = rng.random((n, 1))
            rows = w * rows + (1 - w) * rng.dirichlet(np.ones(K), size=n)
        return ConditionalModel(rows, b), n, q
    return AdaptiveModel(K, kind), None, q


def damage(bits, n, rng):
    """(damaged stream, n to decode with, damage name)."""
    kind = DAMAGES[rng.integers(len(DAMAGES))]
    d = bitarray(bits, endian="big")
    if kind == "flip" and len(d):
        for i in rng.integers(0, len(d), size=int(rng.integers(1, 4))):
            d[int(i)] ^= 1
    elif kind == "truncate" and len(d):
        cut = int(rng.integers(1, min(len(d), 16) + 1)) if rng.random() < 0.7 else int(rng.integers(1, len(d) + 1))
        del d[len(d) - cut:]
    elif kind == "random":
        d = bitarray(endian="big")
        d.frombytes(rng.integers(0, 256, size=int(rng.integers(0, len(bits) // 8 + 3)), dtype=np.uint8).tobytes())
        del d[len(d) - int(rng.integers(0, min(len(d), 7) + 1)):]
    elif kind == "wrong_n":
        n = n + 1 if (n == 0 or rng.random() < 0.5) else n - 1
    elif kind == "empty":
        d = bitarray(endian="big")
    else:  # extend (also for flip or truncate of an empty stream)
        kind = "extend"
        d.extend(rng.integers(0, 2, size=int(rng.integers(1, 17))).tolist())
    return d, n, kind


def check(model, damaged, n, decoder=decode):
    """'raised' or 'valid'; fails on anything else."""
    try:
        y = decoder(damaged, model, n)
    except XentsimError:
        return "raised"
    assert y.shape == (n,)
    assert encode(y, model) == damaged, "decoded symbols that do not re-encode to the stream"
    return "valid"


@pytest.mark.parametrize("kind", KINDS)
def test_damaged_streams_raise_or_are_valid_streams_of_the_decoded_message(kind):
    rng = np.random.default_rng(20261130 + KINDS.index(kind))
    outcomes = {d: {"raised": 0, "valid": 0} for d in DAMAGES}
    done = 0
    while done < CASES_PER_KIND:
        model, fixed_n, q = draw_model(kind, rng)
        for _ in range(50):
            n = fixed_n if fixed_n is not None else int(rng.integers(0, 200))
            x = draw_message(q, n, rng)
            bits = encode(x, model)
            assert np.array_equal(decode(bits, model, n), x)  # the undamaged stream
            d, n2, name = damage(bits, n, rng)
            outcomes[name][check(model, d, n2)] += 1
            done += 1
    # every damage kind was exercised and mostly detected
    for name, o in outcomes.items():
        assert o["raised"] + o["valid"] > 500, (name, o)
    for name in ("truncate", "extend", "empty"):
        assert outcomes[name]["raised"] > 0.5 * (outcomes[name]["raised"] + outcomes[name]["valid"]), outcomes


@pytest.mark.parametrize("kind", KINDS)
def test_the_reference_decoder_gives_the_same_verdicts(kind):
    rng = np.random.default_rng(7 + KINDS.index(kind))
    for _ in range(30):
        model, fixed_n, q = draw_model(kind, rng)
        if q.size > 1000:
            continue  # the reference coder walks K per symbol in Python
        for _ in range(10):
            n = fixed_n if fixed_n is not None else int(rng.integers(0, 60))
            bits = encode(draw_message(q, n, rng), model)
            d, n2, _ = damage(bits, n, rng)
            assert check(model, d, n2) == check(model, d, n2, ReferenceCoder.decode)


# ---------------------------------------------------------------- each damage kind


def _fixed_case(kind):
    rng = np.random.default_rng(99)
    q = rng.dirichlet(np.ones(20))
    n = 500
    x = sample(q, n, rng)
    if kind == "static":
        model = StaticModel(q)
    elif kind == "conditional":
        model = ConditionalModel(0.5 * rng.dirichlet(np.ones(20), size=n) + 0.5 * q)
    else:
        model = AdaptiveModel(20, kind)
    return model, x, encode(x, model)


def raises_or_is_another_message(model, damaged, n, x):
    """True if decoding raised; else the decoded message differs from x and its
    encoding is exactly the damaged stream (checked in ``check``)."""
    try:
        y = decode(damaged, model, n)
    except XentsimError:
        return True
    assert encode(y, model) == damaged
    assert y.size != x.size or not np.array_equal(y, x)  # never the intended message
    return False


@pytest.mark.parametrize("kind", KINDS)
def test_truncated_by_1_to_16_bits_raises_unless_another_message_has_that_stream(kind):
    # A truncated stream can be exactly the encoding of another message (the termination
    # leaves no redundancy); then no decoder can object. None returns the original
    # message; how often each damage is caught is measured by the fuzz test above.
    model, x, bits = _fixed_case(kind)
    raised = [raises_or_is_another_message(model, bits[:-t], x.size, x) for t in range(1, 17)]
    assert any(raised)


@pytest.mark.parametrize("kind", KINDS)
def test_extended_by_1_to_16_zero_bits_raises(kind):
    # Provably: the decoder reads zeros past the end anyway, so it decodes x and finds
    # that x's encoding is shorter than the stream.
    model, x, bits = _fixed_case(kind)
    for t in range(1, 17):
        with pytest.raises(XentsimError, match="not the encoding"):
            decode(bits + bitarray([0] * t, endian="big"), model, x.size)


@pytest.mark.parametrize("kind", KINDS)
def test_extended_by_1_to_16_one_bits_raises_unless_another_message_has_that_stream(kind):
    model, x, bits = _fixed_case(kind)
    raised = [raises_or_is_another_message(model, bits + bitarray([1] * t, endian="big"), x.size, x)
              for t in range(1, 17)]
    assert any(raised)


@pytest.mark.parametrize("kind", KINDS)
def test_a_wrong_n_raises_unless_the_stream_also_encodes_that_many_symbols(kind):
    # The termination picks the lowest short point of the final interval, which often
    # also lies in the sub-interval of one more likely symbol: then the stream is the
    # encoding of that n + 1 symbol message too (and likewise for n - 1).
    model, x, bits = _fixed_case(kind)
    for n in (x.size - 1, x.size + 1):
        if kind == "conditional":
            with pytest.raises(XentsimError, match="positions"):
                decode(bits, model, n)
        else:
            raises_or_is_another_message(model, bits, n, x)


def test_n_plus_1_is_undetectable_when_the_next_symbol_is_nearly_certain():
    # The documented limit: with q(0) = 1 - 2^-20, coding one more 0 shifts no byte and
    # keeps the same final point, so n and n + 1 zeros share one stream.
    model = StaticModel([1 - 2.0**-20, 2.0**-20])
    x = np.array([1, 0, 0, 1, 0])
    bits = encode(x, model)
    assert encode(np.append(x, 0), model) == bits
    assert decode(bits, model, 6).tolist() == [1, 0, 0, 1, 0, 0]


@pytest.mark.parametrize("kind", KINDS)
def test_empty_stream_raises(kind):
    # Provably here: the empty stream decodes to the message of first symbols, whose
    # ideal length (hundreds of bits) is far above the 8 bits the coder may save.
    model, x, _ = _fixed_case(kind)
    with pytest.raises(XentsimError, match="not the encoding"):
        decode(bitarray(endian="big"), model, x.size)


def test_an_empty_stream_is_the_encoding_of_a_short_likely_message():
    model = StaticModel([0.9, 0.1])
    assert len(encode(np.array([0]), model)) == 0
    assert decode(bitarray(endian="big"), model, 1).tolist() == [0]


def test_a_huge_n_on_a_short_stream_stops_early():
    model = StaticModel([0.5, 0.5])
    bits = encode(np.array([0, 1, 1]), model)
    with pytest.raises(XentsimError, match="not the encoding"):
        decode(bits, model, 10**7)  # stops once it has read past the stream
