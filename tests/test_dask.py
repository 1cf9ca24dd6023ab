"""Sweeps on a Dask cluster: a ``distributed.Client`` is accepted wherever an Executor is,
and the files it produces are byte for byte those of a run in one process.

The cluster is a ``distributed.LocalCluster`` of 2 worker *processes* with 1 thread each:
like a real cluster, every task and its function reach the workers pickled, and each
worker imports xentsim (and compiles or loads its kernels) in a fresh interpreter. The
cluster's test skips when ``distributed`` is not installed (``pip install -e ".[dask]"``);
the checks that nothing imports ``distributed`` by itself run everywhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from simulator.errors import XentsimError
from simulator.experiments import common
from simulator.experiments.runner import reproduce

ROOT = Path(__file__).resolve().parents[1]

#: The experiment whose quick sweep runs on the cluster: 21 tasks (3 codes x 7 lengths),
#: each with its own seed, so the two workers share them in no fixed order.
EXPERIMENT = "convergence"


def test_the_sweep_modules_never_import_distributed_by_themselves(tmp_path):
    code = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from simulator.experiments import common, runner
with ThreadPoolExecutor(2) as pool:
    squares = common.run_tasks(pow, [(i, 2) for i in range(5)], pool)
print(json.dumps({"squares": squares, "distributed": "distributed" in sys.modules,
                  "dask": "dask" in sys.modules}))
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                                    os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"squares": [0, 1, 4, 9, 16], "distributed": False,
                                       "dask": False}


def test_an_executor_of_the_wrong_kind_is_refused_before_any_work(tmp_path):
    with pytest.raises(XentsimError, match="executor is a str"):
        common.run_tasks(pow, [(2, 2)], "tcp://127.0.0.1:8786")
    with pytest.raises(XentsimError, match="executor is a str"):
        reproduce([EXPERIMENT], quick=True, out=tmp_path / "x", executor="tcp://127.0.0.1:8786")
    with ThreadPoolExecutor(1) as pool, pytest.raises(XentsimError, match="jobs is 2"):
        reproduce([EXPERIMENT], quick=True, out=tmp_path / "y", jobs=2, executor=pool)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def _leftover_children(before: set[int]) -> list[str]:
    """Child processes of this one that were not there before, except multiprocessing's
    resource tracker (started once per interpreter, it ends with this process)."""
    import psutil

    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        if child.pid not in before and "resource_tracker" not in cmd:
            out.append(f"{child.pid}: {cmd}")
    return out


def test_a_quick_sweep_on_a_local_dask_cluster_writes_the_same_bytes_as_one_process(tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason="distributed is not installed: pip install -e '.[dask]'")
    import psutil

    serial = reproduce([EXPERIMENT], quick=True, out=tmp_path / "serial", seed=2026)
    before = {c.pid for c in psutil.Process().children(recursive=True)}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, local_directory=str(tmp_path / "dask"),
                                  ) as cluster, distributed.Client(cluster) as client:
        workers = client.run(os.getpid)  # {worker address: its process id}
        on_dask = reproduce([EXPERIMENT], quick=True, out=tmp_path / "dask", seed=2026,
                            executor=client)
        # both workers computed part of the sweep (no silent fallback to this process)
        ran = client.run(lambda: sys.modules.get("simulator.experiments.convergence") is not None)
    assert len(workers) == 2 and os.getpid() not in workers.values()
    assert all(ran.values()), ran

    for ext in ("csv", "png", "pdf"):
        a = (tmp_path / "serial" / f"{EXPERIMENT}.{ext}").read_bytes()
        b = (tmp_path / "dask" / f"{EXPERIMENT}.{ext}").read_bytes()
        assert a == b, ext
    assert [v["measured"] for v in on_dask[0]["verdicts"]] == \
        [v["measured"] for v in serial[0]["verdicts"]]
    assert on_dask[0]["passed"]

    # the workers are gone once the cluster is closed, and nothing else was left running
    for pid in workers.values():
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert _leftover_children(before) == []
