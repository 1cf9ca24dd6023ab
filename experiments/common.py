"""What every experiment shares: its declaration, verdicts, sweeps, file sets, figures.

An experiment file ends with one :class:`Experiment` (name, title, sizes for the quick
and the full run, ``compute`` and ``plot``), and ``registry.py`` lists them in order.
:func:`run` does the rest: it calls ``compute``, writes ``NAME.csv`` (the plotted
numbers), draws the figure *from that file*, and writes ``NAME.pdf``, ``NAME.png`` and
``NAME.json`` (parameters, versions, commit, wall time, verdicts) as one set
(:func:`write_figure_set`).

Verdicts are built with :func:`within`, :func:`all_within` and :func:`bound_holds` from
numbers the library computes; each states its ``basis`` (:data:`BASES`): ``"measured"``
when it compares lengths of real coded bitstreams, ``"sample"`` when it checks a
statistic of sampled data that was not coded (a mean log-loss), ``"exact"`` when it
checks a value computed without sampling. Every experiment has at least one measured
verdict. Thresholds come from stated bounds (an interval, or
:func:`quantised_cost_bounds` for the coder's rounding), never from typed constants.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Iterable, Mapping

import numpy as np

from simulator._files import write_atomic
from simulator.bounds import bernstein_half_width, length_spread, theory_half_width  # noqa: F401
from simulator.engine import worker_pool  # noqa: F401  (the sweeps' pool: workers die with the run)
from simulator.errors import XentsimError

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
#: The four files of one figure; the JSON comes last (it records the others' sha256).
FIGURE_FILES = ("csv", "pdf", "png", "json")


# ------------------------------------------------------------------ declaration


@dataclass(frozen=True)
class Experiment:
    """One figure: what it is called, its sizes, how it computes and how it plots.

    ``compute(seed=..., executor=..., progress=..., **sizes) -> Result`` receives the
    sizes of the run (``quick`` or ``full``, two mappings with the same keys) as keyword
    arguments; ``plot(table, params) -> Figure`` draws from the saved CSV's rows.
    """

    name: str
    title: str
    quick: Mapping[str, object]
    full: Mapping[str, object]
    compute: Callable[..., "Result"]
    plot: Callable[[list, dict], object]

    def __post_init__(self):
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise XentsimError(f"experiment name is {self.name!r}, must be a Python identifier")
        if set(self.quick) != set(self.full):
            raise XentsimError(f"experiment {self.name!r}: quick sizes {sorted(self.quick)} and "
                               f"full sizes {sorted(self.full)} name different parameters")
        for attr in ("compute", "plot"):
            if not callable(getattr(self, attr)):
                raise XentsimError(f"experiment {self.name!r}: {attr} is not callable")
        object.__setattr__(self, "quick", MappingProxyType(dict(self.quick)))
        object.__setattr__(self, "full", MappingProxyType(dict(self.full)))

    def sizes(self, quick: bool) -> dict:
        """The keyword sizes of a quick or a full run."""
        return dict(self.quick if quick else self.full)


# ------------------------------------------------------------------ verdicts

#: What a verdict's number comes from:
#:
#: - ``"measured"``: lengths of real bitstreams (sampled, encoded, decoded and checked);
#: - ``"sample"``: a statistic of sampled data computed without coding it (a mean
#:   log-loss, a Monte Carlo average): random like a measurement, but no bits were written;
#: - ``"exact"``: a value computed from the distributions and codes alone, no sampling.
BASES = ("measured", "sample", "exact")


@dataclass(frozen=True)
class Verdict:
    """One claim of the theory, checked against numbers; ``basis`` is in :data:`BASES`."""

    claim: str
    passed: bool
    measured: float | str
    theory: float | str
    bound: str  # the interval or bound used, in words and numbers
    basis: str

    def __post_init__(self):
        if self.basis not in BASES:
            raise XentsimError(f"verdict basis is {self.basis!r}; choose from {', '.join(BASES)}")
        object.__setattr__(self, "passed", bool(self.passed))

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("measured", "theory"):
            if isinstance(d[k], (float, np.floating)):
                x = float(d[k])
                d[k] = None if math.isnan(x) else (str(x) if math.isinf(x) else x)
        return d


def _num(x) -> str:
    return f"{x:.6g}" if isinstance(x, (int, float, np.integer, np.floating)) else str(x)


def within(claim: str, measured: float, centre: float, half_width: float, *,
           basis: str = "measured", how: str = "", theory=None) -> Verdict:
    """Passes when |measured - centre| <= half_width; the bound names the interval
    [centre - half_width, centre + half_width] and ``how`` it was built."""
    m, c, h = float(measured), float(centre), float(half_width)
    bound = f"[{c - h:.6g}, {c + h:.6g}]" + (f": {how}" if how else "")
    return Verdict(claim, abs(m - c) <= h, m, c if theory is None else theory, bound, basis)


def all_within(claim: str, points: Iterable[tuple[float, float, float]], *, theory: str,
               how: str, basis: str = "measured") -> Verdict:
    """Passes when every (measured, centre, half_width) satisfies |measured - centre| <=
    half_width; reports how many points lie outside and the largest |error| / half-width."""
    pts = [(float(m), float(c), float(h)) for m, c, h in points]
    if not pts:
        raise XentsimError(f"all_within({claim!r}) got no points")
    out = sum(abs(m - c) > h for m, c, h in pts)
    worst = max((abs(m - c) / h if h > 0 else (math.inf if m != c else 0.0)) for m, c, h in pts)
    measured = (f"all {len(pts)} inside" if not out else f"{out} of {len(pts)} outside") + \
        f" (largest |error| / half-width {worst:.3f})"
    return Verdict(claim, out == 0, measured, theory, how, basis)


def bound_holds(claim: str, value, *, lower: float | None = None, upper: float | None = None,
                lower_strict: bool = False, upper_strict: bool = False, basis: str = "exact",
                theory=None, how: str = "") -> Verdict:
    """Passes when lower <= value <= upper (``<`` on a side marked strict); either side
    may be None. ``value`` may be a sequence: then every element must satisfy the bound
    and the verdict reports their range. The bound is written from the numbers given."""
    if lower is None and upper is None:
        raise XentsimError(f"bound_holds({claim!r}) needs a lower or an upper bound")
    values = np.atleast_1d(np.asarray(value, dtype=float))
    if values.size == 0:
        raise XentsimError(f"bound_holds({claim!r}) got no values")
    ok = True
    parts = []
    if lower is not None:
        ok &= bool(np.all(values > lower) if lower_strict else np.all(values >= lower))
        parts.append(("> " if lower_strict else ">= ") + _num(lower))
    if upper is not None:
        ok &= bool(np.all(values < upper) if upper_strict else np.all(values <= upper))
        parts.append(("< " if upper_strict else "<= ") + _num(upper))
    measured = float(values[0]) if np.ndim(value) == 0 else \
        f"{values.size} values in [{values.min():.6g}, {values.max():.6g}]"
    bound = " and ".join(parts) + (f": {how}" if how else "")
    return Verdict(claim, ok, measured, " and ".join(parts) if theory is None else theory, bound, basis)


def slack_text(code) -> str:
    """The code's per-message slack (``code.slack_bits``), e.g. "[-8, +1] bits per message"."""
    lo, hi = code.slack_bits
    return f"[{lo:+g}, {hi:+g}] bits per message".replace("[+", "[")


