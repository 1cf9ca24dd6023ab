"""Convergence: bits per symbol against message length for codes built from q.

p = (.7, .2, .1), q = (.2, .3, .5) (docs/theory.md, reference values). The arithmetic coder meets
H(p, q^) ~ H(p,q) = 2.0727; the Huffman code built from q, lengths (2, 2, 1), meets its
own E_p[l] = 1.9, *below* H(p,q); the Shannon code, lengths (3, 2, 1), meets
E_p[l] = 2.6, inside [H(p,q), H(p,q) + 1).
"""

from __future__ import annotations

import math

import numpy as np

from simulator import build_code, cross_entropy, entropy, simulate

from simulator.experiments.common import (CODE_STYLE, PALETTE, TWO_COLUMNS, Experiment, Result,
                                          all_within, bound_holds, child_seeds, interval_how,
                                          length_spread, precision_of, quantised_cross_entropy_range,
                                          run_tasks, series, standalone, theory_half_width, within)

P = [0.7, 0.2, 0.1]
Q = [0.2, 0.3, 0.5]
CODES = ("arithmetic", "huffman", "shannon")


def measure(code, n, trials, seed):
    """Per-message bits per symbol of ``trials`` messages of n symbols (real bits)."""
    m = simulate(P, Q, code, n=n, trials=trials, rng=np.random.default_rng(seed))
    return [b / n for b in m.trial_bits]


def compute(seed: int, *, top_exponent: int, trials: int, executor=None, progress=None) -> Result:
    """Messages of n = 10^1, 10^1.5, ..., 10^top_exponent symbols, ``trials`` of each."""
    ns = sorted({int(round(10 ** e)) for e in np.arange(1, top_exponent + 0.01, 0.5)})
    tasks = [(code, n, trials, s) for (code, n), s in
             zip([(c, n) for c in CODES for n in ns], child_seeds(seed, len(CODES) * len(ns)))]
    results = run_tasks(measure, tasks, executor, progress)

    h, hpq = entropy(P), cross_entropy(P, Q)
    arith = build_code(Q, "arithmetic")
    limits = {"arithmetic": arith.expected_bits_per_symbol(P),
              "huffman": build_code(Q, "huffman").expected_length(P),
              "shannon": build_code(Q, "shannon").expected_length(P)}
    coders = {c: build_code(Q, c) for c in CODES}
    delta = 0.01 / len(CODES)  # family-wise 99% over the three verdicts below
    rows, verdicts = [], []
    sigma = {c: math.sqrt(length_spread(coders[c], P)[1]) for c in CODES}  # per symbol (k = 1)
    delta_all = 0.01 / len(tasks)  # family-wise 99% over every (code, n): panel (b)
    for (code, n, _, _), bps in zip(tasks, results):
        mean = float(np.mean(bps))
        half = theory_half_width(coders[code], P, n, trials, delta)
        lo, hi = np.percentile(bps, [2.5, 97.5])
        rows.append(dict(series=code, n=n, bits_per_symbol=mean, band_lo=lo, band_hi=hi,
                         interval_lo=limits[code] - half, interval_hi=limits[code] + half,
                         limit=limits[code], abs_error=abs(mean - limits[code]),
                         half_width=theory_half_width(coders[code], P, n, trials, delta_all),
                         sd_of_mean=sigma[code] / math.sqrt(n * trials)))
    for name, value in (("H(p)", h), ("H(p,q)", hpq), ("H(p,q^)", limits["arithmetic"]),
                        ("huffman E_p[l]", limits["huffman"]), ("shannon E_p[l]", limits["shannon"])):
        rows.append(dict(series=name, n=math.nan, bits_per_symbol=value))

    # Verdicts at the largest n: the mean over all messages lies in the interval around
    # the code's own limit (Bernstein with the exact length variance, family-wise 99%,
    # plus the code's slack per message).
    n = ns[-1]
    final = {r["series"]: r for r in rows if r.get("n") == n}
    halves = {c: theory_half_width(coders[c], P, n, trials, delta) for c in CODES}
    for code in CODES:
        verdicts.append(within(
            f"{code}: bits/symbol at n={n} converge to its own limit",
            final[code]["bits_per_symbol"], limits[code], halves[code],
            how=interval_how(coders[code], delta=delta, family=len(CODES)) + f", {trials} messages"))
    verdicts.append(bound_holds(
        "huffman: its limit is not H(p,q): the measured bits/symbol lie farther from H(p,q) "
        "than the interval's half-width",
        abs(final["huffman"]["bits_per_symbol"] - hpq), lower=halves["huffman"], lower_strict=True,
        basis="measured", theory=f"|E_p[l] - H(p,q)| = {abs(limits['huffman'] - hpq):.6f}",
        how="the half-width of huffman's interval"))
    verdicts.append(bound_holds(
        "shannon: H(p,q) <= E_p[l] < H(p,q) + 1 (exact)", limits["shannon"],
        lower=hpq, upper=hpq + 1, upper_strict=True))
    b = precision_of(arith)
    lo_q, hi_q = quantised_cross_entropy_range(P, Q, b)
    verdicts.append(bound_holds(
        f"arithmetic: H(p,q^) lies in the rounding range around H(p,q) at b = {b} (exact)",
        limits["arithmetic"], lower=lo_q, upper=hi_q,
        theory=f"H(p,q) = {hpq:.9f}; gap {limits['arithmetic'] - hpq:.2g}",
        how="simulator.experiments.common.quantised_cost_bounds averaged under p"))
    errors = [r for r in rows if r["series"] in CODES]
    verdicts.append(all_within(
        "at every n and for every code, |measured - limit| lies inside the interval (the log-log panel)",
        [(r["bits_per_symbol"], r["limit"], r["half_width"]) for r in errors],
        theory="each code's own limit",
        how=f"Bernstein with the exact length variance, family-wise 99% over {len(errors)} intervals, "
            f"{trials} messages each, plus the arithmetic coder's per-message slack"))
    params = dict(p=P, q=Q, n_values=ns, trials=trials, precision=arith.precision, sigma=sigma,
                  entropy_bits=h, cross_entropy_bits=hpq, limits=limits)
    cols = ["series", "n", "bits_per_symbol", "band_lo", "band_hi", "interval_lo", "interval_hi", "limit",
            "abs_error", "half_width", "sd_of_mean"]
    return Result(cols, rows, verdicts, params)


