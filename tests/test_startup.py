"""Start-up stays light: ``--help`` and refused input never import numba or matplotlib.

Each case runs the command line in a fresh interpreter (``python -m simulator`` through
``runpy``, exactly what ``xentsim`` runs) with an ``atexit`` hook that records which
heavy modules ended up in ``sys.modules``. No timing is asserted here (the seconds are
in benchmarks/bench_startup.py); what is checked is the cause of the time: numba costs
about 0.2 s to import and matplotlib more, and neither is needed to print help or to
refuse input. A real ``simulate`` is run the same way to show that the probe does see
numba when a kernel runs, and that the lazy imports still give a working command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numba", "matplotlib", "numpy")

#: Runs ``python -m simulator ARGV`` in this interpreter and, at exit (also after
#: argparse's sys.exit), writes {"loaded": [...]} to the file named by XENTSIM_PROBE.
PROBE = """
import atexit, json, os, runpy, sys
def _report():
    with open(os.environ["XENTSIM_PROBE"], "w") as f:
        json.dump({"loaded": [m for m in %r if m in sys.modules]}, f)
atexit.register(_report)
sys.argv = ["xentsim", *json.loads(os.environ["XENTSIM_ARGV"])]
runpy.run_module("simulator", run_name="__main__", alter_sys=True)
""" % (HEAVY,)


def _env(**extra) -> dict:
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]]
                                                       if env.get("PYTHONPATH") else []))
    return env


def run_probed(tmp_path, *argv: str) -> tuple[int, str, str, set[str]]:
    """(exit status, stdout, stderr, heavy modules loaded) of ``xentsim ARGV``."""
    probe = tmp_path / "probe.json"
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120,
                          env=_env(XENTSIM_PROBE=str(probe), XENTSIM_ARGV=json.dumps(argv)))
    loaded = set(json.loads(probe.read_text())["loaded"])
    return done.returncode, done.stdout, done.stderr, loaded


def run_python(tmp_path, code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stderr
    return done.stdout


HELP = [(), ("simulate",), ("reproduce",), ("code",), ("decode",)]


@pytest.mark.parametrize("command", HELP, ids=lambda c: " ".join(c) or "xentsim")
def test_help_loads_neither_numba_nor_matplotlib_nor_numpy(tmp_path, command):
    status, out, err, loaded = run_probed(tmp_path, *command, "--help")
    assert status == 0, err
    assert out.startswith("usage: xentsim")
    assert not loaded, f"--help imported {sorted(loaded)}"


def test_the_help_lists_the_codes_models_and_spec_families(tmp_path):
    from simulator.engine import CODE_NAMES
    from simulator.models import MODELS
    from simulator.spec import FAMILIES, MARKOV

    _, out, _, _ = run_probed(tmp_path, "simulate", "--help")
    flat = " ".join(out.split())
    assert "{" + ",".join(CODE_NAMES) + "}" in flat
    assert "{" + ",".join(MODELS) + "}" in flat
    for family in (*FAMILIES, MARKOV):
        assert f"{family}:" in flat, family


def test_the_command_lines_copies_equal_the_registries_they_mirror():
    from simulator import cli, engine, models, realdata, spec

    assert cli._ENGINE_CODE_NAMES == engine.CODE_NAMES
    assert tuple(cli.CODE_NAMES) == engine.CODE_NAMES
    assert cli.MAX_COUNT == spec.MAX_COUNT
    sub = next(a for a in cli.build_parser()._actions if a.dest == "command").choices
    simulate_model = next(a for a in sub["simulate"]._actions if a.dest == "model")
    code_model = next(a for a in sub["code"]._actions if a.dest == "model")
    assert tuple(simulate_model.choices) == tuple(models.MODELS)
    assert set(code_model.choices) == set(realdata.FILE_MODELS)


# Refusals at every stage before a kernel is needed: argparse (unknown option, choice,
# missing argument), whole numbers, spec families, pmf checks, chain checks, files.
BAD = [
    ("simulate", "--p", "uniform:0", "--q", "uniform:4"),
    ("simulate", "--p", "uniform:4", "--q", "uniform:4", "-n", "-1"),
    ("simulate", "--p", "uniform:4", "--q", "uniform:4", "--n", "-1"),
    ("simulate", "--p", "uniform:4", "--q", "uniform:4", "--code", "nope"),
    ("simulate", "--p", "0.5,0.6", "--q", "uniform:2"),
    ("simulate", "--p", "uniform:4", "--q", "zipf:4:-1"),
    ("simulate", "--p", "uniform:2", "--q", "markov:0.9,0.1;0.2"),
    ("simulate", "--p", "markov:0.9,0.1;0.2", "--q", "uniform:2"),
    ("simulate", "--p", "nosuchfile.npy", "--q", "uniform:2"),
    ("simulate", "--p", "uniform:4"),
    ("simulate", "--p", "uniform:4", "--q", "uniform:4", "--seed", "1.5"),
    ("reproduce", "--jobs", "0"),
    ("reproduce", "--only", "nope"),
    ("code",),
    ("code", "somefile", "--order", "-1"),
    ("code", "somefile"),
    ("code", "--probs", "p.npy"),
    ("code", "somefile", "--order", "1", "--model", "kt", "--alpha", "1"),
    ("bogus",),
    (),
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a) if isinstance(a, tuple) and a
                         else "no command")
def test_bad_input_is_refused_without_loading_numba_or_matplotlib(tmp_path, argv):
    status, out, err, loaded = run_probed(tmp_path, *argv)
    assert status == 2 and "xentsim: error:" in err and "Traceback" not in err, err
    assert out == ""
    assert not loaded & {"numba", "matplotlib"}, f"refusing {argv} imported {sorted(loaded)}"


def test_a_real_simulate_still_works_and_the_probe_sees_the_kernels_it_loads(tmp_path):
    # uniform q on 4 symbols: every Huffman codeword has 2 bits, so 1000 symbols are
    # exactly 2000 bits (measured from the produced and decoded bitstream).
    status, out, err, loaded = run_probed(
        tmp_path, "simulate", "--p", "uniform:4", "--q", "uniform:4", "-n", "1000",
        "--seed", "1", "--json")
    assert status == 0, err
    d = json.loads(out)
    assert d["roundtrip_ok"] is True and d["total_bits"] == 2000 and d["n_symbols"] == 1000
    assert "numba" in loaded and "matplotlib" not in loaded


def test_every_public_name_imports_from_the_lazy_package(tmp_path):
    code = """
