"""Per-module-group mutation score from ``mutmut results --all true`` on stdin.

Killed = killed by a failing test or by a timeout (a mutant that makes the tests hang is
detected). Survivors are listed, with "no tests" (no selected test calls the function)
and "not checked" (the run was stopped first) counted apart.

``--sample FILE`` (names, one per line, drawn uniformly at random from the mutants not
yet run, with a fixed seed): for a group with mutants still not checked, estimate the
score of the whole group from the sample, which was run first. Among the n sampled
mutants with a result, k were killed (equivalent ones count as not killed, so the
estimate leans low); the N mutants still not run hold N k/n killed mutants by estimate,
and N p_lo .. N p_hi at 99% confidence, where [p_lo, p_hi] is the Clopper-Pearson
interval of k out of n (sampling without replacement only narrows it).
"""

import math

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

#: Survivors judged equivalent (name, then a one-line reason), see that file's header.
EQUIVALENT_FILE = Path(__file__).with_name("mutation_equivalent.txt")


def equivalent_names() -> set[str]:
    if not EQUIVALENT_FILE.exists():
        return set()
    lines = EQUIVALENT_FILE.read_text(encoding="utf-8").splitlines()
    return {ln.split()[0] for ln in lines if ln.strip() and not ln.startswith("#")}

GROUPS = [
    ("measures", "simulator.measures."),
    ("codes (prefix, huffman, shannon, block)", ("simulator.codes.prefix.",
                                                  "simulator.codes.huffman.",
                                                  "simulator.codes.shannon.",
                                                  "simulator.codes.block.")),
    ("codes (arithmetic)", "simulator.codes.arithmetic."),
    ("engine", "simulator.engine."),
    ("bounds", "simulator.bounds."),
]


def group_of(name: str) -> str:
    for label, prefix in GROUPS:
        if name.startswith(prefix):
            return label
    return "other"


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    lp, lq = math.log(p), math.log1p(-p)
    return min(1.0, sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                                 + i * lp + (n - i) * lq) for i in range(k + 1)))


def clopper_pearson(k: int, n: int, level: float = 0.99) -> tuple[float, float]:
    """Exact two-sided interval for a binomial proportion (k successes in n)."""
    a = (1 - level) / 2

    def solve(f) -> float:  # f decreasing in p; the p where f(p) = a
        lo, hi = 0.0, 1.0
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) > a else (lo, mid)
        return (lo + hi) / 2

    p_lo = 0.0 if k == 0 else 1 - solve(lambda r: _binom_cdf(n - k, n, r))  # by symmetry
    p_hi = 1.0 if k == n else solve(lambda p: _binom_cdf(k, n, p))
    return p_lo, p_hi


def summarise(lines, sample=frozenset(), equivalent=None) -> list[dict]:
    """One row per module group: counts by status ("killed" includes timeouts), the
    scores, and with a sample the estimate described in the module doc."""
    equivalent = equivalent_names() if equivalent is None else equivalent
    counts: dict[str, Counter] = defaultdict(Counter)
    drawn: dict[str, Counter] = defaultdict(Counter)  # the sample's results, per group
    names: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        m = re.match(r"\s*(\S+): (.+)$", line)
        if not m:
            continue
        name, status = m.group(1), m.group(2).strip()
        g = group_of(name)
        if status == "survived" and name in equivalent:
            status = "equivalent"
        if status == "timeout":
            status = "killed"
        counts[g][status] += 1
        if name in sample:
            drawn[g][status] += 1
        if status in ("survived", "no tests"):
            names[g].append(f"{name} ({status})")
    rows = []
    for label, _ in GROUPS + [("other", "")]:
        c = counts.get(label)
        if not c:
            continue
        total = sum(c.values())
        row = {"group": label, "killed": c["killed"], "total": total,
               "non_equivalent": total - c["equivalent"], "counts": dict(c),
               "survivors": names[label]}
        d, unrun = drawn.get(label), c["not checked"]
        n = sum(v for k, v in d.items() if k != "not checked") if d else 0
        if unrun and n:
            k = d["killed"]
            lo, hi = clopper_pearson(k, n)
            row["sample"] = {"killed": k, "run": n, "not_run": unrun,
                             "estimate": (c["killed"] + unrun * k / n) / total,
                             "low": (c["killed"] + unrun * lo) / total,
                             "high": (c["killed"] + unrun * hi) / total}
        rows.append(row)
    return rows


def main() -> None:
    args = sys.argv[1:]
    sample: frozenset[str] = frozenset()
    if "--sample" in args:
        path = Path(args[args.index("--sample") + 1])
        sample = frozenset(ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()
                           if ln.strip() and not ln.startswith("#"))
    rows = summarise(sys.stdin, sample)
    print(f"{'group':42s} {'killed':>7s} {'total':>6s} {'score':>7s} {'non-eq':>7s} {'score':>7s}  other")
    for r in rows:
        rest = ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items()) if k != "killed")
        print(f"{r['group']:42s} {r['killed']:7d} {r['total']:6d} {100 * r['killed'] / r['total']:6.1f}% "
              f"{r['non_equivalent']:7d} {100 * r['killed'] / max(r['non_equivalent'], 1):6.1f}%  {rest}")
    for r in rows:
        if "sample" in r:
            e = r["sample"]
            print(f"\n{r['group']}: sample {e['killed']} / {e['run']} killed; {e['not_run']} not run; "
                  f"estimated killed / total {100 * e['estimate']:.1f}% "
                  f"(99%: {100 * e['low']:.1f} to {100 * e['high']:.1f}%)")
    if "-v" in args:
        for r in rows:
            print(f"\n{r['group']}:")
            print("\n".join("  " + n for n in r["survivors"]))


if __name__ == "__main__":
    main()
