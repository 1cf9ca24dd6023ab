"""Per-module-group mutation score from ``mutmut results --all true`` on stdin.

Killed = killed by a failing test or by a timeout (a mutant that makes the tests hang is
detected). Survivors are listed, with "no tests" (no selected test calls the function)
and "not checked" (the run was stopped first) counted apart.
"""

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


def main() -> None:
    counts: dict[str, Counter] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    equivalent = equivalent_names()
    for line in sys.stdin:
        m = re.match(r"\s*(\S+): (.+)$", line)
        if not m:
            continue
        name, status = m.group(1), m.group(2).strip()
        g = group_of(name)
        if status == "survived" and name in equivalent:
            status = "equivalent"
        counts[g][status] += 1
        if status in ("survived", "no tests"):
            survivors[g].append(f"{name} ({status})")
    print(f"{'group':42s} {'killed':>7s} {'total':>6s} {'score':>7s} {'non-eq':>7s} {'score':>7s}  other")
    for label, _ in GROUPS + [("other", "")]:
        c = counts.get(label)
        if not c:
            continue
        killed = c["killed"] + c["timeout"]
        total = sum(c.values())
        rest = ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if k not in ("killed", "timeout"))
        non_eq = total - c["equivalent"]
        print(f"{label:42s} {killed:7d} {total:6d} {100 * killed / total:6.1f}% {non_eq:7d} "
              f"{100 * killed / non_eq if non_eq else 0.0:6.1f}%  {rest}")
    if "-v" in sys.argv:
        for label, names in survivors.items():
            print(f"\n{label}:")
            print("\n".join("  " + n for n in names))


if __name__ == "__main__":
    main()
