"""Streaming: sources drawn in chunks, codes coded in chunks, and simulate coding each
message chunk by chunk with the same result as coding it whole.

Fixed seeds throughout; every equality here is exact (bits, totals, intervals).
"""

from __future__ import annotations

import io
import math
import tracemalloc

import numpy as np
import pytest
from bitarray import bitarray

from simulator import engine
from simulator.codes import BlockHuffmanCode, ContextHuffmanCode, HuffmanCode, ShannonCode
from simulator.codes.arithmetic import ArithmeticCode
from simulator.engine import LAG_CHUNKS, estimate_peak_bytes, simulate
from simulator.errors import RoundTripError, XentsimError
from simulator.interfaces import StreamDecoder, StreamEncoder, StreamingSource, SymbolStream
from simulator.sources import IIDSource, MarkovSource
from wrappers import Whole

P3 = [0.5, 0.3, 0.2]
Q3 = [0.4, 0.4, 0.2]
#: An order-1 and an order-2 chain on 3 symbols (rows Dirichlet(0.5), seed 0).
CHAIN1 = np.random.default_rng(0).dirichlet(np.full(3, 0.5), size=3)
CHAIN2 = np.random.default_rng(1).dirichlet(np.full(3, 0.5), size=9)

#: Chunk splits of a message: empty chunks, single symbols, and chunks shorter and
#: longer than a context of order 2.
SPLITS = [[0, 1, 1, 0, 2, 5, 100, 3, 1000, 70_000], [70_000, 7, 7], [1] * 50 + [10**6]]


def _split(n: int, sizes: list[int]) -> list[int]:
    out, left = [], n
    for c in sizes:
        if left == 0:
            break
        out.append(min(c, left))
        left -= out[-1]
    if left:
        out.append(left)
    return out


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize("source", [IIDSource(P3), MarkovSource(CHAIN1), MarkovSource(CHAIN2)],
                         ids=["iid", "markov1", "markov2"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 70_001])
def test_a_source_stream_gives_the_symbols_of_one_sample_call_whatever_the_chunks(source, n):
    whole = source.sample(n, rng=np.random.default_rng(5))
    assert isinstance(source, StreamingSource)
    for sizes in SPLITS:
        stream = source.stream(np.random.default_rng(5))
        assert isinstance(stream, SymbolStream)
        parts = [stream.next(c) for c in _split(n, sizes)]
        got = np.concatenate(parts) if parts else np.zeros(0, whole.dtype)
        assert got.dtype == whole.dtype and np.array_equal(got, whole)


@pytest.mark.parametrize("source", [IIDSource(P3), MarkovSource(CHAIN2)], ids=["iid", "markov2"])
def test_a_stream_copy_yields_what_the_stream_would_yield_next(source):
    stream = source.stream(np.random.default_rng(3))
    stream.next(1)  # inside the initial context of the order-2 chain
    twin = stream.copy()
    ahead = stream.next(500)
    assert np.array_equal(twin.next(500), ahead)
    assert np.array_equal(twin.next(10), stream.next(10))


# --------------------------------------------------------------------------- codes


#: An order-1 model with zeros and a one-symbol context (2: the empty codeword).
SPARSE = [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]]


def _sparse_path(n, rng):
    """A message the SPARSE model can code: a walk on its transitions from context 0."""
    x, c = np.empty(n, dtype=np.uint8), 0
    for i, u in enumerate(rng.random(n)):  # a test helper: a short Python loop is fine
        c = x[i] = int(np.searchsorted(np.cumsum(SPARSE[c]), u * 0.999999, side="right"))
    return x


def _codes():
    codes = [HuffmanCode(Q3), ShannonCode(Q3), BlockHuffmanCode(Q3, 3), BlockHuffmanCode(Q3, 1),
             ContextHuffmanCode(CHAIN1), ContextHuffmanCode(CHAIN2),
             ContextHuffmanCode(SPARSE)]
    # the arithmetic coders stream once their branch is merged; until then they are
    # left out here (and simulate codes their messages whole)
    for arith in (ArithmeticCode(Q3), ArithmeticCode(Q3, model="kt"),
                  engine.build_code(CHAIN2, "arithmetic"),
                  engine.build_code(Q3, "arithmetic", model="kt", order=1)):
        if engine.streams(arith):
            codes.append(arith)
    return codes


def _chunk_sizes(code, n, sizes):
    """Chunk sizes for the code: multiples of k but the last, as the contract asks."""
    k = code.symbols_per_unit
    return _split(n, [max(k, c - c % k) if c else 0 for c in sizes])


def _stream_code(code, x, sizes):
    enc, dec = code.encoder(), code.decoder(x.size)
    assert isinstance(enc, StreamEncoder) and isinstance(dec, StreamDecoder)
    bits, pending, pos, fed, out = bitarray(endian="big"), [], 0, 0, []
    for c in sizes:
        b = enc.push(x[pos : pos + c])
        pos += c
        bits += b
        dec.feed(b)
        fed += len(b)
        pending.append((c, enc.need_bits))
        while pending and pending[0][1] <= fed:
            out.append(dec.pull(pending.pop(0)[0]))
    b = enc.finish()
    bits += b
    dec.feed(b, last=True)
    out += [dec.pull(c) for c, _ in pending]
    dec.close()
    return bits, (np.concatenate(out) if out else x[:0])


