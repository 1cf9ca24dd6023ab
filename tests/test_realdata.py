"""Real data: order-k models (trained and adaptive) through the context-mapped coder,
classifier predictions, and the `xentsim code` command line."""

import json
import math

import numpy as np
import pytest

from simulator import corpus
from simulator._validate import UnencodableSymbolError, XentsimError
from simulator.cli import main
from simulator.codes import _arith_kernels as K_
from simulator.codes.arithmetic import ReferenceCoder, SLACK_BITS, decode, encode, slack_bounds
from simulator.interfaces import Tables
from simulator.measures import entropy, kl_divergence
from simulator.models import AdaptiveModel, ContextAdaptiveModel, TrainedModel
from simulator.models import trained as trained_mod
from simulator.models.trained import context_numbers
from simulator import realdata

TEXTS = {name: np.frombuffer(corpus.load(name), dtype=np.uint8) for name in corpus.FILES}
CORPUS = corpus.CORPUS_DIR


def within_slack(bits, ideal, n, total):
    lo, hi = slack_bounds(n, total)
    return ideal + lo - 1e-6 <= len(bits) <= ideal + hi + 1e-6 + n * 1e-9


# ---------------------------------------------------------------- the context convention


def test_the_corpus_texts_use_6420_to_10691_order_3_contexts_as_trained_py_says():
    counts = [realdata.message_bounds(TEXTS[name], 256, 3)[0] for name in corpus.TEXTS]
    assert min(counts) == 6420 and max(counts) == 10691


def test_context_numbers_are_the_previous_k_symbols_oldest_most_significant_zero_padded():
    rng = np.random.default_rng(1)
    for K, k in ((2, 3), (5, 2), (256, 3), (7, 0)):
        x = rng.integers(0, K, 40)
        got = context_numbers(x, K, k)
        for t in range(x.size):
            prev = [x[t - j] if t - j >= 0 else 0 for j in range(k, 0, -1)]
            want = 0
            for s in prev:
                want = want * K + int(s)
            assert int(got[t]) == want


@pytest.mark.parametrize("K, k", [(4, 3), (3, 2), (2, 5)])
def test_trained_model_codes_bit_for_bit_like_dense_context_rows_of_the_existing_kernel(K, k):
    # the same q^ rows laid out densely (K^k rows, unseen contexts -> the default row)
    # in the kernel's "context" path: the mapped path must give the identical stream
    rng = np.random.default_rng(K * 10 + k)
    train = rng.integers(0, K, 300)
    x = rng.integers(0, K, 2000)
    m = TrainedModel(train, k, K, alpha=0.5, precision=16)
    dense = np.repeat(m.cum[m.default_row:m.default_row + 1], K ** k, axis=0)
    dense[m.contexts.astype(np.int64)] = m.cum[: m.n_contexts]

    class Dense:
        n_symbols = K

        def tables(self, n):
            return Tables(cum=dense, row="context", order=k, precision=16)

    assert encode(x, m) == encode(x, Dense())


@pytest.mark.parametrize("K, k, estimator", [(4, 3, "kt"), (16, 4, "kt"), (16, 4, "laplace"),
                                             (256, 1, "laplace"), (32, 3, "kt")])
def test_adaptive_context_model_codes_bit_for_bit_like_dense_adaptive_rows(K, k, estimator):
    # (16, 4) and (32, 3) take the sparse rows; the others the dense Fenwick rows
    rng = np.random.default_rng(K + k)
    x = (rng.zipf(1.5, 3000) % K).astype(np.int64)
    inc = 1 if estimator == "laplace" else 2
    dense = np.tile(np.arange(K + 1, dtype=np.uint64), (K ** k, 1))

    class Dense:
        n_symbols = K

        def tables(self, n):
            return Tables(cum=dense, row="context", order=k, increment=inc)

    m = ContextAdaptiveModel(K, k, estimator)
    bits = encode(x, m)
    assert bits == encode(x, Dense())
    assert np.array_equal(decode(bits, m, x.size), x)


