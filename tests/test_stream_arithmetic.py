"""Chunked (streaming) arithmetic coding: the same bits as the whole message, bounded
buffers, exact ``need_bits``, and damaged streams caught as by the whole decoder."""

import numpy as np
import pytest
from bitarray import bitarray

from simulator._validate import UnencodableSymbolError, XentsimError
from simulator.codes.arithmetic import (STREAM_SLICE, ArithmeticCode, ArithmeticStreamDecoder,
                                        ArithmeticStreamEncoder, decode, encode)
from simulator.codes.context_huffman import ContextArithmeticCode
from simulator.distributions import sample, zipf
from simulator.interfaces import StreamDecoder, StreamEncoder, Tables
from simulator.models import (AdaptiveContextModel, ConditionalModel, ContextAdaptiveModel,
                              StaticModel, TrainedModel)

KINDS = ("static", "static_k256", "kt", "laplace", "context1", "context2",
         "adaptive_context1", "adaptive_context2")


def make_code(kind, rng):
    """A code of the given table kind and the pmf to draw its messages from."""
    if kind == "static_k256":
        q = zipf(256, 0.9)
        return ArithmeticCode(q), q
    K = 5
    q = rng.dirichlet(np.full(K, 0.7))
    if kind == "static":
        return ArithmeticCode(q, precision=int(rng.integers(8, 33))), q
    if kind in ("kt", "laplace"):
        return ArithmeticCode(q, model=kind), q
    if kind.startswith("context"):
        order = int(kind[-1])
        return ContextArithmeticCode.from_chain(rng.dirichlet(np.ones(K), size=K ** order)), q
    order = int(kind[-1])
    return ContextArithmeticCode(AdaptiveContextModel(K, "kt" if order == 1 else "laplace", order)), q


def random_split(n, rng):
    """Chunk sizes summing to n, with empty and 1-symbol chunks mixed in."""
    sizes = []
    left = n
    while left:
        c = int(rng.choice([0, 1, 1, 2, rng.integers(1, 50), rng.integers(1, n + 1)]))
        c = min(c, left)
        sizes.append(c)
        left -= c
    for _ in range(int(rng.integers(0, 4))):  # empty chunks anywhere, also first and last
        sizes.insert(int(rng.integers(0, len(sizes) + 1)), 0)
    return sizes


def push_all(code, x, sizes):
    """(concatenated bits of every push and finish, need_bits after each push, encoder)."""
    enc = code.encoder()
    out = bitarray(endian="big")
    needs = []
    a = 0
    for c in sizes:
        out += enc.push(x[a:a + c])
        needs.append(enc.need_bits)
        a += c
        assert enc.need_bits == (len(out) + 64 + 8 * enc.held_bytes if a else 0)
    out += enc.finish()
    return out, needs, enc


# ---------------------------------------------------------------- bits


@pytest.mark.parametrize("kind", KINDS)
def test_chunked_encoding_equals_the_whole_message_encoding_bit_for_bit(kind):
    rng = np.random.default_rng(1400 + KINDS.index(kind))
    for trial in range(40):
        if trial % 10 == 0:
            code, q = make_code(kind, rng)
        n = int(rng.choice([0, 1, 2, rng.integers(0, 3000)]))
        x = sample(q, n, rng)
        sizes = random_split(n, rng)
        bits, _, enc = push_all(code, x, sizes)
        assert bits == code.encode(x), (kind, n, sizes)
        assert enc.bits_out == len(bits)


@pytest.mark.parametrize("kind", ("static", "kt", "adaptive_context2"))
def test_chunks_larger_than_the_internal_slice_give_the_same_bits(kind):
    rng = np.random.default_rng(7)
    code, q = make_code(kind, rng)
    n = STREAM_SLICE * 2 + 12345
    x = sample(q, n, rng)
    bits, _, enc = push_all(code, x, [1, 0, n - 2, 1])
    assert bits == code.encode(x)
    assert enc.buffer_bytes < 5 * STREAM_SLICE  # a slice's scratch, not the chunk's


