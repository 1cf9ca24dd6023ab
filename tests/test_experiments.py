"""The experiment suite: --quick passes, files are complete, deterministic and replaced as
a set; the registry is explicit and loud; runs never touch the committed figures by
default; workers end with their parent."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.errors import XentsimError
from simulator.experiments import common, registry

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # subprocesses import this checkout


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    code = main(["reproduce", "--quick", "--out", str(out)])
    return code, out


def test_quick_suite_passes_every_claim(quick_run):
    code, out = quick_run
    assert code == 0
    for name in registry.NAMES:
        record = json.loads((out / f"{name}.json").read_text())
        failed = [v["claim"] for v in record["verdicts"] if not v["passed"]]
        assert record["passed"] and not failed, failed


def test_every_experiment_writes_its_four_files_as_one_consistent_set(quick_run):
    _, out = quick_run
    for name in registry.NAMES:
        for ext in ("pdf", "png", "csv", "json"):
            assert (out / f"{name}.{ext}").stat().st_size > 0
        assert common.figure_set_consistent(out, name)
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*staging*"))


def test_json_records_seed_sizes_versions_hashes_and_verdicts_with_a_basis(quick_run):
    _, out = quick_run
    record = json.loads((out / "convergence.json").read_text())
    assert record["seed"] == 2026 and record["quick"] is True
    assert record["sizes"] == dict(registry.get("convergence").quick)
    assert {"numpy", "bitarray", "matplotlib", "numba", "python"} <= set(record["versions"])
    assert "git_commit" in record and record["wall_seconds"] > 0
    csv_bytes = (out / "convergence.csv").read_bytes()
    assert record["files_sha256"]["convergence.csv"] == hashlib.sha256(csv_bytes).hexdigest()
    for name in registry.NAMES:
        for v in json.loads((out / f"{name}.json").read_text())["verdicts"]:
            assert {"claim", "passed", "measured", "theory", "bound", "basis"} <= set(v)
            assert v["basis"] in ("measured", "sample", "exact")


def test_every_experiment_checks_at_least_one_claim_on_measured_bits(quick_run):
    _, out = quick_run
    for name in registry.NAMES:
        bases = [v["basis"] for v in json.loads((out / f"{name}.json").read_text())["verdicts"]]
        assert "measured" in bases, name


def test_no_experiment_cites_a_theory_file_other_than_docs_theory_md():
    for path in (ROOT / "experiments").glob("*.py"):
        assert "THEORY.md" not in path.read_text(), path.name


def test_verdicts_quote_the_coders_slack_and_precision_from_the_library(quick_run):
    from simulator import build_code

    _, out = quick_run
    code = build_code([0.5, 0.5], "arithmetic")
    record = json.loads((out / "convergence.json").read_text())
    bounds = " ".join(v["bound"] for v in record["verdicts"])
    assert common.slack_text(code) in bounds
    claims = " ".join(v["claim"] for v in record["verdicts"])
    assert f"b = {code.report()['precision']}" in claims


def test_csv_has_a_header_and_one_row_per_point(quick_run):
    _, out = quick_run
    lines = (out / "gibbs_minimum.csv").read_text().splitlines()
    assert lines[0] == "series,t,bits_per_symbol,half_width,theory"
    assert sum(line.startswith("measured,") for line in lines) == 11


def test_csv_writes_integers_exactly_and_floats_with_twelve_significant_digits():
    data = common.table_csv(["a", "b", "c", "d"], [dict(a=3, b=1 / 3, c=float("nan"), d=2.0**60)])
    assert data.decode().splitlines()[1] == "3,0.333333333333,nan,1.15292150461e+18"
    # a last-ulp difference between machines does not change the bytes
    x = 0.1 + 0.2
    assert common.table_csv(["x"], [dict(x=x)]) == common.table_csv(["x"], [dict(x=x * (1 + 3e-16))])


def test_figures_have_no_dates_in_their_metadata(quick_run):
    _, out = quick_run
    pdf = (out / "kl_excess.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf
    assert b"Software" not in (out / "kl_excess.png").read_bytes()[:4096]


def test_same_seed_gives_identical_csv_with_any_executor(tmp_path):
    exp = registry.get("gibbs_minimum")
    common.run(exp, seed=7, quick=True, out=tmp_path / "a")
    with ThreadPoolExecutor(max_workers=2) as pool:
        common.run(exp, seed=7, quick=True, out=tmp_path / "b", executor=pool)
    a = (tmp_path / "a" / "gibbs_minimum.csv").read_bytes()
    b = (tmp_path / "b" / "gibbs_minimum.csv").read_bytes()
    assert a == b
    common.run(exp, seed=8, quick=True, out=tmp_path / "c")
    assert (tmp_path / "c" / "gibbs_minimum.csv").read_bytes() != a


def test_same_seed_gives_identical_figure_files(tmp_path):
    exp = registry.get("asymmetry")
    for d in ("a", "b"):
        common.run(exp, seed=3, quick=True, out=tmp_path / d)
    for ext in ("png", "pdf"):
        assert (tmp_path / "a" / f"asymmetry.{ext}").read_bytes() == \
            (tmp_path / "b" / f"asymmetry.{ext}").read_bytes()


# ------------------------------------------------------------------ registry


def test_the_registry_lists_every_experiment_file_once_in_order():
    files = {p.stem for p in (ROOT / "experiments").glob("*.py")} - {
        "__init__", "common", "registry", "runner"}
    assert set(registry.NAMES) == files and len(registry.NAMES) == len(files)
    assert registry.NAMES[0] == "convergence" and registry.NAMES[-1] == "direction"
    for e in registry.EXPERIMENTS:
        assert isinstance(e, common.Experiment) and set(e.quick) == set(e.full)


def test_an_experiment_declaration_is_checked_and_frozen():
    exp = registry.get("gibbs_minimum")
    with pytest.raises(XentsimError, match="quick sizes"):
        common.Experiment("x", "t", dict(n=1), dict(m=1), exp.compute, exp.plot)
    with pytest.raises(XentsimError, match="identifier"):
        common.Experiment("no name", "t", {}, {}, exp.compute, exp.plot)
    with pytest.raises(AttributeError):
        exp.name = "other"
    with pytest.raises(TypeError):
        exp.quick["n"] = 1
    with pytest.raises(XentsimError, match="basis"):
        common.Verdict("c", True, 1.0, 1.0, "b", basis="guessed")


BROKEN_IMPORT = """
import sys
from importlib.abc import MetaPathFinder