def test_order_0_adaptive_context_model_is_the_existing_adaptive_model():
    x = TEXTS["alice29.txt"][:20000]
    for est in ("kt", "laplace"):
        assert encode(x, ContextAdaptiveModel(256, 0, est)) == encode(x, AdaptiveModel(256, est))
        np.testing.assert_allclose(ContextAdaptiveModel(256, 0, est).symbol_bits(x),
                                   AdaptiveModel(256, est).symbol_bits(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
def test_compiled_mapped_coder_equals_the_reference_coder_bit_for_bit(k):
    x = TEXTS["asyoulik.txt"][1000:3500]
    models = [TrainedModel(TEXTS["alice29.txt"][:30000], k, 256, alpha=0.5),
              ContextAdaptiveModel(256, k, "kt"), ContextAdaptiveModel(256, k, "laplace")]
    for m in models:
        bits = encode(x, m)
        assert ReferenceCoder.encode(x, m) == bits
        assert np.array_equal(ReferenceCoder.decode(bits, m, x.size), x)


# ---------------------------------------------------------------- the models' numbers


def test_trained_model_probability_is_add_alpha_counts_of_the_training_text():
    train = np.array([1, 2, 1, 1, 2, 0, 1])
    K, k, a = 3, 1, 0.25
    m = TrainedModel(train, k, K, alpha=a)
    counts = {}
    prev = 0
    for s in train:
        counts[(prev, int(s))] = counts.get((prev, int(s)), 0) + 1
        prev = int(s)
    x = np.array([1, 1, 2, 0, 0, 2])
    prev = 0
    for t, s in enumerate(x):
        n_c = sum(v for (c, _), v in counts.items() if c == prev)
        q = (counts.get((prev, int(s)), 0) + a) / (n_c + K * a)
        assert m.exact_bits(x)[t] == pytest.approx(-math.log2(q), abs=1e-12)
        prev = int(s)


def test_unseen_context_uses_the_uniform_row_with_smoothing_and_no_row_without():
    m = TrainedModel(np.array([0, 0, 0]), 2, 4, alpha=1.0)
    x = np.array([3, 3, 3])  # contexts (0,0), (0,3), (3,3): the last two never occur in training
    assert m.exact_bits(x)[1:].tolist() == [2.0, 2.0]
    assert m.symbol_bits(x)[1:].tolist() == [2.0, 2.0]
    m0 = TrainedModel(np.array([0, 0, 0, 3]), 2, 4, alpha=0.0)
    with pytest.raises(UnencodableSymbolError, match="position 1"):
        encode(np.array([3, 3]), m0)


@pytest.mark.parametrize("name", list(corpus.TEXTS))
def test_order_0_trained_cost_is_entropy_plus_kl_from_the_byte_counts(name):
    train = TEXTS["lcet10.txt"] if name != "lcet10.txt" else TEXTS["alice29.txt"]
    x = TEXTS[name]
    m = TrainedModel(train, 0, 256, alpha=0.5)
    qhat = np.diff(m.cum[0]).astype(float) / m.total
    p = np.bincount(x, minlength=256) / x.size
    bits = encode(x, m)
    expected = x.size * (entropy(p) + kl_divergence(p, qhat))
    lo, hi = slack_bounds(x.size, m.total)
    assert expected + lo - 1e-6 <= len(bits) <= expected + hi + 1e-6


def test_adaptive_symbol_bits_are_the_kt_counts_per_context():
    x = np.array([2, 2, 1, 2, 2, 1, 0])
    m = ContextAdaptiveModel(3, 1, "kt")
    seen = {}
    prev = 0
    for t, s in enumerate(x):
        c = seen.setdefault(prev, [0, 0, 0])
        q = (c[s] + 0.5) / (sum(c) + 1.5)
        assert m.symbol_bits(x)[t] == pytest.approx(-math.log2(q), abs=1e-12)
        c[s] += 1
        prev = int(s)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", list(corpus.FILES))
def test_every_corpus_file_round_trips_with_trained_and_adaptive_models_within_the_slack(name):
    x = TEXTS[name]
    other = TEXTS["plrabn12.txt"] if name != "plrabn12.txt" else TEXTS["asyoulik.txt"]
    for k in (0, 2, 3):
        for m in (TrainedModel(other, k, 256), ContextAdaptiveModel(256, k, "kt")):
            rep, bits = realdata.code_symbols(x, m, compressors=False)
            assert rep.roundtrip_ok and rep.within_slack
            assert within_slack(bits, m.symbol_bits(x).sum(),
                                x.size, m.total if isinstance(m, TrainedModel) else 256 + 2 * x.size)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
def test_empty_and_one_symbol_messages_round_trip(k):
    train = TEXTS["alice29.txt"][:5000]
    for m in (TrainedModel(train, k, 256), TrainedModel(train, k, 256, alpha=0.0),
              ContextAdaptiveModel(256, k, "kt"), ContextAdaptiveModel(256, k, "laplace")):
        # train[:1]: the unsmoothed model saw it after the all-zero context
        for x in (np.zeros(0, np.uint8), train[:1]):
            bits = encode(x, m)
            assert np.array_equal(decode(bits, m, x.size), x)
        assert len(encode(np.zeros(0, np.uint8), m)) == 0


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_random_bytes_round_trip(k):
    rng = np.random.default_rng(k)
    x = rng.integers(0, 256, 20000).astype(np.uint8)
    train = rng.integers(0, 256, 20000).astype(np.uint8)
    for m in (TrainedModel(train, k, 256), ContextAdaptiveModel(256, k, "kt")):
        rep, bits = realdata.code_symbols(x, m, compressors=False)
        assert rep.roundtrip_ok and rep.within_slack
        if k == 0 and isinstance(m, TrainedModel):
            # a static code pays n (H(p_emp) + KL(p_emp || q^)) >= n H(p_emp), less its 8-bit slack
            p = np.bincount(x, minlength=256) / x.size
            assert len(bits) >= x.size * entropy(p) + SLACK_BITS[0]


def test_decoder_given_too_small_bounds_refuses_instead_of_allocating():
    x = TEXTS["alice29.txt"][:20000]
    R, P = realdata.message_bounds(x, 256, 3)
    assert R == np.unique(context_numbers(x, 256, 3)).size
    assert P >= np.unique(context_numbers(x, 256, 3) * 256 + x).size
    bits = encode(x, ContextAdaptiveModel(256, 3, "kt", R, P))
    assert np.array_equal(decode(bits, ContextAdaptiveModel(256, 3, "kt", R, P), x.size), x)
    for small in (ContextAdaptiveModel(256, 3, "kt", R - 1, P), ContextAdaptiveModel(256, 3, "kt", R, R)):
        with pytest.raises(XentsimError):
            decode(bits, small, x.size)
        with pytest.raises(XentsimError, match="more distinct contexts"):
            encode(x, small)


@pytest.mark.parametrize("seed", range(6))
def test_damaged_mapped_streams_raise_or_decode_to_a_message_with_that_stream(seed):
    rng = np.random.default_rng(seed)
    x = TEXTS["asyoulik.txt"][:3000]
    for m in (TrainedModel(TEXTS["alice29.txt"], 2, 256, alpha=0.5),
              TrainedModel(TEXTS["alice29.txt"], 1, 256, alpha=0.0),
              ContextAdaptiveModel(256, 3, "kt", *realdata.message_bounds(x, 256, 3)),
              ContextAdaptiveModel(256, 1, "laplace")):
        try:
            bits = encode(x, m)
        except UnencodableSymbolError:
            continue
        bad = bits.copy()
        for j in rng.choice(len(bad), size=3, replace=False):
            bad[int(j)] ^= 1
        try:
            y = decode(bad, m, x.size)
        except XentsimError:
            continue
        assert encode(y, m) == bad  # the only way to return: bad is y's encoding


# ---------------------------------------------------------------- memory and bad input


def test_a_model_whose_tables_do_not_fit_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(trained_mod, "memory_limit_bytes", lambda: 1 << 20)
    with pytest.raises(XentsimError, match="MiB"):
        TrainedModel(TEXTS["alice29.txt"], 3, 256)
    with pytest.raises(XentsimError, match="MiB"):
        ContextAdaptiveModel(256, 3, "kt", 10**6, 10**7)


def test_orders_whose_contexts_overflow_64_bits_are_refused():
    with pytest.raises(XentsimError, match="largest order is 7"):
        ContextAdaptiveModel(256, 8, "kt")
    with pytest.raises(XentsimError, match="alpha"):
        TrainedModel(np.zeros(3, int), 1, 2, alpha=-1)


# ---------------------------------------------------------------- predictions


def _classifier(n, K, seed):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(K) * 0.7, size=n)
    Y = (P.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return P, np.minimum(Y, K - 1)


def test_predicted_rows_code_the_labels_at_their_cross_entropy_loss():
    P, Y = _classifier(5000, 10, 3)
    rep, bits = realdata.code_predictions(P, Y)
    ce = -np.log2(P[np.arange(Y.size), Y]).sum()
    assert rep.cross_entropy_loss_bits == pytest.approx(ce / Y.size, abs=1e-12)
    assert rep.within_slack and rep.roundtrip_ok
    # termination slack plus the rounding of the rows (reported)
    lo, hi = rep.slack_bits
    assert lo <= rep.difference_bits - rep.rounding_bits <= hi + 1e-6
    assert abs(rep.rounding_bits) < 0.01


def test_a_zero_probability_on_a_target_is_refused_naming_the_row():
    P, Y = _classifier(100, 4, 4)
    P[37] = [0.5, 0.5, 0.0, 0.0]
    Y[37] = 3
    with pytest.raises(UnencodableSymbolError, match="row 37 gives its target label 3 probability 0"):
        realdata.code_predictions(P, Y)


def test_prediction_rows_must_sum_to_one_unless_normalized_and_match_the_labels():
    P, Y = _classifier(50, 3, 5)
    P[7] *= 2
    with pytest.raises(XentsimError, match="row 7 sums to"):
        realdata.code_predictions(P, Y)
    rep, _ = realdata.code_predictions(P, Y, normalize=True)
    assert rep.roundtrip_ok
    with pytest.raises(XentsimError, match="50 rows but --targets has 49"):
        realdata.code_predictions(P, Y[:-1])
    with pytest.raises(XentsimError, match="outside the alphabet"):
        realdata.code_predictions(P, np.where(np.arange(50) == 3, 3, Y))


# ---------------------------------------------------------------- the command line


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


CODE_KEYS = {"file", "train", "train_sha256", "model", "order", "alpha", "precision", "symbols",
             "alphabet_size", "n_symbols", "contexts", "total_bits", "bits_per_symbol",
             "log_loss_bits", "quantised_log_loss_bits", "slack_bits", "within_slack",
             "roundtrip_ok", "zlib_bits_per_symbol", "bz2_bits_per_symbol",
             "lzma_bits_per_symbol", "out", "xent_bytes", "xent_bits_per_symbol",
             "encode_seconds", "decode_seconds"}


def test_code_reports_the_same_keys_in_json_and_text(capsys):
    argv = ["code", str(CORPUS / "alice29.txt"), "--train", str(CORPUS / "asyoulik.txt"), "--order", "2"]
    code, out, _ = _run(argv + ["--json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert set(d) == CODE_KEYS
    assert d["roundtrip_ok"] and d["within_slack"] and d["n_symbols"] == 152089
    lo, hi = d["slack_bits"]
    assert lo <= d["total_bits"] - d["n_symbols"] * d["quantised_log_loss_bits"] <= hi
    code, out, _ = _run(argv, capsys)
    assert [line.split()[0] for line in out.splitlines()] == list(d)


def test_code_of_an_empty_file_has_null_per_symbol_values(tmp_path, capsys):
    (tmp_path / "e").write_bytes(b"")
    code, out, _ = _run(["code", str(tmp_path / "e"), "--order", "2", "--model", "kt", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["n_symbols"] == 0 and d["total_bits"] == 0
    for key in ("bits_per_symbol", "log_loss_bits", "quantised_log_loss_bits", "zlib_bits_per_symbol"):
        assert d[key] is None
    code, out, _ = _run(["code", str(tmp_path / "e"), "--order", "2", "--model", "kt"], capsys)
    assert "bits_per_symbol          undefined" in out and "nan" not in out.lower()


def test_code_with_probs_reports_bits_next_to_the_loss(tmp_path, capsys):
    P, Y = _classifier(2000, 5, 6)
    np.save(tmp_path / "P.npy", P)
    np.save(tmp_path / "Y.npy", Y)
    code, out, _ = _run(["code", "--probs", str(tmp_path / "P.npy"), "--targets",
                         str(tmp_path / "Y.npy"), "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["within_slack"]
    assert abs(d["total_bits"] - 2000 * d["cross_entropy_loss_bits"]) < 9 + abs(d["rounding_bits"])


def test_npy_symbols_code_and_respect_the_alphabet(tmp_path, capsys):
    rng = np.random.default_rng(2)
    np.save(tmp_path / "x.npy", rng.integers(0, 1000, 5000).astype(np.int32))
    code, out, _ = _run(["code", str(tmp_path / "x.npy"), "--symbols", "npy", "--order", "1",
                         "--model", "kt", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["alphabet_size"] <= 1000 and d["roundtrip_ok"]


def _bad_cases(tmp):
    C = str(CORPUS)
    np.save(tmp / "float.npy", np.array([0.5, 1.5]))
    np.save(tmp / "neg.npy", np.array([1, -2, 3]))
    np.save(tmp / "big.npy", np.array([1, 7, 3]))
    np.save(tmp / "P.npy", np.full((4, 2), 0.6))
    np.save(tmp / "P1.npy", np.full((4, 2), 0.5))
    np.save(tmp / "Y.npy", np.array([0, 1, 1]))
    np.save(tmp / "Y4.npy", np.array([0, 1, 1, 0]))
    (tmp / "P0.npy").write_bytes(b"garbage")
    return {
        "missing file": (["code", str(tmp / "nope.txt"), "--order", "1", "--model", "kt"], "cannot be read"),
        "directory": (["code", str(tmp), "--order", "1", "--model", "kt"], "directory"),
        "missing train": (["code", C + "/alice29.txt", "--train", str(tmp / "nope"), "--order", "1"], "--train"),
        "static without train": (["code", C + "/alice29.txt", "--order", "1"], "--train TRAIN"),
        "no order": (["code", C + "/alice29.txt", "--model", "kt"], "--order"),
        "npy not integer": (["code", str(tmp / "float.npy"), "--symbols", "npy", "--order", "0", "--model", "kt"], "integers"),
        "npy negative": (["code", str(tmp / "neg.npy"), "--symbols", "npy", "--order", "0", "--model", "kt"], "FILE[1] is -2"),
        "npy out of range": (["code", str(tmp / "big.npy"), "--symbols", "npy", "--alphabet", "5", "--order", "0",
                              "--model", "kt"], "FILE[1] is 7"),
        "not a npy": (["code", "--probs", str(tmp / "P0.npy"), "--targets", str(tmp / "Y.npy")], "not a .npy file"),
        "rows not summing": (["code", "--probs", str(tmp / "P.npy"), "--targets", str(tmp / "Y4.npy")], "row 0 sums to 1.2"),
        "lengths differ": (["code", "--probs", str(tmp / "P1.npy"), "--targets", str(tmp / "Y.npy")], "4 rows but --targets has 3"),
        "negative alpha": (["code", C + "/alice29.txt", "--train", C + "/asyoulik.txt", "--order", "1", "--alpha", "-1"], "alpha"),
        "alpha for kt": (["code", C + "/alice29.txt", "--model", "kt", "--order", "1", "--alpha", "1"], "static model only"),
        "order too large": (["code", C + "/alice29.txt", "--model", "kt", "--order", "8"], "largest order is 7"),
        "unsmoothed": (["code", C + "/lcet10.txt", "--train", C + "/alice29.txt", "--order", "0", "--alpha", "0"],
                       "position 274 holds the symbol 49"),
    }


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    for label, (argv, needle) in _bad_cases(tmp_path).items():
        code, out, err = _run(argv, capsys)
        assert code == 2, label
        assert out == "", label
        assert err.count("\n") == 1 and err.startswith("xentsim: error: "), (label, err)
        assert needle in err, (label, err)


def test_an_order_whose_tables_do_not_fit_is_refused_with_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(trained_mod, "memory_limit_bytes", lambda: 1 << 20)
    code, out, err = _run(["code", str(CORPUS / "alice29.txt"), "--train", str(CORPUS / "lcet10.txt"),
                           "--order", "3"], capsys)
    assert code == 2 and "MiB" in err and err.count("\n") == 1


def test_big_endian_npy_arrays_code_with_their_values_unchanged(tmp_path, capsys):
    y = np.array([0, 1, 2, 3, 1, 2, 0, 3], dtype=">i4")
    np.save(tmp_path / "ybe.npy", y)
    code, out, err = _run(["code", str(tmp_path / "ybe.npy"), "--symbols", "npy", "--model", "kt",
                           "--order", "1", "--out", str(tmp_path / "y.xent"), "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["roundtrip_ok"] and d["n_symbols"] == 8 and d["alphabet_size"] == 4
    code, _, err = _run(["decode", str(tmp_path / "y.xent"), "-o", str(tmp_path / "back.npy")], capsys)
    assert code == 0, err
    assert np.array_equal(np.load(tmp_path / "back.npy"), y)
    P, Y = _classifier(200, 3, 4)
    np.save(tmp_path / "P.npy", P.astype(">f8"))
    np.save(tmp_path / "Y.npy", Y.astype(">i8"))
    code, out, err = _run(["code", "--probs", str(tmp_path / "P.npy"), "--targets",
                           str(tmp_path / "Y.npy"), "--json"], capsys)
    assert code == 0, err
    native, _ = realdata.code_predictions(P, Y)
    assert json.loads(out)["total_bits"] == native.total_bits


@pytest.mark.parametrize("order", [0, 1])
def test_an_empty_training_file_without_smoothing_codes_only_the_empty_file(tmp_path, capsys, order):
    (tmp_path / "empty.bin").write_bytes(b"")
    (tmp_path / "a.txt").write_bytes(b"#abc")
    empty, xent = str(tmp_path / "empty.bin"), str(tmp_path / "e.xent")
    code, out, err = _run(["code", empty, "--train", empty, "--order", str(order), "--alpha", "0",
                           "--out", xent, "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["n_symbols"] == 0 and d["total_bits"] == 0 and d["roundtrip_ok"]
    code, _, err = _run(["decode", xent, "--train", empty, "-o", str(tmp_path / "back")], capsys)
    assert code == 0 and (tmp_path / "back").read_bytes() == b"", err
    code, out, err = _run(["code", str(tmp_path / "a.txt"), "--train", empty, "--order", str(order),
                           "--alpha", "0"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "position 0 holds the symbol 35" in err and "never occurs in the training data" in err, err


def test_prediction_timings_start_after_the_kernels_are_loaded(monkeypatch):
    import time
    from types import SimpleNamespace

    log = []
    real_encode, real_decode = realdata.encode, realdata.decode

    def spy(name, fn):
        return lambda *a, **k: (log.append(name), fn(*a, **k))[1]

    monkeypatch.setattr(realdata, "encode", spy("encode", real_encode))
    monkeypatch.setattr(realdata, "decode", spy("decode", real_decode))
    monkeypatch.setattr(realdata, "time", SimpleNamespace(
        perf_counter=lambda: (log.append("clock"), time.perf_counter())[1]))
    P, Y = _classifier(300, 4, 9)
    realdata.code_predictions(P, Y, compressors=False)
    first_clock = log.index("clock")
    assert "encode" in log[:first_clock] and "decode" in log[:first_clock], log
    assert log[first_clock:] == ["clock", "encode", "clock", "decode", "clock"], log


@pytest.mark.filterwarnings("error::RuntimeWarning")  # numpy's overflow warning is an extra stderr line
@pytest.mark.parametrize("normalize", [[], ["--normalize"]])
def test_a_probability_row_whose_sum_overflows_is_refused_naming_the_row(tmp_path, capsys, normalize):
    P = np.full((3, 2), 0.5)
    P[1] = [1e308, 1e308]
    np.save(tmp_path / "P.npy", P)
    np.save(tmp_path / "Y.npy", np.array([0, 1, 0]))
    code, out, err = _run(["code", "--probs", str(tmp_path / "P.npy"), "--targets",
                           str(tmp_path / "Y.npy"), *normalize], capsys)
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and err.startswith("xentsim: error: --probs row 1 sums beyond"), err


def test_a_text_file_given_as_npy_is_not_a_npy_file(tmp_path, capsys):
    text, a = tmp_path / "notes.txt", tmp_path / "a.npy"
    text.write_bytes(b"hello, this is text\n")
    np.save(a, np.array([0, 1, 1, 0]))
    np.save(tmp_path / "P.npy", np.full((4, 2), 0.5))
    cases = {"FILE": ["code", str(text), "--symbols", "npy", "--model", "kt", "--order", "0"],
             "--probs": ["code", "--probs", str(text), "--targets", str(a)],
             "--targets": ["code", "--probs", str(tmp_path / "P.npy"), "--targets", str(text)],
             "--train": ["code", str(a), "--symbols", "npy", "--train", str(text), "--order", "0"]}
    for what, argv in cases.items():
        code, out, err = _run(argv, capsys)
        assert code == 2 and out == "" and err.count("\n") == 1, (what, err)
        assert f"{what} {str(text)!r} is not a .npy file" in err, (what, err)
        assert "pickle" not in err, (what, err)