def test_a_carry_through_a_long_held_0xff_run_crosses_chunk_boundaries():
    # The message decoded from the point 0x80 00 .. 00 (40 zero bytes) r keeps an
    # interval whose bottom reads 0x7F FF FF .. for a long time, until the interval
    # rises above 0x80 00 ..: the carry then turns the held 0xFF run into zeros.
    model = StaticModel(np.full(4, 0.25), 8)
    code = ArithmeticCode(np.full(4, 0.25), precision=8)
    rng = np.random.default_rng(3)
    point = bitarray(endian="big")
    point.frombytes(bytes([0x80] + [0] * 40) + rng.integers(0, 256, 200, dtype=np.uint8).tobytes())
    dec = code.decoder(600)
    dec.feed(point, last=True)
    x = dec.pull(600)
    whole = encode(x, model)
    assert whole[:8 * 41].tobytes() == bytes([0x80] + [0] * 40)
    for sizes in ([1] * 600, list(rng.integers(0, 7, 200)) + [600]):
        enc = code.encoder()
        out = bitarray(endian="big")
        held = []
        a = 0
        for c in sizes:
            c = min(int(c), 600 - a)
            out += enc.push(x[a:a + c])
            held.append((enc.held_bytes, len(out)))
            a += c
        out += enc.finish()
        assert out == whole
        # at some boundary nothing was handed out and over 30 bytes were held: the
        # first byte below 0xFF was the first byte, so they read 0x7F FF FF ..., which
        # the stream shows as 0x80 00 00 ...: a carry crossed those chunk boundaries
        assert any(h > 30 and emitted == 0 for h, emitted in held)
    assert np.array_equal(decode(whole, model, 600), x)


# ---------------------------------------------------------------- decoding


def decode_in_step(code, bits, n, needs, sizes, pulls, rng):
    """Feed the stream up to exactly need_bits of each pushed chunk (never more), pull
    in ``pulls``-sized pieces as soon as their chunk is covered; the rest at the end."""
    dec = code.decoder(n)
    ends = np.cumsum(sizes)
    fed = 0
    got = []
    done = 0
    for want in pulls:
        t = done + want  # symbols 0..t-1 wanted: the first chunk end >= t gives need
        j = int(np.searchsorted(ends, t)) if t else -1
        need = needs[j] if t else 0
        if need > len(bits):
            dec.feed(bits[fed:], last=True)
            fed = len(bits)
            rest = n - done
            got.append(dec.pull(rest))
            done = n
            break
        if need > fed:
            # in pieces of random sizes, ending exactly at need
            while fed < need:
                step = min(need - fed, int(rng.integers(1, 200)))
                dec.feed(bits[fed:fed + step])
                fed += step
        got.append(dec.pull(want))
        done = t
    if done < n or fed < len(bits):
        dec.feed(bits[fed:], last=True)
        got.append(dec.pull(n - done))
    dec.close()
    return np.concatenate(got) if got else np.zeros(0, dtype=np.uint8)


@pytest.mark.parametrize("kind", KINDS)
def test_pulls_of_varied_sizes_fed_exactly_need_bits_round_trip(kind):
    rng = np.random.default_rng(2400 + KINDS.index(kind))
    code, q = make_code(kind, rng)
    for _ in range(25):
        n = int(rng.integers(0, 2000))
        x = sample(q, n, rng)
        sizes = random_split(n, rng)
        bits, needs, _ = push_all(code, x, sizes)
        pulls = random_split(n, rng)  # independent of the pushed chunks
        y = decode_in_step(code, bits, n, needs, sizes, pulls, rng)
        assert np.array_equal(y, x)


