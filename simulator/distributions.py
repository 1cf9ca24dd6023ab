"""Validated pmfs on symbols 0..K-1, the families users reach for, and sampling.

This module is the only consumer of random numbers in xentsim: every function that
draws takes an explicit ``numpy.random.Generator``.

Importing it does not import numba: the compiled kernels (alias sampling, counting) sit
in :mod:`simulator._dist_kernels`, imported by the functions that call them, so a spec
can be parsed and refused without paying for numba's start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import XentsimError, check_int, check_memory, check_pmf, check_rng

#: Largest alphabet accepted by the constructors (and well beyond the 2^20 promised).
MAX_SYMBOLS = 1 << 26
#: Bytes a family constructor holds per symbol at its peak (the weights, the validated
#: copy and numpy temporaries): used to refuse a K that cannot fit before allocating.
FAMILY_BYTES_PER_SYMBOL = 40
#: Largest K for :func:`dyadic`: 2^-(K-1) must be a positive binary64 number, and
#: 2^-1074 is the smallest one (a subnormal).
MAX_DYADIC_SYMBOLS = 1075


@dataclass(frozen=True, eq=False)
class Pmf:
    """A validated probability mass function on the symbols 0..K-1.

    ``Pmf(values)`` rejects anything that is not a pmf (see ``check_pmf``) unless
    ``normalize=True`` is passed, the explicit opt-in to rescaling. The probabilities
    are a read-only float64 array, ``probs``; a ``Pmf`` works wherever an array does.
    """

    probs: np.ndarray
    name: str = field(default="p", compare=False)

    def __init__(self, values, name: str = "p", *, normalize: bool = False):
        object.__setattr__(self, "probs", check_pmf(values, name, normalize=normalize))
        object.__setattr__(self, "name", name)

    @property
    def n_symbols(self) -> int:
        return int(self.probs.size)

    @property
    def support(self) -> np.ndarray:
        return np.flatnonzero(self.probs > 0)

    def __array__(self, dtype=None, copy=None):
        return self.probs if dtype is None else self.probs.astype(dtype)

    def __len__(self) -> int:
        return self.n_symbols

    def __repr__(self) -> str:
        head = np.array2string(self.probs[:6], precision=4, separator=", ")
        more = ", ..." if self.n_symbols > 6 else ""
        return f"Pmf(K={self.n_symbols}, {head[1:-1]}{more})"

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` i.i.d. symbols; see :func:`sample`."""
        return sample(self, n, rng)


# --------------------------------------------------------------------------- families


def _k(K, family: str = "family") -> int:
    """A valid alphabet size whose pmf fits in memory (checked before allocating)."""
    K = check_int(K, "K", minimum=1, maximum=MAX_SYMBOLS)
    check_memory(K * FAMILY_BYTES_PER_SYMBOL, f"{family}({K}) with K = {K} symbols",
                 "use a smaller K")
    return K


def _no_underflow(w: np.ndarray, what: str) -> None:
    """Refuse weights where a positive probability underflowed to 0 in binary64."""
    zero = w == 0
    if zero.any():
        first = int(np.argmax(zero))
        raise XentsimError(
            f"{what}: p({first}) underflows to 0 in binary64, so the pmf would lose "
            f"symbols that should have positive probability; the largest K that works "
            f"is {first}"
        )


def uniform(K: int) -> Pmf:
    """The uniform pmf 1/K on K symbols."""
    K = _k(K, "uniform")
    return Pmf(np.full(K, 1.0 / K), "uniform", normalize=True)


