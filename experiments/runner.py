"""``xentsim reproduce``: run every experiment, write its files, print the verdicts.

A plain loop over the experiment modules. ``--jobs N`` gives the experiments' sweeps a
process pool; results do not depend on N (every task carries its own seed).
"""

from __future__ import annotations

import importlib
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from simulator._validate import XentsimError

#: In the order the story is told (and the README shows them).
EXPERIMENTS = ["convergence", "kl_excess", "asymmetry", "gibbs_minimum", "block_huffman",
               "support_mismatch", "classification", "continuous", "learning", "precision",
               "direction"]


def load(name: str):
    return importlib.import_module(f"experiments.{name}")


def available() -> list[str]:
    out = []
    for name in EXPERIMENTS:
        try:
            load(name)
            out.append(name)
        except ModuleNotFoundError:
            pass
    return out


def reproduce(names=None, *, quick=False, out="figures", jobs=1, seed=2026, progress=None) -> list[dict]:
    from .common import run

    names = list(names or available())
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        raise XentsimError(f"unknown experiment {unknown[0]!r}; choose from {', '.join(available())}")
    records = []
    executor = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None
    try:
        for name in names:
            records.append(run(load(name), seed=seed, quick=quick, out=Path(out),
                               executor=executor, progress=progress))
    finally:
        if executor is not None:
            executor.shutdown()
    return records


def summary(records: list[dict]) -> str:
    lines = []
    for rec in records:
        lines.append(f"{rec['name']} ({rec['wall_seconds']:.1f} s): {rec['title']}")
        for v in rec["verdicts"]:
            mark = "PASS" if v["passed"] else "FAIL"
            lines.append(f"  {mark}  {v['claim']}")
            if not v["passed"]:
                lines.append(f"        measured {v['measured']}, theory {v['theory']}, bound {v['bound']}")
    n = sum(len(r["verdicts"]) for r in records)
    failed = sum(not v["passed"] for r in records for v in r["verdicts"])
    lines.append(f"{n - failed} of {n} claims passed" + (f", {failed} FAILED" if failed else ""))
    return "\n".join(lines)


def run_cli(args) -> int:
    if args.list:
        for name in available():
            print(f"{name:<18} {load(name).TITLE}")
        return 0
    t0 = time.perf_counter()
    records = reproduce(args.only, quick=args.quick, out=args.out, jobs=args.jobs, seed=args.seed)
    print(summary(records))
    print(f"files in {Path(args.out).resolve()} ({time.perf_counter() - t0:.1f} s)")
    return 0 if all(r["passed"] for r in records) else 1


if __name__ == "__main__":
    from simulator.cli import main

    sys.exit(main(["reproduce", *sys.argv[1:]]))