@pytest.mark.parametrize("kind", ("static", "kt", "context2", "adaptive_context1"))
def test_need_bits_is_exact_one_byte_fewer_makes_the_pull_raise(kind):
    rng = np.random.default_rng(31)
    code, q = make_code(kind, rng)
    x = sample(q, 400, rng)
    enc = code.encoder()
    stream = bitarray(endian="big")
    needs = []
    for i in range(0, 400, 40):
        stream += enc.push(x[i:i + 40])
        needs.append(enc.need_bits)
    stream += enc.finish()
    checked = 0
    for j, need in enumerate(needs):
        if need > len(stream):
            continue
        t = 40 * (j + 1)
        dec = code.decoder(400)
        dec.feed(stream[:need])
        assert np.array_equal(dec.pull(t), x[:t])
        short = code.decoder(400)
        short.feed(stream[:need - 8])
        with pytest.raises(XentsimError, match="need_bits"):
            short.pull(t)
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("model", ("static", "kt"))
def test_extreme_alphabets_stream_like_the_whole_message(model):
    # K = 1 (every symbol costs 0 bits), a symbol at 1e-16, K = 2^16 uniform and random
    rng = np.random.default_rng(61)
    for q in (np.array([1.0]), np.array([1 - 1e-16, 1e-16]), np.full(1 << 16, 2.0**-16),
              rng.dirichlet(np.ones(1 << 16))):
        code = ArithmeticCode(q, model=model)
        for n in (0, 1, 300, 5000):
            x = sample(q, n, rng) if q.size > 2 else rng.integers(0, q.size, n)
            if q.size == 2 and model == "static":
                x[:] = 0
                x[rng.integers(0, max(n, 1), size=min(n, 3))] = 1  # the 1e-16 symbol, a few times
            sizes = random_split(n, rng)
            bits, needs, _ = push_all(code, x, sizes)
            assert bits == code.encode(x)
            y = decode_in_step(code, bits, n, needs, sizes, random_split(n, rng), rng)
            assert np.array_equal(y, x)


# ---------------------------------------------------------------- damaged streams


def damage(bits, rng):
    """A flipped, truncated or extended copy of ``bits`` (and its name)."""
    d = bitarray(bits, endian="big")
    kind = ("flip", "truncate", "extend")[int(rng.integers(3))]
    if kind == "flip" and len(d):
        for i in rng.integers(0, len(d), size=int(rng.integers(1, 4))):
            d[int(i)] ^= 1
    elif kind == "truncate" and len(d):
        cut = int(rng.integers(1, min(len(d), 16) + 1)) if rng.random() < 0.7 else int(rng.integers(1, len(d) + 1))
        del d[len(d) - cut:]
    else:
        kind = "extend"
        d.extend(rng.integers(0, 2, size=int(rng.integers(1, 17))).tolist())
    return d, kind


def stream_decode(code, bits, n, pieces, pulls):
    """Feed ``bits`` in ``pieces`` (the last with last=True), pulling ``pulls[i]``
    symbols after piece i; the decoded message, or None when the decoder raised."""
    dec = code.decoder(n)
    got = []
    a = 0
    try:
        for i, (p, w) in enumerate(zip(pieces, pulls)):
            dec.feed(bits[a:a + p], last=i == len(pieces) - 1)
            a += p
            got.append(dec.pull(w))
        dec.close()
    except XentsimError:
        return None
    return np.concatenate(got)


