"""What every experiment shares: verdicts, parallel sweeps, atomic files, paper figures.

An experiment module defines ``NAME``, ``TITLE``, ``compute(seed, quick, executor,
progress) -> Result`` and ``plot(table, result_meta) -> Figure``; :func:`run` does the
rest: it writes ``NAME.csv`` (the plotted numbers), draws the figure *from that file*,
and writes ``NAME.pdf``, ``NAME.png`` and ``NAME.json`` (parameters, versions, commit,
wall time, verdicts), each atomically.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from simulator.bounds import bernstein_half_width, length_spread, theory_half_width  # noqa: F401

#: Okabe-Ito: distinguishable with every common colour-vision deficiency.
PALETTE = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
CODE_STYLE = {  # one look per code, the same in every figure
    "arithmetic": dict(color=PALETTE["blue"], marker="o", linestyle="-"),
    "huffman": dict(color=PALETTE["vermillion"], marker="s", linestyle="--"),
    "shannon": dict(color=PALETTE["green"], marker="^", linestyle="-."),
    "block-huffman": dict(color=PALETTE["purple"], marker="D", linestyle=":"),
}
ONE_COLUMN, TWO_COLUMNS = 3.4, 7.0  # inches


@dataclass(frozen=True)
class Verdict:
    """One claim of the theory, checked against measured numbers."""

    claim: str
    passed: bool
    measured: float | str
    theory: float | str
    bound: str  # the interval or bound used, in words and numbers

    def to_dict(self) -> dict:
        d = asdict(self)
        d["passed"] = bool(d["passed"])
        for k in ("measured", "theory"):
            if isinstance(d[k], float):
                d[k] = None if math.isnan(d[k]) else (str(d[k]) if math.isinf(d[k]) else d[k])
        return d


@dataclass
class Result:
    """What ``compute`` returns: the table to save and plot, the verdicts, the parameters."""

    columns: list[str]
    rows: list[dict]
    verdicts: list[Verdict]
    params: dict = field(default_factory=dict)


# ------------------------------------------------------------------ sweeps


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, name: str, enabled: bool | None = None):
        self.name = name
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 24
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r{self.name:<18} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run_tasks(fn, tasks: list[tuple], executor: Executor | None = None, progress=None) -> list:
    """``[fn(*t) for t in tasks]``, in order, optionally on any concurrent.futures Executor.

    Each task carries its own seed, so results do not depend on where or in which order
    they run: the same master seed gives the same table with 1 or 16 workers. A Dask
    cluster works too: pass ``distributed.Client(...).get_executor()``.
    """
    total = len(tasks)
    results = [None] * total
    if executor is None:
        for i, t in enumerate(tasks):
            results[i] = fn(*t)
            if progress:
                progress(i + 1, total)
        return results
    futures = [executor.submit(fn, *t) for t in tasks]
    for i, fut in enumerate(futures):  # in submission order: needs only .result()
        results[i] = fut.result()
        if progress:
            progress(i + 1, total)
    return results


def child_seeds(seed: int, n: int) -> list[int]:
    """n independent integer seeds derived from ``seed`` (SeedSequence spawning)."""
    return [int(s.generate_state(1, dtype=np.uint64)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


# ------------------------------------------------------------------ files


def write_atomic(path: Path, data: bytes) -> None:
    """Write then rename: an interrupted run never leaves a half-written file."""
    path = Path(path)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # shortest exact round-trip: same numbers, same bytes
    return str(v)


def table_csv(columns: list[str], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return buf.getvalue().encode()


def read_csv(path: Path) -> list[dict]:
    """The saved table, numbers as floats (empty cells as NaN)."""
    out = []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            row = {}
            for k, v in r.items():
                try:
                    row[k] = float(v) if v != "" else math.nan
                except ValueError:
                    row[k] = v
            out.append(row)
    return out


def series(table: list[dict], name: str, key: str = "series") -> dict:
    """Columns of the rows whose ``key`` equals ``name``, as numpy arrays."""
    rows = [r for r in table if r[key] == name]
    return {k: np.array([r[k] for r in rows]) for k in (rows[0] if rows else {})}


def git_commit() -> str | None:
    """HEAD of the checkout the experiments run from, with "-dirty" when tracked files
    differ from it (the figure was then drawn by uncommitted code); None outside git."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=here, timeout=5)
        if head.returncode != 0 or not head.stdout.strip():
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                "../simulator"], capture_output=True, text=True, cwd=here, timeout=5)
        return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict:
    import bitarray
    import matplotlib
    import numba

    import simulator

    return {"python": platform.python_version(), "numpy": np.__version__,
            "bitarray": bitarray.__version__, "matplotlib": matplotlib.__version__,
            "numba": numba.__version__, "xentsim": simulator.__version__}


# ------------------------------------------------------------------ figures


def paper_style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": 8, "axes.labelsize": 8, "axes.titlesize": 8, "legend.fontsize": 8,
        "xtick.labelsize": 8, "ytick.labelsize": 8, "font.family": "DejaVu Sans",
        "axes.spines.top": False, "axes.spines.right": False, "axes.linewidth": 0.6,
        "lines.linewidth": 1.0, "lines.markersize": 3.5, "legend.frameon": False,
        "pdf.fonttype": 42, "ps.fonttype": 42,  # embed TrueType fonts
        "savefig.bbox": "tight", "savefig.pad_inches": 0.02, "figure.dpi": 100,
        "svg.hashsalt": "xentsim", "axes.grid": False,
    })
    return plt


def save_figure(fig, out_dir: Path, name: str) -> None:
    """PDF (vector, fonts embedded) and 300 dpi PNG, with no dates in the metadata."""
    for ext, kw in (("pdf", dict(metadata={"CreationDate": None, "ModDate": None,
                                           "Producer": None, "Creator": None})),
                    ("png", dict(dpi=300, metadata={"Software": None}))):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, **kw)
        write_atomic(out_dir / f"{name}.{ext}", buf.getvalue())


# ------------------------------------------------------------------ running one


def run(module, *, seed: int, quick: bool, out: Path, executor: Executor | None = None,
        progress: bool | None = None) -> dict:
    """Compute, save the table, plot from the saved table, save figure and record."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result: Result = module.compute(seed=seed, quick=quick, executor=executor,
                                    progress=Progress(module.NAME, progress))
    csv_path = out / f"{module.NAME}.csv"
    write_atomic(csv_path, table_csv(result.columns, result.rows))
    plt = paper_style()
    fig = module.plot(read_csv(csv_path), result.params)
    save_figure(fig, out, module.NAME)
    plt.close(fig)
    record = {
        "name": module.NAME, "title": module.TITLE, "seed": seed, "quick": quick,
        "params": result.params, "versions": versions(), "git_commit": git_commit(),
        "wall_seconds": round(time.perf_counter() - t0, 3),
        "verdicts": [v.to_dict() for v in result.verdicts],
        "passed": bool(all(v.passed for v in result.verdicts)),
    }
    write_atomic(out / f"{module.NAME}.json",
                 (json.dumps(record, indent=2, default=_json_default) + "\n").encode())
    return record


def _json_default(o):
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def standalone(module) -> None:
    """``python experiments/NAME.py [--quick] [--seed S] [--out DIR]``."""
    import argparse

    ap = argparse.ArgumentParser(description=module.TITLE)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "figures"))
    a = ap.parse_args()
    rec = run(module, seed=a.seed, quick=a.quick, out=Path(a.out))
    for v in rec["verdicts"]:
        print(("PASS " if v["passed"] else "FAIL ") + v["claim"])
    sys.exit(0 if rec["passed"] else 1)
