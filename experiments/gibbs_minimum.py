"""Gibbs' inequality with real bits: the cost of a q-code on p-data is smallest at q = p.

q moves along the path q_t proportional to p^t (t = 0: uniform, t = 1: q = p, t > 1:
sharper than p). The same p-samples are coded with the arithmetic coder built from each
q_t (common random numbers), so differences between t's are not sampling noise. The
measured bits per symbol follow H(p) + KL(p||q_t) and are lowest at t = 1, where they
meet H(p).
"""

from __future__ import annotations

import numpy as np

from simulator import build_code, entropy, kl_divergence, simulate

from simulator.experiments.common import (ONE_COLUMN, PALETTE, Experiment, Result, all_within,
                                          interval_how, precision_of, run_tasks, standalone,
                                          theory_half_width, within)

P = np.array([0.4, 0.2, 0.15, 0.1, 0.07, 0.05, 0.02, 0.01])
TS = np.round(np.arange(0.0, 2.51, 0.25), 2)


def q_path(t: float) -> np.ndarray:
    w = P**t
    return w / w.sum()


def measure(t, n, trials, seed, delta):
    m = simulate(P, q_path(t), "arithmetic", n=n, trials=trials, rng=np.random.default_rng(seed))
    half = theory_half_width(build_code(q_path(t), "arithmetic"), P, n, trials, delta)
    return dict(bps=m.bits_per_symbol, expected=m.model_cross_entropy_bits, half=half)


def compute(seed: int, *, n: int, trials: int, executor=None, progress=None) -> Result:
    """``trials`` messages of n symbols at every t of the grid (the same messages)."""
    # One seed for every t: each q_t codes the very same messages.
    delta = 0.01 / len(TS)  # family-wise 99% (Bernstein) over the grid
    res = run_tasks(measure, [(float(t), n, trials, seed, delta) for t in TS], executor, progress)
    h = entropy(P)
    rows = []
    for t, r in zip(TS, res):
        rows.append(dict(series="measured", t=float(t), bits_per_symbol=r["bps"], half_width=r["half"],
                         theory=h + kl_divergence(P, q_path(t))))
    for t in np.round(np.linspace(0, 2.5, 101), 4):
        rows.append(dict(series="H(p) + KL(p||q_t)", t=float(t),
                         bits_per_symbol=h + kl_divergence(P, q_path(t))))
    measured = [r["bits_per_symbol"] for r in rows if r["series"] == "measured"]
    best_t = float(TS[int(np.argmin(measured))])
    one = int(np.flatnonzero(TS == 1.0)[0])
    at_one = measured[one]
    code_at_one = build_code(q_path(1.0), "arithmetic")
    quantisation = abs(res[one]["expected"] - h)
    verdicts = [
        all_within("every measured point lies in its interval around H(p, q^_t)",
                   [(r["bps"], r["expected"], r["half"]) for r in res], theory="H(p) + KL(p||q^_t)",
                   how=interval_how(code_at_one, delta=delta, family=len(TS))),
        within("the measured minimum is at t = 1, where q = p (common random numbers)",
               best_t, 1.0, 0.0, how="exact grid point"),
        within("at q = p the measured cost meets H(p)", at_one, h, res[one]["half"] + quantisation,
               how=f"the point's interval, plus |H(p,q^) - H(p)| = {quantisation:.1e} "
                   f"(quantisation of q = p at b = {precision_of(code_at_one)})"),
    ]
    params = dict(p=P.tolist(), t_values=TS.tolist(), n=n, trials=trials, entropy_bits=h,
                  path="q_t proportional to p^t", delta_per_interval=delta)
    return Result(["series", "t", "bits_per_symbol", "half_width", "theory"], rows, verdicts, params)


def plot(table, params):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(ONE_COLUMN, 2.4))
    th = [r for r in table if r["series"] != "measured"]
    ms = [r for r in table if r["series"] == "measured"]
    ax.plot([r["t"] for r in th], [r["bits_per_symbol"] for r in th], color=PALETTE["blue"],
            label=r"$H(p) + KL(p\,\|\,q_t)$")
    ax.errorbar([r["t"] for r in ms], [r["bits_per_symbol"] for r in ms],
                yerr=[r["half_width"] for r in ms], linestyle="none", marker="o",
                color=PALETTE["vermillion"], markerfacecolor="none", capsize=1.5, lw=0.6,
                label="arithmetic coder, measured")
    ax.axhline(params["entropy_bits"], color=PALETTE["black"], linestyle=":", lw=0.8, label="$H(p)$")
    ax.axvline(1.0, color=PALETTE["black"], linestyle="--", lw=0.6)
    ax.text(1.04, 0.35, "$q = p$", transform=ax.get_xaxis_transform(), va="top")
    ax.set_xlabel(r"path parameter $t$,  $q_t \propto p^{\,t}$")
    ax.set_ylabel("bits/symbol")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, columnspacing=1.0)
    return fig


EXPERIMENT = Experiment(
    name="gibbs_minimum",
    title="Bits per symbol are minimal, H(p), exactly where q = p",
    quick=dict(n=10_000, trials=5),
    full=dict(n=200_000, trials=10),
    compute=compute, plot=plot,
)

if __name__ == "__main__":
    raise SystemExit(standalone(EXPERIMENT))
