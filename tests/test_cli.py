"""The command line as a newcomer meets it: JSON keys, strict JSON, the text report, help.

Bad input (exit status 2, one line on stderr) is tested in test_cli_bad_input.py.
"""

import json
from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest

from simulator.cli import _fmt, main

JSON_KEYS = {"code", "n_symbols", "trials", "seed", "total_bits", "bits_per_symbol",
             "entropy_bits", "cross_entropy_bits", "kl_bits", "excess_bits",
             "expected_bits_per_symbol", "ci99", "roundtrip_ok", "encode_seconds",
             "decode_seconds"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_has_every_documented_key(capsys):
    code, out, err = run(capsys, "simulate", "--p", "0.7,0.2,0.1", "--q", "0.2,0.3,0.5",
                         "-n", "5000", "--json", "--seed", "4")
    assert code == 0 and err == ""
    d = json.loads(out)
    assert JSON_KEYS <= set(d)
    assert d["roundtrip_ok"] is True and d["seed"] == 4 and len(d["ci99"]) == 2
    assert d["expected_bits_per_symbol"] == pytest.approx(1.9)  # Huffman lengths (1, 2, 2)


def test_fractions_files_and_families_are_accepted(capsys, tmp_path):
    np.save(tmp_path / "q.npy", np.array([0.5, 0.25, 0.25]))
    (tmp_path / "p.txt").write_text("0.25 0.25\n0.5\n")
    code, out, _ = run(capsys, "simulate", "--p", str(tmp_path / "p.txt"), "--q",
                       str(tmp_path / "q.npy"), "-n", "100", "--json")
    assert code == 0 and json.loads(out)["cross_entropy_bits"] == pytest.approx(1.75)
    for spec in ("1/3,1/3,1/3", "uniform:3", "dyadic:3", "zipf:3:1", "geometric:3:0.5",
                 "dirichlet:3:1:7", "mix:0.1:dyadic:3"):
        assert run(capsys, "simulate", "--p", spec, "--q", "uniform:3", "-n", "10")[0] == 0


def test_normalize_is_the_explicit_opt_in(capsys):
    code, out, _ = run(capsys, "simulate", "--p", "2,1,1", "--q", "1,1,2", "--normalize",
                       "-n", "100", "--json")
    assert code == 0 and json.loads(out)["entropy_bits"] == pytest.approx(1.5)


def test_python_dash_m_runs_the_same_command():
    r = subprocess.run([sys.executable, "-m", "simulator", "simulate", "--p", "bern:0.5",
                        "--q", "bern:0.5", "-n", "100", "--json"], capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout)["bits_per_symbol"] == 1.0
    r = subprocess.run([sys.executable, "-m", "simulator", "simulate", "--p", "bern:0.5"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_arithmetic_json_adds_the_quantised_model_keys(capsys):
    code, out, _ = run(capsys, "simulate", "--p", "bern:0.1", "--q", "bern:0.9", "--code",
                       "arithmetic", "-n", "20000", "--precision", "12", "--json")
    d = json.loads(out)
    assert code == 0 and d["precision"] == 12 and d["model"] == "static"
    assert d["expected_bits_per_symbol"] == d["model_cross_entropy_bits"]
    assert d["quantisation_gap_bits"] == pytest.approx(
        d["model_cross_entropy_bits"] - d["cross_entropy_bits"])
    code, out, _ = run(capsys, "simulate", "--p", "bern:0.1", "--q", "bern:0.9", "--code",
                       "arithmetic", "--model", "kt", "-n", "2000", "--json")
    d = json.loads(out)
    assert d["expected_bits_per_symbol"] is None and d["quantisation_gap_bits"] is None


def _strict_loads(text):
    """json.loads that refuses NaN, Infinity and -Infinity (which Python accepts)."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def test_json_is_strict_at_n_1_and_an_unbounded_interval_keeps_its_signs(capsys):
    code, out, _ = run(capsys, "simulate", "--p", "bern:0.5", "--q", "bern:0.5", "-n", "1",
                       "--json")
    d = _strict_loads(out)
    assert code == 0 and d["bits_per_symbol"] == 1.0
    lo, hi = d["ci99"]
    assert lo in ("-inf",) or lo <= 1.0
    assert hi in ("inf",) or hi >= 1.0
    code, out, _ = run(capsys, "simulate", "--p", "bern:0.5", "--q", "bern:0.5", "-n", "1",
                       "--code", "arithmetic", "--model", "kt", "--json")
    d = _strict_loads(out)  # one message of an adaptive code: no spread to estimate
    assert code == 0 and d["ci99"] == ["-inf", "inf"]


# p gives symbol 1 probability 1e-12 but q rules it out: H(p,q) = KL = inf, and (with seed
# 0) the 10 symbols drawn are all 0, so the message codes. The coder's H(p,q^) is inf too,
# so the quantisation gap inf - inf is undefined.
TINY = ["simulate", "--p", "0.999999999999,0.000000000001", "--q", "1,0", "-n", "10"]


def test_json_writes_infinite_cross_entropy_as_a_signed_string_and_undefined_as_null(capsys):
    code, out, _ = run(capsys, *TINY, "--code", "arithmetic", "--json")
    d = _strict_loads(out)
    assert code == 0 and d["roundtrip_ok"] is True
    assert d["cross_entropy_bits"] == "inf" and d["kl_bits"] == "inf"
    assert d["model_cross_entropy_bits"] == "inf" and d["quantisation_gap_bits"] is None


def test_text_report_signs_infinities_and_never_prints_nan_or_minus_zero(capsys):
    _, out, _ = run(capsys, "simulate", "--p", "bern:0.5", "--q", "bern:0.5", "-n", "1",
                    "--code", "arithmetic", "--model", "kt")
    assert "[-inf, inf] (this code's interval needs the spread across messages" in out
    _, tiny, _ = run(capsys, *TINY, "--code", "arithmetic")
    assert "undefined (H(p,q^) and H(p,q) are both infinite)" in tiny
    assert "H(p,q)                      inf" in tiny
    # H(p) of (1, 0) is computed as -0.0 here: it must print as 0.000000.
    _, certain, _ = run(capsys, "simulate", "--p", "1,0", "--q", "1,0", "-n", "10", "--code",
                        "arithmetic")
    for text in (out, tiny, certain):
        assert "nan" not in text.lower() and "-0.000000" not in text
    assert "H(p)                        0.000000" in certain


@pytest.mark.parametrize("value, text", [
    (float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "undefined"),
    (-0.0, "0.000000"), (-4e-11, "0.000000"), (-4e-6, "-0.000004"), (2.5, "2.500000"),
    (None, "-"), (7, "7"),
])
def test_number_format_of_the_text_report(value, text):
    assert _fmt(value) == text


def test_exact_integers_may_be_written_with_an_exponent(capsys):
    code, out, _ = run(capsys, "simulate", "--p", "bern:0.5", "--q", "bern:0.5", "-n", "2.5e2",
                       "--trials", "2e0", "--seed", "1e3", "--json")
    d = json.loads(out)
    assert code == 0 and (d["n_symbols"], d["trials"], d["seed"]) == (250, 2, 1000)


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["simulate", "--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("(default: huffman)", "(default: 100000)", "(default: 1)", "(default: static)",
                  "(default 24)", "(default 0)", "does not exist is null"):
        assert shown in text
    with pytest.raises(SystemExit):
        main(["reproduce", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "worker processes (default: 1)" in text and "(default 2026)" in text
    assert "(default: figures)" not in text  # stated once, by its own help


# --------------------------------------------------------------------------- Markov sources

CHAIN = "markov:0.9,0.1;0.2,0.8"  # pi = (2/3, 1/3), entropy rate 0.553306


def test_json_for_a_markov_source_adds_the_rates_and_the_marginal_decomposition(capsys):
    code, out, _ = run(capsys, "simulate", "--p", CHAIN, "--q", "0.5,0.5", "--code",
                       "arithmetic", "-n", "20000", "--json")
    d = _strict_loads(out)
    assert code == 0 and JSON_KEYS <= set(d)
    assert d["entropy_rate_bits"] == pytest.approx(0.553306, abs=1e-6)
    assert d["cross_entropy_rate_bits"] == pytest.approx(1.0, rel=1e-14)
    assert d["marginal_entropy_bits"] == pytest.approx(0.918296, abs=1e-6)
    assert d["memory_bits"] == pytest.approx(0.364989, abs=1e-6)
    assert d["marginal_kl_bits"] == pytest.approx(0.081704, abs=1e-6)
    assert d["ci_method"] == "batch-means" and d["source_order"] == 1 and d["model_order"] == 0
    code, out, _ = run(capsys, "simulate", "--p", CHAIN, "--q", CHAIN, "--code", "huffman",
                       "-n", "2000", "--json")
    d = _strict_loads(out)
    assert d["kl_rate_bits"] == 0.0 and d["model_order"] == 1 and "memory_bits" not in d


def test_text_report_for_a_chain_prints_the_rates_and_the_decomposition(capsys):
    _, out, _ = run(capsys, "simulate", "--p", CHAIN, "--q", "0.5,0.5", "--code", "arithmetic",
                    "-n", "20000")
    for row in ("source                        order-1 Markov chain, stationary start",
                "entropy rate H(mu)            0.553306",
                "cross-entropy rate H(mu,q)    1.000000",
                "H(pi), marginal entropy       0.918296",
                "memory, H(pi) - H(mu)         0.364989",
                "KL(pi||q), marginal           0.081704",
                "(batch means: dependent lengths)"):
        assert row in out, (row, out)
    _, out, _ = run(capsys, "simulate", "--p", CHAIN, "--q", "0.5,0.5", "--code", "arithmetic",
                    "--model", "kt", "--order", "1", "-n", "2000", "--trials", "3")
    assert "arithmetic (adaptive kt, counts per context of order 1" in out


def test_text_report_is_driven_by_the_measurement_not_the_code_name(capsys, monkeypatch):
    # a registered code under another name that reports a model prints the model rows
    from simulator import engine

    monkeypatch.setitem(engine.CODES, "range", engine.CODES["arithmetic"])
    monkeypatch.setattr(engine, "CODE_NAMES", tuple(engine.CODES))
    code, out, err = run(capsys, "simulate", "--p", "bern:0.1", "--q", "bern:0.9", "--code",
                         "range", "-n", "1000")
    assert code == 0, err
    assert "range (static q^, b=24)" in out and "H(p,q^), quantised q" in out
    source = (Path(__file__).resolve().parents[1] / "simulator" / "cli.py").read_text()
    assert "args.code ==" not in source and '"arithmetic"' not in source