@pytest.mark.parametrize("code", _codes(), ids=repr)
def test_a_code_streamed_in_chunks_gives_the_bits_of_encode_and_decodes_back(code):
    rng = np.random.default_rng(11)
    for n in (0, 1, 2, 5, 3001):
        x = IIDSource([0.5, 0.25, 0.25]).sample(n, rng=rng)
        if isinstance(code, ContextHuffmanCode) and not code.encodable.all():
            x = _sparse_path(n, rng)
        whole = code.encode(x)
        for sizes in SPLITS + [[1] * n]:
            bits, y = _stream_code(code, x, _chunk_sizes(code, n, sizes))
            assert bits == whole
            assert np.array_equal(y, x)


def test_a_block_code_stream_refuses_a_chunk_after_a_partial_block():
    code = BlockHuffmanCode(Q3, 3)
    enc = code.encoder()
    enc.push(np.array([0, 1, 2, 0], dtype=np.uint8))
    with pytest.raises(XentsimError, match="after a chunk that ended in a partial block"):
        enc.push(np.array([1], dtype=np.uint8))
    dec = code.decoder(7)
    dec.feed(code.encode(np.zeros(7, dtype=np.uint8)), last=True)
    with pytest.raises(XentsimError, match="multiple of k = 3"):
        dec.pull(4)


@pytest.mark.parametrize("code", [HuffmanCode(Q3), BlockHuffmanCode(Q3, 2),
                                  ContextHuffmanCode(CHAIN1)], ids=repr)
def test_a_stream_decoder_refuses_a_short_a_long_or_an_unfinished_stream(code):
    x = IIDSource(P3).sample(101, rng=np.random.default_rng(2))
    bits = code.encode(x)
    short = code.decoder(101)
    short.feed(bits[:-1], last=True)
    with pytest.raises(XentsimError, match="ended before"):
        short.pull(101)
    long = code.decoder(101)
    long.feed(bits + bitarray("1", endian="big"), last=True)
    assert np.array_equal(long.pull(101), x)
    with pytest.raises(XentsimError, match="1 bits are left over"):
        long.close()
    unfinished = code.decoder(101)
    unfinished.feed(bits)
    unfinished.pull(101)
    with pytest.raises(XentsimError, match="not marked complete"):
        unfinished.close()
    with pytest.raises(XentsimError, match="count is 102"):
        code.decoder(101).pull(102)
    early = code.decoder(101)
    early.feed(bits, last=True)
    early.pull(100)
    with pytest.raises(XentsimError, match="1 of 101 symbols were not decoded"):
        early.close()


def test_a_stream_encoder_names_the_chunk_of_a_symbol_without_codeword():
    enc = HuffmanCode([0.5, 0.5, 0.0]).encoder()
    enc.push(np.zeros(10, dtype=np.uint8))
    with pytest.raises(XentsimError, match=r"symbol 2 \(at position 3\).*chunk starting at symbol 10"):
        enc.push(np.array([0, 0, 0, 2], dtype=np.uint8))


# --------------------------------------------------------------------------- simulate


def _fields(m):
    d = m.to_dict()
    for key in ("encode_seconds", "decode_seconds", "sample_seconds", "warmup_seconds"):
        d.pop(key)
    return d


CASES = [  # (id, p, q, code, options)
    ("huffman iid", P3, Q3, "huffman", {}),
    ("shannon iid", P3, Q3, "shannon", {}),
    ("block-3 iid (partial unit)", P3, Q3, "block-huffman", {"block": 3}),
    ("block-2 markov", CHAIN1, Q3, "block-huffman", {"block": 2}),
    ("huffman markov", CHAIN2, Q3, "huffman", {}),
    ("context huffman order 1 markov", CHAIN1, CHAIN1, "huffman", {}),
    ("context huffman order 2 iid", P3, CHAIN2, "huffman", {}),
    ("arithmetic iid", P3, Q3, "arithmetic", {}),
    ("context arithmetic markov", CHAIN2, CHAIN2, "arithmetic", {}),
    ("adaptive kt", P3, Q3, "arithmetic", {"model": "kt"}),
]