def interval_how(code, *, delta: float, family: int | None = None) -> str:
    """How :func:`simulator.bounds.theory_half_width` built an interval for ``code``."""
    text = "Bernstein with the exact length variance"
    if family:
        text += f", family-wise {1 - delta * family:.0%} over {family} intervals"
    else:
        text += f", delta = {delta:.2g}"
    if tuple(code.slack_bits) != (0.0, 0.0):
        text += ", plus the coder's " + slack_text(code)
    return text


def precision_of(code) -> int | None:
    """The coder's frequency precision b, from its report (None when it has none)."""
    return code.report().get("precision")


def quantised_cost_bounds(q, precision: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (lo, hi), in bits, on the arithmetic coder's cost -log2 q^(x) of each symbol
    with q(x) > 0, from q and b alone (before quantising); inf where q(x) = 0.

    The coder uses q^ = f / T, T = 2^b, with the integer f >= 1 (sum T) that maximises
    sum_x q(x) ln f(x) (:func:`simulator.models.static.quantise`). Let m = |supp q|.
    Derivation. The optimum has a threshold lam with q ln(1 + 1/f) <= lam for every
    symbol and lam <= q ln(1 + 1/(f - 1)) where f >= 2 (no single unit can move with
    profit). With 1/(f + 1) < ln(1 + 1/f) < 1/f this gives |f(x) - q(x) T'| < 1 for
    T' = 1/lam wherever f(x) >= 2, and q(x) T' <= 1/ln 2 where f(x) = 1 (floored).
    Summing f over the symbols: T - m < T' (1 - Q1) < T + m, Q1 the q-mass of the
    floored symbols, which is at most Q1max = sum of q(x) over q(x) (T - m) < 1/ln 2.
    Hence, for every x,

        hi(x) = b - log2(max(1, q(x) (T - m) - 1))            (f > q (T - m) - 1, f >= 1)
        lo(x) = b - log2(min(T - m + 1, q(x) (T + m) / (1 - Q1max) + 1))

    bound -log2 q^(x) (a floored symbol costs exactly b, inside both). Relative to
    -log2 q(x) the bounds are off by about (m + 1/q(x)) / (T ln 2): the units that must
    be spread over m symbols and the rounding of a single frequency. The certificate is
    checked in floating point; its rounding (~1e-16 relative) is far inside the slack
    of the strict inequalities used.
    """
    q = np.asarray(q, dtype=np.float64)
    b = int(precision)
    T = float(1 << b)
    on = q > 0
    m = int(on.sum())
    qs = q[on]
    q1max = float(qs[qs * (T - m) < 1 / math.log(2)].sum())
    hi = np.full(q.size, math.inf)
    lo = np.full(q.size, math.inf)
    hi[on] = b - np.log2(np.maximum(1.0, qs * (T - m) - 1))
    scale = (T + m) / (1 - q1max) if q1max < 1 else math.inf  # T' < scale
    lo[on] = b - np.log2(np.minimum(T - m + 1, qs * scale + 1))
    return lo, hi


def quantised_cross_entropy_range(p, q, precision: int) -> tuple[float, float]:
    """[lo, hi] containing H(p, q^) at precision b, from :func:`quantised_cost_bounds`
    averaged under p (bits per symbol; inf when p has mass where q = 0)."""
    p = np.asarray(p, dtype=np.float64)
    lo, hi = quantised_cost_bounds(q, precision)
    on = p > 0
    return float(p[on] @ lo[on]), float(p[on] @ hi[on])


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


def as_executor(executor) -> Executor | None:
    """The concurrent.futures Executor a sweep runs on, from what the caller gave.

    None (run in this process) and any :class:`concurrent.futures.Executor` (a process or
    thread pool, or a Dask client's ``get_executor()``) are used as they are; a Dask
    ``distributed.Client`` becomes ``client.get_executor(pure=False)`` (every task is
    computed afresh, never served from results the cluster still holds). The client is
    recognised through ``sys.modules``: an object of that type can only exist once the
    caller imported ``distributed``, so this never imports it. Anything else is refused.
    """
    if executor is None or isinstance(executor, Executor):
        return executor
    distributed = sys.modules.get("distributed")
    if distributed is not None and isinstance(executor, distributed.Client):
        return executor.get_executor(pure=False)
    if isinstance(executor, type):  # e.g. ProcessPoolExecutor itself, not one made from it
        what = f"the class {executor.__name__}, not an instance of it"
    else:
        shown = repr(executor)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        what = f"a {type(executor).__name__} ({shown})"
    raise XentsimError(
        f"executor is {what}: give a concurrent.futures Executor (e.g. a "
        "ProcessPoolExecutor(4)), a distributed.Client, or None to run in this process")


def run_tasks(fn, tasks: list[tuple], executor=None, progress=None) -> list:
    """``[fn(*t) for t in tasks]``, in order, optionally on any concurrent.futures Executor
    or a Dask ``distributed.Client`` (see :func:`as_executor`).

    Each task carries its own seed, so results do not depend on where or in which order
    they run: the same master seed gives the same table with 1 or 16 workers, or on a
    Dask cluster (tests/test_dask.py checks the bytes).
    """
    executor = as_executor(executor)
    total = len(tasks)
    results = [None] * total
    if executor is None:
        for i, t in enumerate(tasks):
            results[i] = fn(*t)
            if progress:
                progress(i + 1, total)
        return results
    futures = []
    try:
        for t in tasks:
            futures.append(executor.submit(fn, *t))
    except RuntimeError as exc:  # concurrent.futures: "cannot schedule new futures after shutdown"
        for fut in futures:
            fut.cancel()
        raise XentsimError(f"executor {type(executor).__name__} refused a task ({exc}); "
                           "give an executor that is running") from None
    try:
        for i, fut in enumerate(futures):  # in submission order: needs only .result()
            results[i] = fut.result()
            if progress:
                progress(i + 1, total)
    except BaseException:
        # the caller's executor (a cluster's) outlives this sweep: drop its queued tasks
        for fut in futures:
            fut.cancel()
        raise
    return results


def child_seeds(seed: int, n: int) -> list[int]:
    """n independent integer seeds derived from ``seed`` (SeedSequence spawning)."""
    return [int(s.generate_state(1, dtype=np.uint64)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


# ------------------------------------------------------------------ output folder


def checkout_root() -> Path | None:
    """The repository these files belong to, when they run from a checkout (the folder
    holding pyproject.toml, simulator/ and experiments/); None for an installed copy."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "simulator" / "__init__.py").is_file() \
            and (root / "experiments" / "common.py").is_file():
        return root
    return None


def default_out(quick: bool) -> Path:
    """Where a run writes when no ``--out`` is given.

    Full run: the repository's ``figures/`` when running from a checkout, whatever the
    current directory; otherwise (an installed copy) ``./figures``. Quick run: the
    subfolder ``quick/`` of that folder, which ignores itself in git (see
    :func:`prepare_out`): quick runs never overwrite the committed full-size figures.
    """
    root = checkout_root()
    base = (root if root is not None else Path.cwd()) / "figures"
    return base / "quick" if quick else base


def output_dir(text: str | None, quick: bool) -> Path:
    """The output folder for ``--out TEXT`` (None: :func:`default_out`). An empty TEXT is
    refused: it would silently mean the current directory."""
    if text is None:
        return default_out(quick)
    if not str(text).strip():
        raise XentsimError("--out is empty; give a folder (omit --out for the default)")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise XentsimError(f"--out {text} is a file, not a folder")
    return path


#: Most worker processes a sweep may ask for: more than this only thrashes a machine.
MAX_JOBS = 4 * (os.cpu_count() or 1)


def check_jobs(jobs: int) -> int:
    """``jobs`` if 1 <= jobs <= MAX_JOBS, else a clear error."""
    if not 1 <= int(jobs) <= MAX_JOBS:
        raise XentsimError(f"--jobs {jobs}: use 1 to {MAX_JOBS} worker processes "
                           f"(4 per core on this machine)")
    return int(jobs)


def prepare_out(out: Path) -> Path:
    """Create the folder; a folder named ``quick`` gets a ``.gitignore`` of ``*``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if out.name == "quick" and not (out / ".gitignore").exists():
        write_atomic(out / ".gitignore", b"# quick runs: never committed\n*\n")
    recover(out)
    return out


# ------------------------------------------------------------------ files


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _staging(out: Path, name: str) -> Path:
    return out / f".{name}.staging-{os.getpid()}"


def write_figure_set(out: Path, name: str, files: dict[str, bytes]) -> None:
    """Replace ``out/NAME.{csv,pdf,png,json}`` as a set.

    The guarantee. The four files are first written and fsynced into a staging folder
    ``out/.NAME.staging-PID``, the JSON last. Only then are they renamed into place, the
    JSON last: each rename is atomic, so a reader never sees a partial file, and never a
    JSON newer than the other three. The JSON records the sha256 of the CSV, PDF and
    PNG it belongs to, so :func:`figure_set_consistent` tells whether the files on disk
    form one set. A process killed before the renames leaves the old set untouched (and
    a staging folder without its JSON, deleted by the next run); killed during the four
    renames, it leaves a staging folder holding its JSON, which the next run into the
    same folder completes before anything else (:func:`recover`).
    """
    out = Path(out)
    if set(files) != set(FIGURE_FILES):
        raise XentsimError(f"a figure set is {FIGURE_FILES}, got {sorted(files)}")
    stage = _staging(out, name)
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    try:
        for ext in FIGURE_FILES:  # JSON last: its presence marks a complete stage
            write_atomic(stage / f"{name}.{ext}", files[ext])
        _fsync_dir(stage)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _commit(stage, out, name)


def _commit(stage: Path, out: Path, name: str) -> None:
    for ext in FIGURE_FILES:  # the JSON is renamed last
        src = stage / f"{name}.{ext}"
        if src.exists():
            os.replace(src, out / f"{name}.{ext}")
    _fsync_dir(out)
    shutil.rmtree(stage, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own stage from an earlier call: nothing is writing it now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has finished writing
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def recover(out: Path) -> list[str]:
    """Finish or discard what killed runs left in ``out``: a staging folder holding its
    JSON is moved into place (roll forward), one without is deleted. Staging folders of
    live processes are left alone. Returns the names of the sets completed."""
    done = []
    for stage in sorted(Path(out).glob(".*.staging-*")):
        name, _, pid = stage.name[1:].rpartition(".staging-")
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if (stage / f"{name}.json").exists():
            _commit(stage, Path(out), name)
            done.append(name)
        else:
            shutil.rmtree(stage, ignore_errors=True)
    return done


def figure_set_consistent(out: Path, name: str) -> bool:
    """True when NAME.csv, .pdf, .png and .json all exist and the JSON's recorded sha256
    match the other three files."""
    out = Path(out)
    try:
        record = json.loads((out / f"{name}.json").read_text())
        want = record["files_sha256"]
        return all(sha256((out / f"{name}.{ext}").read_bytes()) == want[f"{name}.{ext}"]
                   for ext in FIGURE_FILES[:-1])
    except (OSError, KeyError, ValueError):
        return False


# Floats are written with 12 significant digits. The same seed draws the same symbols
# and codes the same bits everywhere, but the exact expectations, entropies and interval
# widths are sums whose last bits depend on the machine (summation order, SIMD, libm):
# unrounded, CSVs from two machines differ by ~1e-14 relative. Twelve digits are far
# below anything a figure or a verdict resolves and far above that noise, so the files
# agree byte for byte unless a value lies within ~1e-14 of a 12-digit rounding boundary
# (rare, not impossible). Integers (sizes, counts, bit counts) are written exactly.
FLOAT_FORMAT = ".12g"


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return format(float(v), FLOAT_FORMAT)
    return str(v)


def table_csv(columns: list[str], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return buf.getvalue().encode()


def read_csv(source) -> list[dict]:
    """The saved table (a path or the CSV's bytes), numbers as floats (empty cells NaN)."""
    text = source.decode() if isinstance(source, bytes) else Path(source).read_text()
    out = []
    for r in csv.DictReader(io.StringIO(text, newline="")):
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
    root = checkout_root()
    if root is None:
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=root, timeout=5)
        if head.returncode != 0 or not head.stdout.strip():
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                "experiments", "simulator"], capture_output=True, text=True,
                               cwd=root, timeout=5)
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