import json, sys
import simulator
light = [m for m in ("numba", "numpy", "matplotlib") if m in sys.modules]
names = list(simulator.__all__)
ns = {}
exec("from simulator import " + ", ".join(names), ns)
from simulator import codes, distributions, engine, measures, models, sources
homes = (codes, distributions, engine, measures, models, sources)
same = all(any(getattr(h, n, None) is ns[n] for h in homes) for n in names)
star = {}
exec("from simulator import *", star)
print(json.dumps({"light": light, "n": len(names), "same": same,
                  "star": sorted(k for k in star if not k.startswith("__")) == sorted(names),
                  "dir": set(names) <= set(dir(simulator))}))
"""
    d = json.loads(run_python(tmp_path, code))
    assert d["light"] == [], f"import simulator loaded {d['light']}"
    assert d["n"] == 31 and d["same"] and d["star"] and d["dir"]


def test_an_unknown_attribute_of_the_package_is_an_attribute_error():
    import simulator

    with pytest.raises(AttributeError, match="no_such_name"):
        simulator.no_such_name  # noqa: B018


def test_distributions_load_their_kernels_only_when_sampling(tmp_path):
    code = """
import json, sys
import numpy as np
from simulator import distributions as D
p = D.zipf(8, 1.0)
before = "numba" in sys.modules
x = D.sample(p, 1000, np.random.default_rng(0))
after = "numba" in sys.modules
threshold, alias = D._build_alias(p.probs)
print(json.dumps({"before": before, "after": after, "max": int(x.max()),
                  "counts": int(D.symbol_counts(x, 8).sum()), "alias": len(alias)}))
"""
    d = json.loads(run_python(tmp_path, code))
    assert d == {"before": False, "after": True, "max": 7, "counts": 1000, "alias": 8}


def test_the_user_wide_cache_folder_is_found_without_importing_numba(tmp_path):
    # _jitcache asks numba's own appdirs copy (loaded from its file) where the user-wide
    # cache is, when the package folder is not writable; numba itself stays unloaded.
    code = """
import json, sys
from simulator import _jitcache
found = _jitcache._user_wide_dir()
loaded = "numba" in sys.modules
from numba.misc.appdirs import AppDirs
print(json.dumps({"loaded": loaded, "same": found == AppDirs(appname="numba",
                  appauthor=False).user_cache_dir, "found": found}))
"""
    d = json.loads(run_python(tmp_path, code))
    assert d["loaded"] is False and d["same"] is True and d["found"]


#: Refusals made by running a kernel, with why (every other row of the table must not
#: load numba). The first two are found by coding sampled symbols (the measurement meets a
#: symbol q gives probability 0); the Markov ones by the compiled search for the chain's
#: closed classes and period, which builds the source before q can be compared with it.
NEEDS_A_KERNEL = {
    "simulate --p 0.5,0.5 --q 1,0",
    "simulate --p 0.5,0.5 --q 1,0 --code arithmetic",
    "simulate --p markov:1,0;0,1 --q bern:0.5",
    "simulate --p markov:0.5,0.5,0;0.5,0.5,0;0,0,1 --q uniform:3",
    "simulate --p markov:0,1;1,0 --q bern:0.5",
    "simulate --p markov:0.9,0.1;0.2,0.8 --q markov:0.5,0.25,0.25;0.5,0.25,0.25;0.5,0.25,0.25",
}


def test_every_row_of_the_bad_input_table_is_refused_without_numba(tmp_path):
    # One fresh interpreter runs every row of tests/test_cli_bad_input.py's table in turn
    # and records, after each, whether numba or matplotlib has been imported.
    # Each row runs in a fork of one interpreter that has loaded only the command line,
    # so what a row imports is seen for that row alone.
    script = """
import io, json, os, sys
sys.path.insert(0, %r)
import test_cli_bad_input as T
from simulator.cli import main
paths = T._files(__import__("pathlib").Path(%r))
assert "numba" not in sys.modules and "matplotlib" not in sys.modules
rows = []
for param in T._params():
    argv = T._expand(param.values[0], paths)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        sys.stderr = io.StringIO()
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
        os.write(w, json.dumps([code, "numba" in sys.modules, "matplotlib" in sys.modules]).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        got = json.loads(f.read())
    os.waitpid(pid, 0)
    rows.append([" ".join(map(str, param.values[0]))] + got)
print(json.dumps(rows))
""" % (str(ROOT / "tests"), str(tmp_path))
    rows = json.loads(run_python(tmp_path, script).strip().splitlines()[-1])
    assert len(rows) > 90
    assert all(code == 2 for _, code, _, _ in rows)
    loaded = [argv for argv, _, numba, mpl in rows if (numba or mpl) and argv not in NEEDS_A_KERNEL]
    assert not loaded, loaded
