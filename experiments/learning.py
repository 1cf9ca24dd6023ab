"""Learning q from the data: adaptive arithmetic coding converges to H(p); a wrong q does not.

No q is given: the Krichevsky-Trofimov (add 1/2) and Laplace (add 1) models learn from
the symbols already coded. Their redundancy over H(p) per symbol shrinks like
(K-1)/2 log2(n)/n (for KT, Clarke and Barron give the full expression
(K-1)/2 log2(n/(2 pi e)) + log2(pi^(K/2)/Gamma(K/2)) bits per message). A static code
from a wrong q keeps paying KL(p||q) per symbol at every n.

Redundancy is measured against an oracle, the arithmetic coder built from p itself,
coding the very same messages (common random numbers): both are real bitstreams.
"""

from __future__ import annotations

import math

import numpy as np

from simulator import build_code, simulate, zipf

from simulator.experiments.common import (TWO_COLUMNS, PALETTE, Experiment, Result, all_within,
                                          bernstein_half_width, bound_holds, child_seeds,
                                          precision_of, run_tasks, slack_text, standalone)

KS = (2, 16, 256)
COLORS = {2: PALETTE["blue"], 16: PALETTE["vermillion"], 256: PALETTE["green"]}
S_P, S_Q = 1.0, 0.3  # p = Zipf(K, 1), the wrong q = Zipf(K, 0.3)


def kt_redundancy_bits(K: int, n: int) -> float:
    """Clarke-Barron: expected redundancy of the KT mixture, bits per message (+ o(1))."""
    return (K - 1) / 2 * math.log2(n / (2 * math.pi * math.e)) + (
        K / 2 * math.log2(math.pi) - math.lgamma(K / 2) / math.log(2))


def measure(K, n, trials, seed):
    """Per-message bits of the oracle, KT, Laplace and the wrong static q on the same messages."""
    p, q = zipf(K, S_P), zipf(K, S_Q)
    out = {}
    for name, (qq, model) in {"oracle": (p, "static"), "kt": (p, "kt"), "laplace": (p, "laplace"),
                              "wrong q": (q, "static")}.items():
        m = simulate(p, qq, "arithmetic", n=n, trials=trials, model=model,
                     rng=np.random.default_rng(seed))
        out[name] = np.array(m.trial_bits, dtype=float)
    return out


def compute(seed: int, *, top_exponent: int, trials: int, executor=None, progress=None) -> Result:
    """``trials`` messages of n = 10^2, ..., 10^top_exponent symbols per alphabet size."""
    ns = [10**e for e in range(2, top_exponent + 1)]
    cells = [(K, n) for K in KS for n in ns]
    res = run_tasks(measure, [(K, n, trials, s) for (K, n), s in zip(cells, child_seeds(seed, len(cells)))],
                    executor, progress)
    z = 2.935199468866699  # two-sided normal quantile for 99% over the 3 alphabets (Bonferroni)
    delta = 0.01 / len(cells)
    rows = []
    for (K, n), r in zip(cells, res):
        p, q = zipf(K, S_P).probs, zipf(K, S_Q).probs
        oracle_code = build_code(p, "arithmetic")
        oracle, wrong = oracle_code.model, build_code(q, "arithmetic").model
        lo, hi = oracle_code.slack_bits
        row = dict(K=K, n=n, trials=trials)
        for est in ("kt", "laplace"):
            red = r[est] - r["oracle"]  # bits per message, same messages
            row[f"{est}_per_symbol"] = float(red.mean()) / n
            row[f"{est}_se_per_symbol"] = float(red.std(ddof=1) / math.sqrt(trials)) / n
        # wrong static q: per-symbol log2(p^/q^) has exact variance and range under p; the
        # two messages' slacks differ by at most hi - lo bits, and the interval adds twice
        # that (conservative)
        d = wrong.neglog - oracle.neglog
        md = float(p @ d)
        half = (bernstein_half_width(float(p @ (d - md) ** 2), float(np.max(np.abs(d - md))),
                                     n * trials, delta) + 2 * (hi - lo) / n)
        row.update(wrong_per_symbol=float((r["wrong q"] - r["oracle"]).mean()) / n,
                   wrong_expected=md, wrong_half_width=half,
                   leading_term=(K - 1) / 2 * math.log2(n) / n, kt_theory=kt_redundancy_bits(K, n) / n)
        rows.append(row)
    steps = [a - b for K in KS for est in ("kt", "laplace")
             for seq in [[r[f"{est}_per_symbol"] for r in rows if r["K"] == K]]
             for a, b in zip(seq, seq[1:])]
    big = [r for r in rows if r["n"] == ns[-1]]
    verdicts = [
        # per message: z SE over the trials, 1 bit for the o(1) remainder, and the width of
        # the coders' slack for the two messages compared
        all_within("KT: redundancy per message at the largest n matches Clarke-Barron for K = 2, 16, 256",
                   [(r["kt_per_symbol"] * r["n"], kt_redundancy_bits(r["K"], r["n"]),
                     z * r["kt_se_per_symbol"] * r["n"] + 1 + (hi - lo)) for r in big],
                   theory=", ".join(f"K={r['K']}: {kt_redundancy_bits(r['K'], r['n']):.1f}" for r in big),
                   how=f"99% over the 3 alphabets (z = {z:.2f}) over {trials} messages, +1 bit o(1), "
                       f"+{hi - lo:g} bits for the two coders' {slack_text(oracle_code)}"),
        bound_holds("KT and Laplace: redundancy per symbol falls at every step of n, for every K",
                    steps, lower=0.0, lower_strict=True, basis="measured", theory="~ (K-1)/2 log2(n)/n",
                    how="each step's decrease of the mean"),
        all_within("a static code from the wrong q keeps paying KL(p||q^) per symbol at every n",
                   [(r["wrong_per_symbol"], r["wrong_expected"], r["wrong_half_width"]) for r in rows],
                   theory="H(p,q^) - H(p,p^)",
                   how=f"Bernstein, family-wise 99%, plus {2 * (hi - lo):g} bits per message pair"),
        bound_holds("at the largest n every adaptive code beats the wrong static q",
                    [r["wrong_per_symbol"] - max(r["kt_per_symbol"], r["laplace_per_symbol"]) for r in big],
                    lower=0.0, lower_strict=True, basis="measured",
                    theory=", ".join(f"{r['wrong_expected']:.3f}" for r in big),
                    how="wrong static q minus the better adaptive code, bits/symbol"),
    ]
    params = dict(K_values=list(KS), n_values=ns, trials=trials, p="Zipf(K, 1)", wrong_q="Zipf(K, 0.3)",
                  oracle=f"arithmetic coder built from p (b = {precision_of(oracle_code)})")
    cols = ["K", "n", "trials", "kt_per_symbol", "kt_se_per_symbol", "laplace_per_symbol",
            "laplace_se_per_symbol", "wrong_per_symbol", "wrong_expected", "wrong_half_width",
            "leading_term", "kt_theory"]
    return Result(cols, rows, verdicts, params)