def figure_bytes(fig) -> dict[str, bytes]:
    """PDF (vector, fonts embedded) and 300 dpi PNG, with no dates in the metadata."""
    out = {}
    for ext, kw in (("pdf", dict(metadata={"CreationDate": None, "ModDate": None,
                                           "Producer": None, "Creator": None})),
                    ("png", dict(dpi=300, metadata={"Software": None}))):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, **kw)
        out[ext] = buf.getvalue()
    return out


# ------------------------------------------------------------------ running one


def run(experiment: Experiment, *, seed: int, quick: bool, out: Path,
        executor=None, progress: bool | None = None) -> dict:
    """Compute, plot from the CSV's bytes, and write the figure's four files as a set.

    ``executor``: None, a concurrent.futures Executor or a ``distributed.Client``
    (:func:`as_executor`); the files do not depend on it."""
    executor = as_executor(executor)  # refuse a wrong object before creating the folder
    out = prepare_out(Path(out))
    t0 = time.perf_counter()
    sizes = experiment.sizes(quick)
    result: Result = experiment.compute(seed=seed, executor=executor,
                                        progress=Progress(experiment.name, progress), **sizes)
    files = {"csv": table_csv(result.columns, result.rows)}
    plt = paper_style()
    fig = experiment.plot(read_csv(files["csv"]), result.params)
    files.update(figure_bytes(fig))
    plt.close(fig)
    name = experiment.name
    record = {
        "name": name, "title": experiment.title, "seed": seed, "quick": quick,
        "sizes": sizes, "params": result.params, "versions": versions(),
        "git_commit": git_commit(), "wall_seconds": round(time.perf_counter() - t0, 3),
        "verdicts": [v.to_dict() for v in result.verdicts],
        "passed": bool(all(v.passed for v in result.verdicts)),
        "files_sha256": {f"{name}.{ext}": sha256(files[ext]) for ext in FIGURE_FILES[:-1]},
    }
    files["json"] = (json.dumps(record, indent=2, default=_json_default) + "\n").encode()
    write_figure_set(out, name, files)
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
    if isinstance(o, MappingProxyType):
        return dict(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def standalone(experiment: Experiment, argv: list[str] | None = None) -> int:
    """``python experiments/NAME.py [--quick] [--seed S] [--out DIR]``: one experiment.

    The default folder is :func:`default_out` (a quick run never writes into the
    committed figures); ``--out ''`` is refused with exit status 2.
    """
    import argparse

    from simulator.spec import whole_number

    def seed(text):
        try:
            return whole_number(text, minimum=0)
        except XentsimError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    ap = argparse.ArgumentParser(description=experiment.title, allow_abbrev=False)
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--seed", type=seed, default=2026, help="master seed (default 2026)")
    ap.add_argument("--out", default=None, metavar="DIR",
                    help="output folder (default: figures/ of the checkout, figures/quick/ with --quick)")
    a = ap.parse_args(argv)
    try:
        out = output_dir(a.out, a.quick)
    except XentsimError as exc:
        print(f"{ap.prog}: error: {exc}", file=sys.stderr)
        return 2
    try:
        rec = run(experiment, seed=a.seed, quick=a.quick, out=out)
    except XentsimError as exc:
        print(f"{ap.prog}: error: {exc}", file=sys.stderr)
        return 2
    for v in rec["verdicts"]:
        print(("PASS " if v["passed"] else "FAIL ") + v["claim"])
    print(f"files in {out.resolve()}")
    return 0 if rec["passed"] else 1
