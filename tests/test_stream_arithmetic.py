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


# --- mutation: stream (ArithmeticStreamEncoder / ArithmeticStreamDecoder contracts)


def _uniform_bytes_code():
    """K = 256 uniform at 8 bits: every symbol moves the window by exactly one byte
    (r = 2^56 - 1 and rng = r after each symbol, so one byte brings rng back above
    2^56), which makes the decoder's byte accounting exact."""
    return ArithmeticCode(np.full(256, 1 / 256), precision=8)


def _bits(data: bytes) -> bitarray:
    b = bitarray(endian="big")
    b.frombytes(data)
    return b


def test_stream_misuse_errors_name_the_argument_and_its_value():
    code = ArithmeticCode([0.3, 0.7])
    with pytest.raises(XentsimError, match=r"^n_symbols is -1, must be >= 0$"):
        code.decoder(-1)
    dec = code.decoder(5)
    with pytest.raises(XentsimError, match=r"^count is -1, must be >= 0$"):
        dec.pull(-1)
    with pytest.raises(XentsimError, match=r"^last must be a bool, got 1$"):
        dec.feed(bitarray(endian="big"), last=1)
    bits = code.encode(np.array([1, 1, 0, 1, 1]))
    dec.feed(bits, last=True)
    with pytest.raises(XentsimError, match=r"^feed\(\) after the stream was marked complete \(last=True\)$"):
        dec.feed(bitarray(endian="big"))
    assert np.array_equal(dec.pull(2), [1, 1])
    with pytest.raises(XentsimError, match=r"^count is 4, but only 3 of the message's 5 symbols are left$"):
        dec.pull(4)
    # none of these errors spoils the decoder: the rest of the message still decodes
    assert np.array_equal(dec.pull(3), [0, 1, 1])
    dec.close()


FINISHED = r"^the stream encoder is finished \(or failed\); start a new one with code\.encoder\(\)$"


class _ExactlyTwoTo32:
    """Adaptive tables whose total reaches exactly 2^32 at the third symbol:
    2^30 + 3 * 2^30."""
    n_symbols, name = 2, "total 2^32 at n = 3"

    def tables(self, n):
        return Tables(cum=np.array([[0, 1 << 29, 1 << 30]], dtype=np.uint64), row="const",
                      increment=1 << 30)


def test_the_encoder_is_unusable_after_finish_and_after_every_error():
    code = ArithmeticCode([0.5, 0.5, 0.0])
    enc = code.encoder()
    enc.push(np.array([0, 1]))
    enc.finish()
    for call in (lambda: enc.push(np.array([0])), enc.finish):
        with pytest.raises(XentsimError, match=FINISHED):
            call()
    enc = code.encoder()  # a symbol of frequency 0
    with pytest.raises(UnencodableSymbolError):
        enc.push(np.array([0, 2]))
    with pytest.raises(XentsimError, match=FINISHED):
        enc.push(np.array([0]))
    enc = code.encoder()  # a symbol outside the alphabet
    with pytest.raises(XentsimError, match="outside the model's alphabet"):
        enc.push(np.array([3]))
    with pytest.raises(XentsimError, match=FINISHED):
        enc.finish()
    enc = ArithmeticStreamEncoder(_ExactlyTwoTo32())  # adaptive totals reaching 2^32
    enc.push(np.array([0, 1]))
    with pytest.raises(XentsimError, match="below 2\\^32"):
        enc.push(np.array([1]))
    with pytest.raises(XentsimError, match=FINISHED):
        enc.push(np.array([0]))


def test_an_adaptive_total_of_exactly_2_to_the_32_is_refused_as_for_the_whole_message():
    x = np.array([0, 1, 1])
    msg = r"^adaptive coding keeps frequency totals below 2\^32; 3 symbols would reach 4294967296$"
    with pytest.raises(XentsimError, match=msg):
        encode(x, _ExactlyTwoTo32())
    enc = ArithmeticStreamEncoder(_ExactlyTwoTo32())
    assert enc.push(x[:2]) is not None  # two symbols: total 3 * 2^30, allowed
    with pytest.raises(XentsimError, match=msg):
        enc.push(x[2:])


@pytest.mark.parametrize("dtype", (np.uint8, np.uint16, np.uint64, np.int8, np.int64))
def test_a_symbol_equal_to_k_is_refused_whatever_the_integer_dtype(dtype):
    code = ArithmeticCode(np.full(4, 0.25))
    enc = code.encoder()
    enc.push(np.array([1, 2], dtype=dtype))
    with pytest.raises(XentsimError, match=r"^symbols\[2\] of this chunk \(position 4 of the message\) "
                                           r"is 4, outside the model's alphabet 0\.\.3$"):
        enc.push(np.array([3, 0, 4, 1], dtype=dtype))


