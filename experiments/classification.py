"""Classification loss is code length: a softmax classifier's labels, arithmetic-coded.

Data come from a known generating model: x ~ N(0, I_2) and Y | x ~ softmax(W* x + b*)
over K = 4 classes. A softmax classifier is trained by full-batch gradient descent in
numpy. After each recorded epoch the held-out labels are arithmetic-coded with the
model's predicted distribution for each example (the conditional model), decoded and
checked. The measured bits per label equal the mean cross-entropy loss in bits (within
the coder's [-8, +1] bits per message and the exactly computed rounding of the
predictions to multiples of 2^-b, b = 24 by default), and fall toward H(Y|X), which the generating model's own code
attains: minimising cross-entropy, maximising likelihood and shortening the code are
one act.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.codes.arithmetic import ArithmeticCode, decode, encode
from simulator.experiments.common import (CODE_STYLE, ONE_COLUMN, PALETTE, Experiment, Result,
                                          bound_holds, child_seeds, slack_text, standalone, within)
from simulator.models import ConditionalModel

K, DIM = 4, 2
W_TRUE = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]])
B_TRUE = np.array([0.5, 0.0, -0.5, 0.0])
LEARNING_RATE = 0.5  # per nat of mean loss
Z99 = 2.5758293035489004


#: Free parameters of the softmax model: K rows of (W, b), less one row (adding the same
#: vector to every row changes nothing; gradient descent from zero keeps the rows summing to 0)
FREE_PARAMETERS = (K - 1) * (DIM + 1)


def chi2_quantile(level: float, df: int) -> float:
    """x with P(chi2_df <= x) = level: bisection on the regularised lower incomplete gamma
    function P(df/2, x/2), summed as its power series (exact to double precision)."""
    a = df / 2

    def cdf(x):
        t = x / 2
        term = total = 1.0 / a
        k = 0
        while term > 1e-17 * total:
            k += 1
            term *= t / (a + k)
            total += term
        return math.exp(a * math.log(t) - t - math.lgamma(a)) * total

    lo, hi = 0.0, float(df) + 10 * math.sqrt(2 * df) + 50
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if cdf(mid) < level else (lo, mid)
    return hi


def softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def draw(n, rng):
    x = rng.standard_normal((n, DIM))
    probs = softmax(x @ W_TRUE.T + B_TRUE)
    y = (probs.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return x, np.minimum(y, K - 1).astype(np.uint8), probs


def code_labels(y, probs):
    """Real bits of the labels under a per-example model, and the ideal sums."""
    model = ConditionalModel(probs)
    bits = encode(y, model)
    if not np.array_equal(decode(bits, model, y.size), y):
        raise RuntimeError("round trip failed")
    idx = np.arange(y.size)
    loss_bits = float(-np.log2(probs[idx, y]).sum())  # the cross-entropy loss, summed, in bits
    return len(bits), loss_bits, model.ideal_bits(y), model.precision


def compute(seed: int, *, n_train: int, n_test: int, epochs: int, n_entropy: int, executor=None,
            progress=None) -> Result:
    """Train on n_train examples for ``epochs`` epochs, code n_test held-out labels;
    H(Y|X) by Monte Carlo over n_entropy draws of x."""
    s_train, s_test, s_entropy = child_seeds(seed, 3)
    x_tr, y_tr, _ = draw(n_train, np.random.default_rng(s_train))
    x_te, y_te, p_true_te = draw(n_test, np.random.default_rng(s_test))
    # H(Y|X) of the generating model by Monte Carlo over x (exact per-x entropies)
    _, _, pm = draw(n_entropy, np.random.default_rng(s_entropy))
    ent = -(pm * np.log2(np.maximum(pm, 1e-300))).sum(axis=1)
    h_cond, h_cond_se = float(ent.mean()), float(ent.std(ddof=1) / math.sqrt(ent.size))

    record = sorted({0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 400} & set(range(epochs + 1)))
    W, b = np.zeros((K, DIM)), np.zeros(K)
    onehot = np.eye(K)[y_tr]
    rows, slack = [], []
    for epoch in range(epochs + 1):
        if epoch in record:
            probs = softmax(x_te @ W.T + b)
            bits, loss_bits, ideal, precision = code_labels(y_te, probs)
            slack.append(bits - ideal)  # the coder's slack; ideal - loss is exact
            rows.append(dict(series="classifier", epoch=epoch, bits_per_label=bits / n_test,
                             loss_bits_per_label=loss_bits / n_test, rounding_bits=(ideal - loss_bits) / n_test,
                             train_loss_bits=float(-np.log2(softmax(x_tr @ W.T + b)[np.arange(n_train), y_tr]).mean())))
        if progress:
            progress(epoch + 1, epochs + 1)
        if epoch < epochs:
            probs = softmax(x_tr @ W.T + b)
            g = (probs - onehot) / n_train  # gradient of the mean loss in nats
            W -= LEARNING_RATE * g.T @ x_tr
            b -= LEARNING_RATE * g.sum(axis=0)
    bits_true, loss_true, ideal_true, _ = code_labels(y_te, p_true_te)
    per_label = -np.log2(p_true_te[np.arange(n_test), y_te])
    se_true = float(per_label.std(ddof=1) / math.sqrt(n_test))
    rows.append(dict(series="generating model", epoch=np.nan, bits_per_label=bits_true / n_test,
                     loss_bits_per_label=loss_true / n_test, rounding_bits=(ideal_true - loss_true) / n_test))
    rows.append(dict(series="H(Y|X)", epoch=np.nan, bits_per_label=h_cond))
    final = rows[-3]
    probs_final = softmax(x_te @ W.T + b)
    d = -np.log2(probs_final[np.arange(n_test), y_te]) - per_label  # paired excess per label
    d_mean, d_se = float(d.mean()), float(d.std(ddof=1) / math.sqrt(n_test))
    first = rows[0]
    final_bits = code_labels(y_te, probs_final)[0]
    chi2_99 = chi2_quantile(0.99, FREE_PARAMETERS)
    wilks = chi2_99 / (2 * n_train * math.log(2))
    lo, hi = ArithmeticCode.slack_bits
    truncation = n_test * 1.443 * 2.0 ** (precision - 56)  # the coder's range kept >= 2^56
    verdicts = [
        bound_holds("at every recorded epoch the coded bits equal the summed cross-entropy loss in bits",
                    slack, lower=lo, upper=hi + truncation, basis="measured",
                    theory="n x mean loss (bits) + exact rounding of the predictions",
                    how=f"coded bits minus ideal bits: the coder's {slack_text(ArithmeticCode)}, "
                        "plus truncation"),
        within("the generating model's code costs H(Y|X) bits per label", bits_true / n_test, h_cond,
               Z99 * math.hypot(se_true, h_cond_se) + (hi - lo) / n_test,
               how=f"99% normal interval (n_test = {n_test}, Monte Carlo H(Y|X) +- {h_cond_se:.1e}), "
                   "plus the width of the coder's slack"),
        bound_holds("training shortens the code to within the estimation error of the generating model's: "
                    "final coded bits/label minus the generating model's (same labels) is at most Wilks' bound",
                    (final_bits - bits_true) / n_test, upper=wilks + Z99 * d_se + (hi - lo) / n_test,
                    basis="measured",
                    theory=f"excess ~ chi2_{FREE_PARAMETERS} / (2 n_train ln 2), mean "
                           f"{FREE_PARAMETERS / (2 * n_train * math.log(2)):.2g} bits/label",
                    how=f"Wilks: 2 n_train ln2 x excess -> chi2 with d = (K-1)(dim+1) = {FREE_PARAMETERS} "
                        f"degrees of freedom; its 99% quantile {chi2_99:.2f} / (2 n_train ln 2) = {wilks:.2g}, "
                        f"plus 99% normal paired test noise (SE {d_se:.1e}) and the coders' slack width "
                        f"{hi - lo:g} bits per message (training started from the uniform code, "
                        f"{first['bits_per_label']:.4f} bits/label)"),
        bound_holds("no classifier beats the generating model on average (Gibbs): paired excess >= 0",
                    d_mean, lower=-Z99 * d_se, theory=">= 0", basis="sample",
                    how=f"99% one-sided normal bound (SE {d_se:.1e}, paired log-loss over the same labels, "
                        "not coded)"),
    ]
    params = dict(K=K, dim=DIM, W_true=W_TRUE.tolist(), b_true=B_TRUE.tolist(), n_train=n_train,
                  n_test=n_test, epochs=epochs, learning_rate_nats=LEARNING_RATE, h_y_given_x=h_cond,
                  h_y_given_x_se=h_cond_se, precision=precision)
    cols = ["series", "epoch", "bits_per_label", "loss_bits_per_label", "rounding_bits", "train_loss_bits"]
    return Result(cols, rows, verdicts, params)


def plot(table, params):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(ONE_COLUMN, 2.2))
    rs = [r for r in table if r["series"] == "classifier"]
    ep = np.array([r["epoch"] for r in rs]) + 1
    st = CODE_STYLE["arithmetic"]
    ax.plot(ep, [r["loss_bits_per_label"] for r in rs], color=PALETTE["black"], lw=0.9,
            label="test loss, bits")
    ax.plot(ep, [r["bits_per_label"] for r in rs], ls="none", marker=st["marker"], color=st["color"],
            markerfacecolor="none", label="labels coded, measured")
    ax.plot(ep, [r["train_loss_bits"] for r in rs], color=PALETTE["orange"], lw=0.8, ls="--",
            label="training loss")
    true = next(r for r in table if r["series"] == "generating model")
    ax.axhline(params["h_y_given_x"], color=PALETTE["green"], ls=":", lw=0.9, label=r"$H(Y|X)$")
    ax.plot([ep[-1] * 1.5], [true["bits_per_label"]], marker="D", color=PALETTE["green"], ls="none",
            label="true model's code")
    ax.set_xscale("log")
    ax.set_xlabel("epoch + 1")
    ax.set_ylabel("bits/label")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, columnspacing=0.8)
    return fig


EXPERIMENT = Experiment(
    name="classification",
    title="Cross-entropy loss in bits equals the code length of the labels",
    quick=dict(n_train=1000, n_test=5000, epochs=400, n_entropy=200_000),  # trained to convergence: Wilks applies
    full=dict(n_train=2000, n_test=50_000, epochs=400, n_entropy=1_000_000),
    compute=compute, plot=plot,
)

if __name__ == "__main__":
    raise SystemExit(standalone(EXPERIMENT))