@pytest.mark.parametrize("kind", ("static", "kt", "context1", "adaptive_context2"))
def test_damaged_streams_raise_or_decode_to_a_message_whose_encoding_is_the_stream(kind):
    rng = np.random.default_rng(3400 + KINDS.index(kind))
    code, q = make_code(kind, rng)
    outcomes = {"raised": 0, "valid": 0}
    for _ in range(600):
        n = int(rng.integers(0, 120))
        x = sample(q, n, rng)
        bits = code.encode(x)
        d, name = damage(bits, rng)
        # pieces of random sizes covering d; pull everything with the last piece, or
        # in step (about half the symbols as soon as a piece ends)
        cuts = np.sort(rng.integers(0, len(d) + 1, size=int(rng.integers(0, 5))))
        pieces = list(np.diff(np.concatenate([[0], cuts, [len(d)]])).astype(int))
        pulls = [0] * len(pieces)
        left = n
        for i in range(len(pieces) - 1):
            w = int(rng.integers(0, left + 1)) // 2
            pulls[i] = w
            left -= w
        pulls[-1] = left
        y = stream_decode(code, d, n, pieces, pulls)
        try:
            whole = decode(d, code.model, n)
        except XentsimError:
            whole = None
        if y is None:
            outcomes["raised"] += 1
            if all(p == 0 for p in pulls[:-1]):  # everything fed first: as the whole decoder
                assert whole is None
            continue
        outcomes["valid"] += 1
        assert y.shape == (n,)
        assert code.encode(y) == d, "decoded symbols that do not re-encode to the stream"
        assert whole is not None and np.array_equal(whole, y)
    # both outcomes occur, and most damage is caught (as the whole decoder's module doc says)
    assert outcomes["raised"] > 300 and outcomes["valid"] > 0


def test_appending_zero_bits_is_always_caught_and_the_exact_stream_is_accepted():
    # the decoder reads zeros past the end anyway: it decodes the same message and
    # finds its encoding shorter than the stream (module doc of simulator.codes.arithmetic)
    rng = np.random.default_rng(9)
    for kind in ("static", "kt", "context2"):
        code, q = make_code(kind, rng)
        for n in (0, 1, 7, 500):
            x = sample(q, n, rng)
            bits = code.encode(x)
            for zeros in (1, 7, 8, 30):
                dec = code.decoder(n)
                dec.feed(bits + bitarray("0" * zeros, endian="big"), last=True)
                with pytest.raises(XentsimError, match="does not end where"):
                    dec.pull(n)
                    dec.close()
            dec = code.decoder(n)  # nothing missing, nothing appended: close accepts
            dec.feed(bits, last=True)
            assert np.array_equal(dec.pull(n), x)
            dec.close()


# ---------------------------------------------------------------- memory


@pytest.mark.parametrize("kind", ("static_k256", "kt"))
def test_buffers_stay_bounded_over_a_thousand_pushes_of_ten_thousand_symbols(kind):
    rng = np.random.default_rng(44)
    code, q = make_code(kind, rng)
    pushes = 1000 if kind == "static_k256" else 200
    enc = code.encoder()
    dec = code.decoder(pushes * 10_000)
    enc_sizes, dec_sizes, held = [], [], []
    backlog = []  # (chunk, need_bits) pushed but not yet decoded
    fed = 0
    stream_len = 0
    pending = bitarray(endian="big")
    for _ in range(pushes):
        x = sample(q, 10_000, rng)
        out = enc.push(x)
        pending += out
        stream_len += len(out)
        backlog.append((x, enc.need_bits))
        while backlog and backlog[0][1] <= stream_len:
            x0, need = backlog.pop(0)
            dec.feed(pending[: need - fed])
            del pending[: need - fed]
            fed = need
            assert np.array_equal(dec.pull(x0.size), x0)
        enc_sizes.append(enc.buffer_bytes)
        held.append(enc.held_bytes)
        dec_sizes.append(dec.buffer_bytes)
    pending += enc.finish()
    dec.feed(pending, last=True)
    for x0, _ in backlog:
        assert np.array_equal(dec.pull(x0.size), x0)
    dec.close()
    assert len(backlog) <= 2
    # the buffers after the first tenth of the pushes are no larger than during it
    tenth = pushes // 10
    assert max(enc_sizes[tenth:]) <= max(enc_sizes[:tenth])
    assert max(dec_sizes[tenth:]) <= max(dec_sizes[:tenth])
    assert max(held) < 16
    assert max(dec_sizes) < 4 * 10_000 * 8  # a few chunks' bytes (at most 8 bits per symbol here)


# ---------------------------------------------------------------- contract and bad input


