"""Memory: a Markov source coded with and without its memory.

One order-1 chain mu on K = 4 symbols (sticky rows, stationary law pi) is arithmetic
coded five ways, each on the same messages (common random numbers):

- order-0 q = pi: converges to H(pi) = H(mu) + memory, where memory = H(pi) - H(mu)
  is what a code that ignores the past cannot save;
- order-0 mismatched q: to H(pi, q) = H(mu) + memory + KL(pi || q);
- the true chain as an order-1 context model: to the entropy rate H(mu);
- a mismatched chain Q (half P, half uniform): to the cross-entropy rate H(mu, Q);
- adaptive order-1 KT (counts per context): to H(mu), paying about
  (contexts)(K - 1)/2 log2 n bits over the true chain.

(a) bits per symbol against n, with family-wise intervals; (b) the KT coder's extra
bits per message over the true chain's coder on the same messages, against n, beside
a line of slope (contexts)(K - 1)/2 bits per unit of log2 n; (c) the order-0 mismatched cost
as a stacked bar of three measured pieces: the true chain's bits (the rate), what the
order-0 q = pi coder pays beyond them (the memory) and what the mismatched q pays
beyond that (the marginal KL), beside the exact values.
"""

from __future__ import annotations

import math

import numpy as np

from simulator import (cross_entropy, cross_entropy_rate, entropy, entropy_rate, kl_divergence,
                       simulate, stationary_distribution)
from simulator.bounds import student_t_quantile
from simulator.experiments.common import (PALETTE, TWO_COLUMNS, Experiment, Result, bound_holds,
                                          child_seeds, run_tasks, series, standalone, within)

K = 4
P = np.array([[0.85, 0.10, 0.03, 0.02],
              [0.10, 0.75, 0.10, 0.05],
              [0.05, 0.10, 0.70, 0.15],
              [0.10, 0.05, 0.15, 0.70]])
Q_CHAIN = 0.5 * P + 0.5 / K  # believes in half as much memory
Q_MISMATCHED = np.array([0.15, 0.20, 0.30, 0.35])
CONTEXTS = K  # order-1 KT: one set of counts per previous symbol
#: the coders: name -> (q, simulate options)
CODERS = {
    "order-0 q = pi": ("pi", {}),
    "order-0 q mismatched": (Q_MISMATCHED, {}),
    "true chain (order 1)": (P, {}),
    "mismatched chain Q": (Q_CHAIN, {}),
    "adaptive KT, order 1": (np.full(K, 1 / K), {"model": "kt", "order": 1}),
}
STATIC = ("order-0 q = pi", "order-0 q mismatched", "true chain (order 1)", "mismatched chain Q")
STYLE = {
    "order-0 q = pi": dict(color=PALETTE["orange"], marker="s"),
    "order-0 q mismatched": dict(color=PALETTE["vermillion"], marker="v"),
    "true chain (order 1)": dict(color=PALETTE["blue"], marker="o"),
    "mismatched chain Q": dict(color=PALETTE["purple"], marker="D"),
    "adaptive KT, order 1": dict(color=PALETTE["green"], marker="^"),
}
SLACK = (-8.0, 1.0)  # the arithmetic coder's real - ideal bits per message


def measure(name, n, trials, seed):
    """(bits of each message, exact expected bits/symbol or NaN) for one coder; the
    seed is shared by all coders at one n, so they code the same messages."""
    q, options = CODERS[name]
    if isinstance(q, str):
        q = stationary_distribution(P)
    m = simulate(P, q, "arithmetic", n=n, trials=trials, rng=np.random.default_rng(seed),
                 **options)
    return list(m.trial_bits), m.expected_bits_per_symbol


def _t_half(values, delta):
    values = np.asarray(values, dtype=np.float64)
    return student_t_quantile(1 - delta, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)


