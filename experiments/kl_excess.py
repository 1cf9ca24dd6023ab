"""The headline: measured excess over H(p) against KL(p||q), for many random pairs.

Pairs (p, q) are Dirichlet draws with K from 2 to 256 and concentration from 0.1
(spiky, pairs far apart) to 5 (near uniform); q is mixed with 0.1% of the uniform pmf
so its smallest values stay far above the coder's 2^-24 floor. The arithmetic coder's
excess sits on the diagonal excess = KL(p||q); the Shannon code's in [KL, KL + 1);
the Huffman code's is >= 0 but off the diagonal, on either side.
"""

from __future__ import annotations

import math

import numpy as np

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "experiments"

from simulator import build_code, dirichlet, entropy, kl_divergence, mix_uniform, simulate

from .common import CODE_STYLE, ONE_COLUMN, PALETTE, Result, Verdict, child_seeds, run_tasks
from .common import series, standalone, theory_half_width

NAME = "kl_excess"
TITLE = "The excess over H(p) of a code built from q is KL(p||q) for the arithmetic coder"
CODES = ("arithmetic", "shannon", "huffman")
KS = (2, 4, 16, 64, 256)
ALPHAS = (0.1, 0.5, 1.0, 5.0)


def make_pair(seed):
    rng = np.random.default_rng(seed)
    K = int(rng.choice(KS))
    alpha = float(rng.choice(ALPHAS))
    p = dirichlet(K, alpha, rng)
    q = mix_uniform(dirichlet(K, alpha, rng), 1e-3)
    return K, alpha, p.probs, q.probs


def measure(pair_seed, n, seed, delta):
    K, alpha, p, q = make_pair(pair_seed)
    out = dict(K=K, alpha=alpha, entropy=entropy(p), kl=kl_divergence(p, q))
    # Quantisation: optimal rounding keeps each frequency within one unit of q 2^b (or
    # raises it to 1), so on the support of p, |log2(q^/q)| <= log2(1 + 1/(q 2^b - 1)).
    model = build_code(q, "arithmetic")
    on = p > 0
    qt = q[on] * model.model.total
    out["gap_bound"] = float(np.max(np.log2(1 + 1 / np.maximum(qt - 1, 1e-300))))
    for code in CODES:
        m = simulate(p, q, code, n=n, rng=np.random.default_rng(seed))
        half = theory_half_width(model if code == "arithmetic" else build_code(q, code), p, n, 1, delta)
        out[code] = (m.bits_per_symbol, m.expected_bits_per_symbol, half)
    return out


def compute(seed: int, quick: bool, executor=None, progress=None) -> Result:
    n_pairs = 16 if quick else 80
    n = 20_000 if quick else 200_000
    seeds = child_seeds(seed, 2 * n_pairs)
    # Family-wise 99% over every (pair, code) interval: Bernstein at 0.01 / (3 n_pairs).
    delta = 0.01 / (len(CODES) * n_pairs)
    tasks = [(seeds[2 * i], n, seeds[2 * i + 1], delta) for i in range(n_pairs)]
    results = run_tasks(measure, tasks, executor, progress)
    rows, verdicts = [], []
    worst = {c: 0.0 for c in CODES}
    inside = {c: True for c in CODES}
    shannon_ok, huffman_ok = True, True
    for i, r in enumerate(results):
        for code in CODES:
            bps, expected, half = r[code]  # expected: H(p,q^) or the exact E_p[l]
            excess = bps - r["entropy"]
            inside[code] &= bool(abs(bps - expected) <= half)
            worst[code] = max(worst[code], abs(bps - expected) / half)
            rows.append(dict(series=code, pair=i, K=r["K"], alpha=r["alpha"], kl=r["kl"],
                             excess=excess, expected_excess=expected - r["entropy"],
                             half_width=half))
            if code == "shannon":
                shannon_ok &= r["kl"] - 1e-12 <= expected - r["entropy"] < r["kl"] + 1
            if code == "huffman":
                huffman_ok &= expected - r["entropy"] >= -1e-12
    gaps = [abs(r["arithmetic"][1] - r["entropy"] - r["kl"]) for r in results]
    gap_ok = all(g <= r["gap_bound"] for g, r in zip(gaps, results))
    for code in CODES:
        limit = "H(p,q^)" if code == "arithmetic" else "its exact E_p[l]"
        verdicts.append(Verdict(
            claim=f"{code}: every pair's measured bits/symbol lies in its interval around {limit}",
            passed=inside[code], measured=f"largest |error| / half-width = {worst[code]:.3f}",
            theory=limit, bound=f"Bernstein with the exact length variance, family-wise 99% over "
                                f"{n_pairs} pairs x 3 codes"
                                + (", plus [-8, +1] bits per message" if code == "arithmetic" else "")))
    verdicts.append(Verdict(
        claim="arithmetic: on the diagonal up to the quantisation gap, |H(p,q^) - H(p,q)| <= "
              "max log2(1 + 1/(q 2^b - 1)) for every pair",
        passed=gap_ok, measured=f"largest gap {max(gaps):.2e} bits",
        theory="0 (KL(p||q))", bound=f"per-pair bound, largest {max(r['gap_bound'] for r in results):.2e}"))
    verdicts.append(Verdict(
        claim="shannon: KL <= E_p[l] - H(p) < KL + 1 for every pair (exact)",
        passed=bool(shannon_ok), measured="all pairs" if shannon_ok else "violated",
        theory="[KL, KL + 1)", bound="exact"))
    off = [abs(r["huffman"][1] - r["entropy"] - r["kl"]) for r in results]
    verdicts.append(Verdict(
        claim="huffman: E_p[l] - H(p) >= 0 for every pair, and off the diagonal",
        passed=bool(huffman_ok) and max(off) > 0.01, measured=f"max |excess - KL| = {max(off):.3f}",
        theory=">= 0", bound="exact"))
    params = dict(n_pairs=n_pairs, n=n, K_values=KS, alpha_values=ALPHAS, q_mixing=1e-3,
                  delta_per_interval=delta)
    cols = ["series", "pair", "K", "alpha", "kl", "excess", "expected_excess", "half_width"]
    return Result(cols, rows, verdicts, params)


def plot(table, params):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(ONE_COLUMN, 3.0))
    kl_max = max(r["kl"] for r in table) * 1.05
    x = np.array([0, kl_max])
    ax.fill_between(x, x, x + 1, color=CODE_STYLE["shannon"]["color"], alpha=0.12, lw=0,
                    label="Shannon bound [KL, KL + 1)")
    ax.plot(x, x, color=PALETTE["black"], lw=0.8, label=r"excess = $KL(p\,\|\,q)$")
    for code in ("huffman", "shannon", "arithmetic"):
        s = series(table, code)
        st = CODE_STYLE[code]
        ax.plot(s["kl"], s["excess"], linestyle="none", marker=st["marker"], color=st["color"],
                markerfacecolor="none" if code != "arithmetic" else st["color"],
                markersize=3.2, markeredgewidth=0.7, label=f"{code}, measured")
    ax.set_xlim(0, kl_max)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(r"$KL(p\,\|\,q)$ (bits/symbol)")
    ax.set_ylabel(r"measured excess over $H(p)$ (bits/symbol)")
    ax.legend(loc="upper left")
    return fig


if __name__ == "__main__":
    import sys

    standalone(sys.modules[__name__])
