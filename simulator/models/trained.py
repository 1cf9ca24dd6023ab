"""Order-k context models for real data: trained on one sequence, or adaptive.

Context convention (the same in training, coding and every report): the context of
position t is the previous k symbols read as a base-K number, the oldest most
significant, with positions before the start read as symbol 0:

    c_t = x_{t-k} K^(k-1) + ... + x_{t-1},   x_j = 0 for j < 0,

so c_{t+1} = (c_t K + x_t) mod K^k. For bytes at k = 3 there are 2^24 possible contexts
but the corpus texts use 6,420 to 10,691 of them, so these models keep a row only for
contexts that occur (:class:`ContextTables`): the coder maps a context number to its row through a
hash table instead of reading K^k dense rows.

- :class:`TrainedModel`: counts N(c, x) from a training sequence, smoothed by add-alpha,
  q(x | c) = (N(c, x) + alpha) / (N(c) + K alpha), and quantised to integers totalling
  2^b per row. Contexts never seen in training share one row: the uniform 1/K (which is
  what the formula gives at N(c) = 0), or none at all when alpha = 0 (then such a
  context, like a symbol with N(c, x) = 0, cannot be coded: its probability is 0).
- :class:`ContextAdaptiveModel`: Laplace (add 1) or Krichevsky-Trofimov (add 1/2)
  counts per context, learnt from the part of the message already coded:
  P(x | c, past) = (n_c(x) + a) / (n_c + K a). A context gets its row the first time it
  occurs, from a pool whose size (the number of distinct contexts of the message) the
  encoder knows and stores beside the stream.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from .._validate import XentsimError, check_int
from ..distributions import earlier_occurrences
from ..interfaces import Tables
from .static import check_precision

#: Largest K^k accepted: context numbers (plus one, the hash key) must fit in 63 bits.
MAX_CONTEXTS = 1 << 62


@dataclass(frozen=True)
class ContextTables(Tables):
    """Tables with ``row="mapped"``: one row per context that occurs, not K^order rows.

    Fixed tables (``increment == 0``): ``cum[j]`` is the row of context number
    ``contexts[j]`` (cumulative frequencies totalling 2^precision); a context not in
    ``contexts`` is coded with row ``default_row``, or cannot be coded at all when
    ``default_row`` is -1.

    Adaptive tables (``increment > 0``): ``cum`` has one row, the starting counts of
    every context; a context gets a fresh copy of it the first time it occurs, from a
    pool of ``pool`` rows (more distinct contexts than that is an error), and the coded
    symbol's frequency in its context's row grows by ``increment`` after each symbol.
    ``pairs`` bounds the distinct (context, symbol) pairs the message may have (the
    coder keeps, for large context spaces, only the symbols seen in each context).
    ``contexts`` is empty and ``default_row`` is -1.
    """

    contexts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    default_row: int = -1
    pool: int = 0
    pairs: int = 0

    def __post_init__(self):
        # Context numbers are non-negative integers: a float would be truncated and a
        # negative one wrap around when the coder reads them as uint64.
        c = np.asarray(self.contexts)
        if c.size and (c.dtype.kind not in "iu" or c.min() < 0):
            raise XentsimError(
                f"ContextTables contexts must be context numbers (integers >= 0), got dtype "
                f"{c.dtype} with values from {c.min().item()} to {c.max().item()}"
            )


def check_order(order, n_symbols: int) -> int:
    """k as an int >= 0 with K^k <= MAX_CONTEXTS (context numbers must fit in 63 bits)."""
    k = check_int(order, "order", minimum=0)
    if n_symbols ** k > MAX_CONTEXTS:
        kmax = 0
        while n_symbols ** (kmax + 1) <= MAX_CONTEXTS:
            kmax += 1
        raise XentsimError(
            f"order is {k}: with K = {n_symbols} symbols the contexts K^{k} do not fit in "
            f"63 bits; the largest order is {kmax}"
        )
    return k


def context_numbers(symbols, n_symbols: int, order: int) -> np.ndarray:
    """c_t for every position t (uint64), by the module's convention."""
    x = np.asarray(symbols)
    n = x.size
    ctx = np.zeros(n, dtype=np.uint64)
    K = np.uint64(n_symbols)
    for j in range(order, 0, -1):  # oldest (x_{t-k}) first, most significant
        if j < n:
            ctx[j:] = ctx[j:] * K + x[:-j].astype(np.uint64)
        ctx[: min(j, n)] *= K  # positions before the start read as 0
    return ctx