def test_the_stream_objects_satisfy_the_streaming_protocols():
    code = ArithmeticCode([0.5, 0.5])
    assert isinstance(code.encoder(), StreamEncoder)
    assert isinstance(code.decoder(3), StreamDecoder)
    assert isinstance(code.encoder(), ArithmeticStreamEncoder)
    assert isinstance(code.decoder(3), ArithmeticStreamDecoder)


def test_an_empty_message_streams_to_the_empty_stream():
    code = ArithmeticCode([0.2, 0.8], model="kt")
    enc = code.encoder()
    assert len(enc.push(np.zeros(0, dtype=np.int64))) == 0 and enc.need_bits == 0
    assert enc.finish() == code.encode(np.zeros(0, dtype=np.int64))
    dec = code.decoder(0)
    dec.feed(bitarray(endian="big"), last=True)
    assert dec.pull(0).size == 0
    dec.close()


def test_bad_symbols_are_refused_with_their_position_in_the_message():
    code = ArithmeticCode([0.5, 0.5, 0.0])
    enc = code.encoder()
    enc.push(np.array([0, 1, 1]))
    with pytest.raises(XentsimError, match=r"symbols\[1\] of this chunk \(position 4 of the message\) is 7"):
        enc.push(np.array([0, 7]))
    with pytest.raises(XentsimError, match="finished"):
        enc.push(np.array([0]))
    enc = code.encoder()
    enc.push(np.array([0, 1, 1]))
    with pytest.raises(UnencodableSymbolError, match=r"symbol 2 \(at position 5\)"):
        enc.push(np.array([0, 1, 2]))


class _HugeIncrement:
    n_symbols, name = 2, "huge increment"

    def tables(self, n):
        return Tables(cum=np.array([[0, 1, 2]], dtype=np.uint64), row="const", increment=1 << 30)


def test_adaptive_totals_reaching_2_to_the_32_are_refused_as_for_the_whole_message():
    from simulator.codes.arithmetic import ArithmeticStreamEncoder as Enc

    x = np.array([0, 1, 0, 1])
    with pytest.raises(XentsimError, match="below 2\\^32"):
        encode(x, _HugeIncrement())
    enc = Enc(_HugeIncrement())
    enc.push(x[:3])
    with pytest.raises(XentsimError, match="below 2\\^32; 4 symbols"):
        enc.push(x[3:])


def test_per_position_and_mapped_tables_refuse_streaming():
    cond = ArithmeticCode([0.5, 0.5])
    cond.model = ConditionalModel(np.full((4, 2), 0.5))
    with pytest.raises(XentsimError, match="const or context rows"):
        cond.encoder()
    with pytest.raises(XentsimError, match="per-position"):
        cond.decoder(4)
    for model in (TrainedModel(np.array([0, 1, 1, 0, 1], dtype=np.uint8), 1, 2),
                  ContextAdaptiveModel(2, 1, "kt")):
        with pytest.raises(XentsimError, match="mapped"):
            ArithmeticStreamEncoder(model)
        with pytest.raises(XentsimError, match="mapped"):
            ArithmeticStreamDecoder(model, 5)


def test_decoder_misuse_raises_clear_errors():
    code = ArithmeticCode([0.3, 0.7])
    bits = code.encode(np.array([1, 1, 0]))
    dec = code.decoder(3)
    with pytest.raises(XentsimError, match="only 3 of"):
        dec.pull(4)
    with pytest.raises(XentsimError, match="after 0 of"):
        dec.close()
    with pytest.raises(XentsimError, match="bitarray"):
        dec.feed(b"\x00")
    dec.feed(bits, last=True)
    with pytest.raises(XentsimError, match="last=True"):
        dec.feed(bits)
    with pytest.raises(XentsimError, match="count must be an integer"):
        code.decoder(3).pull(1.5)
    early = code.decoder(3)
    early.feed(bits[:3])
    with pytest.raises(XentsimError, match="need_bits"):
        early.pull(1)
