"""Information measures of probability mass functions.

All functions take pmfs in the order of the mathematics (``cross_entropy(p, q)``:
data from ``p``, code or model from ``q``), return bits by default, and accept
``base`` (2 gives bits, ``np.e`` nats). Conventions: 0 log 0 = 0, and the result is
``inf`` when q(x) = 0 < p(x). Inputs are validated, never renormalised.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import XentsimError, check_pmf, check_same_alphabet


def _log_factor(base: float) -> float:
    """Divide a log2 quantity by this to express it in ``base``."""
    if not (isinstance(base, (int, float)) and base > 0 and base != 1 and math.isfinite(base)):
        raise XentsimError(f"base is {base!r}: it must be a positive number other than 1")
    return math.log2(base)


def _pair(p, q):
    p = check_pmf(p, "p")
    q = check_pmf(q, "q")
    check_same_alphabet(p, q)
    return p, q


def _fsum(values: np.ndarray) -> float:
    """The correctly rounded sum of an array (``math.fsum``: no accumulated rounding)."""
    return math.fsum(values.tolist())


def entropy(p, base: float = 2) -> float:
    """Shannon entropy H(p) = -sum_x p(x) log p(x).

    The terms are summed exactly (``math.fsum``), so the only errors are those of the
    individual logarithms and products.

    Parameters
    ----------
    p : array_like
        A pmf on symbols 0..K-1.
    base : float
        Logarithm base; 2 (the default) gives bits, ``np.e`` nats.

    Examples
    --------
    >>> round(entropy([0.7, 0.2, 0.1]), 6)
    1.15678
    """
    p = check_pmf(p, "p")
    s = p[p > 0]
    return -_fsum(s * np.log2(s)) / _log_factor(base)


def cross_entropy(p, q, base: float = 2) -> float:
    """Cross-entropy H(p, q) = -sum_x p(x) log q(x): the cost of a q-code on p-data.

    Equals ``entropy(p) + kl_divergence(p, q)``; ``inf`` when q(x) = 0 < p(x). The terms
    are summed exactly (``math.fsum``).

    Examples
    --------
    >>> round(cross_entropy([0.7, 0.2, 0.1], [0.2, 0.3, 0.5]), 6)
    2.072743
    """
    p, q = _pair(p, q)
    on = p > 0
    if (q[on] == 0).any():
        return math.inf
    return -_fsum(p[on] * np.log2(q[on])) / _log_factor(base)


#: |r| at or below which (1 + r) ln(1 + r) - r is summed as its power series.
_SERIES_R = 0.1
#: Coefficients (-1)^k / (k (k - 1)) of r^k, k = 2..25: at |r| <= 0.1 the first omitted
#: term is below 1e-25 of the sum.
_SERIES = np.array([(-1.0) ** k / (k * (k - 1)) for k in range(2, 26)])


def _kl_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """p ln(p/q) - p + q for p, q > 0, in nats, each term >= 0 and accurate to a few
    ulps of itself, including when p and q nearly agree.

    With r = (p - q) / q the term is q f(r), f(r) = (1 + r) ln(1 + r) - r = r^2/2 - ...:
    near r = 0 it is of second order, so it is taken from the power series of f
    (|r| <= 0.1), then from ``log1p(r)`` while q/2 <= p <= 2q (where p - q is exact),
    and from ln p - ln q beyond (where p / q could overflow or underflow).
    """
    d = p - q  # exact for q/2 <= p <= 2q (Sterbenz)
    with np.errstate(over="ignore"):  # r overflows only far from 1, where it is not used
        r = d / q
    out = np.empty_like(p)
    small = np.abs(r) <= _SERIES_R
    if small.any():
        rs = r[small]
        acc = np.zeros_like(rs)
        for c in _SERIES[::-1]:  # Horner in r
            acc = acc * rs + c
        out[small] = q[small] * (rs * rs) * acc
    near = ~small & (2 * p >= q) & (p <= 2 * q)
    if near.any():
        out[near] = p[near] * np.log1p(r[near]) - d[near]
    far = ~small & ~near
    if far.any():
        pf, qf = p[far], q[far]
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            ratio = pf / qf
        ok = np.isfinite(ratio) & (ratio > 0)
        logs = np.where(ok, np.log(np.where(ok, ratio, 1.0)), np.log(pf) - np.log(qf))
        out[far] = (pf * logs - pf) + qf
    return out


def kl_divergence(p, q, base: float = 2) -> float:
    """Kullback-Leibler divergence KL(p || q) = sum_x p(x) log(p(x) / q(x)).

    Summed over the support of p, term by term, never as H(p,q) - H(p) (which loses
    accuracy when both are large). ``inf`` when q(x) = 0 < p(x).

    Accurate relative to the result even when p and q nearly agree: KL is written as
    sum_x [p ln(p/q) - p + q] + (sum p - sum q), where every bracket is >= 0 and of
    second order in p - q (see ``_kl_terms``) and the last sum is exact (``math.fsum``),
    so no first-order terms cancel. For p and q that each sum to exactly 1 the result
    is > 0 whenever p != q and 0 when p = q: KL(Bern(1/2) || Bern(1/2 + d)) =
    2 d^2 + O(d^4) nats comes out to full relative accuracy even at d = 2^-46, where
    it is about 4.04e-28 nats (the tests compare such cases with exact rational
    references). It is clamped at 0 in the remaining case, where the two vectors' sums
    differ and the exact sum is negative.

    Examples
    --------
    >>> round(kl_divergence([0.9, 0.1], [0.1, 0.9]), 6)
    2.53594
    """
    p, q = _pair(p, q)
    factor = _log_factor(base)
    on = p > 0
    pp, qq = p[on], q[on]
    if (qq == 0).any():
        return math.inf
    brackets = _fsum(_kl_terms(pp, qq))
    mass = math.fsum(pp.tolist() + (-qq).tolist())  # sum p - sum q over supp p, exactly rounded
    nats = brackets + mass
    return max(nats, 0.0) / (math.log(2.0) * factor)


def js_divergence(p, q, base: float = 2) -> float:
    """Jensen-Shannon divergence JS(p, q) = KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2.

    Symmetric, finite (at most 1 bit) even when the supports differ.

    Examples
    --------
    >>> js_divergence([1.0, 0.0], [0.0, 1.0])
    1.0
    """
    p, q = _pair(p, q)
    m = (p + q) / 2
    return 0.5 * kl_divergence(p, m, base) + 0.5 * kl_divergence(q, m, base)


# --------------------------------------------------------------------------- chains
#
# An order-m chain on K symbols is a (K^m, K) row-stochastic matrix P: row c is the law
# of the next symbol after the context c = (x_{t-m}, ..., x_{t-1}) read as a base-K
# number, oldest symbol most significant. Order 0 is a (1, K) matrix (an i.i.d. source).
# From context c, symbol x leads to context (c K + x) mod K^m.
#
# The rate functions and chain_block_law take an optional keyword ``pi``: P's stationary
# context law when the caller already has it (``stationary_distribution(P)``, as a
# MarkovSource keeps it). It is trusted as given, to save solving for it again.

#: Largest transition matrix (K^m rows times K columns) the chain functions accept.
MAX_CHAIN_ENTRIES = 1 << 24


def chain_order(n_rows: int, K: int) -> int | None:
    """m with K^m = n_rows, or None when n_rows is not a power of K."""
    if K < 2:  # 1^m = 1 for every m: only one row is a power of 1 (the loop would not end)
        return 0 if n_rows == 1 else None
    m, size = 0, 1
    while size < n_rows:
        size *= K
        m += 1
    return m if size == n_rows else None


def check_chain(P, name: str = "P", *, normalize: bool = False) -> tuple[np.ndarray, int]:
    """Validate a transition matrix; returns (read-only float64 matrix, order m).

    Rejected: not 2-D, empty, more than MAX_CHAIN_ENTRIES entries, a row count that is
    not a power of the column count, NaN/inf, negative entries, and rows not summing to
    1 (unless ``normalize=True``, the explicit opt-in).
    """
    from ._validate import SUM_TOLERANCE

    try:
        arr = np.array(P, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise XentsimError(f"{name} is not a matrix of numbers: {exc}") from None
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.size == 0:
        raise XentsimError(f"{name} must be a 2-D (K^m, K) matrix, got shape {arr.shape}")
    if arr.size > MAX_CHAIN_ENTRIES:
        raise XentsimError(f"{name} has {arr.size} entries, above the limit of {MAX_CHAIN_ENTRIES}")
    rows, K = arr.shape
    m = chain_order(rows, K)
    if m is None:
        raise XentsimError(
            f"{name} has {rows} rows and {K} columns: an order-m chain on K symbols needs "
            f"K^m rows (a square matrix for order 1)"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise XentsimError(f"{name}[{r}, {c}] is {arr[r, c]}: probabilities must be finite")
    if (arr < 0).any():
        r, c = np.argwhere(arr < 0)[0]
        raise XentsimError(f"{name}[{r}, {c}] is {float(arr[r, c])!r}: probabilities must be >= 0")
    with np.errstate(over="ignore"):
        sums = arr.sum(axis=1)
    if normalize:
        if not (sums > 0).all():
            r = int(np.flatnonzero(~(sums > 0))[0])
            raise XentsimError(f"{name} row {r} sums to 0: nothing to normalise")
        big = ~np.isfinite(sums)  # a row whose sum overflows: scale by its largest first
        if big.any():
            arr = arr.copy()
            arr[big] /= arr[big].max(axis=1, keepdims=True)
            sums = arr.sum(axis=1)
        arr = arr / sums[:, None]
    else:
        off = np.abs(sums - 1.0) > SUM_TOLERANCE
        if off.any():
            r = int(np.flatnonzero(off)[0])
            raise XentsimError(
                f"{name} row {r} sums to {sums[r]:.12g}, not 1 (tolerance {SUM_TOLERANCE:g}); "
                "pass normalize=True (--normalize) to rescale each row"
            )
    arr.setflags(write=False)
    return arr, m


def stationary_distribution(P, name: str = "P") -> np.ndarray:
    """The stationary law pi of a chain's contexts (pi T = pi), over its K^m contexts.

    The chain must have exactly one closed class of contexts, and that class must be
    aperiodic; otherwise the stationary law is not unique (reducible) or the chain does
    not settle into it (periodic), and a clear error says which. Contexts outside the
    closed class (transient ones) get probability 0.

    Examples
    --------
    >>> stationary_distribution([[0.9, 0.1], [0.2, 0.8]]).round(6).tolist()
    [0.666667, 0.333333]
    """
    from . import _chain_kernels as CK

    P, m = check_chain(P, name)
    S, K = P.shape
    if m == 0:
        return np.ones(1)
    comp, n_comp = CK.strong_components(P, K)
    closed = np.flatnonzero(CK.closed_components(P, K, comp, n_comp))
    if closed.size > 1:
        a, b = (int(np.flatnonzero(comp == c)[0]) for c in closed[:2])
        raise XentsimError(
            f"{name} is reducible: it has {closed.size} closed classes of contexts (e.g. one "
            f"holding context {a} and one holding context {b}), so its stationary "
            "distribution is not unique"
        )
    target = int(closed[0])
    d = CK.period(P, K, comp, target)
    if d > 1:
        raise XentsimError(
            f"{name} is periodic with period {d}: the chain never settles into its "
            "stationary distribution; a source must be aperiodic"
        )
    states = np.flatnonzero(comp == target)
    T = _transition_on(P, states)
    pi_c = _solve_stationary(T)
    pi = np.zeros(S)
    pi[states] = pi_c
    pi.setflags(write=False)
    return pi


def _transition_on(P, states):
    """The context-to-context transition matrix restricted to ``states`` (a closed set)."""
    S, K = P.shape
    pos = np.full(S, -1, dtype=np.int64)
    pos[states] = np.arange(states.size)
    T = np.zeros((states.size, states.size))
    nxt = (states[:, None] * K + np.arange(K)[None, :]) % S
    rows = np.repeat(np.arange(states.size), K)
    cols = pos[nxt.reshape(-1)]
    w = P[states].reshape(-1)
    keep = w > 0
    np.add.at(T, (rows[keep], cols[keep]), w[keep])
    return T


#: Largest closed class solved directly (a dense linear system); larger ones iterate.
_DENSE_STATES = 2048


def _solve_stationary(T):
    n = T.shape[0]
    if n == 1:
        return np.ones(1)
    if n <= _DENSE_STATES:
        # pi (T - I) = 0 with the diagonal 1 - T[i, i] taken as the sum of row i's other
        # entries: forming 1 - T[i, i] by subtraction loses the digits of a sticky state
        # (with T[i, i] = 1 - 1e-12 the law came out 1e-5 wrong), the sum loses none.
        D = T.copy()
        np.fill_diagonal(D, 0.0)
        A = D.T.copy()
        np.fill_diagonal(A, -D.sum(axis=1))
        A[-1, :] = 1.0
        b = np.zeros(n)
        b[-1] = 1.0
        pi = np.linalg.solve(A, b)
        for _ in range(2):  # iterative refinement of the linear solve
            r = b - A @ pi
            pi = pi + np.linalg.solve(A, r)
    else:
        pi = np.full(n, 1.0 / n)
        for _ in range(200_000):
            nxt = 0.5 * (pi + pi @ T)  # lazy chain: same stationary law, always converges
            if np.abs(nxt - pi).sum() < 1e-15:
                pi = nxt
                break
            pi = nxt
        else:
            raise XentsimError("the stationary distribution did not converge: the chain mixes too slowly")
    pi = np.clip(pi, 0.0, None)  # rounding can leave -1e-18 on a near-zero state
    return pi / pi.sum()


def chain_block_law(P, k: int, *, pi=None) -> np.ndarray:
    """The stationary law of k consecutive symbols, over the K^k tuples in base-K order
    (first symbol most significant)."""
    P, m = check_chain(P, "P")
    S, K = P.shape
    if K**k > MAX_CHAIN_ENTRIES:
        raise XentsimError(f"the law of {k}-tuples on {K} symbols has {K**k} entries, above the limit")
    if pi is None:
        pi = stationary_distribution(P)
    if m == 0:
        law = np.ones(1)
        for _ in range(k):
            law = (law[:, None] * P[0][None, :]).reshape(-1)
        return law
    if k <= m:
        return pi.reshape(K ** (m - k), K**k).sum(axis=0)
    law = np.asarray(pi, dtype=np.float64)
    for _ in range(k - m):
        ctx = np.arange(law.size) % S
        law = (law[:, None] * P[ctx]).reshape(-1)
    return law


def _model_matrix(Q, K: int, name: str = "Q"):
    Q, mq = check_chain(Q, name)
    if Q.shape[1] != K:
        raise XentsimError(f"{name} is on {Q.shape[1]} symbols but the source on {K}")
    return Q, mq


def entropy_rate(P, base: float = 2, *, pi=None) -> float:
    """Entropy rate H(mu) = sum_c pi(c) H(P[c, .]) of a stationary chain, per symbol.

    Examples
    --------
    >>> round(entropy_rate([[0.9, 0.1], [0.2, 0.8]]), 6)
    0.553306
    """
    P, _ = check_chain(P, "P")
    if pi is None:
        pi = stationary_distribution(P)
    on = P > 0
    terms = np.zeros_like(P)
    terms[on] = -P[on] * np.log2(P[on])
    return math.fsum(pi * terms.sum(axis=1)) / _log_factor(base)


def cross_entropy_rate(P, Q, base: float = 2, *, pi=None) -> float:
    """Cross-entropy rate H(mu, nu) = E[-log Q(X_t | context)] under the stationary
    chain P, for a model Q of any order (a 1-D pmf is an order-0 model).

    Equals entropy_rate(P) + kl_rate(P, Q); ``inf`` when Q gives probability 0 to a
    transition that occurs.

    Examples
    --------
    >>> round(cross_entropy_rate([[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.3], [0.4, 0.6]]), 6)
    0.709194
    """
    P, m = check_chain(P, "P")
    K = P.shape[1]
    Q, mq = _model_matrix(Q, K)
    law = chain_block_law(P, mq + 1, pi=pi)
    q = Q.reshape(-1)  # Q[ctx, x] at index ctx K + x: the (mq + 1)-tuple's index
    on = law > 0
    if (q[on] == 0).any():
        return math.inf
    return math.fsum(-law[on] * np.log2(q[on])) / _log_factor(base)


def block_cross_entropy(law, Q, base: float = 2) -> float:
    """sum_w law(w) -log Q[w // K, w % K] for the (m+1)-block law of any stationary
    source and an order-m model Q (a 1-D pmf is order 0): its cross-entropy rate.
    ``inf`` when Q gives probability 0 to a block of positive probability.

    Examples
    --------
    >>> block_cross_entropy([0.45, 0.05, 0.05, 0.45], [[0.9, 0.1], [0.1, 0.9]]) == entropy([0.9, 0.1])
    True
    """
    Q, _ = check_chain(Q, "Q")
    law = np.asarray(law, dtype=np.float64).reshape(-1)
    if law.size != Q.size:
        raise XentsimError(f"the block law has {law.size} entries but Q has {Q.size}")
    q = Q.reshape(-1)
    on = law > 0
    if (q[on] == 0).any():
        return math.inf
    return math.fsum((-law[on] * np.log2(q[on])).tolist()) / _log_factor(base)


def kl_rate(P, Q, base: float = 2, *, pi=None) -> float:
    """KL rate: E[log P(X_t | past) / Q(X_t | context)] per symbol under the stationary
    chain P, summed term by term (not as a difference of two rates); ``inf`` when Q
    gives probability 0 to a transition that occurs.

    Examples
    --------
    >>> round(kl_rate([[0.9, 0.1], [0.2, 0.8]], [0.5, 0.5]), 6)  # memory + marginal KL
    0.446694
    """
    P, m = check_chain(P, "P")
    S, K = P.shape
    Q, mq = _model_matrix(Q, K)
    L = max(m, mq)  # the context both models read: the previous L symbols
    weight = chain_block_law(P, L, pi=pi)  # stationary law of that context
    ctx = np.flatnonzero(weight > 0)
    prow, qrow = P[ctx % S], Q[ctx % Q.shape[0]]
    on = prow > 0
    if (qrow[on] == 0).any():
        return math.inf
    # As in kl_divergence: per row, sum_x [p ln(p/q) - p + q] (each term >= 0, second
    # order in p - q) plus sum_x (p - q) over supp p (differences exact where p ~ q), so
    # nothing of first order cancels when the chains nearly agree.
    terms = np.zeros_like(prow)
    terms[on] = _kl_terms(prow[on], qrow[on])
    mass = np.where(on, prow - qrow, 0.0).sum(axis=1)
    nats = math.fsum((weight[ctx] * (terms.sum(axis=1) + mass)).tolist())
    return max(nats, 0.0) / (math.log(2.0) * _log_factor(base))
