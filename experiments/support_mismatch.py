"""Support mismatch: q(x) = 0 < p(x) makes H(p,q) infinite; smoothing makes it finite.

p = (1/2, 1/4, 1/4) and q = (1/2, 1/2, 0): no code built from q can encode symbol 2,
and the coder refuses it. With q_eps = (1 - eps) q + eps u, the arithmetic coder's cost
grows like p(2) log2(1/eps) = log2(1/eps)/4, until q_eps(2) = eps/3 falls below the
coder's precision floor 2^-24, where the frequency f >= 1 stops the growth. The Huffman
code built from q_eps does not grow at all: its lengths stay (1, 2, 2) or (2, 1, 2).
"""

from __future__ import annotations

import math

import numpy as np

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "experiments"

from simulator import build_code, cross_entropy, mix_uniform, simulate
from simulator._validate import UnencodableSymbolError

from .common import CODE_STYLE, ONE_COLUMN, PALETTE, Result, Verdict, child_seeds, run_tasks
from .common import standalone, theory_half_width

NAME = "support_mismatch"
TITLE = "q(x) = 0 < p(x): refused; smoothed by eps, the cost grows like p(x) log2(1/eps)"
P = np.array([0.5, 0.25, 0.25])
Q = np.array([0.5, 0.5, 0.0])
EPS = tuple(10.0 ** -e for e in range(1, 13))
THEORY_VALUES = {1e-3: 3.638, 1e-6: 6.129, 1e-12: 11.112}  # THEORY.md, H(p, q_eps)


def measure(code, eps, n, seed, delta):
    q = mix_uniform(Q, eps)
    m = simulate(P, q, code, n=n, rng=np.random.default_rng(seed))
    half = theory_half_width(build_code(q, code), P, n, 1, delta)
    return dict(bps=m.bits_per_symbol, expected=m.expected_bits_per_symbol, half=half)


def refused(code) -> str:
    """What the coder says when asked to code p-data with q itself (eps = 0)."""
    try:
        simulate(P, Q, code, n=1000, rng=np.random.default_rng(0))
    except UnencodableSymbolError as exc:
        return str(exc)
    return ""