def compute(seed: int, *, top_exponent: float, trials: int, executor=None, progress=None) -> Result:
    ns = sorted({int(round(10 ** e)) for e in np.arange(2, top_exponent + 0.01, 0.5)})
    seeds = child_seeds(seed, len(ns))
    tasks = [(name, n, trials, s) for n, s in zip(ns, seeds) for name in CODERS]
    results = dict(zip([(t[0], t[1]) for t in tasks], run_tasks(measure, tasks, executor, progress)))

    pi = stationary_distribution(P)
    rate, h_pi = entropy_rate(P), entropy(pi)
    limits = {"order-0 q = pi": h_pi, "order-0 q mismatched": cross_entropy(pi, Q_MISMATCHED),
              "true chain (order 1)": rate, "mismatched chain Q": cross_entropy_rate(P, Q_CHAIN),
              "adaptive KT, order 1": rate}
    memory, marginal_kl = h_pi - rate, kl_divergence(pi, Q_MISMATCHED)
    slope = CONTEXTS * (K - 1) / 2  # bits per unit of log2 n
    n_top = ns[-1]
    # the KT growth is checked from about n_top / 100 (at least 300: ~75 symbols per context)
    n_mid = min(ns, key=lambda n: abs(math.log(n) - math.log(max(n_top / 100, 300))))
    # family-wise 99%: 4 static limits + KT growth + 3 bar pieces
    family = 8
    delta = 0.01 / family
    lo, hi = SLACK

    rows, verdicts = [], []
    slack = max(-lo, hi)  # bits per message, either way
    for (name, n), (bits, expected) in results.items():
        bps = np.array(bits) / n
        half = _t_half(bps, delta) + slack / n
        rows.append(dict(series=name, n=n, bits_per_symbol=float(bps.mean()),
                         interval_lo=float(bps.mean()) - half, interval_hi=float(bps.mean()) + half,
                         expected=expected, limit=limits[name]))
    # (b) KT redundancy over the true chain's coder, message by message
    for n in ns:
        diff = np.array(results[("adaptive KT, order 1", n)][0]) - \
            np.array(results[("true chain (order 1)", n)][0])
        half = _t_half(diff, delta)
        rows.append(dict(series="kt redundancy", n=n, bits_per_symbol=float(diff.mean()),
                         interval_lo=float(diff.mean()) - half - (hi - lo),
                         interval_hi=float(diff.mean()) + half + (hi - lo),
                         limit=slope * math.log2(n)))
    # (c) the stacked bar at n_top: three measured pieces from the same messages
    b = {name: np.array(results[(name, n_top)][0]) / n_top for name in STATIC}
    e = {name: results[(name, n_top)][1] for name in STATIC}
    pieces = [("rate", b["true chain (order 1)"], e["true chain (order 1)"], rate, 1),
              ("memory", b["order-0 q = pi"] - b["true chain (order 1)"],
               e["order-0 q = pi"] - e["true chain (order 1)"], memory, 2),
              ("marginal KL", b["order-0 q mismatched"] - b["order-0 q = pi"],
               e["order-0 q mismatched"] - e["order-0 q = pi"], marginal_kl, 2)]
    for piece, values, exp_value, exact, coders in pieces:
        half = _t_half(values, delta) + coders * (hi - lo) / n_top
        rows.append(dict(series=f"bar {piece}", n=n_top, bits_per_symbol=float(values.mean()),
                         interval_lo=float(values.mean()) - half,
                         interval_hi=float(values.mean()) + half, expected=exp_value,
                         limit=exact))
        verdicts.append(within(
            f"bar: the measured {piece} piece of the order-0 cost at n={n_top} matches "
            f"its exact expectation ({'rate H(mu)' if piece == 'rate' else piece})",
            values.mean(), exp_value, half, theory=exact,
            how=f"Student t across {trials} messages (the same messages for every coder), "
                f"family-wise 99% over {family}, plus the coders' [-8, +1] bits per message"))
    for name, value, lim in (("rate", rate, "H(mu)"), ("memory", memory, "H(pi) - H(mu)"),
                             ("marginal KL", marginal_kl, "KL(pi||q)")):
        rows.append(dict(series=f"exact {name}", n=math.nan, bits_per_symbol=value))

    # (a) verdicts: each static coder at n_top meets its exact expectation
    by = {(r["series"], r["n"]): r for r in rows}
    for name in STATIC:
        r = by[(name, n_top)]
        half = (r["interval_hi"] - r["interval_lo"]) / 2
        verdicts.append(within(
            f"{name}: bits/symbol at n={n_top} meet the exact expectation "
            f"(limit {limits[name]:.6f})",
            r["bits_per_symbol"], r["expected"], half,
            how=f"Student t across {trials} messages, family-wise 99% over {family}, plus "
                "the coder's [-8, +1] bits per message"))
    first = -math.log2(min(P.min(), Q_CHAIN.min()))  # the first symbol's cost in context 0, at most
    verdicts.append(bound_holds(
        f"the exact expectations at n={n_top} lie within 1e-5 + {first:.2f}/n bits of H(pi), "
        "H(pi,q), H(mu) and H(mu,Q) (quantisation at b = 24; the first symbol, coded in the "
        "zero-padded context 0, costs at most -log2 min q bits)",
        [abs(by[(name, n_top)]["expected"] - limits[name]) for name in STATIC],
        upper=1e-5 + first / n_top))
    verdicts.append(bound_holds(
        "H(pi, q) = H(mu) + memory + KL(pi||q) (exact)",
        abs(limits["order-0 q mismatched"] - (rate + memory + marginal_kl)), upper=1e-12))
    # (b) verdict: the KT redundancy grows by (contexts)(K-1)/2 log2(n_top / n_mid)
    r_top, r_mid = by[("kt redundancy", n_top)], by[("kt redundancy", n_mid)]
    d_top = np.array(results[("adaptive KT, order 1", n_top)][0]) - \
        np.array(results[("true chain (order 1)", n_top)][0])
    d_mid = np.array(results[("adaptive KT, order 1", n_mid)][0]) - \
        np.array(results[("true chain (order 1)", n_mid)][0])
    se = math.sqrt(d_top.var(ddof=1) / trials + d_mid.var(ddof=1) / trials)
    tol = student_t_quantile(1 - delta, trials - 1) * se + 2 * (hi - lo) + 1.0
    growth = r_top["bits_per_symbol"] - r_mid["bits_per_symbol"]
    verdicts.append(within(
        f"adaptive KT, order 1: its extra bits over the true chain grow by "
        f"(contexts)(K-1)/2 log2(n) = {slope:g} log2({n_top}/{n_mid}) between n={n_mid} and {n_top}",
        growth, slope * math.log2(n_top / n_mid), tol,
        how="Student t of the difference of the means (family-wise 99%), plus both coders' "
            "[-8, +1] bits at both n (18 bits) and 1 bit for the O(1/n) terms"))

    params = dict(P=P, Q_chain=Q_CHAIN, q_mismatched=Q_MISMATCHED, pi=pi, n_values=ns,
                  trials=trials, entropy_rate_bits=rate, marginal_entropy_bits=h_pi,
                  memory_bits=memory, marginal_kl_bits=marginal_kl, limits=limits,
                  kt_slope_bits_per_log2n=slope, n_top=n_top)
    cols = ["series", "n", "bits_per_symbol", "interval_lo", "interval_hi", "expected", "limit"]
    return Result(cols, rows, verdicts, params)