@pytest.mark.parametrize("p, q, code, opts", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("trials", [1, 3, 21])
def test_simulate_in_chunks_measures_exactly_what_whole_messages_measure(p, q, code, opts, trials,
                                                                         monkeypatch):
    n = 2003  # not a multiple of 2 or 3: a partial block at the end
    whole_build = engine.build_code

    def whole(*args, **kwargs):
        return Whole(whole_build(*args, **kwargs))

    ref = simulate(p, q, code, n=n, trials=trials, rng=np.random.default_rng(4), **opts,
                   chunk=n)
    # chunks cut contexts and (rounded down to a multiple of k = 2, 3) hold whole units
    for chunk in ((1, 5, 64, 1000) if trials == 1 else (6, 1000)):
        m = simulate(p, q, code, n=n, trials=trials, rng=np.random.default_rng(4), **opts,
                     chunk=chunk)
        assert _fields(m) == _fields(ref), chunk
    monkeypatch.setattr(engine, "build_code", whole)
    m = simulate(p, q, code, n=n, trials=trials, rng=np.random.default_rng(4), **opts)
    assert _fields(m) == _fields(ref)


def test_the_default_chunk_codes_a_message_longer_than_one_chunk_as_a_whole_one(monkeypatch):
    monkeypatch.setattr(engine, "CHUNK", 1 << 12)
    n = 3 * (1 << 12) + 5
    for code, opts in (("huffman", {}), ("block-huffman", {"block": 3})):
        a = simulate(CHAIN1, Q3, code, n=n, rng=np.random.default_rng(8), **opts)
        b = simulate(CHAIN1, Q3, code, n=n, rng=np.random.default_rng(8), chunk=n, **opts)
        assert _fields(a) == _fields(b)


def test_exact_unit_sums_do_not_depend_on_how_the_units_are_split():
    # -log2 values whose float sums depend on the order: the exact sum does not
    v = -np.log2(np.random.default_rng(0).random(10_001))
    one = engine._UnitSums(np.array([0, 4000]), integer=False)
    one.add(v, 0)
    parts = engine._UnitSums(np.array([0, 4000]), integer=False)
    for a, b in ((0, 1), (1, 3999), (3999, 4001), (4001, 10_001)):
        parts.add(v[a:b], a)
    assert parts.acc == one.acc
    from fractions import Fraction

    exact = [sum(map(Fraction, v[:4000].tolist())), sum(map(Fraction, v[4000:].tolist()))]
    assert one.floats() == [float(e) for e in exact]


# --------------------------------------------------------------------------- lag bound


class HoldingCode:
    """Huffman, but its encoder hands out no bit before ``finish`` (the worst lag a
    code may have): every chunk waits for the end of the message."""

    def __init__(self, code):
        self._code = code

    def __getattr__(self, name):
        return getattr(self._code, name)

    def encoder(self):
        inner = self._code.encoder()

        class Holding:
            def __init__(self):
                self.need_bits = 0
                self.held = bitarray(endian="big")

            def push(self, symbols):
                self.held += inner.push(symbols)
                self.need_bits = inner.need_bits
                return bitarray(endian="big")

            def finish(self):
                return self.held + inner.finish()

        return Holding()

    def decoder(self, n_symbols):
        return self._code.decoder(n_symbols)


@pytest.mark.parametrize("source", [IIDSource([1 - 1e-9, 1e-9]), IIDSource(P3),
                                    MarkovSource(CHAIN1)],
                         ids=["low-entropy iid", "iid", "markov"])
def test_chunks_waiting_for_bits_keep_at_most_a_few_chunks_of_symbols(source):
    K = source.n_symbols
    code = HoldingCode(HuffmanCode(np.full(K, 1 / K)))
    n, chunk = 200_003, 1000
    rec = engine._code_message("holding", code, source, np.random.default_rng(6), n, chunk,
                               None, False)
    assert rec.length == len(code.encode(source.sample(n, rng=np.random.default_rng(6))))
    assert rec.held_max <= (LAG_CHUNKS + 1) * chunk  # not n: older chunks are drawn again
    # the second chunk, long dropped and drawn again (the first, drawn when nothing
    # waited, keeps its symbols), is compared like any other: a decoder that gets its
    # last symbol wrong fails the round trip there
    bad = HoldingCode(HuffmanCode(np.full(K, 1 / K)))
    right = bad._code.decoder

    def wrong_decoder(m):
        dec = right(m)
        pull, calls = dec.pull, []

        def wrong_first(c):
            y = pull(c)
            if len(calls) == 1:
                y[-1] = (y[-1] + 1) % K
            calls.append(c)
            return y

        dec.pull = wrong_first
        return dec

    bad.decoder = wrong_decoder
    with pytest.raises(RoundTripError, match=f"differs from the input at {2 * chunk - 1}"):
        engine._code_message("holding", bad, source, np.random.default_rng(6), n, chunk, None,
                             False)


def test_a_low_entropy_arithmetic_stream_keeps_few_symbols_waiting():
    code = ArithmeticCode([1 - 1e-9, 1e-9])
    if not engine.streams(code):
        pytest.skip("the arithmetic coder does not stream yet (another branch)")
    source = IIDSource([1 - 1e-9, 1e-9])
    n, chunk = 100_000, 1000
    rec = engine._code_message("arithmetic", code, source, np.random.default_rng(6), n, chunk,
                               None, False)
    assert rec.held_max <= (LAG_CHUNKS + 1) * chunk
    assert rec.length == len(code.encode(source.sample(n, rng=np.random.default_rng(6))))


# --------------------------------------------------------------------------- memory


def test_the_memory_estimate_is_bounded_by_the_chunk_not_the_message():
    code, src = HuffmanCode(np.full(256, 1 / 256)), IIDSource(np.full(256, 1 / 256))
    at_1e9 = estimate_peak_bytes(code, src, 10**9, 1, unit_arrays=False)
    assert at_1e9 < 64 << 20  # chunk-sized (the whole-message path needed ~3.4 GB)
    whole = estimate_peak_bytes(code, src, 10**9, 1, unit_arrays=False, chunk=None)
    assert whole > 3 * 10**9
    # a code that does not stream still needs its whole message
    assert estimate_peak_bytes(Whole(code), src, 10**9, 1, unit_arrays=False) == whole


@pytest.mark.parametrize("p, q, code, block", [(P3, Q3, "huffman", None),
                                               (P3, Q3, "block-huffman", 3),
                                               (CHAIN1, CHAIN1, "huffman", None)])
def test_the_real_peak_of_a_chunked_message_stays_below_the_estimate_and_the_message(p, q, code,
                                                                                     block):
    n, chunk = 1_500_001, 1 << 15
    simulate(p, q, code, n=1000, block=block, rng=np.random.default_rng(0))  # compile first
    tracemalloc.start()
    try:
        simulate(p, q, code, n=n, block=block, rng=np.random.default_rng(0), chunk=chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    c = engine.build_code(q, code, block=block)
    s = engine.as_source(p)
    est = estimate_peak_bytes(c, s, n, 1, unit_arrays=block is not None or np.ndim(p) == 2,
                              chunk=chunk)
    assert chunk <= peak <= est
    assert peak < n  # less than one byte per symbol of the message: bounded by the chunk


# --------------------------------------------------------------------------- jobs, progress


@pytest.mark.parametrize("p, q, code, opts", [(P3, Q3, "block-huffman", {"block": 3}),
                                              (CHAIN1, CHAIN1, "huffman", {}),
                                              (CHAIN2, CHAIN2, "arithmetic", {})],
                         ids=["block bernstein", "context batch-means", "arithmetic"])
def test_two_worker_processes_measure_exactly_what_one_process_measures(p, q, code, opts):
    for trials in (3, 25):
        one = simulate(p, q, code, n=501, trials=trials, rng=np.random.default_rng(9), **opts)
        two = simulate(p, q, code, n=501, trials=trials, rng=np.random.default_rng(9), jobs=2,
                       **opts)
        assert _fields(two) == _fields(one)


def test_jobs_outside_1_to_max_jobs_are_refused_by_name():
    for jobs in (0, engine.MAX_JOBS + 1):
        with pytest.raises(XentsimError, match=f"jobs.*{jobs}"):
            simulate(P3, Q3, n=10, rng=np.random.default_rng(0), jobs=jobs)


def test_progress_is_reported_per_chunk_up_to_the_total():
    seen = []
    simulate(P3, Q3, n=10_000, trials=2, rng=np.random.default_rng(0), chunk=3000,
             progress=lambda done, total: seen.append((done, total)))
    assert seen == [(d, 20_000) for d in (3000, 6000, 9000, 10_000, 13_000, 16_000, 19_000,
                                          20_000)]


def test_the_progress_bar_is_one_carriage_returned_line_with_percent_and_rate():
    out = io.StringIO()
    bar = engine.ProgressBar(400, out, eager=1)
    bar(100)
    bar(400)
    bar.close()
    text = out.getvalue()
    assert "\n" not in text and text.count("\rsimulate: ") == 2 and text.endswith("\r")
    assert "25.0%" in text and "100.0%" in text and "Msym/s" in text
    quiet = io.StringIO()
    bar = engine.ProgressBar(400, quiet)  # short runs: nothing is shown
    bar(400)
    bar.close()
    assert quiet.getvalue() == ""


def test_the_sampler_streams_for_pcg64_use_one_64_bit_draw_per_double():
    # The property chunk-parallel sampling would rely on: after i doubles, a PCG64
    # generator is where a copy advanced by i steps is.
    a = np.random.Generator(np.random.PCG64(5))
    a.random(12_345)
    b = np.random.Generator(np.random.PCG64(5))
    b.bit_generator.advance(12_345)
    assert a.random() == b.random()
    assert math.isfinite(a.random())


def test_the_command_line_gives_the_same_json_with_two_jobs_and_no_bar_off_a_terminal(capsys):
    import json

    from simulator.cli import main

    argv = ["simulate", "--p", "zipf:8:1.1", "--q", "uniform:8", "-n", "3001", "--trials", "5",
            "--code", "block-huffman", "--block", "2", "--json"]
    runs = []
    for jobs in ("1", "2"):
        assert main(argv + ["--jobs", jobs]) == 0
        out, err = capsys.readouterr()
        assert err == ""
        d = json.loads(out)
        for key in ("encode_seconds", "decode_seconds", "sample_seconds", "warmup_seconds"):
            d.pop(key)
        runs.append(d)
    assert runs[0] == runs[1]


def test_an_iid_stream_on_pcg64_skips_exactly_the_symbols_it_would_have_drawn():
    source = IIDSource(P3)
    drawn = source.stream(np.random.default_rng(7))
    drawn.next(12_345)
    jumped = source.stream(np.random.default_rng(7))
    assert jumped.seekable
    jumped.skip(12_345)
    assert np.array_equal(jumped.next(1000), drawn.next(1000))
    other = source.stream(np.random.Generator(np.random.MT19937(7)))
    assert not other.seekable
    with pytest.raises(XentsimError, match="skip needs a PCG64 generator, not MT19937"):
        other.skip(5)


@pytest.mark.parametrize("code, opts", [("huffman", {}), ("shannon", {}),
                                        ("block-huffman", {"block": 3})])
def test_one_message_cut_into_pieces_on_two_workers_measures_what_one_process_does(code, opts,
                                                                                  monkeypatch):
    n, chunk = 20_002, 999  # a partial block at the end (k = 3): the unit sums matter
    c = engine.build_code(Q3, code, **opts)
    assert engine._splits_messages(c, IIDSource(P3), n, chunk, 1, 2)
    assert not engine._splits_messages(c, MarkovSource(CHAIN1), n, chunk, 1, 2)
    mt = np.random.Generator(np.random.MT19937(1))
    assert not engine._splits_messages(c, IIDSource(P3), n, chunk, 1, 2, mt)
    assert not engine._splits_messages(engine.build_code(CHAIN1, "huffman"), IIDSource(P3), n,
                                       chunk, 1, 2)
    cut = []
    pieces = engine._run_pieces
    monkeypatch.setattr(engine, "_run_pieces", lambda *a: cut.append(1) or pieces(*a))
    for trials in (1, 2):  # (with 2 messages on 2 workers the messages are not cut)
        one = simulate(P3, Q3, code, n=n, trials=trials, rng=np.random.default_rng(9),
                       chunk=chunk, **opts)
        two = simulate(P3, Q3, code, n=n, trials=trials, rng=np.random.default_rng(9),
                       chunk=chunk, jobs=2, **opts)
        assert _fields(two) == _fields(one)
        assert len(cut) == 1  # the single message was cut, the two messages were not


# ---------------------------------------------------------------- prefix stream coders, exactly

def test_a_prefix_stream_encoder_counts_bits_and_symbols_and_ends_once():
    from simulator import HuffmanCode
    code = HuffmanCode([0.5, 0.25, 0.25])  # lengths 1, 2, 2
    enc = code.encoder()
    assert enc.need_bits == 0 and enc.pushed == 0
    assert len(enc.push(np.array([0, 1]))) == 3
    assert enc.need_bits == 3 and enc.pushed == 2
    assert len(enc.push(np.array([2, 2, 0]))) == 5
    assert enc.need_bits == 8 and enc.pushed == 5
    with pytest.raises(XentsimError, match=r"^symbols\[1\] is 7, outside the alphabet 0..2 \(position within the chunk starting "
                                           r"at symbol 5\)$"):
        enc.push(np.array([0, 7]))
    tail = enc.finish()
    assert len(tail) == 0 and tail.endian == "big"
    with pytest.raises(XentsimError, match=r"^push after finish: the message has ended$"):
        enc.push(np.array([0]))


def test_a_prefix_stream_decoder_refuses_misuse_word_for_word():
    from simulator import HuffmanCode
    code = HuffmanCode([0.5, 0.25, 0.25])
    x = np.array([0, 1, 2, 0, 0, 2, 1, 1, 0, 2] * 5)
    bits = code.encode(x)
    with pytest.raises(XentsimError, match=r"^n_symbols is -1, must be >= 0$"):
        code.decoder(-1)
    dec = code.decoder(x.size)
    dec.feed(bits[:20])
    with pytest.raises(XentsimError, match=r"^count is -2, must be >= 0$"):
        dec.pull(-2)
    with pytest.raises(XentsimError, match=r"^last must be a bool, got 'yes'$"):
        dec.feed(bits[20:20], last="yes")
    got = [dec.pull(5)]
    dec.feed(bits[20:], last=True)
    with pytest.raises(XentsimError, match=r"^bits fed after the stream was marked complete "
                                           r"\(last=True\)$"):
        dec.feed(bits[:0])
    got.append(dec.pull(x.size - 5))
    assert np.array_equal(np.concatenate(got), x)
    dec.close()
    early = code.decoder(x.size)
    early.feed(bits)
    early.pull(x.size)
    with pytest.raises(XentsimError, match=r"^the stream was not marked complete "
                                           r"\(feed\(\.\.\., last=True\)\)$"):
        early.close()


def test_a_prefix_stream_decoder_keeps_only_the_bits_it_has_not_decoded():
    from simulator import HuffmanCode
    code = HuffmanCode([1 / 8] * 8)  # every codeword 3 bits
    x = np.arange(8).repeat(100)
    bits = code.encode(x)
    dec = code.decoder(x.size)
    dec.feed(bits, last=True)
    for start in range(0, x.size, 8):
        assert np.array_equal(dec.pull(8), x[start:start + 8])  # 24 bits: three whole bytes
        assert len(dec._bits) == len(bits) - 3 * (start + 8) and dec._pos == 0
    dec.close()


@pytest.mark.parametrize("make", [
    lambda: __import__("simulator").HuffmanCode([0.5, 0.25, 0.25]),
    lambda: __import__("simulator").BlockHuffmanCode([0.5, 0.25, 0.25], 3),
    lambda: __import__("simulator.codes.arithmetic", fromlist=["ArithmeticCode"]).ArithmeticCode(
        [0.5, 0.25, 0.25]),
])
def test_streamed_symbols_have_the_dtype_of_whole_decoding(make):
    code = make()
    x = np.array([0, 1, 2, 2, 1, 0, 0, 1, 2, 0, 1])  # 11: the block code ends in a partial block
    bits = code.encode(x)
    whole = code.decode(bits, x.size)
    dec = code.decoder(x.size)
    dec.feed(bits, last=True)
    parts = [dec.pull(3), dec.pull(6), dec.pull(2)]
    dec.close()
    assert all(p.dtype == whole.dtype for p in parts) and whole.dtype == np.uint8
    assert np.array_equal(np.concatenate(parts), x)


# --- mutation: engine helpers (exact sums, integer-length threshold, workers, progress bar)

import ctypes  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from fractions import Fraction  # noqa: E402


def test_scaled_sum_is_exact_when_mantissas_of_one_exponent_cancel():
    S = engine._SCALE
    # same exponent, opposite signs: the per-exponent halves of the mantissas sum to
    # (high 0, low 1), (high 1, low 0) and (high 0, low 5); none may be dropped
    assert engine._scaled_sum(np.array([1 + 2.0**-52, -1.0])) == 1 << (S - 52)
    assert engine._scaled_sum(np.array([1 + 2.0**-26, -1.0])) == 1 << (S - 26)
    assert engine._scaled_sum(np.array([1 + 5 * 2.0**-52, -1.0])) == 5 << (S - 52)
    rng = np.random.default_rng(11)
    v = np.concatenate((rng.normal(size=500) * 2.0 ** rng.integers(-60, 60, 500),
                        [5e-324, -5e-324, 2.0**-1022, 1e300]))
    exact = sum(Fraction(float(a)) for a in v) * 2**S
    assert exact.denominator == 1 and engine._scaled_sum(v) == exact.numerator


def test_integer_lengths_hold_while_max_length_times_units_plus_one_is_below_2_to_53():
    # k = 2, longest codeword 6 bits; 6 (a + 1) = 2^53 - 2 for a + 1 = (2^53 - 2) / 6
    q = [0.5, 0.25, 0.125, 0.125]
    code, source = BlockHuffmanCode(q, 2), IIDSource(q)
    assert code.lengths.max() == 6
    a = (2**53 - 2) // 6 - 1
    assert engine._integer_lengths(code, source, 2 * a + 1)  # a whole units (+ a partial one)
    assert not engine._integer_lengths(code, source, 2 * a + 2)  # a + 1 whole units


def _fork_and_check_parent_watch(conn):
    # in a forked child: name an alive process that is not our parent (ourselves)
    engine.die_with_parent(os.getpid())
    sig = ctypes.c_int(-1)
    ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG
    conn.send(sig.value)
    conn.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_a_worker_asks_for_sigkill_at_its_parents_death_and_runs_on_while_the_named_process_lives():
    ctx = multiprocessing.get_context("fork")
    here, there = ctx.Pipe()
    proc = ctx.Process(target=_fork_and_check_parent_watch, args=(there,))
    proc.start()
    proc.join(30)
    assert proc.exitcode == 0
    assert here.poll() and here.recv() == int(engine.signal.SIGKILL)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one worker is also the default pool size")
def test_worker_pool_starts_exactly_the_workers_it_is_asked_for():
    before = {p.pid for p in multiprocessing.active_children()}
    with engine.worker_pool(1) as pool:
        pids = {pool.submit(os.getpid).result() for _ in range(3)}
        started = {p.pid for p in multiprocessing.active_children()} - before
    assert len(pids) == 1 and started == pids


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_bar_appears_after_2_seconds_by_default_and_redraws_every_fifth_of_a_second(
        monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(engine.time, "perf_counter", clock)
    out = io.StringIO()
    bar = engine.ProgressBar(1000, out)
    for t, done in ((1.9, 100), (2.5, 200)):
        clock.now = t
        bar(done)
    assert out.getvalue() == "\rsimulate:  20.0%       0.0 Msym/s"
    bar.close()
    assert out.getvalue().endswith("\r" + " " * 40 + "\r")

    out = io.StringIO()
    clock.now = 0.0
    bar = engine.ProgressBar(10**11, out, eager=10**11)  # that large: shown at once
    for t, done in ((0.2, 2 * 10**5), (0.4, 4 * 10**5), (0.5, 10**6), (1.0, 10**11)):
        clock.now = t
        bar(done)  # at 0.4 exactly 0.2 s have passed: drawn; at 0.5 not; the end always
    assert out.getvalue() == ("\rsimulate:   0.0%       1.0 Msym/s" * 2
                              + "\rsimulate: 100.0%  100000.0 Msym/s")


class _Logged:
    """A code that records each whole-message ``encode`` (pid and symbols) in a file.

    Streamed messages go through ``encoder``, so its whole-message encodes are the
    warm-ups alone."""

    def __init__(self, inner, path):
        self._inner, self._path = inner, path

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def encode(self, symbols):
        with open(self._path, "a") as f:
            f.write(f"{os.getpid()} {' '.join(map(str, symbols.tolist()))}\n")
        return self._inner.encode(symbols)


def _warmed_heads(path):
    with open(path) as f:
        return sorted(tuple(int(s) for s in line.split()[1:]) for line in f)


def test_workers_warm_their_kernels_on_the_first_message_of_each_first_group_only(
        monkeypatch, tmp_path):
    path = tmp_path / "encodes.txt"
    monkeypatch.setitem(engine.CODES, "logged",
                        engine.CodeEntry(lambda q: _Logged(HuffmanCode(q), path)))
    # 24 messages on 2 workers: groups of 3; the first group of each worker (messages
    # 0 and 3) is warmed on its first message's first 64 symbols
    n = 200
    m = simulate(P3, Q3, "logged", n=n, trials=24, jobs=2, rng=np.random.default_rng(3))
    kids = np.random.default_rng(3).spawn(24)
    heads = [tuple(IIDSource(P3).sample(n, rng=kids[j])[:64].tolist()) for j in (0, 3)]
    assert _warmed_heads(path) == sorted(heads)
    assert m.trial_bits == simulate(P3, Q3, "huffman", n=n, trials=24,
                                    rng=np.random.default_rng(3)).trial_bits
    # one message in pieces of one chunk on 2 workers: the first two pieces warm
    path.unlink()
    n, chunk = 800, 100
    simulate(P3, Q3, "logged", n=n, jobs=2, chunk=chunk, rng=np.random.default_rng(4))
    x = IIDSource(P3).sample(n, rng=np.random.default_rng(4).spawn(1)[0])
    assert _warmed_heads(path) == sorted([tuple(x[:64].tolist()),
                                          tuple(x[chunk:chunk + 64].tolist())])


class _WrongDecode(_Logged):
    """Decodes whole messages only, with symbol 0 of every message changed."""

    encoder = decoder = None

    def decode(self, bits, n_symbols):
        y = self._inner.decode(bits, n_symbols).copy()
        y[0] = (y[0] + 1) % self.n_symbols
        return y


class _WrongStream(_Logged):
    """Streams, with the first symbol each decoder hands out changed."""

    def decoder(self, n_symbols):
        dec = self._inner.decoder(n_symbols)
        pull, calls = dec.pull, []

        def wrong_first(count):
            y = pull(count)
            if not calls and y.size:
                y[0] = (y[0] + 1) % self.n_symbols
            calls.append(count)
            return y

        dec.pull = wrong_first
        return dec


def test_a_round_trip_failure_in_a_worker_names_the_code(monkeypatch):
    monkeypatch.setitem(engine.CODES, "wrong", engine.CodeEntry(lambda q: _WrongDecode(
        HuffmanCode(q), os.devnull)))
    monkeypatch.setitem(engine.CODES, "wrong-stream", engine.CodeEntry(lambda q: _WrongStream(
        HuffmanCode(q), os.devnull)))
    with pytest.raises(RoundTripError, match=r"^wrong: decoded message differs from the "
                                             r"input at 0$"):
        simulate(P3, Q3, "wrong", n=100, trials=4, jobs=2, rng=np.random.default_rng(5))
    # one message in pieces: the first piece's failure, at position 0 of the message
    with pytest.raises(RoundTripError, match=r"^wrong-stream: decoded message differs from "
                                             r"the input at 0$"):
        simulate(P3, Q3, "wrong-stream", n=800, jobs=2, chunk=100, rng=np.random.default_rng(5))


# --- mutation: engine, round 2
# The split decision, the spawned generators, which worker messages warm the kernels,
# the parent check of a worker, and the outward rounding of an interval.

import signal  # noqa: E402

_P2, _Q2 = np.array([0.6, 0.25, 0.15]), np.array([0.3, 0.3, 0.4])


class _NoStream:
    """An i.i.d. source without ``stream`` (only ``sample``)."""

    independent = True

    def __init__(self, p):
        self._inner = IIDSource(p)
        self.n_symbols = self._inner.n_symbols

    def sample(self, n, *, rng):
        return self._inner.sample(n, rng=rng)

    def marginal(self):
        return self._inner.marginal()

    def block_law(self, k):
        return self._inner.block_law(k)

    def entropy_rate_bits(self):
        return self._inner.entropy_rate_bits()


class _DrawsOnStream(_NoStream):
    """An i.i.d. streaming source whose ``stream`` takes one draw from the generator
    it is given before handing out symbols."""

    def stream(self, rng):
        rng.random()
        return self._inner.stream(rng)


def test_a_message_is_cut_into_pieces_from_two_whole_chunks_on():
    src, code = IIDSource(_P2), HuffmanCode(_Q2)
    rng = np.random.default_rng(3)
    assert engine._splits_messages(code, src, 2048, 1024, 1, 2, rng)
    assert engine._splits_messages(code, src, 2048, 1024, 1, 2)  # no rng: a PCG64 probe
    assert not engine._splits_messages(code, src, 2047, 1024, 1, 2, rng)
    assert not engine._splits_messages(code, src, 2048, 1024, 2, 2, rng)  # a message each
    assert not engine._splits_messages(code, src, 2048, 1024, 1, 1, rng)  # one worker


def test_an_iid_source_without_a_stream_is_never_cut_and_runs_in_one_process():
    src = _NoStream(_P2)
    assert not engine._splits_messages(HuffmanCode(_Q2), src, 4096, 1024, 1, 2,
                                       np.random.default_rng(3))
    one = simulate(src, _Q2, "huffman", n=4096, chunk=1024, rng=np.random.default_rng(4))
    two = simulate(src, _Q2, "huffman", n=4096, chunk=1024, jobs=2,
                   rng=np.random.default_rng(4))
    assert two.trial_bits == one.trial_bits


def test_deciding_whether_to_cut_leaves_the_callers_generator_where_it_was():
    rng = np.random.default_rng(8)
    before = rng.bit_generator.state
    assert engine._splits_messages(HuffmanCode(_Q2), _DrawsOnStream(_P2), 4096, 1024, 1, 2, rng)
    assert rng.bit_generator.state == before


def test_the_spawned_generators_are_rng_spawn_trials_in_order_whatever_the_chunk():
    want = [g.random() for g in np.random.default_rng(6).spawn(7)]
    for chunk in (1, 2, 3, 7, 1024):
        got = [g.random() for g in engine._spawned(np.random.default_rng(6), 7, chunk)]
        assert got == want


def _worker_state(monkeypatch, n=3000):
    src = IIDSource(_P2)
    monkeypatch.setattr(engine, "_WORKER_STATE", dict(
        name="huffman", coder=HuffmanCode(_Q2), source=src, n=n, chunk=1024,
        starts=np.zeros(1, dtype=np.int64), integer=True, unit_arrays=False))


def test_a_worker_warms_the_kernels_on_the_first_message_of_a_warm_group_only(monkeypatch):
    _worker_state(monkeypatch)
    warm = engine._run_trials(0, np.random.default_rng(2).spawn(3), True)
    assert warm[0].warm_s > 0 and [r.warm_s for r in warm[1:]] == [0.0, 0.0]
    cold = engine._run_trials(0, np.random.default_rng(2).spawn(3), False)
    assert [r.warm_s for r in cold] == [0.0, 0.0, 0.0]
    assert [r.length for r in cold] == [r.length for r in warm]  # warming changes no bits


def test_a_worker_warms_the_kernels_on_a_piece_only_when_asked(monkeypatch):
    _worker_state(monkeypatch)
    warm = engine._run_piece(np.random.default_rng(2).spawn(1)[0], 1024, 2048, True)
    cold = engine._run_piece(np.random.default_rng(2).spawn(1)[0], 1024, 2048, False)
    assert warm.warm_s > 0 and cold.warm_s == 0.0 and warm.length == cold.length


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_parent_check_asks_linux_for_sigkill_and_signals_no_living_process():
    """die_with_parent run here, with this process as the "parent" it checks (alive, not
    our parent): it sets PR_SET_PDEATHSIG to SIGKILL and sends no signal (kill(pid, 0)).
    The death signal this process had before is put back."""
    libc = ctypes.CDLL(None, use_errno=True)
    old = ctypes.c_int(-1)
    assert libc.prctl(2, ctypes.byref(old), 0, 0, 0) == 0  # PR_GET_PDEATHSIG
    got, now = [], ctypes.c_int(-1)
    previous = {s: signal.signal(s, lambda num, frame: got.append(num))
                for s in (signal.SIGHUP, signal.SIGUSR1)}
    try:
        engine.die_with_parent(os.getpid())
        libc.prctl(2, ctypes.byref(now), 0, 0, 0)
        os.kill(os.getpid(), signal.SIGUSR1)  # a real signal does arrive here (control)
    finally:
        libc.prctl(1, old.value, 0, 0, 0)
        for s, h in previous.items():
            signal.signal(s, h)
    assert now.value == signal.SIGKILL
    assert got == [signal.SIGUSR1]


def test_outward_pads_by_4_ulps_of_the_largest_finite_magnitude_and_keeps_infinities():
    assert engine._outward((1.0, 2.0), 3.0, math.inf) == (1.0 - 4 * math.ulp(3.0),
                                                           2.0 + 4 * math.ulp(3.0))
    assert engine._outward((-math.inf, math.inf)) == (-math.inf, math.inf)
    assert engine._outward((-math.inf, math.inf), math.nan, math.inf) == (-math.inf, math.inf)


# --- mutation: warm-up, round 3
# (the warm-up streams the whole head: fed as complete, every symbol pulled and checked)


def test_the_warm_up_streams_the_head_to_completion_and_pulls_every_symbol():
    calls = []

    class Recording:
        def __init__(self, dec):
            self.dec = dec

        def feed(self, bits, **kw):
            calls.append(("feed", kw.get("last", False)))
            return self.dec.feed(bits, **kw)

        def pull(self, count):
            out = self.dec.pull(count)
            calls.append(("pull", out.tolist()))
            return out

        def close(self):
            calls.append(("close",))
            return self.dec.close()

    class RecordingArithmetic(ArithmeticCode):
        def decoder(self, n_symbols):
            return Recording(super().decoder(n_symbols))

    head = np.array([0, 1, 2, 2, 1, 0, 0, 2], dtype=np.int64)
    engine._warm_coder(RecordingArithmetic(Q3), head)
    assert calls == [("feed", False), ("feed", True), ("pull", head.tolist()), ("close",)]
