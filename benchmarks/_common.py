"""Shared helpers for the benchmarks: the workload, best-of timing, the table."""

from __future__ import annotations

import platform
import time

import numpy as np

from simulator.distributions import mix_uniform, zipf

#: The workload of the engine issue: K = 256, p ~ (i+1)^-1.1, q = 0.9 zipf(0.8) + 0.1 u.
K = 256
P = zipf(K, 1.1)
Q = mix_uniform(zipf(K, 0.8), 0.1)


def best_of(fn, repeat: int = 3) -> float:
    """The fastest of ``repeat`` wall-clock runs of ``fn()``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def print_table(title: str, rows: list[tuple]) -> None:
    """rows: (operation, N, ours_msym, peer_name, peer_msym, target_ratio or None)."""
    print(f"\n{title}  ({platform.processor() or platform.machine()}, numpy {np.__version__})\n")
    head = ("operation", "N", "xentsim Msym/s", "peer", "peer Msym/s", "ratio", "target")
    lines = [head]
    for op, n, ours, peer, theirs, target in rows:
        ratio = ours / theirs if theirs else float("nan")
        tgt = "-" if target is None else f">= {target:g}x " + ("met" if ratio >= target else "MISSED")
        fmt = lambda v: "-" if v != v else (f"{v:.1f}" if v >= 1 else f"{v:.3f}")  # noqa: E731
        lines.append((op, f"{n:.0e}", fmt(ours), peer, fmt(theirs),
                      "-" if ratio != ratio else f"{ratio:.2f}x", tgt))
    widths = [max(len(str(r[i])) for r in lines) for i in range(len(head))]
    for j, r in enumerate(lines):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
        if j == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
