"""Every bad input on the command line ends the same way: exit status 2, nothing on stdout,
and one line on stderr, ``xentsim: error: ...``, that names the argument and the value.
Never a traceback, never a silent misreading.

The table runs in-process through ``simulator.cli.main`` (an uncaught exception would
fail the test); a few cases also run as ``python -m simulator`` to show that stderr
holds no traceback in a real process.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from simulator.cli import main

SIM = ["simulate", "--p", "bern:0.5", "--q", "bern:0.5"]
ARI = ["simulate", "--p", "bern:0.1", "--q", "bern:0.9", "--code", "arithmetic"]

def _files(tmp):
    """Bad files for --p, made once per test in ``tmp``; returns {key: path}."""
    paths = {}

    def save(key, array, **kw):
        paths[key] = str(tmp / f"{key}.npy")
        np.save(paths[key], array, **kw)

    save("complex", np.array([0.5 + 0j, 0.5]))
    save("string", np.array(["0.5", "0.5"]))
    save("bool", np.array([True, False]))
    save("object", np.array([0.5, 0.5], dtype=object), allow_pickle=True)
    save("matrix", np.full((2, 2), 0.25))
    paths["garbage"] = str(tmp / "garbage.npy")
    (tmp / "garbage.npy").write_bytes(b"not a numpy file")
    paths["empty"] = str(tmp / "empty.txt")
    (tmp / "empty.txt").write_text("")
    paths["words"] = str(tmp / "words.txt")
    (tmp / "words.txt").write_text("0.5 half\n")
    paths["binary"] = str(tmp / "binary.txt")
    (tmp / "binary.txt").write_bytes(b"\xff\xfe\x00\x81")
    paths["directory"] = str(tmp / "folder.txt")
    (tmp / "folder.txt").mkdir()
    paths["missing"] = str(tmp / "missing.npy")
    save("chain32", np.full((3, 2), 0.5))
    save("chain3d", np.full((2, 2, 2), 0.5))
    paths["ragged"] = str(tmp / "ragged.txt")
    (tmp / "ragged.txt").write_text("0.5 0.5\n0.2 0.3 0.5\n")
    paths["substochastic"] = str(tmp / "sub.txt")
    (tmp / "sub.txt").write_text("# a chain whose first row sums to 0.9\n0.5 0.4\n0.2 0.8\n")
    return paths


# (id, argv, fragments): every fragment must occur in the one stderr line; a tuple inside
# the fragments means "any one of these". {key} is replaced by the path of a bad file.
CASES = [
    # ---- whole numbers (item 5 and item 7 of the issue)
    ("n 1e400", SIM + ["-n", "1e400"], ["argument -n", "1e400", "too large"]),
    ("n 1e20", SIM + ["-n", "1e20"], ["argument -n", "1e20", "too large"]),
    ("n inf", SIM + ["-n", "inf"], ["argument -n", "inf", "not a whole number"]),
    ("n nan", SIM + ["-n", "nan"], ["argument -n", "nan", "not a whole number"]),
    ("n 1.5e0", SIM + ["-n", "1.5e0"], ["argument -n", "1.5e0", "not a whole number"]),
    ("n 2.5", SIM + ["-n", "2.5"], ["argument -n", "2.5", "not a whole number"]),
    ("n words", SIM + ["-n", "ten"], ["argument -n", "'ten'", "not a whole number"]),
    ("n 0", SIM + ["-n", "0"], ["argument -n", "0 must be >= 1"]),
    ("n -5", SIM + ["-n", "-5"], ["argument -n", "-5 must be >= 1"]),
    ("trials 0.5", SIM + ["--trials", "0.5"], ["argument --trials", "0.5", "not a whole number"]),
    ("trials 1e400", SIM + ["--trials", "1e400"], ["argument --trials", "1e400", "too large"]),
    ("block 1.5", SIM + ["--code", "block-huffman", "--block", "1.5"],
     ["argument --block", "1.5", "not a whole number"]),
    ("jobs 0", SIM + ["--jobs", "0"], ["argument --jobs", "0 must be >= 1"]),
    ("jobs -2", SIM + ["--jobs", "-2"], ["argument --jobs", "-2 must be >= 1"]),
    ("jobs 1.5", SIM + ["--jobs", "1.5"], ["argument --jobs", "1.5", "not a whole number"]),
    ("jobs words", SIM + ["--jobs", "two"], ["argument --jobs", "'two'", "not a whole number"]),
    ("jobs 1e6", SIM + ["--jobs", "1e6"], ["argument --jobs", "1e6", "too large"]),
    ("jobs 1e400", SIM + ["--jobs", "1e400"], ["argument --jobs", "1e400", "too large"]),
    ("seed -1", SIM + ["--seed", "-1"], ["argument --seed", "-1 must be >= 0"]),
    ("seed 1e50", SIM + ["--seed", "1e50"], ["argument --seed", "1e50", "too large"]),
    ("seed 0.5", SIM + ["--seed", "0.5"], ["argument --seed", "0.5", "not a whole number"]),
    ("precision 1e400", ARI + ["--precision", "1e400"], ["argument --precision", "1e400"]),
    ("precision 12.5", ARI + ["--precision", "12.5"], ["argument --precision", "12.5"]),
    ("dirichlet negative seed", ["simulate", "--p", "dirichlet:3:1:-1", "--q", "uniform:3"],
     ["--p dirichlet:3:1:-1", "SEED -1 must be >= 0"]),
    ("family K 2.5", ["simulate", "--p", "uniform:2.5", "--q", "uniform:2"],
     ["--p uniform:2.5", "K 2.5 is not a whole number"]),
    ("family K 1e400", ["simulate", "--p", "uniform:1e400", "--q", "uniform:2"],
     ["--p uniform:1e400", "too large"]),
    # ---- runs that would take hours (10^12 symbols at most, XENTSIM_MAX_SYMBOLS)
    ("n 1e13", SIM + ["-n", "1e13"],
     ["n x trials = 10000000000000 symbols", "above the limit of 1000000000000", "hours"]),
    ("n x trials", SIM + ["-n", "1e9", "--trials", "1001"],
     ["n x trials = 1001000000000 symbols", "XENTSIM_MAX_SYMBOLS"]),
    # ---- adaptive totals stay below 2^32 (README, "Scale"): KT about 2.1e9 symbols at
    #      K = 256, Laplace about 4.3e9; refused before anything is coded
    ("kt n 2.2e9", ["simulate", "--p", "uniform:256", "--q", "uniform:256", "--code",
                    "arithmetic", "--model", "kt", "-n", "2.2e9"],
     ["frequency totals below 2^32", "2200000000 symbols would reach 4400000256"]),
    ("laplace n 4.3e9", ["simulate", "--p", "uniform:256", "--q", "uniform:256", "--code",
                         "arithmetic", "--model", "laplace", "-n", "4.3e9"],
     ["frequency totals below 2^32", "4300000000 symbols would reach 4300000256"]),
    # ---- sizes the library refuses (other branches)
    pytest.param("trials 1e12", SIM + ["--trials", "1e12"],
                 [("1000000000000", "1e+12", "1e12", "10^12")]),
    pytest.param("block 1e9", SIM + ["--code", "block-huffman", "--block", "1e9"],
                 [("1000000000", "1e+09", "1e9", "10^9")]),
    pytest.param("uniform 2^27", ["simulate", "--p", "uniform:134217728", "--q",
                                  "uniform:134217728", "-n", "10"],
                 ["uniform:134217728", "134217728"]),
    pytest.param("dyadic underflow", ["simulate", "--p", "dyadic:2000", "--q", "dyadic:2000",
                                      "-n", "10"],
                 ["dyadic:2000"]),
    # ---- options argparse must not guess (abbreviations) or does not know
    ("--n is not --normalize", SIM + ["--n", "10"], ["unrecognized arguments: --n 10"]),
    ("--norm abbreviation", SIM + ["--norm"], ["unrecognized arguments: --norm"]),
    ("--tri abbreviation", SIM + ["--tri", "3"], ["unrecognized arguments: --tri 3"]),
    ("reproduce --li abbreviation", ["reproduce", "--li"], ["unrecognized arguments: --li"]),
    ("unknown command", ["frobnicate"], ["invalid choice: 'frobnicate'"]),
    ("missing --q", ["simulate", "--p", "bern:0.5"], ["required: --q"]),
    ("unknown code", SIM + ["--code", "lz"], ["argument --code", "invalid choice: 'lz'"]),
    ("unknown model", ARI + ["--model", "zip"], ["argument --model", "invalid choice: 'zip'"]),
    # ---- pmfs typed on the line
    ("p sums to 0.9", ["simulate", "--p", "0.5,0.4", "--q", "0.5,0.5"],
     ["--p 0.5,0.4", "p sums to 0.9"]),
    ("q sums to 1.5", ["simulate", "--p", "0.5,0.5", "--q", "1,0.5"], ["--q 1,0.5", "q sums to 1.5"]),
    ("negative entry", ["simulate", "--p", "0.5,-0.5,1", "--q", "uniform:3"],
     ["--p 0.5,-0.5,1", "p[1] is -0.5"]),
    ("NaN entry", ["simulate", "--p", "0.5,nan", "--q", "0.5,0.5"], ["--p 0.5,nan", "p[1] is nan"]),
    ("inf entry", ["simulate", "--p", "0.5,0.5", "--q", "inf,0"], ["--q inf,0", "q[0] is inf"]),
    ("word entry", ["simulate", "--p", "0.5,half", "--q", "0.5,0.5"],
     ["--p 0.5,half", "entry 1 'half' is not a number"]),
    ("fraction 1/0", ["simulate", "--p", "1/0,1", "--q", "0.5,0.5"], ["--p 1/0,1", "'1/0'"]),
    ("mismatched alphabets", ["simulate", "--p", "0.5,0.5", "--q", "0.5,0.25,0.25"],
     ["p has 2 symbols but q has 3"]),
    ("q rules out a symbol", ["simulate", "--p", "0.5,0.5", "--q", "1,0"], ["H(p,q) is infinite"]),
    ("arithmetic: q rules out a symbol", ["simulate", "--p", "0.5,0.5", "--q", "1,0", "--code",
                                          "arithmetic"], ["H(p,q) is infinite"]),
    ("empty spec", ["simulate", "--p", "", "--q", "0.5,0.5"], ["--p is empty"]),
    ("not a spec", ["simulate", "--p", "abc", "--q", "0.5,0.5"], ["--p abc", "neither a list"]),
    # ---- families
    ("unknown family", ["simulate", "--p", "poisson:3", "--q", "uniform:3"],
     ["--p poisson:3", "unknown family 'poisson'"]),
    ("family without parameters", ["simulate", "--p", "uniform", "--q", "uniform:3"],
     ["--p uniform", "uniform:K"]),
    ("family field count", ["simulate", "--p", "zipf:3", "--q", "uniform:3"],
     ["--p zipf:3", "wrong number of fields", "zipf:K:S"]),
    ("zipf K 0", ["simulate", "--p", "zipf:0:1", "--q", "uniform:3"], ["--p zipf:0:1", "K is 0"]),
    ("zipf S word", ["simulate", "--p", "zipf:3:x", "--q", "uniform:3"],
     ["--p zipf:3:x", "S 'x' is not a number"]),
    ("bern 2", ["simulate", "--p", "bern:2", "--q", "bern:0.5"],
     ["--p bern:2", "Bernoulli parameter t is 2.0"]),
    ("mix eps 2", ["simulate", "--p", "mix:2:uniform:3", "--q", "uniform:3"],
     ["--p mix:2:uniform:3", "eps is 2.0"]),
    ("mix inner error", ["simulate", "--p", "mix:0.1:dyadic:0", "--q", "uniform:3"],
     ["--p mix:0.1:dyadic:0: in dyadic:0: K is 0"]),
    # ---- codes and their options
    ("block with a non-block code", SIM + ["--block", "2"],
     ["block size is only for block-huffman, not huffman"]),
    ("block above the limit", SIM + ["--code", "block-huffman", "--block", "30"], ["above the limit"]),
    ("block-huffman without --block", SIM + ["--code", "block-huffman"], ["--block K"]),
    ("precision 40", ARI + ["--precision", "40"], ["precision is 40, must be <= 32"]),
    ("precision 7", ARI + ["--precision", "7"], ["precision is 7, must be >= 8"]),
    ("precision with kt", ARI + ["--model", "kt", "--precision", "16"],
     ["precision applies to the static model only"]),
    ("precision with huffman", SIM + ["--precision", "16"], ["only for arithmetic coding"]),
    # ---- files
    ("missing file", ["simulate", "--p", "{missing}", "--q", "bern:0.5"], ["--p {missing}", "no such file"]),
    ("missing file, bare name", ["simulate", "--p", "nofile.npy", "--q", "bern:0.5"],
     ["--p nofile.npy", "no such file"]),
    ("complex .npy", ["simulate", "--p", "{complex}", "--q", "bern:0.5"], ["--p {complex}", "complex128"]),
    ("string .npy", ["simulate", "--p", "{string}", "--q", "bern:0.5"], ["--p {string}", "dtype <U3"]),
    ("bool .npy", ["simulate", "--p", "{bool}", "--q", "bern:0.5"], ["--p {bool}", "dtype bool"]),
    ("object .npy", ["simulate", "--p", "{object}", "--q", "bern:0.5"], ["--p {object}", "dtype object"]),
    ("2-D .npy", ["simulate", "--p", "{matrix}", "--q", "bern:0.5"], ["--p {matrix}", "shape (2, 2)"]),
    ("not a .npy", ["simulate", "--p", "{garbage}", "--q", "bern:0.5"], ["--p {garbage}", "not a .npy file"]),
    ("empty file", ["simulate", "--p", "{empty}", "--q", "bern:0.5"], ["--p {empty}", "holds no numbers"]),
    ("word in a file", ["simulate", "--p", "{words}", "--q", "bern:0.5"],
     ["--p {words}", "entry 1 'half' is not a number"]),
    ("binary file", ["simulate", "--p", "{binary}", "--q", "bern:0.5"],
     ["--p {binary}", "cannot read the file", "not UTF-8"]),
    ("unreadable: a directory", ["simulate", "--p", "{directory}", "--q", "bern:0.5"],
     ["--p {directory}", "cannot read the file"]),
    # ---- Markov chains (markov:FILE or markov:ROWS)
    ("markov: not K^m x K, inline", ["simulate", "--p", "markov:0.5,0.5;0.5,0.5;0.5,0.5",
                                     "--q", "bern:0.5"],
     ["--p markov:0.5,0.5;0.5,0.5;0.5,0.5", "P has 3 rows and 2 columns", "K^m rows"]),
    ("markov: not K^m x K, .npy", ["simulate", "--p", "markov:{chain32}", "--q", "bern:0.5"],
     ["--p markov:{chain32}", "P has 3 rows and 2 columns"]),
    ("markov: 3-D .npy", ["simulate", "--p", "markov:{chain3d}", "--q", "bern:0.5"],
     ["--p markov:{chain3d}", "shape (2, 2, 2)"]),
    ("markov: ragged rows", ["simulate", "--p", "markov:{ragged}", "--q", "bern:0.5"],
     ["--p markov:{ragged}", "line 2 has 3 numbers but line 1 has 2"]),
    ("markov: row sum in a file", ["simulate", "--p", "markov:{substochastic}", "--q", "bern:0.5"],
     ["--p markov:{substochastic}", "P row 0 sums to 0.9", "--normalize"]),
    ("markov: row sum", ["simulate", "--p", "markov:0.5,0.4;0.2,0.8", "--q", "bern:0.5"],
     ["--p markov:0.5,0.4;0.2,0.8", "P row 0 sums to 0.9"]),
    ("markov: negative", ["simulate", "--p", "markov:1.1,-0.1;0.2,0.8", "--q", "bern:0.5"],
     ["--p markov:1.1,-0.1;0.2,0.8", "P[0, 1] is -0.1"]),
    ("markov: NaN", ["simulate", "--p", "markov:nan,1;0.2,0.8", "--q", "bern:0.5"],
     ["--p markov:nan,1;0.2,0.8", "P[0, 0] is nan"]),
    ("markov: word", ["simulate", "--p", "markov:0.5,half;0.2,0.8", "--q", "bern:0.5"],
     ["--p markov:0.5,half;0.2,0.8", "row 1, entry 1 'half' is not a number"]),
    ("markov: reducible", ["simulate", "--p", "markov:1,0;0,1", "--q", "bern:0.5"],
     ["--p markov:1,0;0,1", "P is reducible", "2 closed classes", "not unique"]),
    ("markov: reducible, three states",
     ["simulate", "--p", "markov:0.5,0.5,0;0.5,0.5,0;0,0,1", "--q", "uniform:3"],
     ["--p markov:0.5,0.5,0;0.5,0.5,0;0,0,1", "P is reducible"]),
    ("markov: periodic", ["simulate", "--p", "markov:0,1;1,0", "--q", "bern:0.5"],
     ["--p markov:0,1;1,0", "P is periodic with period 2"]),
    ("markov: missing file", ["simulate", "--p", "markov:nofile.txt", "--q", "bern:0.5"],
     ["--p markov:nofile.txt", "no such file"]),
    ("markov: empty", ["simulate", "--p", "markov:", "--q", "bern:0.5"],
     ["--p markov:", "give a matrix file or rows"]),
    ("markov q: alphabet differs", ["simulate", "--p", "markov:0.9,0.1;0.2,0.8", "--q",
                                    "markov:0.5,0.25,0.25;0.5,0.25,0.25;0.5,0.25,0.25"],
     ["p has 2 symbols but q has 3"]),
    ("markov q: row sum", ["simulate", "--p", "bern:0.5", "--q", "markov:0.5,0.4;0.2,0.8"],
     ["--q markov:0.5,0.4;0.2,0.8", "Q row 0 sums to 0.9"]),
    ("markov q: shannon", ["simulate", "--p", "bern:0.5", "--q", "markov:0.5,0.5;0.2,0.8",
                           "--code", "shannon"],
     ["q is an order-1 model", "shannon is built from a pmf"]),
    ("markov q: a pmf spec cannot nest it", ["simulate", "--p", "bern:0.5", "--q",
                                             "mix:0.1:markov:0.5,0.5;0.2,0.8"],
     ["--q mix:0.1:markov:0.5,0.5;0.2,0.8", "not a pmf here"]),
    # ---- adaptive context orders
    ("order too large for memory", ARI + ["--model", "kt", "--order", "40"],
     ["order = 40", "2^40 contexts", "needs about", "use a smaller order"]),
    ("order beyond any table", ARI + ["--model", "kt", "--order", "1e6"],
     ["order is 1000000", "cannot be tabled"]),
    ("order 1.5", ARI + ["--model", "kt", "--order", "1.5"],
     ["argument --order", "1.5", "not a whole number"]),
    ("order -1", ARI + ["--model", "kt", "--order", "-1"], ["argument --order", "-1 must be >= 0"]),
    ("order with a static model", ARI + ["--order", "1"],
     ["order is 1", "--order sets the context order of the adaptive models"]),
    ("order with huffman", SIM + ["--order", "1"], ["order (of an adaptive context model) is only for arithmetic"]),
]


def _params():
    for case in CASES:
        if hasattr(case, "marks"):  # a pytest.param carrying marks
            ident, argv, fragments = case.values
            yield pytest.param(argv, fragments, id=ident, marks=case.marks)
        else:
            yield pytest.param(*case[1:], id=case[0])


def _expand(items, paths):
    out = []
    for item in items:
        if isinstance(item, tuple):
            out.append(tuple(s.format(**paths) for s in item))
        else:
            out.append(item.format(**paths))
    return out


def _assert_one_line_naming(code, out, err, fragments):
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("xentsim: error: "), err
    for fragment in fragments:
        if isinstance(fragment, tuple):
            assert any(f in err for f in fragment), (fragment, err)
        else:
            assert fragment in err, (fragment, err)


@pytest.mark.parametrize("argv, fragments", list(_params()))
def test_bad_input_exits_2_with_one_line_naming_the_argument_and_value(capsys, tmp_path,
                                                                        argv, fragments):
    paths = _files(tmp_path)
    code = main(_expand(argv, paths))
    out, err = capsys.readouterr()
    _assert_one_line_naming(code, out, err, _expand(fragments, paths))


def test_unreadable_file_exits_2(capsys, tmp_path, monkeypatch):
    """A file that exists but may not be read (permission denied)."""
    import simulator.spec

    path = tmp_path / "secret.txt"
    path.write_text("0.5 0.5")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads it anyway: make the read fail as it would for a user
        def denied(file, *args, **kwargs):
            raise PermissionError(13, "Permission denied", str(file))

        monkeypatch.setattr(simulator.spec, "open", denied, raising=False)
    code = main(["simulate", "--p", str(path), "--q", "bern:0.5"])
    out, err = capsys.readouterr()
    _assert_one_line_naming(code, out, err, [f"--p {path}", "cannot read the file",
                                             "Permission denied"])


def test_missing_command_prints_the_usage_line_then_one_error_line(capsys):
    code = main([])
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(lines) == 2
    assert lines[0].startswith("usage: xentsim") and "{simulate,reproduce,code,decode}" in lines[0]
    assert lines[1].startswith("xentsim: error: no command given")


def test_no_message_repeats_its_prefix(capsys, tmp_path):
    """Each refusal names the option and value once: no "p: p is" or "--p X: --p X"."""
    paths = _files(tmp_path)
    for case in CASES:
        if hasattr(case, "marks"):  # needs another branch
            continue
        main(_expand(case[1], paths))
        message = capsys.readouterr().err.strip().removeprefix("xentsim: error: ")
        parts = [part.strip() for part in message.split(": ")]
        assert all(a != b for a, b in zip(parts, parts[1:])), message
        assert message.count("xentsim") == 0, message
        for option in ("--p ", "--q ", "argument "):
            assert message.count(option) <= 1, message


# A few cases in a real process: stderr is exactly one line, with no traceback.
SUBPROCESS_CASES = [
    (SIM + ["-n", "1e400"], "argument -n: 1e400"),
    (SIM + ["--n", "10"], "--n 10"),
    (["simulate", "--p", "dirichlet:3:1:-1", "--q", "uniform:3"], "SEED -1"),
    (["simulate", "--p", "{complex}", "--q", "bern:0.5"], "complex128"),
]


@pytest.mark.parametrize("argv, fragment", SUBPROCESS_CASES,
                         ids=[" ".join(a[1:]) for a, _ in SUBPROCESS_CASES])
def test_python_dash_m_prints_no_traceback(tmp_path, argv, fragment):
    paths = _files(tmp_path)
    r = subprocess.run([sys.executable, "-m", "simulator", *_expand(argv, paths)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert r.stderr.startswith("xentsim: error: ") and fragment.format(**paths) in r.stderr


def test_python_dash_m_without_a_command_prints_usage_and_one_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "simulator"], capture_output=True, text=True,
                       timeout=120)
    lines = r.stderr.splitlines()
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert len(lines) == 2 and lines[0].startswith("usage: xentsim")


def test_out_of_memory_is_one_line_naming_the_sizes(capsys, monkeypatch):
    """The backstop: a MemoryError that got past the library's size checks."""
    import simulator.engine

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(simulator.engine, "simulate", exhausted)
    code = main(SIM + ["-n", "1e9", "--trials", "3"])
    out, err = capsys.readouterr()
    _assert_one_line_naming(code, out, err, ["simulate ran out of memory", "-n 1000000000",
                                             "--trials 3", "--p bern:0.5"])


