"""The command line as a newcomer meets it: one-line errors, exit status 2, JSON keys."""

import json
import subprocess
import sys

import numpy as np
import pytest

from simulator.cli import main

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


@pytest.mark.parametrize("argv, fragment", [
    (["simulate", "--p", "0.5,0.4", "--q", "0.5,0.5"], "p sums to 0.9"),
    (["simulate", "--p", "0.5,0.5", "--q", "0.5,0.25,0.25"], "p has 2 symbols but q has 3"),
    (["simulate", "--p", "0.5,0.5", "--q", "1,0"], "H(p,q) is infinite"),
    (["simulate", "--p", "0.5,nan", "--q", "0.5,0.5"], "p[1] is nan"),
    (["simulate", "--p", "0.5,-0.5,1", "--q", "uniform:3"], "p[1] is -0.5"),
    (["simulate", "--p", "zipf:0:1", "--q", "uniform:3"], "K is 0"),
    (["simulate", "--p", "bern:2", "--q", "bern:0.5"], "Bernoulli parameter t is 2.0"),
    (["simulate", "--p", "nofile.npy", "--q", "bern:0.5"], "neither a list"),
    (["simulate", "--p", "bern:0.5", "--q", "bern:0.5", "-n", "0"], "0 must be >= 1"),
    (["simulate", "--p", "bern:0.5", "--q", "bern:0.5", "--code", "lz"], "invalid choice"),
    (["simulate", "--p", "bern:0.5"], "required: --q"),
    (["simulate", "--p", "bern:0.5", "--q", "bern:0.5", "--code", "block-huffman",
      "--block", "30"], "above the limit"),
    (["simulate", "--p", "bern:0.5", "--q", "bern:0.5", "--seed", "-1"], "seed is -1"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_status_2(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("xentsim: error: ")
    assert fragment in err


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


@pytest.mark.parametrize("extra, fragment", [
    (["--precision", "40"], "precision is 40, must be <= 32"),
    (["--precision", "7"], "precision is 7, must be >= 8"),
    (["--model", "kt", "--precision", "16"], "precision applies to the static model only"),
    (["--model", "zip"], "invalid choice"),
])
def test_arithmetic_bad_options_exit_2(capsys, extra, fragment):
    code, out, err = run(capsys, "simulate", "--p", "bern:0.1", "--q", "bern:0.9",
                         "--code", "arithmetic", *extra)
    assert code == 2 and err.count("\n") == 1 and fragment in err


def test_arithmetic_refuses_a_symbol_that_q_rules_out(capsys):
    code, _, err = run(capsys, "simulate", "--p", "0.5,0.5", "--q", "1,0", "--code", "arithmetic")
    assert code == 2 and "H(p,q) is infinite" in err