@pytest.mark.parametrize("dtype", (np.int8, np.int16))
def test_negative_symbols_of_small_signed_dtypes_are_refused_for_a_large_alphabet(dtype):
    # K = 256 covers every uint8 value (so that range check may be skipped), but not
    # a negative int8 or int16
    code = _uniform_bytes_code()
    enc = code.encoder()
    with pytest.raises(XentsimError, match=r"^symbols\[1\] of this chunk \(position 1 of the message\) "
                                           r"is -1, outside the model's alphabet 0\.\.255$"):
        enc.push(np.array([5, -1, 7], dtype=dtype))


def test_a_zero_frequency_symbol_past_the_first_internal_slice_is_named_by_its_position():
    code = ArithmeticCode([0.5, 0.5, 0.0])
    enc = code.encoder()
    enc.push(np.zeros(5, dtype=np.uint8))
    chunk = np.zeros(STREAM_SLICE + 10, dtype=np.uint8)
    chunk[STREAM_SLICE + 3] = 2
    with pytest.raises(UnencodableSymbolError,
                       match=rf"^symbol 2 \(at position {5 + STREAM_SLICE + 3}\) has frequency 0"):
        enc.push(chunk)


def test_the_held_bytes_are_the_last_byte_below_0xff_and_the_0xff_run_after_it():
    # After each push the bytes held back are, in the final stream, either unchanged
    # (one byte, then 0xFF bytes) or carried into (one byte plus one, then 0x00 bytes);
    # holding one byte more would show a byte of any value there.
    rng = np.random.default_rng(77)
    checked = 0
    for kind in ("static", "kt", "context1"):
        code, q = make_code(kind, rng)
        for _ in range(6):
            x = sample(q, 600, rng)
            stream = code.encode(x).tobytes()
            enc = code.encoder()
            emitted = 0
            a = 0
            for c in random_split(600, rng):
                emitted += len(enc.push(x[a:a + c])) // 8
                a += c
                h = enc.held_bytes
                run = stream[emitted + 1:emitted + h]
                assert run in (b"\xff" * (h - 1), b"\x00" * (h - 1)), (kind, a, h)
                checked += h > 0
    assert checked > 200


def test_a_leading_run_of_0xff_bytes_is_held_whole_until_a_byte_below_0xff_comes():
    # 3 has the top sub-interval: the message of forty 3s at 9 bits codes to six 0xFF
    # bytes, and no byte below 0xFF ever leaves the window, so push hands out nothing
    code = ArithmeticCode([0.08, 0.16, 0.32, 0.44], precision=9)
    x = np.full(40, 3)
    whole = code.encode(x)
    assert whole.tobytes() == b"\xff" * 6
    enc = code.encoder()
    held = []
    for t in range(40):
        assert len(enc.push(x[t:t + 1])) == 0
        held.append(enc.held_bytes)
        assert enc.need_bits == 64 + 8 * enc.held_bytes
    assert max(held) == 5 and held == sorted(held)
    assert enc.finish() == whole


def test_fresh_and_finished_stream_objects_hold_no_buffer():
    code = ArithmeticCode(np.full(4, 0.25))
    enc = code.encoder()
    assert enc.buffer_bytes == 0 and enc.held_bytes == 0
    bits = enc.push(np.arange(400) % 4)
    assert enc.buffer_bytes > 0
    bits += enc.finish()
    assert enc.buffer_bytes == 0  # finish releases the scratch buffer
    dec = code.decoder(400)
    assert dec.buffer_bytes == 0 and dec.buffered_bytes == 0
    dec.feed(bits, last=True)
    assert np.array_equal(dec.pull(400), np.arange(400) % 4)
    dec.close()


def test_the_decoder_buffer_keeps_bytes_from_its_window_on_in_the_smallest_power_of_two_above_twice_them():
    # capacity, when it grows: the smallest power of two >= max(64, 2 x the bytes
    # needed); otherwise the live bytes move to the front and the capacity stays
    code = _uniform_bytes_code()
    data = np.random.default_rng(5).integers(0, 255, 200, dtype=np.uint8).tobytes()
    dec = code.decoder(150)
    dec.feed(_bits(data[:1]))
    assert (dec.buffered_bytes, dec.buffer_bytes) == (1, 64)
    dec.feed(_bits(data[1:32]))
    assert (dec.buffered_bytes, dec.buffer_bytes) == (32, 64)
    dec.pull(8)  # the window moved 8 bytes on: those 8 are dropped
    assert (dec.buffered_bytes, dec.buffer_bytes) == (24, 64)
    dec.feed(_bits(data[32:72]))  # 24 + 40 = 64 bytes needed: they fit after moving
    assert (dec.buffered_bytes, dec.buffer_bytes) == (64, 64)
    dec.feed(_bits(data[72:73]))  # 65 needed: grows to 256 >= 130
    assert (dec.buffered_bytes, dec.buffer_bytes) == (65, 256)
    fresh = code.decoder(150)
    fresh.feed(_bits(data[:32]))  # 32 needed at once: 64 = 2 x 32 is enough
    assert fresh.buffer_bytes == 64
    fresh.feed(_bits(data[32:64]))  # 64 needed: they fill it exactly
    assert fresh.buffer_bytes == 64
    fresh.feed(_bits(data[64:100]))  # 100 needed: 256 >= 200
    assert (fresh.buffered_bytes, fresh.buffer_bytes) == (100, 256)


