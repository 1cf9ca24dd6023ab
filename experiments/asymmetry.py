"""Asymmetry: a q-code on p-data and a p-code on q-data pay different surcharges.

For each pair, three measurements with the arithmetic coder (real bits): p-data coded
with a code built from q (excess over H(p) = KL(p||q)), q-data coded with a code built
from p (excess over H(q) = KL(q||p)), and both p-data and q-data coded with a code built
from the midpoint m = (p + q)/2, whose mean excess is the Jensen-Shannon divergence,
the symmetric alternative.
"""

from __future__ import annotations

import numpy as np

from simulator import (bernoulli, build_code, cross_entropy, entropy, js_divergence, kl_divergence,
                       simulate, uniform, zipf)

from simulator.experiments.common import (ONE_COLUMN, PALETTE, Experiment, Result, Verdict, all_within,
                                          bound_holds, child_seeds, interval_how, precision_of,
                                          quantised_cross_entropy_range, run_tasks, standalone,
                                          theory_half_width)



def pairs():
    return {
        "Bern(.9)\nBern(.5)": (bernoulli(0.9).probs, bernoulli(0.5).probs),
        "(.7,.2,.1)\n(.2,.3,.5)": (np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.3, 0.5])),
        "Zipf 1.5\nuniform\nK = 16": (zipf(16, 1.5).probs, uniform(16).probs),
        "Zipf 1.5\nZipf 0.2\nK = 64": (zipf(64, 1.5).probs, zipf(64, 0.2).probs),
    }


def measure(label, data, code_from, n, seed, delta):
    """Excess over H(data) of an arithmetic code built from ``code_from`` (bits/symbol)."""
    m = simulate(data, code_from, "arithmetic", n=n, rng=np.random.default_rng(seed))
    h = entropy(data)
    code = build_code(code_from, "arithmetic")
    half = theory_half_width(code, data, n, 1, delta)
    # the rounding range of H(data, q^), relative to H(data, q): the coder's expectation
    # minus the divergence must lie in it
    lo, hi = quantised_cross_entropy_range(data, code_from, precision_of(code))
    hq = cross_entropy(data, code_from)
    return dict(excess=m.bits_per_symbol - h, expected=m.model_cross_entropy_bits - h, half=half,
                gap_lo=lo - hq, gap_hi=hi - hq)