def plot(table, params):
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(TWO_COLUMNS, 2.7), gridspec_kw=dict(wspace=0.3))
    for K in params["K_values"]:
        rs = [r for r in table if r["K"] == K]
        n = np.array([r["n"] for r in rs])
        c = COLORS[K]
        ax.plot(n, [r["leading_term"] for r in rs], color=c, lw=0.7, ls=":")
        ax.plot(n, [r["kt_per_symbol"] for r in rs], color=c, marker="o", ls="none")
        ax.plot(n, [r["laplace_per_symbol"] for r in rs], color=c, marker="s", ls="none",
                markerfacecolor="none")
        ax.plot([], [], color=c, lw=3, label=f"K = {K}")
    ax.plot([], [], color=PALETTE["black"], marker="o", ls="none", label="KT")
    ax.plot([], [], color=PALETTE["black"], marker="s", ls="none", markerfacecolor="none", label="Laplace")
    ax.plot([], [], color=PALETTE["black"], lw=0.7, ls=":", label=r"$\frac{K-1}{2}\,\log_2(n)/n$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(1e-7, 30)
    ax.set_xlabel("message length n")
    ax.set_ylabel(r"redundancy over $H(p)$ (bits/symbol)")
    ax.set_title("(a) adaptive codes, p = Zipf(K, 1)", loc="left")
    ax.legend(loc="lower left", ncol=2, columnspacing=0.8)

    K = 16
    rs = [r for r in table if r["K"] == K]
    n = np.array([r["n"] for r in rs])
    bx.plot(n, [r["kt_theory"] for r in rs], color=PALETTE["blue"], lw=0.8, label="KT, Clarke-Barron")
    bx.plot(n, [r["kt_per_symbol"] for r in rs], color=PALETTE["blue"], marker="o", ls="none",
            label="KT, measured")
    bx.plot(n, [r["laplace_per_symbol"] for r in rs], color=PALETTE["sky"], marker="s", ls="none",
            markerfacecolor="none", label="Laplace, measured")
    bx.plot(n, [r["wrong_expected"] for r in rs], color=PALETTE["vermillion"], lw=0.8,
            label=r"$KL(p\,\|\,\hat q)$, wrong static q")
    bx.errorbar(n, [r["wrong_per_symbol"] for r in rs], yerr=[r["wrong_half_width"] for r in rs],
                color=PALETTE["vermillion"], marker="D", ls="none", markerfacecolor="none", capsize=1.5,
                lw=0.6, label="wrong static q, measured")
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel("message length n")
    bx.set_ylabel(r"excess over the oracle (bits/symbol)")
    bx.set_title("(b) K = 16: learning against a fixed wrong q", loc="left")
    bx.legend(loc="lower left")
    return fig


EXPERIMENT = Experiment(
    name="learning",
    title="Adaptive codes learn q: redundancy over H(p) shrinks like (K-1)/2 log2(n)/n",
    quick=dict(top_exponent=4, trials=5),
    full=dict(top_exponent=6, trials=20),
    compute=compute, plot=plot,
)

if __name__ == "__main__":
    raise SystemExit(standalone(EXPERIMENT))