def dyadic(K: int) -> Pmf:
    """(1/2, 1/4, ..., 2^-(K-1), 2^-(K-1)): every probability a power of two.

    Refused for K > ``MAX_DYADIC_SYMBOLS`` = 1075: 2^-(K-1) would underflow to 0.
    """
    K = check_int(K, "K", minimum=1, maximum=MAX_SYMBOLS)
    if K > MAX_DYADIC_SYMBOLS:
        raise XentsimError(
            f"dyadic({K}): K = {K} needs the probability 2^-{K - 1}, which underflows to 0 "
            f"in binary64; the largest K that works is {MAX_DYADIC_SYMBOLS}"
        )
    if K == 1:
        return Pmf([1.0], "dyadic")
    probs = np.ldexp(1.0, -np.arange(1, K + 1))
    probs[-1] = probs[-2]
    return Pmf(probs, "dyadic")


def zipf(K: int, s: float) -> Pmf:
    """Zipf's law on K symbols: p(i) proportional to (i + 1)^-s, s >= 0."""
    K = _k(K, "zipf")
    if not (np.isfinite(s) and s >= 0):
        raise XentsimError(f"zipf exponent s is {s!r}, must be finite and >= 0")
    w = np.arange(1, K + 1, dtype=np.float64) ** -float(s)
    pmf = Pmf(w, "zipf", normalize=True)
    _no_underflow(pmf.probs, f"zipf({K}, {s})")
    return pmf


def geometric(K: int, r: float) -> Pmf:
    """Truncated geometric: p(i) proportional to r^i on K symbols, 0 < r <= 1."""
    K = _k(K, "geometric")
    if not (np.isfinite(r) and 0 < r <= 1):
        raise XentsimError(f"geometric ratio r is {r!r}, must be in (0, 1]")
    w = np.exp(np.arange(K) * np.log(float(r)))
    pmf = Pmf(w, "geometric", normalize=True)
    _no_underflow(pmf.probs, f"geometric({K}, {r})")
    return pmf


def bernoulli(t: float) -> Pmf:
    """Bern(t) = (1 - t, t): P(X = 1) = t."""
    if not (np.isfinite(t) and 0 <= t <= 1):
        raise XentsimError(f"Bernoulli parameter t is {t!r}, must be in [0, 1]")
    return Pmf([1.0 - float(t), float(t)], "bernoulli")


def dirichlet(K: int, alpha: float, rng: np.random.Generator) -> Pmf:
    """A random pmf from the symmetric Dirichlet(alpha, ..., alpha) on K symbols.

    Small alpha gives spiky pmfs (pairs far apart), large alpha nearly uniform ones.
    Entries that underflow to 0 are kept as 0 (symbols with no mass).
    """
    K = _k(K, "dirichlet")
    rng = check_rng(rng)
    if not (np.isfinite(alpha) and alpha > 0):
        raise XentsimError(f"Dirichlet alpha is {alpha!r}, must be > 0")
    for _ in range(100):
        g = rng.gamma(float(alpha), size=K)
        if g.sum() > 0:
            return Pmf(g, "dirichlet", normalize=True)
    raise XentsimError(f"Dirichlet({alpha}) draws underflowed to zero; use a larger alpha")


def mix_uniform(p, eps: float) -> Pmf:
    """The eps-mixture with the uniform pmf: (1 - eps) p + eps / K.

    The usual way to build a full-support q from a p that has zeros.
    """
    p = check_pmf(p, "p")
    if not (np.isfinite(eps) and 0 <= eps <= 1):
        raise XentsimError(f"eps is {eps!r}, must be in [0, 1]")
    return Pmf((1.0 - eps) * p + eps / p.size, "mixture", normalize=True)


def from_counts(counts, pseudocount: float = 0.0) -> Pmf:
    """The empirical pmf (counts + pseudocount) / total."""
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or c.size == 0:
        raise XentsimError(f"counts must be a non-empty 1-D array, got shape {c.shape}")
    if not np.isfinite(c).all() or (c < 0).any():
        raise XentsimError("counts must be finite and >= 0")
    if not (np.isfinite(pseudocount) and pseudocount >= 0):
        raise XentsimError(f"pseudocount is {pseudocount!r}, must be >= 0")
    c = c + pseudocount
    if not c.sum() > 0:
        raise XentsimError("counts are all zero (and no pseudocount): no pmf to form")
    return Pmf(c, "empirical", normalize=True)