def compute(seed: int, *, n: int, executor=None, progress=None) -> Result:
    """One message of n symbols for each of the four codings of every pair."""
    ps = pairs()
    jobs = []
    for label, (p, q) in ps.items():
        m = (p + q) / 2
        jobs += [(label, "KL(p||q)", p, q), (label, "KL(q||p)", q, p),
                 (label, "p vs m", p, m), (label, "q vs m", q, m)]
    seeds = child_seeds(seed, len(jobs))
    delta = 0.01 / len(jobs)  # family-wise 99% over every measurement (Bernstein)
    res = run_tasks(measure, [(lab, d, c, n, s, delta) for (lab, _, d, c), s in zip(jobs, seeds)],
                    executor, progress)
    got = {(lab, kind): r for (lab, kind, _, _), r in zip(jobs, res)}

    rows, verdicts, separations, gap_checks = [], [], [], []
    for label, (p, q) in ps.items():
        a, b = got[(label, "KL(p||q)")], got[(label, "KL(q||p)")]
        c, d = got[(label, "p vs m")], got[(label, "q vs m")]
        js = {k: (c[k] + d[k]) / 2 for k in ("excess", "expected", "half", "gap_lo", "gap_hi")}
        theory = {"KL(p||q)": kl_divergence(p, q), "KL(q||p)": kl_divergence(q, p),
                  "JS(p,q)": js_divergence(p, q)}
        for kind, r in (("KL(p||q)", a), ("KL(q||p)", b), ("JS(p,q)", js)):
            rows.append(dict(pair=label, measure=kind, measured=r["excess"], half_width=r["half"],
                             theory=theory[kind], coder_expected=r["expected"]))
            gap_checks.append((r["expected"] - theory[kind], r["gap_lo"], r["gap_hi"]))
        # asymmetry is significant: the difference, on the predicted side, exceeds the sum
        # of the two half-widths
        side = np.sign(theory["KL(p||q)"] - theory["KL(q||p)"])
        separations.append(side * (a["excess"] - b["excess"]) - (a["half"] + b["half"]))
    _, some_q = next(iter(ps.values()))
    arith = build_code(some_q, "arithmetic")
    verdicts.append(all_within(
        "every measured KL and JS lies in its interval around the coder's expectation",
        [(r["measured"], r["coder_expected"], r["half_width"]) for r in rows],
        theory="H(data, q^) - H(data) (JS: the mean of two codings, and of their half-widths)",
        how=interval_how(arith, delta=delta, family=len(jobs))))
    verdicts.append(bound_holds(
        "KL(p||q) and KL(q||p) differ, significantly and in the predicted direction, for every pair",
        separations, lower=0.0, lower_strict=True, basis="measured",
        theory="KL(p||q) != KL(q||p)",
        how="(difference on the predicted side) - (sum of the two half-widths), per pair"))
    q_min = min(float(np.min(c)) for _, _, _, c in jobs)
    verdicts.append(Verdict(
        claim="the coder's expectation equals the divergence up to quantisation: the difference lies in "
              "the rounding range for every measure and pair (exact)",
        passed=all(lo <= g <= hi for g, lo, hi in gap_checks), basis="exact",
        measured=f"largest |difference| {max(abs(g) for g, _, _ in gap_checks):.3g}",
        theory=f"largest range half-width {max((hi - lo) / 2 for _, lo, hi in gap_checks):.3g}",
        bound=f"simulator.experiments.common.quantised_cost_bounds (b = {precision_of(arith)}; the coding "
              f"distributions' smallest probability is {q_min:.2g})"))
    params = dict(n=n, pairs={k: [v[0].tolist(), v[1].tolist()] for k, v in ps.items()},
                  delta_per_interval=delta)
    cols = ["pair", "measure", "measured", "half_width", "theory", "coder_expected"]
    return Result(cols, rows, verdicts, params)


def plot(table, params):
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(r["pair"] for r in table))
    kinds = [("KL(p||q)", PALETTE["blue"], r"$KL(p\|q)$: q-code, p-data"),
             ("KL(q||p)", PALETTE["vermillion"], r"$KL(q\|p)$: p-code, q-data"),
             ("JS(p,q)", PALETTE["green"], r"$JS(p,q)$: m-code, both")]
    fig, ax = plt.subplots(figsize=(ONE_COLUMN, 2.8))
    width = 0.26
    for j, (kind, color, name) in enumerate(kinds):
        rows = [next(r for r in table if r["pair"] == lab and r["measure"] == kind) for lab in labels]
        x = np.arange(len(labels)) + (j - 1) * width
        ax.bar(x, [r["measured"] for r in rows], width, color=color, label=name,
               yerr=[r["half_width"] for r in rows], error_kw=dict(lw=0.6, capsize=1.5))
        ax.plot(x, [r["theory"] for r in rows], linestyle="none", marker="_", color="black",
                markersize=7, markeredgewidth=1.0, label="theory" if j == 0 else None)
    ax.set_xticks(np.arange(len(labels)))
    ax.set_xticklabels(labels)
    ax.text(-0.02, -0.03, "p:\nq:", transform=ax.transAxes, ha="right", va="top")
    ax.set_ylabel("measured excess (bits/symbol)")
    ax.legend(loc="upper left")
    return fig


EXPERIMENT = Experiment(
    name="asymmetry",
    title="KL(p||q) and KL(q||p) differ; the Jensen-Shannon divergence does not",
    quick=dict(n=50_000),
    full=dict(n=1_000_000),
    compute=compute, plot=plot,
)

if __name__ == "__main__":
    raise SystemExit(standalone(EXPERIMENT))