def test_overflowing_sums_give_one_line_without_normalize_and_rescale_with_it(capsys):
    from simulator.cli import main

    for p in ("1e308,1e308", "markov:1e308,1e308;0.5,0.5"):
        assert main(["simulate", "--p", p, "--q", "0.5,0.5", "-n", "10"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "sums to inf" in err[0]
        assert main(["simulate", "--p", p, "--q", "0.5,0.5", "-n", "10", "--normalize"]) == 0
        assert capsys.readouterr().err == ""


def test_a_run_above_the_memory_limit_is_one_line_naming_n(capsys, monkeypatch):
    # Messages are coded in chunks, so n alone no longer exhausts memory (n = 10^12 needs
    # a few MB); a limit below the fixed allowance still refuses, naming n.
    monkeypatch.setenv("XENTSIM_MEMORY_LIMIT", "2M")
    code = main(SIM + ["-n", "1e12"])
    out, err = capsys.readouterr()
    _assert_one_line_naming(code, out, err, ["n = 1000000000000", "memory limit of 2 MiB"])


def test_the_run_size_limit_is_set_by_the_environment_and_checked_before_anything_starts(
        capsys, monkeypatch):
    monkeypatch.setenv("XENTSIM_MAX_SYMBOLS", "1000")
    code = main(SIM + ["-n", "500", "--trials", "3"])
    out, err = capsys.readouterr()
    _assert_one_line_naming(code, out, err, ["n x trials = 1500 symbols",
                                             "above the limit of 1000 per run"])
    assert main(SIM + ["-n", "500", "--trials", "2"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("XENTSIM_MAX_SYMBOLS", "lots")
    code = main(SIM + ["-n", "500"])
    out, err = capsys.readouterr()
    _assert_one_line_naming(code, out, err, ["XENTSIM_MAX_SYMBOLS", "lots"])
