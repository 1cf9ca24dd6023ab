"""The headline: measured excess over H(p) against KL(p||q), for many random pairs.

Pairs (p, q) are Dirichlet draws with K from 2 to 256 and concentration from 0.1
(spiky, pairs far apart) to 5 (near uniform); q is mixed with 0.1% of the uniform pmf
so its smallest values stay far above the coder's 2^-b floor (b = 24 by
default, simulator.models.DEFAULT_PRECISION). The arithmetic coder's
excess sits on the diagonal excess = KL(p||q); the Shannon code's in [KL, KL + 1);
the Huffman code's is >= 0 but off the diagonal, on either side.
"""

from __future__ import annotations

import numpy as np

from simulator import build_code, dirichlet, entropy, kl_divergence, mix_uniform, simulate

from simulator.experiments.common import (CODE_STYLE, ONE_COLUMN, PALETTE, Experiment, Result, Verdict,
                                          all_within, bound_holds, child_seeds, interval_how,
                                          precision_of, quantised_cross_entropy_range, run_tasks,
                                          series, standalone, theory_half_width)

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
    # Quantisation: H(p, q^) lies in the range that quantised_cost_bounds derives from q
    # and b alone (the optimal rounding's threshold argument; see its docstring).
    model = build_code(q, "arithmetic")
    out["h_range"] = quantised_cross_entropy_range(p, q, precision_of(model))
    out["cross_entropy"] = out["entropy"] + out["kl"]
    for code in CODES:
        m = simulate(p, q, code, n=n, rng=np.random.default_rng(seed))
        half = theory_half_width(model if code == "arithmetic" else build_code(q, code), p, n, 1, delta)
        out[code] = (m.bits_per_symbol, m.expected_bits_per_symbol, half)
    return out


def compute(seed: int, *, n_pairs: int, n: int, executor=None, progress=None) -> Result:
    """``n_pairs`` random pairs, one message of n symbols per pair and code."""
    seeds = child_seeds(seed, 2 * n_pairs)
    # Family-wise 99% over every (pair, code) interval: Bernstein at 0.01 / (3 n_pairs).
    delta = 0.01 / (len(CODES) * n_pairs)
    tasks = [(seeds[2 * i], n, seeds[2 * i + 1], delta) for i in range(n_pairs)]
    results = run_tasks(measure, tasks, executor, progress)
    rows, verdicts = [], []
    for i, r in enumerate(results):
        for code in CODES:
            bps, expected, half = r[code]  # expected: H(p,q^) or the exact E_p[l]
            rows.append(dict(series=code, pair=i, K=r["K"], alpha=r["alpha"], kl=r["kl"],
                             excess=bps - r["entropy"], expected_excess=expected - r["entropy"],
                             half_width=half))
    q0 = make_pair(seeds[0])[3]  # any q: the codes' slack does not depend on it
    for code in CODES:
        limit = "H(p,q^)" if code == "arithmetic" else "its exact E_p[l]"
        verdicts.append(all_within(
            f"{code}: every pair's measured bits/symbol lies in its interval around {limit}",
            [r[code] for r in results], theory=limit,
            how=interval_how(build_code(q0, code), delta=delta, family=len(CODES) * n_pairs)))
    verdicts.append(Verdict(
        claim="arithmetic: for every pair H(p,q^) lies in the rounding range derived from q and b (exact)",
        passed=all(r["h_range"][0] <= r["arithmetic"][1] <= r["h_range"][1] for r in results),
        measured=f"largest |H(p,q^) - H(p,q)| {max(abs(r['arithmetic'][1] - r['cross_entropy']) for r in results):.3g}",
        theory=f"largest range half-width "
               f"{max((r['h_range'][1] - r['h_range'][0]) / 2 for r in results):.3g}",
        bound="simulator.experiments.common.quantised_cost_bounds averaged under p", basis="exact"))
    verdicts.append(all_within(
        "arithmetic: on the diagonal: every pair's measured excess lies within its interval plus the "
        "pair's rounding range of KL(p||q)",
        [(r["arithmetic"][0] - r["entropy"],
          r["kl"] + (r["h_range"][0] + r["h_range"][1]) / 2 - r["cross_entropy"],
          r["arithmetic"][2] + (r["h_range"][1] - r["h_range"][0]) / 2) for r in results],
        theory="KL(p||q)",
        how="the measurement's interval (as above), widened by the pair's rounding range"))
    verdicts.append(bound_holds(
        "shannon: KL <= E_p[l] - H(p) < KL + 1 for every pair (exact)",
        [r["shannon"][1] - r["entropy"] - r["kl"] for r in results], lower=-1e-12, upper=1,
        upper_strict=True, theory="E_p[l] - H(p) - KL in [0, 1)",
        how="-1e-12 for floating-point rounding"))
    verdicts.append(bound_holds(
        "huffman: E_p[l] - H(p) >= 0 for every pair (exact)",
        [r["huffman"][1] - r["entropy"] for r in results], lower=-1e-12,
        how="-1e-12 for floating-point rounding"))
    above = [r for r in results if r["huffman"][0] - r["entropy"] - r["kl"] > r["huffman"][2]]
    below = [r for r in results if r["kl"] - (r["huffman"][0] - r["entropy"]) > r["huffman"][2]]
    verdicts.append(Verdict(
        claim="huffman: off the diagonal on both sides: for some pairs the measured excess lies above "
              "KL(p||q) by more than its half-width, for others below",
        passed=bool(above) and bool(below), basis="measured",
        measured=f"{len(above)} pairs above, {len(below)} below, of {len(results)}",
        theory="E_p[l] - H(p) is not KL(p||q)",
        bound="the half-width of each pair's interval (Bernstein, as above)"))
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


EXPERIMENT = Experiment(
    name="kl_excess",
    title="The excess over H(p) of a code built from q is KL(p||q) for the arithmetic coder",
    quick=dict(n_pairs=16, n=20_000),
    full=dict(n_pairs=80, n=200_000),
    compute=compute, plot=plot,
)

if __name__ == "__main__":
    raise SystemExit(standalone(EXPERIMENT))
