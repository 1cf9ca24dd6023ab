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


class Whole:
    """A code seen without its streaming methods: simulate codes its messages whole."""

    def __init__(self, code):
        self._code = code

    def __getattr__(self, name):
        if name in ("encoder", "decoder"):
            raise AttributeError(name)
        return getattr(self._code, name)


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
