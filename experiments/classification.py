"""Classification loss is code length: a softmax classifier's labels, arithmetic-coded.

Data come from a known generating model: x ~ N(0, I_2) and Y | x ~ softmax(W* x + b*)
over K = 4 classes. A softmax classifier is trained by full-batch gradient descent in
numpy. After each recorded epoch the held-out labels are arithmetic-coded with the
model's predicted distribution for each example (the conditional model), decoded and
checked. The measured bits per label equal the mean cross-entropy loss in bits (within
the coder's [-8, +1] bits per message and the exactly computed rounding of the
predictions to 2^-24), and fall toward H(Y|X), which the generating model's own code
attains: minimising cross-entropy, maximising likelihood and shortening the code are
one act.
"""

from __future__ import annotations

import math

import numpy as np

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "experiments"

from simulator.codes.arithmetic import decode, encode
from simulator.models import ConditionalModel

from .common import CODE_STYLE, ONE_COLUMN, PALETTE, Result, Verdict, child_seeds, standalone

NAME = "classification"
TITLE = "Cross-entropy loss in bits equals the code length of the labels"
K, DIM = 4, 2
W_TRUE = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]])
B_TRUE = np.array([0.5, 0.0, -0.5, 0.0])
LEARNING_RATE = 0.5  # per nat of mean loss
Z99 = 2.5758293035489004


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
    return len(bits), loss_bits, model.ideal_bits(y)


def compute(seed: int, quick: bool, executor=None, progress=None) -> Result:
    n_train, n_test, epochs = (1000, 5000, 60) if quick else (2000, 50_000, 400)
    s_train, s_test, s_entropy = child_seeds(seed, 3)
    x_tr, y_tr, _ = draw(n_train, np.random.default_rng(s_train))
    x_te, y_te, p_true_te = draw(n_test, np.random.default_rng(s_test))
    # H(Y|X) of the generating model by Monte Carlo over x (exact per-x entropies)
    _, _, pm = draw(1_000_000 if not quick else 200_000, np.random.default_rng(s_entropy))
    ent = -(pm * np.log2(np.maximum(pm, 1e-300))).sum(axis=1)
    h_cond, h_cond_se = float(ent.mean()), float(ent.std(ddof=1) / math.sqrt(ent.size))

    record = sorted({0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 400} & set(range(epochs + 1)))
    W, b = np.zeros((K, DIM)), np.zeros(K)
    onehot = np.eye(K)[y_tr]
    rows, ok_all = [], True
    for epoch in range(epochs + 1):
        if epoch in record:
            probs = softmax(x_te @ W.T + b)
            bits, loss_bits, ideal = code_labels(y_te, probs)
            # the coder: ideal - 8 <= bits <= ideal + 1 (+ truncation); ideal - loss is exact
            ok = ideal - 8 <= bits <= ideal + 1 + n_test * 1.443 * 2.0**-32
            ok_all &= ok
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
    bits_true, loss_true, ideal_true = code_labels(y_te, p_true_te)
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
    verdicts = [
        Verdict(claim="at every recorded epoch the coded bits equal the summed cross-entropy loss in bits",
                passed=bool(ok_all), measured="all epochs" if ok_all else "violated",
                theory="n x mean loss (bits) + exact rounding of the predictions",
                bound="[-8, +1] bits per message (the coder's proven range)"),
        Verdict(claim="the generating model's code costs H(Y|X) bits per label",
                passed=abs(bits_true / n_test - h_cond) <= Z99 * math.hypot(se_true, h_cond_se) + 9 / n_test,
                measured=bits_true / n_test, theory=h_cond,
                bound=f"99% normal interval (n_test = {n_test}, Monte Carlo H(Y|X) +- {h_cond_se:.1e}), "
                      "plus the coder's range"),
        Verdict(claim="training shortens the code: final bits/label closes 90% of the gap to the true model's",
                passed=final["bits_per_label"] - bits_true / n_test
                <= 0.1 * (first["bits_per_label"] - bits_true / n_test),
                measured=final["bits_per_label"], theory=bits_true / n_test, bound="gap <= 10% of the initial gap"),
        Verdict(claim="no classifier beats the generating model on average (Gibbs): paired excess >= 0",
                passed=d_mean >= -Z99 * d_se, measured=d_mean, theory=">= 0",
                bound=f"99% one-sided normal bound (SE {d_se:.1e}, paired over the same labels)"),
    ]
    params = dict(K=K, dim=DIM, W_true=W_TRUE.tolist(), b_true=B_TRUE.tolist(), n_train=n_train,
                  n_test=n_test, epochs=epochs, learning_rate_nats=LEARNING_RATE, h_y_given_x=h_cond,
                  h_y_given_x_se=h_cond_se, precision=24)
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


if __name__ == "__main__":
    import sys

    standalone(sys.modules[__name__])
