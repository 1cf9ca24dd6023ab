"""Large runs: wall time, CPU time and peak memory of whole measurements, beside the peers.

Run:  python benchmarks/bench_scale.py [--n 1e8 1e9] [--jobs 1 2] [--codes huffman arithmetic kt]

Every run is a separate process, so its peak RSS (``ru_maxrss`` from ``os.wait4``) is
its own. The xentsim rows run the command line exactly as a user would
(``python -m simulator simulate ... --json``): sample from p, encode with a code built
from q, decode in step, compare, count, chunk by chunk. The peers do less:

- floor: numpy drawing the same number of symbols (``Generator.choice``) and summing
  ``-log2 q`` over them in chunks of 2^20, the arithmetic a formula would do instead of
  coding (no bits exist);
- constriction (Rust range coder, ``pip install -e ".[bench]"``): encode, decode and
  compare each chunk of 2^20 symbols as its own message (its encoder keeps the whole
  stream in memory, so one 10^9-symbol message would not be a bounded-memory peer);
  symbols drawn by numpy.

K = 256, p ~ (i+1)^-1.1, q = 0.9 Zipf(0.8) + 0.1 uniform (the workload of the other
benchmarks).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

SPEC_P = "zipf:256:1.1"
SPEC_Q = "mix:0.1:zipf:256:0.8"
CHUNK = 1 << 20

FLOOR = """
import sys, numpy as np
from simulator.distributions import mix_uniform, zipf
n = int(float(sys.argv[1])); p = np.asarray(zipf(256, 1.1)); q = np.asarray(mix_uniform(zipf(256, 0.8), 0.1))
cost = -np.log2(q); rng = np.random.default_rng(1); total = 0.0
for start in range(0, n, %d):
    x = rng.choice(256, size=min(%d, n - start), p=p)
    total += float(np.take(cost, x).sum())
print(total / n)
""" % (CHUNK, CHUNK)

CONSTRICTION = """
import sys, numpy as np, constriction
from simulator.distributions import mix_uniform, zipf
n = int(float(sys.argv[1])); p = np.asarray(zipf(256, 1.1)); q = np.asarray(mix_uniform(zipf(256, 0.8), 0.1))
cat = constriction.stream.model.Categorical(q.astype(np.float32), perfect=False)
rng = np.random.default_rng(1); bits = 0
for start in range(0, n, %d):
    x = rng.choice(256, size=min(%d, n - start), p=p).astype(np.int32)
    enc = constriction.stream.queue.RangeEncoder(); enc.encode(x, cat)
    words = enc.get_compressed()
    y = constriction.stream.queue.RangeDecoder(words).decode(cat, x.size)
    if not np.array_equal(x, y):
        raise SystemExit("round trip failed")
    bits += 32 * words.size
print(bits / n)
""" % (CHUNK, CHUNK)


def measured(argv: list[str]) -> dict:
    """Run argv; its wall and CPU seconds (its worker processes included), its peak RSS
    in MB (``ru_maxrss`` of the process itself, from ``os.wait4``) and its last line."""
    import resource
    import tempfile
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed: {err.read().decode().strip()[-500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss_mb": usage.ru_maxrss / 1024,
            "out": out.decode().strip().splitlines()[-1] if out.strip() else ""}


def xentsim_row(code: str, n: int, jobs: int) -> tuple:
    extra = {"huffman": ["--code", "huffman"], "arithmetic": ["--code", "arithmetic"],
             "kt": ["--code", "arithmetic", "--model", "kt"]}[code]
    argv = [sys.executable, "-m", "simulator", "simulate", "--p", SPEC_P, "--q", SPEC_Q,
            *extra, "-n", str(n), "--seed", "1", "--json", "--jobs", str(jobs)]
    r = measured(argv)
    m = json.loads(r["out"])
    if not m["roundtrip_ok"]:
        raise SystemExit("round trip failed")
    return (f"xentsim simulate {code}, --jobs {jobs}", n, r, f"{m['bits_per_symbol']:.6f} bits/sym")


def peer_row(name: str, script: str, n: int) -> tuple:
    r = measured([sys.executable, "-c", script, str(n)])
    return (name, n, r, f"{float(r['out']):.6f} bits/sym")


def print_rows(rows) -> None:
    head = ("run", "n", "wall s", "CPU s", "Msym/s (wall)", "peak RSS MB", "result")
    lines = [head]
    for name, n, r, note in rows:
        lines.append((name, f"{n:.0e}", f"{r['wall']:.1f}", f"{r['cpu']:.1f}",
                      f"{n / 1e6 / r['wall']:.1f}", f"{r['rss_mb']:.0f}", note))
    widths = [max(len(str(x[i])) for x in lines) for i in range(len(head))]
    for j, row in enumerate(lines):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
        if j == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", nargs="+", type=float, default=[1e8])
    ap.add_argument("--jobs", nargs="+", type=int, default=[1])
    ap.add_argument("--codes", nargs="+", default=["huffman"],
                    choices=["huffman", "arithmetic", "kt"])
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args()
    try:
        import constriction  # noqa: F401
        have_constriction = True
    except ImportError:
        have_constriction = False
    # warm the kernel cache so that no row pays for compiling
    subprocess.run([sys.executable, "-m", "simulator", "simulate", "--p", SPEC_P, "--q", SPEC_Q,
                    "--code", "arithmetic", "--model", "kt", "-n", "1000", "--seed", "1"],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "simulator", "simulate", "--p", SPEC_P, "--q", SPEC_Q,
                    "--code", "arithmetic", "-n", "1000", "--seed", "1"], check=True,
                   capture_output=True)
    rows = []
    for n in (int(v) for v in args.n):
        for code in args.codes:
            for jobs in args.jobs:
                rows.append(xentsim_row(code, n, jobs))
                print(f"  done: {rows[-1][0]} n={n:.0e}", file=sys.stderr, flush=True)
        if not args.no_peers:
            rows.append(peer_row("floor: numpy choice + take(-log2 q).sum", FLOOR, n))
            if have_constriction:
                rows.append(peer_row("constriction, 2^20-symbol messages", CONSTRICTION, n))
    print(f"\nLarge runs, K = 256 Zipf workload ({platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores); each row one process\n")
    print_rows(rows)


if __name__ == "__main__":
    main()
