"""Support mismatch: q(x) = 0 < p(x) makes H(p,q) infinite; smoothing makes it finite.

p = (1/2, 1/4, 1/4) and q = (1/2, 1/2, 0): no code built from q can encode symbol 2,
and the coder refuses it. With q_eps = (1 - eps) q + eps u, the arithmetic coder's cost
grows like p(2) log2(1/eps) = log2(1/eps)/4, until q_eps(2) = eps/3 falls below the
coder's precision floor 2^-b (b = 24 by default), where the frequency f >= 1 stops the
growth. The Huffman code built from q_eps does not grow at all: its lengths stay (1, 2, 2) or (2, 1, 2).
"""

from __future__ import annotations

import math

import numpy as np

from simulator import build_code, cross_entropy, mix_uniform, simulate
from simulator._validate import UnencodableSymbolError

from simulator.experiments.common import (CODE_STYLE, ONE_COLUMN, PALETTE, Experiment, Result, Verdict,
                                          all_within, bound_holds, child_seeds, interval_how,
                                          precision_of, quantised_cross_entropy_range, run_tasks,
                                          standalone, theory_half_width, within)

P = np.array([0.5, 0.25, 0.25])
Q = np.array([0.5, 0.5, 0.0])
EPS = tuple(10.0 ** -e for e in range(1, 13))
THEORY_VALUES = {1e-3: 3.638, 1e-6: 6.129, 1e-12: 11.112}  # docs/theory.md, H(p, q_eps)


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


def compute(seed: int, *, n: int, executor=None, progress=None) -> Result:
    """One message of n symbols per (code, eps)."""
    delta = 0.01 / (2 * len(EPS))  # family-wise 99% (Bernstein) over all points
    tasks = [(code, eps, n, s, delta) for (code, eps), s in
             zip([(c, e) for c in ("arithmetic", "huffman") for e in EPS], child_seeds(seed, 2 * len(EPS)))]
    res = run_tasks(measure, tasks, executor, progress)
    rows = []
    for (code, eps, _, _, _), r in zip(tasks, res):
        rows.append(dict(series=code, eps=eps, bits_per_symbol=r["bps"], half_width=r["half"],
                         expected=r["expected"], cross_entropy=cross_entropy(P, mix_uniform(Q, eps))))
    for e in np.logspace(0, -12.5, 126):
        rows.append(dict(series="H(p,q_eps)", eps=float(e), cross_entropy=cross_entropy(P, mix_uniform(Q, e))))
    arith_code = build_code(mix_uniform(Q, EPS[0]), "arithmetic")
    b = precision_of(arith_code)
    floor_eps = 3 * 2.0**-b  # q_eps(2) = eps / 3 reaches one frequency unit 2^-b
    cap_hi = quantised_cross_entropy_range(P, mix_uniform(Q, 1e-12).probs, b)[1]
    rows.append(dict(series="precision floor", eps=floor_eps))

    arith = {r["eps"]: r for r in rows if r["series"] == "arithmetic"}
    huff = [r for r in rows if r["series"] == "huffman"]
    # growth between eps = 1e-2 and 1e-6 (above the floor): slope in bits per bit of 1/eps
    a, z = arith[1e-2], arith[1e-6]
    span = math.log2(1e-2 / 1e-6)
    slope = (z["bits_per_symbol"] - a["bits_per_symbol"]) / span
    slope_half = (a["half_width"] + z["half_width"]) / span
    slope_theory = (z["expected"] - a["expected"]) / span
    msg_a, msg_h = refused("arithmetic"), refused("huffman")
    verdicts = [
        all_within("every measured point lies in its interval around the code's expectation",
                   [(r["bps"], r["expected"], r["half"]) for r in res],
                   theory="H(p, q^_eps) (arithmetic), E_p[l] (Huffman)",
                   how=interval_how(arith_code, delta=delta, family=2 * len(EPS))
                   + " (arithmetic only)"),
        all_within("H(p, q_eps) matches docs/theory.md at eps = 1e-3, 1e-6, 1e-12 (to 3 decimals)",
                   [(cross_entropy(P, mix_uniform(Q, e)), v, 5e-4) for e, v in THEORY_VALUES.items()],
                   theory=", ".join(f"{v:.3f}" for v in THEORY_VALUES.values()),
                   how="+-5e-4 (the values are quoted rounded to 3 decimals)", basis="exact"),
        within("arithmetic: measured cost grows like p(2) log2(1/eps) = 0.25 per bit of 1/eps "
               "(eps from 1e-2 to 1e-6)", slope, 0.25, slope_half + abs(slope_theory - 0.25),
               how=f"+-{slope_half:.4f} from the two points' intervals, +{abs(slope_theory - 0.25):.1e} "
                   "from the O(eps) terms"),
        Verdict(claim=f"below the precision floor the coder stops growing: at eps = 1e-12, H(p, q^) is at "
                      f"most the capped bound (no symbol costs more than b = {b} bits), which lies below "
                      "H(p, q_eps) (exact)",
                passed=arith[1e-12]["expected"] <= cap_hi < arith[1e-12]["cross_entropy"],
                measured=arith[1e-12]["expected"],
                theory=f"H(p, q_eps) = {arith[1e-12]['cross_entropy']:.4f}", basis="exact",
                bound=f"<= {cap_hi:.4f}: sum_x p(x) min(b, rounding bound on -log2 q^(x)) "
                      "(quantised_cost_bounds)"),
        bound_holds("measured: at eps = 1e-12 the coded bits lie below H(p, q_eps), beyond their interval",
                    arith[1e-12]["bits_per_symbol"] + arith[1e-12]["half_width"],
                    upper=arith[1e-12]["cross_entropy"], upper_strict=True, basis="measured",
                    theory=f"H(p, q^) = {arith[1e-12]['expected']:.4f}",
                    how="the measured value plus its interval's half-width"),
        bound_holds("huffman: E_p[l] stays in [1.5, 1.75] for every eps > 0 (no growth)",
                    [r["expected"] for r in huff], lower=1.5 - 1e-12, upper=1.75 + 1e-12,
                    theory="[1.5, 1.75]", how="+-1e-12 for floating-point rounding"),
        Verdict(claim="eps = 0: both coders refuse symbol 2 with a clear error (H(p,q) = inf)",
                passed="H(p,q) is infinite" in msg_a and "H(p,q) is infinite" in msg_h,
                measured=msg_a or "no error", theory="UnencodableSymbolError",
                bound="the message names the symbol", basis="exact"),
    ]
    params = dict(p=P.tolist(), q=Q.tolist(), eps_values=list(EPS), n=n, precision=b,
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
            ls="--", lw=0.8, label=rf"$H(p,\hat q_\epsilon)$, b = {params['precision']}")
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


EXPERIMENT = Experiment(
    name="support_mismatch",
    title="q(x) = 0 < p(x): refused; smoothed by eps, the cost grows like p(x) log2(1/eps)",
    quick=dict(n=20_000),
    full=dict(n=1_000_000),
    compute=compute, plot=plot,
)

if __name__ == "__main__":
    raise SystemExit(standalone(EXPERIMENT))
