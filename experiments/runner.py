"""``xentsim reproduce``: run the experiments of the registry, write their files, print
the verdicts.

A plain loop over :data:`registry.EXPERIMENTS`. ``--jobs N`` gives the experiments'
sweeps a process pool whose workers end with this process (:func:`simulator.engine.worker_pool`);
:func:`reproduce` also takes an ``executor`` of the caller's (any concurrent.futures
Executor, or a Dask ``distributed.Client`` for a cluster). Results do not depend on
either (every task carries its own seed). The command line itself
(argument parsing) lives in :mod:`simulator.cli`, which calls :func:`run_cli`; this
module never imports it.
"""

from __future__ import annotations

import time
from pathlib import Path

from simulator.errors import XentsimError

from .common import Experiment, as_executor, check_jobs, output_dir, run, worker_pool
from .registry import EXPERIMENTS, get


def reproduce(names=None, *, quick: bool = False, out=None, jobs: int = 1, seed: int = 2026,
              progress=None, executor=None) -> list[dict]:
    """Run the named experiments (all, in registry order, by default) in the order given.

    The sweeps run in this process (``jobs=1``), on a pool of ``jobs`` worker processes
    made and shut down here, or on the caller's ``executor``: a concurrent.futures
    Executor or a Dask ``distributed.Client`` (``Client("tcp://scheduler:8786")``), which
    stays open (the caller owns it). ``jobs`` and ``executor`` do not go together.
    """
    chosen: list[Experiment] = [get(n) for n in names] if names else list(EXPERIMENTS)
    twice = sorted({n for n in (names or ()) if list(names).count(n) > 1})
    if twice:
        raise XentsimError(f"--only names {', '.join(twice)} more than once")
    jobs = check_jobs(jobs)
    if executor is not None and jobs > 1:
        raise XentsimError(f"jobs is {jobs} and an executor was given: the executor decides "
                           "where the sweeps run, so leave jobs at 1")
    given = as_executor(executor)
    out = Path(out) if out is not None else output_dir(None, quick)
    records = []
    pool = worker_pool(jobs) if jobs > 1 else None
    try:
        for e in chosen:
            records.append(run(e, seed=seed, quick=quick, out=out,
                               executor=pool if pool is not None else given, progress=progress))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
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
    """The ``reproduce`` command: ``args`` has quick, only, out, jobs, seed and list."""
    if args.list:
        for e in ([get(n) for n in args.only] if args.only else EXPERIMENTS):
            print(f"{e.name:<18} {e.title}")
        return 0
    out = output_dir(args.out, args.quick)  # refuses --out '' before any work
    check_jobs(args.jobs)
    if args.only:
        for name in args.only:
            get(name)  # an unknown name is a usage error before any work
    t0 = time.perf_counter()
    records = reproduce(args.only, quick=args.quick, out=out, jobs=args.jobs, seed=args.seed)
    print(summary(records))
    print(f"files in {out.resolve()} ({time.perf_counter() - t0:.1f} s)")
    return 0 if all(r["passed"] for r in records) else 1
