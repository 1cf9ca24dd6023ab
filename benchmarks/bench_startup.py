"""Start-up cost of the command line: wall time of whole processes, best of 7.

Run:  python benchmarks/bench_startup.py [--repeat 7] [--root DIR]

Each row starts a fresh ``python`` (the same interpreter as this script) with the
checkout at ``--root`` (default: the one holding this script) first on ``PYTHONPATH``,
and times the whole process with ``time.perf_counter`` around ``subprocess.run``: the
interpreter's own start, the imports and the work. The two floors show what no change
to xentsim can remove: an empty interpreter, and one that imports numpy.

With ``--compile`` it also measures the first-call compile cost of the kernels: one
``simulate`` per code with an empty numba cache folder (``NUMBA_CACHE_DIR`` pointed at a
fresh temporary folder, so every kernel it uses is compiled) and again with that folder
filled (the kernels are loaded from the cache), reporting the ``warmup_seconds`` of the
simulate JSON and the wall time of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

#: (label, arguments after ``python``, expected exit status)
CASES = [
    ("python -c pass (floor)", ["-c", "pass"], 0),
    ("python -c 'import numpy' (floor)", ["-c", "import numpy"], 0),
    ("import simulator", ["-c", "import simulator"], 0),
    ("xentsim --help", ["-m", "simulator", "--help"], 0),
    ("xentsim simulate --help", ["-m", "simulator", "simulate", "--help"], 0),
    ("bad input: --p uniform:0", ["-m", "simulator", "simulate", "--p", "uniform:0",
                                  "--q", "uniform:4", "-n", "10"], 2),
    ("bad input: -n -1", ["-m", "simulator", "simulate", "--p", "uniform:4",
                          "--q", "uniform:4", "-n", "-1"], 2),
    ("bad input: --code nope", ["-m", "simulator", "simulate", "--p", "uniform:4",
                                "--q", "uniform:4", "--code", "nope"], 2),
    # not yet light: the registry imports every experiment to know the names
    ("bad input: reproduce --only nope", ["-m", "simulator", "reproduce", "--only", "nope"], 2),
]

SIMULATE = ["-m", "simulator", "simulate", "--p", "uniform:4", "--q", "uniform:4",
            "-n", "1000", "--seed", "1", "--json"]


def _env(root: Path, **extra) -> dict:
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + ([env["PYTHONPATH"]]
                                                       if env.get("PYTHONPATH") else []))
    return env


def wall(args: list[str], status: int, root: Path, repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``python ARGS``, in seconds (the exit status is
    checked, so a broken command cannot look fast)."""
    best = float("inf")
    env = _env(root)
    for _ in range(repeat):
        t = time.perf_counter()
        done = subprocess.run([sys.executable, *args], env=env, cwd=tempfile.gettempdir(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - t
        if done.returncode != status:
            raise SystemExit(f"python {' '.join(args)} exited {done.returncode}, expected {status}:"
                             f"\n{done.stderr.decode(errors='replace')}")
        best = min(best, elapsed)
    return best


def compile_costs(root: Path, codes=("huffman", "arithmetic")) -> list[tuple]:
    """(code, cold warmup s, cold wall s, warm warmup s, warm wall s) per code, each code
    with its own empty cache folder first."""
    rows = []
    for code in codes:
        with tempfile.TemporaryDirectory(prefix="xentsim-bench-cache-") as cache:
            env = _env(root, NUMBA_CACHE_DIR=cache)
            cells = []
            for _ in ("cold", "warm"):
                t = time.perf_counter()
                done = subprocess.run([sys.executable, *SIMULATE, "--code", code], env=env,
                                      cwd=tempfile.gettempdir(), capture_output=True, text=True)
                elapsed = time.perf_counter() - t
                if done.returncode:
                    raise SystemExit(f"simulate --code {code} failed:\n{done.stderr}")
                cells += [json.loads(done.stdout)["warmup_seconds"], elapsed]
            rows.append((code, *cells))
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs per row (the best is shown)")
    ap.add_argument("--root", type=Path, default=HERE, help="checkout to measure")
    ap.add_argument("--compile", action="store_true",
                    help="also measure the kernels' compile cost (cold vs warm numba cache)")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    print(f"start-up, best of {args.repeat} wall  ({platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, checkout {root})\n")
    rows = [(label, wall(a, status, root, args.repeat)) for label, a, status in CASES]
    width = max(len(label) for label, _ in rows)
    print(f"{'command':<{width}}  seconds")
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds:7.3f}")
    if args.compile:
        print("\nfirst-call compile cost: simulate --p uniform:4 --q uniform:4 --n 1000 --seed 1\n")
        head = ("code", "cold warmup s", "cold wall s", "warm warmup s", "warm wall s")
        rows = compile_costs(root)
        first = max(len(head[0]), *(len(r[0]) for r in rows))
        print("  ".join([head[0].ljust(first), *head[1:]]))
        for code, *cells in rows:
            print("  ".join([code.ljust(first)]
                            + [f"{c:.3f}".rjust(len(h)) for c, h in zip(cells, head[1:])]))


if __name__ == "__main__":
    main()