@pytest.mark.parametrize("nbits", (0, 3, 8, 13, 16, 21, 40))
def test_a_complete_stream_is_followed_by_exactly_eight_zero_bytes(nbits):
    # The 8 window bytes plus one byte per symbol: a complete stream of B bytes (the
    # last one zero padded) and its 8 zero bytes decode exactly B symbols; the next
    # symbol would read past them, so pull raises the damage error at once.
    code = _uniform_bytes_code()
    rng = np.random.default_rng(nbits)
    bits = bitarray(rng.integers(0, 2, nbits).tolist(), endian="big")
    B = (nbits + 7) // 8
    dec = code.decoder(B + 1)
    dec.feed(bits, last=True)
    assert len(dec.pull(B)) == B
    msg = (rf"^the stream \({nbits} bits fed, complete\) is not the encoding of any {B + 1}-symbol "
           r"message under this model: it does not end where the decoded message's encoding "
           r"ends \(truncated, extended, or the wrong n\)$")
    with pytest.raises(XentsimError, match=msg):
        dec.pull(1)


def test_pull_errors_say_which_symbol_and_how_many_bits_were_fed():
    code = _uniform_bytes_code()
    data = np.random.default_rng(8).integers(0, 255, 40, dtype=np.uint8).tobytes()
    early = code.decoder(20)
    early.feed(bitarray("101", endian="big"))
    with pytest.raises(XentsimError, match=r"^pull\(\): only 3 bits were fed; decoding needs the "
                                           r"encoder's need_bits \(at least 64\) or the whole "
                                           r"stream \(last=True\)$"):
        early.pull(1)
    dec = code.decoder(20)
    dec.feed(_bits(data[:13]))  # the window's 8 bytes and 5 more: symbols 0..4
    dec.pull(2)
    with pytest.raises(XentsimError, match=r"^pull\(10\): symbol 5 needs stream bits beyond the 104 "
                                           r"fed; feed at least the encoder's need_bits for the "
                                           r"symbols pulled, or the whole stream with last=True "
                                           r"\(or the stream is damaged\)$"):
        dec.pull(10)
    # a window of eight 0xFF bytes gives a target of 256 >= the total: garbage
    bad = code.decoder(3)
    bad.feed(_bits(b"\xff" * 8))
    with pytest.raises(XentsimError, match=r"^the stream \(64 bits fed\) is not the encoding of any "
                                           r"3-symbol message under this model: a target value "
                                           r"falls outside the frequency total \(garbage\)$"):
        bad.pull(1)


FAILED = (r"^the stream decoder failed earlier \(damaged stream or too few bits fed\); "
          r"start a new one with code\.decoder\(n\)$")


def test_the_decoder_is_unusable_after_any_error_and_after_close():
    code = _uniform_bytes_code()
    data = np.random.default_rng(9).integers(0, 255, 40, dtype=np.uint8).tobytes()
    early = code.decoder(5)  # too few bits for the window
    early.feed(bitarray("1", endian="big"))
    with pytest.raises(XentsimError, match="only 1 bits"):
        early.pull(1)
    short = code.decoder(20)  # fed bits run out
    short.feed(_bits(data[:10]))
    with pytest.raises(XentsimError, match="needs stream bits"):
        short.pull(5)
    garbage = code.decoder(3)  # damage found in pull
    garbage.feed(_bits(b"\xff" * 8))
    with pytest.raises(XentsimError, match="garbage"):
        garbage.pull(1)
    ending = code.decoder(1)  # damage found in close
    ending.feed(_bits(data[:9]), last=True)
    ending.pull(1)
    with pytest.raises(XentsimError, match="does not end where"):
        ending.close()
    for dec in (early, short, garbage, ending):
        for call in (lambda: dec.pull(0), lambda: dec.feed(bitarray(endian="big")), dec.close):
            with pytest.raises(XentsimError, match=FAILED):
                call()
    x = np.array([1, 200, 3])
    closed = code.decoder(3)
    closed.feed(code.encode(x), last=True)
    assert np.array_equal(closed.pull(3), x)
    closed.close()
    for call in (lambda: closed.pull(0), lambda: closed.feed(bitarray(endian="big")), closed.close):
        with pytest.raises(XentsimError, match=r"^the stream decoder is closed$"):
            call()