def memory_limit_bytes() -> int:
    """Memory a model's tables may take: half the memory the system reports available
    (``MemAvailable`` in /proc/meminfo; else half the physical memory; else 4 GiB)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def check_memory(nbytes: int, what: str) -> None:
    """Refuse, before allocating, tables that would not fit (:func:`memory_limit_bytes`)."""
    limit = memory_limit_bytes()
    if nbytes > limit:
        raise XentsimError(
            f"{what} would take {nbytes / 2**20:.0f} MiB, more than the {limit / 2**20:.0f} MiB "
            "this machine can spare (half its available memory): use a lower order"
        )


def _round_rows(q: np.ndarray, T: int) -> np.ndarray:
    """ConditionalModel's rounding rule, row by row: f = max(1, rint(q T)) where q > 0,
    0 where q = 0, the remainder added to the row's most probable symbol (the first on
    a tie). Its loss KL(q || f / T) obeys :func:`~simulator.models.rounding_loss_bound_bits`."""
    f = np.where(q > 0, np.maximum(1.0, np.rint(q * T)), 0.0).astype(np.int64)
    top = np.argmax(q, axis=1)
    idx = np.arange(q.shape[0])
    f[idx, top] += T - f.sum(axis=1)
    if (f[idx, top] < 1).any():
        raise XentsimError(f"precision too low for K = {q.shape[1]}: a row has too many tiny probabilities")
    return f


class TrainedModel:
    """An order-k model trained on a sequence, with add-alpha smoothing, as fixed tables.

    q(x | c) = (N(c, x) + alpha) / (N(c) + K alpha), where N(c, x) counts x after context c
    in the training sequence (module convention for contexts) and N(c) = sum_x N(c, x).
    Each row is quantised to integer frequencies totalling 2^b by ConditionalModel's
    rule (f = max(1, rint(q 2^b)), remainder on the most probable symbol), so that
    KL(q(.|c) || q^(.|c)) < log2(1 + ((K - 1) + (K - 1)^2 / f_top) 2^-b) for every row.
    Contexts absent from training use the uniform row 1/K (alpha > 0) or have no row
    (alpha = 0: they cannot be coded).

    Parameters
    ----------
    train : array_like of int
        The training sequence, symbols in 0..K-1.
    order : int
        k >= 0.
    n_symbols : int
        K.
    alpha : float
        The smoothing pseudo-count, >= 0 and finite (default 1/2).
    precision : int
        b in 8..32 (default 24).
    """

    name = "trained"

    def __init__(self, train, order: int, n_symbols: int, alpha: float = 0.5,
                 precision: int | None = None):
        self.n_symbols = K = check_int(n_symbols, "n_symbols", minimum=1, maximum=1 << 24)
        self.order = check_order(order, K)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) \
                or not math.isfinite(alpha) or alpha < 0:
            raise XentsimError(f"alpha is {alpha!r}: it must be a finite number >= 0")
        self.alpha = float(alpha)
        self.precision = check_precision(precision)
        self.total = T = 1 << self.precision
        if K > T:
            raise XentsimError(f"precision {self.precision} is too low for K = {K} symbols")
        x = np.asarray(train)
        if x.ndim != 1 or (x.size and x.dtype.kind not in "iu"):
            raise XentsimError(f"train must be a 1-D integer array, got shape {x.shape}, dtype {x.dtype}")
        if x.size and (int(x.min()) < 0 or int(x.max()) >= K):
            raise XentsimError(f"train holds symbols outside 0..{K - 1} (from {int(x.min())} to {int(x.max())})")
        self.n_train = int(x.size)
        ctx = context_numbers(x, K, self.order)
        contexts, inverse = np.unique(ctx, return_inverse=True)
        R = contexts.size
        # counts (R x K int64), the float rows while rounding, cum (R + 1 rows of K + 1)
        check_memory((R + 1) * (K + 1) * 8 * 3, f"the order-{self.order} trained model ({R} contexts x {K} symbols)")
        counts = np.bincount(inverse.reshape(-1) * K + x.astype(np.int64), minlength=R * K)
        self.counts = counts.reshape(R, K)  #: N(c, x), one row per context in ``contexts``
        self.context_totals = self.counts.sum(axis=1)  #: N(c)
        self.contexts = contexts  #: the training contexts, ascending
        self.contexts.setflags(write=False)
        has_default = self.alpha > 0
        # uint32 rows when 2^b fits (half the memory traffic of the coder's row reads)
        cum = np.zeros((R + has_default, K + 1), dtype=np.uint32 if self.precision < 32 else np.uint64)
        for lo in range(0, R, 4096):  # bounded temporary memory
            hi = min(R, lo + 4096)
            q = (self.counts[lo:hi] + self.alpha) / (self.context_totals[lo:hi, None] + K * self.alpha)
            np.cumsum(_round_rows(q, T), axis=1, out=cum[lo:hi, 1:])
        if has_default:
            np.cumsum(_round_rows(np.full((1, K), 1.0 / K), T), axis=1, out=cum[R:, 1:])
        cum.setflags(write=False)
        self.cum = cum
        self.default_row = R if has_default else -1
        self._tables = ContextTables(cum=cum, row="mapped", order=self.order,
                                     precision=self.precision, contexts=contexts,
                                     default_row=self.default_row)

    @property
    def n_contexts(self) -> int:
        """Contexts seen in training (rows, not counting the shared default row)."""
        return int(self.contexts.size)

    def tables(self, n: int) -> ContextTables:
        """Fixed mapped tables, the same object for every n."""
        return self._tables

    def rows_of(self, symbols) -> np.ndarray:
        """The row coding each position of a message (int64; -1: an unseen context
        without a default row)."""
        ctx = context_numbers(symbols, self.n_symbols, self.order)
        j = np.searchsorted(self.contexts, ctx)
        j = np.minimum(j, max(self.contexts.size - 1, 0))
        seen = self.contexts[j] == ctx if self.contexts.size else np.zeros(ctx.size, dtype=bool)
        return np.where(seen, j, self.default_row).astype(np.int64)

    def _check_message(self, symbols) -> np.ndarray:
        x = np.asarray(symbols)
        if x.ndim != 1 or (x.size and x.dtype.kind not in "iu"):
            raise XentsimError(f"symbols must be a 1-D integer array, got shape {x.shape}")
        if x.size and (int(x.min()) < 0 or int(x.max()) >= self.n_symbols):
            raise XentsimError(f"symbols must lie in 0..{self.n_symbols - 1}")
        return x.astype(np.int64)

    def symbol_bits(self, symbols) -> np.ndarray:
        """-log2 q^(x_t | c_t) of each position, the quantised model the coder uses
        (inf where q^ is 0)."""
        x = self._check_message(symbols)
        rows = self.rows_of(x)
        f = np.zeros(x.size, dtype=np.float64)
        ok = rows >= 0
        r, s = rows[ok], x[ok]
        f[ok] = (self.cum[r, s + 1] - self.cum[r, s]).astype(np.float64)
        with np.errstate(divide="ignore"):
            return self.precision - np.log2(f)

    def exact_bits(self, symbols) -> np.ndarray:
        """-log2 q(x_t | c_t) of each position under the unquantised add-alpha model
        (inf where q is 0: alpha = 0 and N(c, x) = 0, or an unseen context)."""
        x = self._check_message(symbols)
        rows = self.rows_of(x)
        K, a = self.n_symbols, self.alpha
        num = np.full(x.size, a, dtype=np.float64)
        den = np.full(x.size, K * a, dtype=np.float64)
        seen = (rows >= 0) & (rows < self.n_contexts)
        num[seen] += self.counts[rows[seen], x[seen]]
        den[seen] += self.context_totals[rows[seen]]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log2(den) - np.log2(num)
        out[num == 0] = math.inf
        return out

    fixed_symbol_bits = None  # q^ depends on the context

    def __repr__(self) -> str:
        return (f"TrainedModel(K={self.n_symbols}, order={self.order}, alpha={self.alpha!r}, "
                f"precision={self.precision}, contexts={self.n_contexts})")


class ContextAdaptiveModel:
    """Adaptive order-k counts: P(x | c, past) = (n_c(x) + a) / (n_c + K a).

    n_c(x) counts x after context c in the part of the message already coded, n_c their
    sum; a = 1 (``"laplace"``) or 1/2 (``"kt"``, as integer frequencies 2 n_c(x) + 1 over
    2 n_c + K). Every context starts from all frequencies 1 (total K) and gets its row
    the first time it occurs. ``max_contexts`` and ``max_pairs`` bound the distinct
    contexts and distinct (context, symbol) pairs a message may open (None: no bound
    beyond the message length); a decoder is given the encoder's counts, so that a
    damaged stream cannot make it allocate more.
    """

    def __init__(self, n_symbols: int, order: int, estimator: str = "kt",
                 max_contexts: int | None = None, max_pairs: int | None = None):
        self.n_symbols = K = check_int(n_symbols, "n_symbols", minimum=1, maximum=1 << 24)
        self.order = check_order(order, K)
        if estimator not in ("laplace", "kt"):
            raise XentsimError(f"estimator is {estimator!r}; choose 'laplace' or 'kt'")
        self.estimator = self.name = estimator
        self.increment = 1 if estimator == "laplace" else 2
        self.max_contexts = None if max_contexts is None else check_int(max_contexts, "max_contexts", minimum=0)
        self.max_pairs = None if max_pairs is None else check_int(max_pairs, "max_pairs", minimum=0)
        if self.max_contexts is not None and self.max_pairs is not None:
            check_memory(self.state_bytes(self.max_contexts, self.max_pairs),
                         f"the order-{self.order} adaptive model ({self.max_contexts} contexts, "
                         f"{self.max_pairs} context-symbol pairs)")
        cum = np.arange(K + 1, dtype=np.uint64).reshape(1, -1)
        cum.setflags(write=False)
        self._cum = cum
        self._tables = {}

    def state_bytes(self, contexts: int, pairs: int) -> int:
        """An upper bound on the coder's memory for this many contexts and pairs.

        Dense rows (K^order * 8 K <= 1 MiB): two uint32 arrays of about K entries, a
        total and two 16-byte hash slots per row. Sparse rows: a 32-byte hash slot per
        context in a table at least 3/8 full (x 8/3), kept while the next one is built
        (x 3/2): 128 bytes per context; segment slots of 8 bytes, fewer than 4 per pair,
        in a pool at most twice what is used and copied when it grows: 96 per pair."""
        K = self.n_symbols
        if K ** self.order * 8 * K <= 1 << 20:
            return min(contexts, K ** self.order) * ((2 * K + 1) * 4 + 40)
        return 128 * contexts + 96 * pairs

    def tables(self, n: int) -> ContextTables:
        """One starting row (all frequencies 1), adaptive; bounds from the model, or n."""
        rows = n if self.max_contexts is None else self.max_contexts
        pairs = n if self.max_pairs is None else self.max_pairs
        t = self._tables.get((rows, pairs))
        if t is None:
            if len(self._tables) > 8:
                self._tables.clear()
            t = self._tables[(rows, pairs)] = ContextTables(
                cum=self._cum, row="mapped", order=self.order, increment=self.increment,
                pool=rows, pairs=pairs)
        return t

    def symbol_bits(self, symbols) -> np.ndarray:
        """-log2 P(x_t | c_t, past) of each position, exactly (the counts are integers,
        so the coder's q^ is this model itself)."""
        x = np.asarray(symbols).astype(np.int64)
        n, K = x.size, self.n_symbols
        if n == 0:
            return np.zeros(0)
        ctx = context_numbers(x, K, self.order)
        _, cid = np.unique(ctx, return_inverse=True)
        cid = cid.reshape(-1)

        inc = self.increment
        num = inc * earlier_occurrences(cid * K + x) + 1
        den = inc * earlier_occurrences(cid) + K
        return np.log2(den.astype(np.float64)) - np.log2(num.astype(np.float64))

    exact_bits = symbol_bits
    fixed_symbol_bits = None

    def __repr__(self) -> str:
        return (f"ContextAdaptiveModel(K={self.n_symbols}, order={self.order}, "
                f"estimator={self.estimator!r})")


def distinct_contexts(symbols, n_symbols: int, order: int) -> int:
    """How many distinct contexts c_t a message has (the pool an adaptive model needs)."""
    x = np.asarray(symbols)
    if x.size == 0:
        return 0
    return int(np.unique(context_numbers(x, n_symbols, order)).size)