def plot(table, params):
    import matplotlib.pyplot as plt

    fig, (ax, bx, cx) = plt.subplots(1, 3, figsize=(TWO_COLUMNS, 2.2),
                                     gridspec_kw=dict(width_ratios=[1.5, 1.0, 0.8]))
    limits = params["limits"]
    for name in CODERS:
        s = series(table, name)
        st = STYLE[name]
        ax.axhline(limits[name], color=st["color"], linewidth=0.7, linestyle=":")
        ax.errorbar(s["n"], s["bits_per_symbol"],
                    yerr=[s["bits_per_symbol"] - s["interval_lo"], s["interval_hi"] - s["bits_per_symbol"]],
                    color=st["color"], marker=st["marker"], linestyle="none", capsize=1.5,
                    elinewidth=0.7, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("message length n (symbols)")
    ax.set_ylabel("bits/symbol (dotted: limits)")
    ax.set_title("(a) bits per symbol against n", loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, handlelength=1.5,
              columnspacing=0.8)

    s = series(table, "kt redundancy")
    slope = params["kt_slope_bits_per_log2n"]
    mid = len(s["n"]) // 2
    ref = s["bits_per_symbol"][mid] + slope * (np.log2(s["n"]) - np.log2(s["n"][mid]))
    bx.errorbar(s["n"], s["bits_per_symbol"],
                yerr=[s["bits_per_symbol"] - s["interval_lo"], s["interval_hi"] - s["bits_per_symbol"]],
                color=STYLE["adaptive KT, order 1"]["color"], marker="^", linestyle="none",
                capsize=1.5, elinewidth=0.7, label="KT minus true chain,\nsame messages")
    bx.plot(s["n"], ref, color=PALETTE["black"], linewidth=0.8, linestyle="--",
            label=f"slope {slope:g} bits per log$_2$ n\n= contexts (K-1)/2")
    bx.set_xscale("log")
    bx.set_xticks([1e2, 1e3, 1e4, 1e5][: int(np.log10(s["n"].max())) - 1])
    bx.set_xlabel("n")
    bx.set_ylabel("extra bits per message")
    bx.set_title("(b) learning the contexts", loc="left")
    bx.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), handlelength=1.5)

    pieces = [("rate", PALETTE["blue"], "rate H($\\mu$)"),
              ("memory", PALETTE["orange"], "memory H($\\pi$) - H($\\mu$)"),
              ("marginal KL", PALETTE["vermillion"], "KL($\\pi$||q)")]
    bottom_m = bottom_e = 0.0
    for piece, color, label in pieces:
        r = series(table, f"bar {piece}")
        val, lo, hi = r["bits_per_symbol"][0], r["interval_lo"][0], r["interval_hi"][0]
        exact = series(table, f"exact {piece}")["bits_per_symbol"][0]
        cx.bar(0, val, bottom=bottom_m, color=color, width=0.6, label=label)
        cx.errorbar(0.18, bottom_m + val, yerr=[[val - lo], [hi - val]], color=PALETTE["black"],
                    capsize=1.5, elinewidth=0.7)
        cx.bar(1, exact, bottom=bottom_e, color=color, width=0.6, alpha=0.55, hatch="//",
               edgecolor="white", linewidth=0)
        bottom_m += val
        bottom_e += exact
    cx.set_xticks([0, 1], ["measured", "exact"])
    cx.set_ylabel("bits/symbol")
    cx.set_title(f"(c) order-0 cost, n={int(params['n_top'])}", loc="left")
    cx.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), handlelength=1.2)
    cx.set_ylim(0, bottom_e * 1.12)
    fig.subplots_adjust(wspace=0.7)
    return fig


EXPERIMENT = Experiment(
    name="memory",
    title="A code that ignores memory pays H(pi) - H(mu); context models reach the entropy rate",
    quick=dict(top_exponent=4, trials=30),
    full=dict(top_exponent=5, trials=40),
    compute=compute, plot=plot,
)

if __name__ == "__main__":
    raise SystemExit(standalone(EXPERIMENT))
