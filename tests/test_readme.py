"""The README is always true: its commands, its CLI output and its Python examples."""

import doctest
import re
import shlex
from pathlib import Path

import pytest

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_fresh_machine_setup_is_two_commands_and_ci_runs_them():
    setup = _blocks("bash")[0].strip().splitlines()
    assert len(setup) == 2
    install, test = setup
    assert install.startswith('pip install -e ".[test]" && ')
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -e ".[test]"' in ci
    assert ci.strip().splitlines()[-1] == test


def _console_examples():
    for block in _blocks("console"):
        lines = block.splitlines()
        cmd_idx = [i for i, line in enumerate(lines) if line.startswith("$ ")]
        for j, i in enumerate(cmd_idx):
            end = cmd_idx[j + 1] if j + 1 < len(cmd_idx) else len(lines)
            yield lines[i][2:], lines[i + 1 : end]


@pytest.mark.parametrize("command, expected", list(_console_examples()))
def test_console_examples_print_what_the_readme_shows(command, expected, capsys):
    argv = shlex.split(command)
    assert argv[0] == "xentsim"
    assert main(argv[1:]) == 0
    out = capsys.readouterr().out.splitlines()
    # Wall-clock timings are the only lines allowed to differ.
    keep = lambda lines: [l for l in lines if "seconds" not in l]  # noqa: E731
    assert keep(out) == keep(expected)


def test_python_examples_are_real_output():
    parser = doctest.DocTestParser()
    test = parser.get_doctest(README, {}, "README.md", "README.md", 0)
    assert test.examples, "the README should show a Python example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_the_verdict_table_matches_the_committed_figure_records():
    import json

    from simulator.experiments import registry

    table = re.search(r"\| experiment \| claims \| measured \| sample \| exact \|\n\|[-|]+\|\n(.*?)\n\n",
                      README, flags=re.S).group(1).splitlines()
    expected = []
    totals = [0, 0, 0, 0]
    for exp in registry.EXPERIMENTS:
        record = json.loads((ROOT / "figures" / f"{exp.name}.json").read_text())
        assert record["passed"], f"{exp.name}: a committed verdict failed"
        bases = [v["basis"] for v in record["verdicts"]]
        counts = [len(bases)] + [bases.count(b) for b in ("measured", "sample", "exact")]
        totals = [a + b for a, b in zip(totals, counts)]
        expected.append(f"| {exp.name} | " + " | ".join(map(str, counts)) + " |")
    expected.append("| all | " + " | ".join(map(str, totals)) + " |")
    assert table == expected


def test_the_readme_lists_exactly_the_json_keys_simulate_prints(capsys):
    import json

    sentence = re.search(r"with the keys (`code`.*?)\sMarkov source\.", README, flags=re.S).group(1)
    listed = set(re.findall(r"`([a-z_0-9]+)`", sentence))
    printed = set()
    for extra in (["--code", "huffman"], ["--code", "block-huffman", "--block", "2"],
                  ["--code", "arithmetic"]):
        for p in ("0.5,0.5", "markov:0.9,0.1;0.2,0.8"):
            assert main(["simulate", "--p", p, "--q", "0.5,0.5", "-n", "10", "--json", *extra]) == 0
            printed |= set(json.loads(capsys.readouterr().out))
    assert listed == printed