class Missing(MetaPathFinder):  # an experiment whose dependency is not installed
    def find_spec(self, name, path=None, target=None):
        if name == "simulator.experiments.learning":
            raise ModuleNotFoundError("No module named 'not_installed'", name="not_installed")
        return None

sys.meta_path.insert(0, Missing())
from simulator.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("argv", [["--list"], ["--quick", "--only", "gibbs_minimum"]])
def test_an_experiment_that_fails_to_import_fails_the_run_loudly(tmp_path, argv):
    r = subprocess.run([sys.executable, "-c", BROKEN_IMPORT, "reproduce", *argv, "--out", str(tmp_path)],
                       capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=120)
    assert r.returncode != 0
    assert "not_installed" in r.stderr and "Traceback" in r.stderr
    assert "claims passed" not in r.stdout and "gibbs_minimum" not in r.stdout
    assert not list(tmp_path.glob("*.csv"))


def test_a_failed_claim_makes_reproduce_exit_non_zero(tmp_path, monkeypatch, capsys):
    exp = registry.get("gibbs_minimum")
    real = exp.compute

    def failing(**kw):
        result = real(**kw)
        result.verdicts.append(common.Verdict("a claim that fails", False, 1.0, 0.0, "exact", "exact"))
        return result

    monkeypatch.setattr(registry, "EXPERIMENTS", tuple(
        common.Experiment(e.name, e.title, e.quick, e.full, failing, e.plot) if e is exp else e
        for e in registry.EXPERIMENTS))
    code = main(["reproduce", "--quick", "--only", "gibbs_minimum", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1 and "FAIL  a claim that fails" in out and "1 FAILED" in out


def test_unknown_experiment_is_a_one_line_error(capsys, tmp_path):
    code = main(["reproduce", "--only", "nonsense", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "unknown experiment 'nonsense'" in err


def test_list_names_every_experiment(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == list(registry.NAMES)


# ------------------------------------------------------------------ where files go


def test_reproduce_runs_from_a_folder_with_an_unrelated_experiments_package(tmp_path):
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "__init__.py").write_text("raise RuntimeError('not ours')\n")
    (tmp_path / "experiments" / "runner.py").write_text("raise RuntimeError('not ours')\n")
    for argv in (["--list"], ["--quick", "--only", "gibbs_minimum", "--out", "here"]):
        r = subprocess.run([sys.executable, "-m", "simulator", "reproduce", *argv], cwd=tmp_path,
                           capture_output=True, text=True, env=ENV, timeout=300)
        assert r.returncode == 0, r.stderr
        assert "not ours" not in r.stderr
    assert common.figure_set_consistent(tmp_path / "here", "gibbs_minimum")


def _committed_figures() -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (ROOT / "figures").glob("*") if p.is_file()}


def test_a_script_runs_alone_and_a_quick_run_never_touches_the_committed_figures(tmp_path):
    assert not any("sys.path" in p.read_text() for p in (ROOT / "experiments").glob("*.py"))
    before = _committed_figures()
    r = subprocess.run([sys.executable, str(ROOT / "experiments" / "gibbs_minimum.py"), "--quick"],
                       cwd=tmp_path, capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr
    assert _committed_figures() == before
    quick = ROOT / "figures" / "quick"
    assert common.figure_set_consistent(quick, "gibbs_minimum")
    assert (quick / ".gitignore").read_text().splitlines()[-1] == "*"
    assert not list(tmp_path.iterdir())  # nothing written into the current directory
    tracked = subprocess.run(["git", "status", "--porcelain", "--", "figures"], cwd=ROOT,
                             capture_output=True, text=True)
    assert tracked.returncode != 0 or tracked.stdout == ""


def test_default_output_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert common.default_out(False) == ROOT / "figures"  # from a checkout, any cwd
    assert common.default_out(True) == ROOT / "figures" / "quick"
    monkeypatch.setattr(common, "checkout_root", lambda: None)  # an installed copy
    assert common.default_out(False) == tmp_path / "figures"
    assert common.default_out(True) == tmp_path / "figures" / "quick"


def test_an_empty_out_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["reproduce", "--quick", "--only", "gibbs_minimum", "--out", ""]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out is empty" in err
    assert common.standalone(registry.get("gibbs_minimum"), ["--quick", "--out", ""]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ file sets


def _files(name: str, tag: bytes) -> dict:
    body = {ext: tag + ext.encode() for ext in ("csv", "pdf", "png")}
    record = {"files_sha256": {f"{name}.{ext}": common.sha256(b) for ext, b in body.items()}}
    return {**body, "json": json.dumps(record).encode()}


def test_a_figure_set_is_replaced_whole(tmp_path):
    common.write_figure_set(tmp_path, "fig", _files("fig", b"old "))
    assert common.figure_set_consistent(tmp_path, "fig")
    common.write_figure_set(tmp_path, "fig", _files("fig", b"new "))
    assert common.figure_set_consistent(tmp_path, "fig")
    assert (tmp_path / "fig.csv").read_bytes() == b"new csv"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.csv", "fig.json", "fig.pdf", "fig.png"]


def test_a_run_killed_while_staging_leaves_the_old_set(tmp_path, monkeypatch):
    common.write_figure_set(tmp_path, "fig", _files("fig", b"old "))
    real = common.write_atomic

    def dies_on_png(path, data):
        if str(path).endswith(".png"):
            raise KeyboardInterrupt
        real(path, data)

    monkeypatch.setattr(common, "write_atomic", dies_on_png)
    with pytest.raises(KeyboardInterrupt):
        common.write_figure_set(tmp_path, "fig", _files("fig", b"new "))
    assert common.figure_set_consistent(tmp_path, "fig")
    assert (tmp_path / "fig.csv").read_bytes() == b"old csv"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.csv", "fig.json", "fig.pdf", "fig.png"]


def test_a_run_killed_between_the_renames_is_detected_and_completed_by_the_next(tmp_path, monkeypatch):
    common.write_figure_set(tmp_path, "fig", _files("fig", b"old "))
    real, calls = os.replace, []

    def dies_after_one_rename(src, dst):
        if Path(dst).parent == tmp_path and calls:
            raise KeyboardInterrupt  # as if killed after the CSV was moved
        if Path(dst).parent == tmp_path:
            calls.append(dst)
        real(src, dst)

    monkeypatch.setattr(common.os, "replace", dies_after_one_rename)
    with pytest.raises(KeyboardInterrupt):
        common.write_figure_set(tmp_path, "fig", _files("fig", b"new "))
    monkeypatch.setattr(common.os, "replace", real)
    assert (tmp_path / "fig.csv").read_bytes() == b"new csv"
    assert not common.figure_set_consistent(tmp_path, "fig")  # the JSON tells: mixed set
    assert common.recover(tmp_path) == ["fig"]
    assert common.figure_set_consistent(tmp_path, "fig")
    assert (tmp_path / "fig.png").read_bytes() == b"new png"
    assert not list(tmp_path.glob(".*"))


def test_an_unfinished_stage_is_discarded_by_the_next_run(tmp_path):
    stage = tmp_path / ".fig.staging-999999999"  # no such process
    stage.mkdir()
    (stage / "fig.csv").write_bytes(b"half")
    assert common.recover(tmp_path) == []
    assert not stage.exists() and not (tmp_path / "fig.csv").exists()


def _descendants(pid: int) -> set[int]:
    parents = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            parents[int(p.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, par in parents.items() if par in frontier} - found
        found |= frontier
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_parallel_run_leaves_no_worker_and_no_mixed_figure_set(tmp_path, sig):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "reproduce", "--quick", "--jobs", "2",
                             "--only", "learning", "--out", str(out)], cwd=tmp_path, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
        workers |= _descendants(proc.pid)
        time.sleep(0.05)
    assert proc.poll() is None and len(workers) >= 2, "the run ended before its workers were seen"
    proc.send_signal(sig)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 15
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [w for w in workers if _running(w)]
    for w in survivors:  # do not leave them behind when the test fails
        os.kill(w, signal.SIGKILL)
    assert not survivors, "workers outlived their parent"
    # no figure set is mixed once the next run has tidied the folder
    if out.exists():
        common.recover(out)
        names = {p.name.split(".")[0] for p in out.iterdir() if not p.name.startswith(".")}
        assert all(common.figure_set_consistent(out, n) for n in names)
        assert not list(out.glob(".*staging*"))


@pytest.mark.parametrize("argv, words", [
    (["--jobs", "1e6"], "--jobs 1000000: use 1 to"),
    (["--only", "gibbs_minimum", "gibbs_minimum"], "more than once"),
])
def test_reproduce_refuses_absurd_jobs_and_repeated_names_in_one_line(argv, words, capsys, tmp_path):
    from simulator.cli import main

    assert main(["reproduce", "--quick", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]


def test_reproduce_refuses_an_out_that_is_a_file(capsys, tmp_path):
    from simulator.cli import main

    target = tmp_path / "afile"
    target.write_text("keep me")
    assert main(["reproduce", "--quick", "--only", "gibbs_minimum", "--out", str(target)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_a_standalone_script_refuses_a_negative_seed_in_one_line(tmp_path):
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "experiments" / "gibbs_minimum.py"
    r = subprocess.run([sys.executable, str(script), "--quick", "--seed", "-5", "--out",
                        str(tmp_path / "f")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "-5 must be >= 0" in r.stderr