def compute(seed: int, quick: bool, executor=None, progress=None) -> Result:
    n = 20_000 if quick else 1_000_000
    delta = 0.01 / (2 * len(EPS))  # family-wise 99% (Bernstein) over all points
    tasks = [(code, eps, n, s, delta) for (code, eps), s in
             zip([(c, e) for c in ("arithmetic", "huffman") for e in EPS], child_seeds(seed, 2 * len(EPS)))]
    res = run_tasks(measure, tasks, executor, progress)
    rows, inside = [], True
    for (code, eps, _, _, _), r in zip(tasks, res):
        half = r["half"]
        inside &= abs(r["bps"] - r["expected"]) <= half
        rows.append(dict(series=code, eps=eps, bits_per_symbol=r["bps"], half_width=half,
                         expected=r["expected"], cross_entropy=cross_entropy(P, mix_uniform(Q, eps))))
    for e in np.logspace(0, -12.5, 126):
        rows.append(dict(series="H(p,q_eps)", eps=float(e), cross_entropy=cross_entropy(P, mix_uniform(Q, e))))
    floor_eps = 3 * 2.0**-24  # q_eps(2) = eps / 3 reaches one frequency unit at b = 24
    rows.append(dict(series="precision floor", eps=floor_eps))

    arith = {r["eps"]: r for r in rows if r["series"] == "arithmetic"}
    huff = [r for r in rows if r["series"] == "huffman"]
    # growth between eps = 1e-2 and 1e-6 (above the floor): slope in bits per bit of 1/eps
    a, b = arith[1e-2], arith[1e-6]
    span = math.log2(1e-2 / 1e-6)
    slope = (b["bits_per_symbol"] - a["bits_per_symbol"]) / span
    slope_half = (a["half_width"] + b["half_width"]) / span
    slope_theory = (b["expected"] - a["expected"]) / span
    msg_a, msg_h = refused("arithmetic"), refused("huffman")
    verdicts = [
        Verdict(claim="every measured point lies in its interval around the code's expectation",
                passed=bool(inside), measured="all inside" if inside else "some outside",
                theory="H(p, q^_eps) (arithmetic), E_p[l] (Huffman)",
                bound="Bernstein with the exact variance, family-wise 99%, plus [-8, +1] bits/message "
                      "for arithmetic"),
        Verdict(claim="H(p, q_eps) matches THEORY.md at eps = 1e-3, 1e-6, 1e-12 (to 1e-3)",
                passed=all(abs(cross_entropy(P, mix_uniform(Q, e)) - v) < 1e-3 for e, v in THEORY_VALUES.items()),
                measured=", ".join(f"{cross_entropy(P, mix_uniform(Q, e)):.3f}" for e in THEORY_VALUES),
                theory=", ".join(f"{v:.3f}" for v in THEORY_VALUES.values()), bound="1e-3"),
        Verdict(claim="arithmetic: measured cost grows like p(2) log2(1/eps) = 0.25 per bit of 1/eps "
                      "(eps from 1e-2 to 1e-6)",
                passed=abs(slope - 0.25) <= slope_half + abs(slope_theory - 0.25),
                measured=slope, theory=0.25,
                bound=f"+-{slope_half:.4f} from the two points' intervals, +{abs(slope_theory - 0.25):.1e} "
                      "from the O(eps) terms"),
        Verdict(claim="below the precision floor the coder stops growing: H(p, q^) << H(p, q_eps) at eps = 1e-12",
                passed=arith[1e-12]["expected"] < arith[1e-12]["cross_entropy"] - 4,
                measured=arith[1e-12]["bits_per_symbol"], theory=arith[1e-12]["cross_entropy"],
                bound="at least 4 bits below H(p,q_eps)"),
        Verdict(claim="huffman: E_p[l] stays in [1.5, 1.75] for every eps > 0 (no growth)",
                passed=all(1.5 - 1e-12 <= r["expected"] <= 1.75 + 1e-12 for r in huff),
                measured=f"{min(r['expected'] for r in huff)}..{max(r['expected'] for r in huff)}",
                theory="[1.5, 1.75]", bound="exact"),
        Verdict(claim="eps = 0: both coders refuse symbol 2 with a clear error (H(p,q) = inf)",
                passed="H(p,q) is infinite" in msg_a and "H(p,q) is infinite" in msg_h,
                measured=msg_a or "no error", theory="UnencodableSymbolError", bound="the message names the symbol"),
    ]
    params = dict(p=P.tolist(), q=Q.tolist(), eps_values=list(EPS), n=n, precision=24,
                  floor_eps=floor_eps, delta_per_interval=delta, refusal_arithmetic=msg_a, refusal_huffman=msg_h)
    cols = ["series", "eps", "bits_per_symbol", "half_width", "expected", "cross_entropy"]
    return Result(cols, rows, verdicts, params)


def plot(table, params):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(ONE_COLUMN, 2.6))
    th = [r for r in table if r["series"] == "H(p,q_eps)"]
    ax.plot([r["eps"] for r in th], [r["cross_entropy"] for r in th], color=PALETTE["black"], lw=0.9,
            label=r"$H(p,q_\epsilon)$")
    ar = [r for r in table if r["series"] == "arithmetic"]
    ax.plot([r["eps"] for r in ar], [r["expected"] for r in ar], color=CODE_STYLE["arithmetic"]["color"],
            ls="--", lw=0.8, label=r"$H(p,\hat q_\epsilon)$, b = 24")
    for code in ("arithmetic", "huffman"):
        rs = [r for r in table if r["series"] == code]
        st = CODE_STYLE[code]
        ax.errorbar([r["eps"] for r in rs], [r["bits_per_symbol"] for r in rs],
                    yerr=[r["half_width"] for r in rs], linestyle="none", marker=st["marker"],
                    color=st["color"], markerfacecolor="none", capsize=1.5, lw=0.6,
                    label=f"{code}, measured")
    ax.axvline(params["floor_eps"], color=PALETTE["black"], ls=":", lw=0.7)
    ax.text(params["floor_eps"] / 1.6, 0.98, "precision\nfloor", transform=ax.get_xaxis_transform(),
            va="top", ha="left")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel(r"smoothing $\epsilon$ ($\epsilon = 0$: refused, $H(p,q) = \infty$)")
    ax.set_ylabel("bits/symbol")
    ax.set_ylim(0, 12)
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 1.02))
    return fig


if __name__ == "__main__":
    import sys

    standalone(sys.modules[__name__])
