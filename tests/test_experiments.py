"""The experiment suite: --quick passes, files are complete, deterministic and atomic."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from experiments import common, runner
from simulator.cli import main

@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    code = main(["reproduce", "--quick", "--out", str(out)])
    return code, out, None


def test_quick_suite_passes_every_claim(quick_run):
    code, out, _ = quick_run
    assert code == 0
    for name in runner.EXPERIMENTS:
        record = json.loads((out / f"{name}.json").read_text())
        failed = [v["claim"] for v in record["verdicts"] if not v["passed"]]
        assert record["passed"] and not failed, failed


def test_every_experiment_writes_its_four_files_and_no_temporaries(quick_run):
    _, out, _ = quick_run
    for name in runner.EXPERIMENTS:
        for ext in ("pdf", "png", "csv", "json"):
            assert (out / f"{name}.{ext}").stat().st_size > 0
    assert not list(out.glob("*.tmp"))


def test_json_records_seed_parameters_versions_and_verdict_numbers(quick_run):
    _, out, _ = quick_run
    record = json.loads((out / "convergence.json").read_text())
    assert record["seed"] == 2026 and record["quick"] is True
    assert {"numpy", "bitarray", "matplotlib", "numba", "python"} <= set(record["versions"])
    assert "git_commit" in record and record["wall_seconds"] > 0
    v = record["verdicts"][0]
    assert {"claim", "passed", "measured", "theory", "bound"} <= set(v)


def test_csv_has_a_header_and_one_row_per_point(quick_run):
    _, out, _ = quick_run
    lines = (out / "gibbs_minimum.csv").read_text().splitlines()
    assert lines[0] == "series,t,bits_per_symbol,half_width,theory"
    assert sum(line.startswith("measured,") for line in lines) == 11


def test_figures_have_no_dates_in_their_metadata(quick_run):
    _, out, _ = quick_run
    pdf = (out / "kl_excess.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf
    assert b"Software" not in (out / "kl_excess.png").read_bytes()[:4096]


def test_same_seed_gives_identical_csv_with_any_executor(tmp_path):
    mod = runner.load("gibbs_minimum")
    common.run(mod, seed=7, quick=True, out=tmp_path / "a")
    with ThreadPoolExecutor(max_workers=2) as pool:
        common.run(mod, seed=7, quick=True, out=tmp_path / "b", executor=pool)
    a = (tmp_path / "a" / "gibbs_minimum.csv").read_bytes()
    b = (tmp_path / "b" / "gibbs_minimum.csv").read_bytes()
    assert a == b
    common.run(mod, seed=8, quick=True, out=tmp_path / "c")
    assert (tmp_path / "c" / "gibbs_minimum.csv").read_bytes() != a


def test_same_seed_gives_identical_figure_files(tmp_path):
    mod = runner.load("asymmetry")
    for d in ("a", "b"):
        common.run(mod, seed=3, quick=True, out=tmp_path / d)
    for ext in ("png", "pdf"):
        assert (tmp_path / "a" / f"asymmetry.{ext}").read_bytes() == \
            (tmp_path / "b" / f"asymmetry.{ext}").read_bytes()


def test_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "x.csv"
    target.write_bytes(b"old\n")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(common.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        common.write_atomic(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert not list(tmp_path.glob("*.tmp"))


def test_a_failed_claim_makes_reproduce_exit_non_zero(tmp_path, monkeypatch, capsys):
    mod = runner.load("gibbs_minimum")
    real = mod.compute

    def failing(**kw):
        result = real(**kw)
        result.verdicts.append(common.Verdict("a claim that fails", False, 1.0, 0.0, "exact"))
        return result

    monkeypatch.setattr(mod, "compute", failing)
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
    assert all(name in out for name in runner.EXPERIMENTS)