# --------------------------------------------------------------------------- tuples


def tuple_probabilities(q: np.ndarray, k: int) -> np.ndarray:
    """q^k over all K^k tuples in base-K order, each product taken in ascending symbol order."""
    K = q.size
    idx = np.arange(K**k, dtype=np.int64)
    digits = np.empty((K**k, k), dtype=np.int64)
    for j in range(k - 1, -1, -1):
        digits[:, j] = idx % K
        idx //= K
    digits.sort(axis=1)
    w = q[digits[:, 0]].copy()
    for j in range(1, k):
        w *= q[digits[:, j]]
    return w


# --------------------------------------------------------------------------- sampling


def symbol_dtype(K: int) -> np.dtype:
    """The smallest unsigned integer type that holds the symbols 0..K-1."""
    if K <= 1 << 8:
        return np.dtype(np.uint8)
    if K <= 1 << 16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


#: Uniforms drawn per chunk by :func:`sample` (one reused buffer).
_CHUNK = 1 << 16


def earlier_occurrences(keys) -> np.ndarray:
    """For each position t, how many positions s < t hold the same key: the running
    count an adaptive model has seen before coding position t (one stable sort, no
    per-symbol loop).

    Examples
    --------
    >>> earlier_occurrences([3, 1, 3, 3, 1]).tolist()
    [0, 0, 1, 2, 1]
    """
    keys = np.asarray(keys)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    first = np.searchsorted(ordered, ordered, side="left")
    out = np.empty(keys.size, dtype=np.int64)
    out[order] = np.arange(keys.size) - first
    return out


def symbol_counts(symbols, K: int) -> np.ndarray:
    """How often each of the symbols 0..K-1 occurs (``np.bincount``, about 5x faster).

    Symbols must already be known to lie in 0..K-1 (the coders check that first).
    """
    counts = np.zeros(K, dtype=np.int64)
    symbols = np.ascontiguousarray(symbols)
    if symbols.size:
        if int(symbols.max()) >= K or (symbols.dtype.kind == "i" and int(symbols.min()) < 0):
            raise XentsimError(f"symbols must lie in 0..{K - 1}")
        from ._dist_kernels import count_symbols

        count_symbols(symbols, counts)
    return counts


def sample(p, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` i.i.d. symbols from the pmf ``p`` with the generator ``rng``.

    Uses the alias method (one uniform double per symbol). Returns the smallest
    unsigned integer dtype that holds 0..K-1. The same generator state gives the same
    symbols.
    """
    p = check_pmf(p, "p")
    n = check_int(n, "n", minimum=0)
    rng = check_rng(rng)
    dtype = symbol_dtype(p.size)
    check_memory(n * dtype.itemsize + 40 * p.size, f"sampling n = {n} symbols",
                 "draw fewer symbols at a time")
    from ._dist_kernels import alias_draw, build_alias

    threshold, alias = build_alias(p)
    alias = alias.astype(dtype)
    out = np.empty(n, dtype=dtype)
    # Draw the uniforms in cache-sized chunks into one reused buffer: the stream of
    # doubles is the same as one rng.random(n) call, without an 8n-byte temporary.
    buf = np.empty(min(n, _CHUNK))
    for start in range(0, n, _CHUNK):
        u = buf[: min(_CHUNK, n - start)]
        rng.random(out=u)
        alias_draw(u, threshold, alias, out[start : start + u.size])
    return out


def __getattr__(name: str):
    """``_build_alias`` (Vose's alias table, a compiled kernel; used by the Markov source)
    is loaded from :mod:`simulator._dist_kernels` on first use (PEP 562)."""
    if name == "_build_alias":
        from ._dist_kernels import build_alias

        return build_alias
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
