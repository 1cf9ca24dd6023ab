"""Context models: the distribution of the next symbol depends on the previous m symbols.

Row convention (the same as :mod:`simulator.measures`, section "chains", and the
arithmetic coder's ``Tables(row="context")``): an order-m model on K symbols has K^m
rows; the row coding position t is the context c_t = (x_{t-m}, ..., x_{t-1}) read as a
base-K number, oldest symbol most significant, with positions before the start read as
symbol 0. After coding symbol s the row becomes (c K + s) mod K^m.

- :class:`ContextModel`: a fixed order-m model Q, each row quantised to 2^b with the
  vectorised rule of :class:`~simulator.models.conditional.ConditionalModel` (and its
  proven rounding bound, row by row).
- :class:`AdaptiveContextModel`: Laplace or Krichevsky-Trofimov counts kept separately
  in each of the K^k contexts of order k; it knows only K and k.

:func:`context_indices` and :func:`expected_context_message_bits` are shared with the
context codes (:mod:`simulator.codes.context_huffman`).
"""

from __future__ import annotations

import math
import re

import numpy as np

from .._lazy import Kernels


def _kernels():
    from .. import _chain_kernels
    return _chain_kernels


CK = Kernels(_kernels)  # numba loads on the first kernel call
from .._validate import XentsimError, check_int, check_memory
from ..distributions import earlier_occurrences
from ..interfaces import Tables
from ..measures import check_chain
from .conditional import ConditionalModel, rounding_loss_bound_bits

#: Bytes per entry of an adaptive context table: the coder's cumulative counts, its
#: Fenwick tree (both K + 1 uint64 per row) and the frequencies (K uint64 per row).
ADAPTIVE_BYTES_PER_ENTRY = 3 * 8


def context_indices(symbols, K: int, order: int) -> np.ndarray:
    """The flat index c_t K + x_t of every position t (int64), c_t the zero-padded
    context of order ``order`` (module doc), in one compiled pass. A symbol outside
    0..K-1 is refused, naming its position.

    Examples
    --------
    >>> context_indices([1, 0, 1, 1], 2, 1).tolist()  # contexts 0, 1, 0, 1
    [1, 2, 1, 3]
    """
    x = np.ascontiguousarray(np.asarray(symbols))
    if x.ndim != 1 or (x.size and x.dtype.kind not in "iu"):
        raise XentsimError(f"symbols must be a 1-D integer array, got {x.dtype} of shape {x.shape}")
    if x.size:
        bad = (x < 0) | (x >= K)
        if bad.any():
            i = int(np.argmax(bad))
            raise XentsimError(f"symbols[{i}] is {x[i]}, outside the alphabet 0..{K - 1}")
    out = np.empty(x.size, dtype=np.int64)
    CK.context_flat(x, K, K**order, order, out)
    return out


def expected_context_message_bits(block_law, bits_flat: np.ndarray, K: int, order: int,
                                  n: int) -> float:
    """Exact expected length, in bits, of an n-symbol message from a stationary source
    coded with per-context lengths ``bits_flat`` (index c K + x, length K^(order + 1)).

    Position t < order is coded in the zero-padded context formed by x_0..x_{t-1}, whose
    flat index is the base-K number of (x_0, ..., x_t): its expected cost is
    sum_w block_law(t + 1)[w] bits_flat[w]. Every later position costs the stationary
    sum_w block_law(order + 1)[w] bits_flat[w]. The sums are exact (``math.fsum``);
    ``inf`` when the source emits a (context, symbol) pair of infinite length.
    """
    if n == 0:
        return 0.0

    def cost(k):
        law = np.asarray(block_law(k), dtype=np.float64)
        lengths = bits_flat[: law.size]
        on = law > 0
        if not np.isfinite(lengths[on]).all():
            return math.inf
        return math.fsum((law[on] * lengths[on]).tolist())

    head = sum(cost(t + 1) for t in range(min(order, n)))
    rest = n - min(order, n)
    return head + (rest * cost(order + 1) if rest else 0.0)