def plot(table, params):
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(TWO_COLUMNS, 2.6), gridspec_kw=dict(wspace=0.3))
    const = {r["series"]: r["bits_per_symbol"] for r in table if math.isnan(r["n"])}
    lines = [("H(p)", PALETTE["black"], ":"), ("H(p,q)", PALETTE["blue"], "-"),
             ("huffman E_p[l]", CODE_STYLE["huffman"]["color"], "--"),
             ("shannon E_p[l]", CODE_STYLE["shannon"]["color"], "-.")]
    for name, color, ls in lines:
        label = {"H(p)": "$H(p)$", "H(p,q)": r"$H(p,q) \approx H(p,\hat q)$",
                 "huffman E_p[l]": r"Huffman $E_p[\ell]$",
                 "shannon E_p[l]": r"Shannon $E_p[\ell]$"}[name]
        ax.axhline(const[name], color=color, linestyle=ls, linewidth=0.8, alpha=0.9, label=label)
    for code in CODES:
        s = series(table, code)
        st = CODE_STYLE[code]
        ax.fill_between(s["n"], s["band_lo"], s["band_hi"], color=st["color"], alpha=0.15, lw=0)
        ax.plot(s["n"], s["bits_per_symbol"], color=st["color"], marker=st["marker"],
                linestyle="none", label=f"{code}, measured")
    ax.set_xscale("log")
    ax.set_xlabel("message length n (symbols)")
    ax.set_ylabel("bits/symbol")
    ax.set_ylim(0.9, 3.9)
    ax.set_title("(a) mean of %d messages; bands: middle 95%%" % params["trials"], loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(1.1, -0.2), ncol=4, handlelength=2.2,
              columnspacing=1.0)

    # (b) the same means as errors from each code's own limit, on log-log axes; colours
    # and markers as in (a), so the legend names only the kinds of line
    floor = 1e-7
    grey = PALETTE["black"]
    for code in CODES:
        s = series(table, code)
        st = CODE_STYLE[code]
        bx.fill_between(s["n"], floor, s["half_width"], color=st["color"], alpha=0.06, lw=0)
        bx.plot(s["n"], s["half_width"], color=st["color"], lw=0.8, ls=st["linestyle"])
        err = np.maximum(s["abs_error"], floor)  # an exact hit would be drawn on the floor
        bx.plot(s["n"], err, color=st["color"], marker=st["marker"], linestyle="none")
    s = series(table, "shannon")
    bx.plot(s["n"], s["sd_of_mean"], color=grey, lw=0.9, ls=(0, (1.5, 1.5)))
    bx.plot([], [], color=grey, marker="o", ls="none", label="|measured - limit|")
    bx.plot([], [], color=grey, lw=0.8, label="99% half-width")
    bx.plot([], [], color=grey, lw=0.9, ls=(0, (1.5, 1.5)), label=r"$\sigma/\sqrt{n\,m}$, Shannon")
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_ylim(floor, 3)
    bx.set_xlabel("message length n (symbols)")
    bx.set_ylabel("|measured - own limit| (bits/symbol)")
    bx.set_title(r"(b) errors shrink like $1/\sqrt{n}$, inside the intervals", loc="left")
    bx.legend(loc="upper right", handlelength=2.0, borderaxespad=0.1)  # above the curves
    return fig


EXPERIMENT = Experiment(
    name="convergence",
    title="Bits per symbol converge to each code's own limit, not all to H(p,q)",
    quick=dict(top_exponent=4, trials=30),
    full=dict(top_exponent=6, trials=100),
    compute=compute, plot=plot,
)

if __name__ == "__main__":
    raise SystemExit(standalone(EXPERIMENT))