class ContextModel:
    """A fixed order-m model: row c of ``Q`` is q(. | c), quantised to integers over 2^b.

    Parameters
    ----------
    Q : array_like, shape (K^m, K)
        Row-stochastic (rows sum to 1 within 1e-9; see :func:`simulator.measures.check_chain`).
        A 1-D pmf is an order-0 model.
    precision : int, optional
        b in 8..32 (default 24).

    Quantisation: each row by the rule of :class:`ConditionalModel` (f = max(1, rint(q T))
    where q > 0, the remainder on the row's most probable symbol), so every row obeys
    KL(q_c || q^_c) < log2(1 + ((K - 1) + (K - 1)^2 / f_top) 2^-b) bits
    (:meth:`rounding_loss_bound_bits`), and the cross-entropy rate the coder pays,
    H(mu, q^), exceeds H(mu, q) by at most the pi-weighted sum of these bounds.
    """

    name = "static"

    def __init__(self, Q, precision: int | None = None, *, name: str = "Q"):
        self.Q, self.order = check_chain(Q, name)
        S, K = self.Q.shape
        try:
            rows = ConditionalModel(self.Q, precision)
        except XentsimError as exc:
            text = re.sub(r"probs\[(\d+)\]", r"row \1", str(exc))
            raise XentsimError(f"{name}: {text}") from None
        self.precision = rows.precision
        self.total = rows.total
        self.freqs = rows.freqs
        self.freqs.setflags(write=False)
        self.cum = rows.cum
        self.n_symbols, self.n_contexts = K, S
        with np.errstate(divide="ignore"):
            #: -log2 q^(x | c) at flat index c K + x (inf where the frequency is 0)
            self.neglog_flat = self.precision - np.log2(self.freqs.reshape(-1).astype(np.float64))
        self.neglog_flat.setflags(write=False)
        self._tables = Tables(cum=self.cum, row="context", order=self.order,
                              precision=self.precision)

    def tables(self, n: int) -> Tables:
        """K^m rows, row = the zero-padded context (the same object every call)."""
        return self._tables

    @property
    def probs(self) -> np.ndarray:
        """q^ = f / 2^b, shape (K^m, K): the model the coder really uses."""
        return self.freqs / self.total

    def rounding_loss_bound_bits(self) -> np.ndarray:
        """Per row, the proven bound on KL(q_c || q^_c) in bits (module doc of ConditionalModel)."""
        top = self.freqs[np.arange(self.n_contexts), np.argmax(self.Q, axis=1)]
        return rounding_loss_bound_bits(self.n_symbols, top, self.precision)

    def symbol_bits(self, symbols) -> np.ndarray:
        """-log2 q^(x_t | c_t) of each position t (zero-padded contexts)."""
        return self.neglog_flat[context_indices(symbols, self.n_symbols, self.order)]

    def ideal_bits(self, symbols) -> float:
        """sum_t -log2 q^(x_t | c_t) in bits."""
        return math.fsum(self.symbol_bits(symbols).tolist())

    def length_moments(self, symbols) -> tuple[int, float, float]:
        bits = self.symbol_bits(symbols)
        return int(bits.size), float(bits.sum()), float(bits @ bits)

    fixed_symbol_bits = None  # the cost depends on the context

    def __repr__(self) -> str:
        return f"ContextModel(K={self.n_symbols}, order={self.order}, precision={self.precision})"


def adaptive_table_bytes(K: int, order: int) -> int:
    """Bytes the coder's adaptive tables take for K^order contexts on K symbols."""
    return ADAPTIVE_BYTES_PER_ENTRY * K**order * (K + 1)


class AdaptiveContextModel:
    """Adaptive counts per context: after i_c symbols in context c, of which c_{c,x}
    were x, the probability of x is (c_{c,x} + a) / (i_c + K a), Laplace a = 1 or
    KT a = 1/2 (as integers: frequencies start at 1 and grow by 1, or by 2 for KT).

    Each context runs its own sequential estimator, so over n symbols the cost exceeds
    the best order-k fit by about K^k (K - 1)/2 log2 n bits (KT; the tests and the
    ``memory`` experiment measure it). The tables take
    :func:`adaptive_table_bytes` = 24 K^k (K + 1) bytes; that size is checked against the
    memory limit before anything is allocated.
    """

    def __init__(self, n_symbols: int, estimator: str = "kt", order: int = 1, *,
                 memory_limit=None):
        K = self.n_symbols = check_int(n_symbols, "n_symbols", minimum=1, maximum=1 << 24)
        self.order = check_int(order, "order", minimum=0)
        if estimator not in ("laplace", "kt"):
            raise XentsimError(f"estimator is {estimator!r}; choose 'laplace' or 'kt'")
        # the size first, without building K^order for a huge order
        if self.order * math.log2(max(K, 2)) > 62:
            raise XentsimError(f"order is {self.order}: {K}^{self.order} contexts cannot be "
                               "tabled on any machine; use a smaller order")
        check_memory(adaptive_table_bytes(K, self.order),
                     f"order = {self.order} ({K}^{self.order} contexts of {K} symbols)",
                     "use a smaller order", memory_limit)
        self.estimator = self.name = estimator
        self.increment = 1 if estimator == "laplace" else 2
        self.n_contexts = K**self.order
        cum = np.tile(np.arange(K + 1, dtype=np.uint64), (self.n_contexts, 1))
        cum.setflags(write=False)
        self._tables = Tables(cum=cum, row="context", order=self.order, increment=self.increment)

    def tables(self, n: int) -> Tables:
        """K^k rows of ones (total K each), adaptive with this model's increment."""
        return self._tables

    def symbol_bits(self, symbols) -> np.ndarray:
        """-log2 P(x_t | past) = log2((inc i_c + K) / (inc c_{c,x} + 1)) per position,
        with the counts of the position's own context (vectorised: one stable sort)."""
        K, inc = self.n_symbols, self.increment
        flat = context_indices(symbols, K, self.order)
        n = flat.size
        if n == 0:
            return np.zeros(0)
        ctx = flat // K

        num = inc * earlier_occurrences(flat) + 1
        den = inc * earlier_occurrences(ctx) + K
        return np.log2(den.astype(np.float64)) - np.log2(num.astype(np.float64))

    def ideal_bits(self, symbols) -> float:
        return math.fsum(self.symbol_bits(symbols).tolist())

    def length_moments(self, symbols) -> tuple[int, float, float]:
        bits = self.symbol_bits(symbols)
        return int(bits.size), float(bits.sum()), float(bits @ bits)

    fixed_symbol_bits = None  # q^ changes with the counts

    def __repr__(self) -> str:
        return (f"AdaptiveContextModel(K={self.n_symbols}, estimator={self.estimator!r}, "
                f"order={self.order})")
