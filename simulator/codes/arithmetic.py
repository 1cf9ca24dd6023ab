"""Arithmetic (range) coding with finite precision, built from q or learnt from the data.

The coder reads a model only through its :class:`~simulator.interfaces.Tables`
(``model.tables(n)``): cumulative integer frequencies, which row codes each position,
and an increment for adaptive counts. It keeps a 64-bit interval [low, low + rng)
with 2^56 <= rng < 2^64, narrows it by each symbol's frequency interval
(r = rng // total, low += r cum, rng = r freq), and sends bytes out of the top of the
window as rng shrinks, resolving carries with a one-byte cache and a count of 0xFF
bytes.

Termination, exactly: when the n symbols are coded and S bytes have left the window,
the coder appends the first m bits of x, where m is the smallest number in 0..64 such
that a multiple of 2^(64-m) lies in [low, low + rng) and x is the smallest such
multiple. Since rng >= 2^56, m <= 8, and the stream has 8 S + m bits. This is the
shortest stream that *extends the S bytes already written*; it is not always the
shortest stream that identifies the final interval: when the last bytes out are zeros
(or a shorter point falls inside the interval before them), fewer bits would do. In
about 10% of random messages a shorter stream exists, usually 1 to 3 bits shorter;
10 zero bytes (K = 256) take 56 bits with the adaptive Laplace model and 48 with KT,
where 0 would do.

Length bound. Let ideal = sum_t -log2 q^(x_t | past), with q^ the model's integer
frequencies over their total (at most ``total``: 2^b for static and conditional
models, at most 2n + K for the adaptive ones). Each symbol's truncation r = rng // total
costs at most -log2(1 - total 2^-56) <= 1.443 total 2^-56 bits, so the final interval
has width w with ideal <= -log2 w <= ideal + n 1.443 total 2^-56 + 2^-63 (the last
term for the initial width 2^64 - 1). With w = rng 2^-(64 + 8 S), -log2 w <= 8 S + 8;
a multiple of 2^(64-m) lies in any interval of width >= 2^(64-m), so
m <= -log2 w - 8 S + 1. The stream has 8 S + m bits, hence

    ideal - 8  <=  real bits  <=  ideal + 1 + n * 1.443 * total * 2^-56 + 2^-63,

``SLACK_BITS`` = (-8, +1) plus ``TRUNCATION_BITS`` = 1.443 * 2^-56 per symbol and
unit of total (:func:`slack_bounds`). Both ends occur: real - ideal falls below -2 in
about 14% of random messages, so "within 2 bits of the ideal" would be false. At b = 24
the truncation term is below 3.4e-10 bits per symbol.

Damaged streams. The decoder is given n. After n symbols it re-derives the
termination (low = window - code, no re-encoding) and checks that the stream is
exactly the encoding of the message it decoded: 8 S + m bits long with the same final
point. So it raises :class:`XentsimError` on every stream that is not the encoding of
some n-symbol message, and when it returns a message, that message's encoding is the
stream it was given. What no decoder can detect without added redundancy such as a
checksum is a damaged stream that is itself a valid encoding: every stream of the
right shape encodes some message, and this termination leaves no slack, so that is
not rare. A stream cut or extended by a few bits is often exactly the encoding of a
message that differs in its last few symbols; the final point lies near the bottom of
the final interval, inside the sub-interval of the next symbol when that symbol is
likely, so n + 1 symbols (or n - 1) may share the stream of n; an empty stream encodes
a short message of likely symbols. Most truncations, extensions and empty streams are
caught (more than half in the fuzz test's random cases), and appending zero bits is
always caught (the decoder reads zeros past the end anyway, decodes the same message
and finds its encoding shorter). The decoder never reads outside the stream's bytes
and stops after at most n steps, earlier once it has read past the stream.

Chunked coding. :class:`ArithmeticStreamEncoder` codes a message chunk by chunk (the
concatenated output is bit for bit ``encode`` of the whole message) and
:class:`ArithmeticStreamDecoder` decodes it from bits fed in pieces, with the same
damage checks, in memory bounded by the chunk (const and context rows; per-position
and mapped tables are coded whole).

Two implementations produce the same bits and the same verdicts: :class:`ReferenceCoder`,
plain Python that reads like the description above, and compiled kernels (``encode``
and ``decode``), which the test suite checks against it bit for bit.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
from bitarray import bitarray

from .._validate import UnencodableSymbolError, XentsimError, check_int, check_pmf
from ..distributions import symbol_dtype
from ..interfaces import Tables
from ..measures import cross_entropy
from ..models import build_model
from ..models.trained import ContextTables
from .._lazy import Kernels


def _kernels():
    from . import _arith_kernels
    return _arith_kernels


K_ = Kernels(_kernels)  # numba loads on the first kernel call
from .prefix import _as_bits, padded_bytes

MASK64 = (1 << 64) - 1
TOP = 1 << 56  # renormalise while rng < TOP
GUIDE_BITS = 14  # the static decoder's guide has 2^14 entries (fewer when precision < 14)

#: real bits - ideal bits lies in [SLACK_BITS[0], SLACK_BITS[1] + n * TRUNCATION_BITS * total]
SLACK_BITS = (-8.0, 1.0)
#: the truncation of rng // total costs at most this many bits per symbol and unit of total
TRUNCATION_BITS = 1.443 * 2.0**-56
#: the initial width 2^64 - 1 instead of 2^64 costs at most this many bits
_START_BITS = 2.0**-63


def slack_bounds(n: int, total: int) -> tuple[float, float]:
    """(lo, hi): a message of n symbols with frequency totals <= ``total`` has
    real bits - ideal bits in [lo, hi] (module doc)."""
    return SLACK_BITS[0], SLACK_BITS[1] + n * TRUNCATION_BITS * total + _START_BITS


# ------------------------------------------------------------------------ tables


class _Plan:
    """Validated tables, in the form the kernels take (see ``_arith_kernels``)."""

    __slots__ = ("tables", "cum", "K", "rows", "precision", "position", "contexts",
                 "inc", "total", "neglog", "guide", "guide_shift")

    def max_total(self, n: int) -> int:
        """The largest frequency total any of n symbols is coded with."""
        return self.total + self.inc * n

    def adaptive_state(self):
        """Fresh (tree, freq, totals, inc) for an adaptive message, else Nones."""
        if not self.inc:
            return _FIXED_STATE
        cum = self.cum
        K = self.K
        idx = np.arange(1, K + 1)
        tree = np.zeros_like(cum, dtype=np.uint64)
        tree[:, 1:] = cum[:, idx] - cum[:, idx - (idx & -idx)]  # Fenwick: sums over (i - lowbit(i), i]
        freq = np.ascontiguousarray(np.diff(cum, axis=1))
        totals = cum[:, K].copy()
        return tree, freq, totals, np.uint64(self.inc)


_FIXED_STATE = (None, None, None, np.uint64(0))
_PLANS: dict = {}  # id(tables) -> (weakref to tables, plan), for tables with read-only cum
_PLANS_MAX = 16


def _tables_error(model, what):
    raise XentsimError(f"model {model!r} returned bad tables: {what}")


def _plan(model, n: int) -> _Plan:
    """model.tables(n), validated once per (read-only) table and prepared for the kernels."""
    tables_of = getattr(model, "tables", None)
    if not callable(tables_of):
        raise XentsimError(
            f"model must be a model with n_symbols and tables(n) (see simulator.models), "
            f"got {model!r}"
        )
    tables = tables_of(n)
    hit = _PLANS.get(id(tables))
    if hit is not None and hit[0]() is tables:
        plan = hit[1]
    else:
        plan = _make_plan(model, tables)
        if not plan.cum.flags.writeable and tables.cum is plan.cum:
            if len(_PLANS) >= _PLANS_MAX:
                del _PLANS[next(iter(_PLANS))]
            _PLANS[id(tables)] = (weakref.ref(tables), plan)
    # checks that depend on n
    if plan.position and plan.rows != n:
        _tables_error(model, f"{plan.rows} position rows for a message of {n} symbols")
    if plan.inc and plan.max_total(n) >= 1 << 32:
        raise XentsimError(
            f"adaptive coding keeps frequency totals below 2^32; {n} symbols would reach "
            f"{plan.max_total(n)}"
        )
    return plan


def _fixed_total(model, tables, plan, cum, K) -> None:
    """Fixed (non-adaptive) tables: precision b in 8..32 and every row totalling 2^b."""
    b = tables.precision
    if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not 8 <= b <= 32:
        _tables_error(model, f"precision must be an integer in 8..32 for fixed tables, got {b!r}")
    plan.precision = int(b)
    plan.total = 1 << plan.precision
    if (cum[:, K] != plan.total).any():
        _tables_error(model, f"every row must total 2^{b} = {plan.total}")


def _make_plan(model, tables) -> _Plan:
    if getattr(tables, "row", None) == "mapped":
        return _make_mapped_plan(model, tables)
    K = getattr(model, "n_symbols", None)
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise XentsimError(f"model must have n_symbols >= 1, got {K!r} from {model!r}")
    K = int(K)
    if not isinstance(tables, Tables):
        _tables_error(model, f"tables(n) gave {type(tables).__name__}, not Tables")
    cum = tables.cum
    if not isinstance(cum, np.ndarray) or cum.ndim != 2 or cum.shape[1] != K + 1:
        _tables_error(model, f"cum must be an (R, K + 1) = (R, {K + 1}) array, got "
                      f"{getattr(cum, 'shape', type(cum).__name__)}")
    if cum.dtype != np.uint64:
        if not np.issubdtype(cum.dtype, np.integer) or (cum.size and cum.min() < 0):
            _tables_error(model, f"cum must hold non-negative integers, got dtype {cum.dtype}")
        cum = cum.astype(np.uint64)
    cum = np.ascontiguousarray(cum)
    R = cum.shape[0]
    plan = _Plan()
    plan.tables, plan.K, plan.rows = tables, K, R
    plan.position = plan.contexts = None
    plan.neglog = plan.guide = None
    plan.guide_shift = 0
    if tables.row == "const":
        if R != 1:
            _tables_error(model, f"row 'const' needs 1 row, got {R}")
    elif tables.row == "position":
        plan.position = True
    elif tables.row == "context":
        order = tables.order
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
            _tables_error(model, f"order must be an integer >= 0, got {order!r}")
        if K ** int(order) != R:
            _tables_error(model, f"row 'context' of order {order} needs K^order = {K ** int(order)} rows, got {R}")
        plan.contexts = int(R)
    else:
        _tables_error(model, f"row is {tables.row!r}; choose 'const', 'position' or 'context'")
    inc = tables.increment
    if isinstance(inc, bool) or not isinstance(inc, (int, np.integer)) or inc < 0:
        _tables_error(model, f"increment must be an integer >= 0, got {inc!r}")
    plan.inc = int(inc)
    if (cum[:, 0] != 0).any():
        _tables_error(model, "every row of cum must start at 0")
    small = cum.size <= 1 << 16
    if small and (np.diff(cum, axis=1).astype(np.int64) < 0).any():  # larger rows: below
        _tables_error(model, "cumulative frequencies must not decrease along a row")
    if plan.inc:
        if not small and (np.diff(cum, axis=1).astype(np.int64) < 0).any():
            _tables_error(model, "cumulative frequencies must not decrease along a row")
        plan.precision = 0
        if (cum[:, K] == 0).any():
            _tables_error(model, "an adaptive row has total 0")
        plan.total = int(cum[:, K].max())
    else:
        _fixed_total(model, tables, plan, cum, K)
        if not small:
            if (np.diff(cum, axis=1).astype(np.int64) < 0).any():
                _tables_error(model, "cumulative frequencies must not decrease along a row")
        if tables.row == "const":
            with np.errstate(divide="ignore"):
                plan.neglog = plan.precision - np.log2(np.diff(cum[0]).astype(np.float64))
            # The decoder's guide: guide[j] is the symbol whose interval holds the value
            # j 2^shift, so a search starts in [guide[j], guide[j + 1]]. 2^14 entries of the
            # narrowest integer type that holds K - 1 stay in the L1 cache (at K <= 256,
            # 16 KB); 2^16 int64 entries (512 KB) made decoding ~10% slower.
            g = min(plan.precision, GUIDE_BITS)
            starts = np.arange(1 << g, dtype=np.uint64) << np.uint64(plan.precision - g)
            plan.guide_shift = plan.precision - g
            plan.guide = (np.searchsorted(cum[0], starts, side="right") - 1).astype(
                np.min_scalar_type(K - 1))
    plan.cum = cum
    return plan


class _MappedPlan(_Plan):
    """A plan for ContextTables (row "mapped"): rows reached through a context hash map."""

    __slots__ = ("order", "default_row", "pool", "pairs", "sparse", "map_table", "map_shift",
                 "row_guide", "guide_bits")

    def fresh_map(self):
        """(table, shift, tree, ext, tot): the hash table and adaptive state of one message.

        Fixed tables share one prebuilt, read-only map; adaptive tables get an empty map
        of at least twice ``pool`` slots and zero increments for max(``pool``, 1) rows."""
        if not self.inc:
            return self.map_table, self.map_shift, None, None, None
        table, shift = _empty_map(self.pool)
        K, R = self.K, max(self.pool, 1)
        return (table, shift, np.zeros((R, K + 1), dtype=np.uint32),
                np.zeros((R, K), dtype=np.uint32), np.zeros(R, dtype=np.uint64))


def _empty_map(entries: int):
    """A zeroed hash table with at least 2 * entries slots (and at least 16)."""
    bits = max(4, (2 * max(entries, 1) - 1).bit_length())
    return np.zeros((1 << bits, 2), dtype=np.uint64), 64 - bits


def _make_mapped_plan(model, tables) -> _MappedPlan:
    """Validate ContextTables (see :class:`simulator.models.trained.ContextTables`)."""
    if not isinstance(tables, ContextTables):
        _tables_error(model, "row 'mapped' needs ContextTables (simulator.models.trained)")
    K = getattr(model, "n_symbols", None)
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise XentsimError(f"model must have n_symbols >= 1, got {K!r} from {model!r}")
    K = int(K)
    cum = tables.cum
    if not isinstance(cum, np.ndarray) or cum.ndim != 2 or cum.shape[1] != K + 1 or cum.shape[0] < 1:
        _tables_error(model, f"cum must be an (R, K + 1) = (R, {K + 1}) array with R >= 1, got "
                      f"{getattr(cum, 'shape', type(cum).__name__)}")
    if cum.dtype not in (np.uint64, np.uint32):  # uint32 rows are read as they are (fixed, b < 32)
        if not np.issubdtype(cum.dtype, np.integer) or (cum.size and cum.min() < 0):
            _tables_error(model, f"cum must hold non-negative integers, got dtype {cum.dtype}")
        cum = cum.astype(np.uint64)
    if cum.dtype == np.uint32 and (tables.increment or tables.precision == 32):
        cum = cum.astype(np.uint64)
    cum = np.ascontiguousarray(cum)
    if (cum[:, 0] != 0).any() or (np.diff(cum.astype(np.int64), axis=1) < 0).any():
        _tables_error(model, "every row of cum must start at 0 and not decrease")
    order = tables.order
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0 \
            or K ** int(order) > 1 << 62:
        _tables_error(model, f"order must be an integer >= 0 with K^order <= 2^62, got {order!r}")
    inc = tables.increment
    if isinstance(inc, bool) or not isinstance(inc, (int, np.integer)) or inc < 0:
        _tables_error(model, f"increment must be an integer >= 0, got {inc!r}")
    plan = _MappedPlan()
    plan.tables, plan.K, plan.rows, plan.cum = tables, K, cum.shape[0], cum
    plan.position = plan.contexts = plan.neglog = plan.guide = None
    plan.guide_shift = 0
    plan.order, plan.inc = int(order), int(inc)
    plan.default_row = int(tables.default_row)
    plan.pool = int(tables.pool)
    plan.pairs = int(tables.pairs)
    #: adaptive rows: dense Fenwick rows when every context fits in 1 MiB of rows
    #: (K^order <= 2^20 / (8 K)), else sparse rows of the symbols seen
    plan.sparse = bool(inc) and K ** int(order) * 8 * K > 1 << 20
    if plan.sparse:
        plan.pool = min(plan.pool, K ** int(order))
    elif inc:
        plan.pool = min(plan.pool, K ** int(order))
    contexts = np.ascontiguousarray(np.asarray(tables.contexts, dtype=np.uint64))
    plan.map_table = plan.map_shift = None
    plan.row_guide = np.zeros((1, 2), dtype=np.uint8)  # adaptive tables: not used
    plan.guide_bits = 0
    if plan.inc:
        plan.precision = 0
        if cum.shape[0] != 1 or cum[0, K] == 0:
            _tables_error(model, "adaptive mapped tables have one starting row with a positive total")
        if contexts.size or plan.default_row != -1 or plan.pool < 0 or plan.pairs < 0:
            _tables_error(model, "adaptive mapped tables have no contexts, no default row, "
                          "and pool >= 0 and pairs >= 0")
        plan.total = int(cum[0, K])
    else:
        _fixed_total(model, tables, plan, cum, K)
        R = cum.shape[0]
        if contexts.ndim != 1 or contexts.size not in (R, R - 1) or \
                (contexts.size and (int(contexts.max()) >= K ** plan.order or np.unique(contexts).size != contexts.size)):
            _tables_error(model, "contexts must list distinct context numbers below K^order, one per row")
        if not -1 <= plan.default_row < R or (plan.default_row >= 0 and plan.default_row < contexts.size):
            _tables_error(model, f"default_row {plan.default_row} must be -1 or a row without a context")
        # decoding: per row, the first candidate symbol for each of 2^8 slices of the total
        plan.guide_bits = 8
        gdt = np.uint8 if K <= 1 << 8 else np.uint16 if K <= 1 << 16 else np.int64
        plan.row_guide = np.empty((cum.shape[0], (1 << plan.guide_bits) + 1), dtype=gdt)
        K_.row_guides(cum, plan.precision, plan.guide_bits, plan.row_guide)
        plan.map_table, plan.map_shift = _empty_map(contexts.size)
        K_.map_insert(plan.map_table, plan.map_shift, contexts)
        plan.map_table.setflags(write=False)
    return plan


# ------------------------------------------------------------------------ messages


def _unencodable(s, i):
    raise UnencodableSymbolError(
        f"symbol {s} (at position {i}) has frequency 0: the model was built from a q with "
        f"q({s}) = 0, so no code built from q can encode it (H(p,q) is infinite)"
    )


def _bad_symbol(symbols, K, i):
    s = int(symbols[i])
    if s < 0 or s >= K:
        raise XentsimError(f"symbols[{i}] is {s}, outside the model's alphabet 0..{K - 1}")
    _unencodable(s, i)


def _as_message(symbols) -> np.ndarray:
    """A 1-D contiguous integer array in native byte order. Negative or too large
    symbols are refused later, by position and value, by the compiled scan."""
    arr = np.asarray(symbols)
    if arr.ndim != 1:
        raise XentsimError(f"symbols must be a 1-D array, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.size:
            raise XentsimError(f"symbols must be integers, got dtype {arr.dtype}")
        return np.zeros(0, dtype=np.uint8)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    return arr


def _scan(symbols, plan) -> float:
    """Validate the message against the tables; return its ideal length bound in bits."""
    if isinstance(plan, _MappedPlan):
        return _scan_mapped(symbols, plan)
    ideal, bad = K_.scan(symbols, plan.cum, plan.precision, plan.position, plan.contexts,
                         plan.neglog, True if plan.inc else None)
    if bad >= 0:
        _bad_symbol(symbols, plan.K, bad)
    if plan.inc:  # every adaptive frequency is >= 1 of a total <= max_total(n)
        ideal = symbols.size * math.log2(plan.max_total(symbols.size)) if symbols.size else 0.0
    return ideal


def _scan_mapped(symbols, plan) -> float:
    """Mapped tables: the symbols' range is checked here; frequencies and contexts are
    checked by the coder itself (it stops at the first symbol it cannot code). Returns
    the bound b bits (fixed) or log2(largest total) bits (adaptive) per symbol."""
    n = symbols.size
    if n:
        lo, hi = int(symbols.min()), int(symbols.max())
        if lo < 0 or hi >= plan.K:
            i = int(np.flatnonzero((symbols < 0) | (symbols >= plan.K))[0])
            _bad_symbol(symbols, plan.K, i)
    if plan.inc:
        return n * math.log2(plan.max_total(n)) if n else 0.0
    return float(n * plan.precision)


def _mapped_refusal(symbols, plan, model, i):
    """Why symbol i cannot be coded under mapped tables (raises). Its range was
    checked by the scan before coding."""
    s = int(symbols[i])
    if plan.inc == 0 and plan.default_row < 0:
        ctx = 0
        K, k = plan.K, plan.order
        for j in range(max(0, i - k), i):
            ctx = ctx * K + int(symbols[j])
        contexts = plan.tables.contexts
        if not np.any(np.asarray(contexts) == ctx):
            raise UnencodableSymbolError(
                f"symbol {s} (at position {i}) follows context {ctx} (the previous {k} symbols "
                f"as a base-{K} number), which the model has no row for: q(. | context) is "
                "0 everywhere (an unsmoothed model that never saw this context), so H(p,q) "
                "is infinite"
            )
    raise UnencodableSymbolError(
        f"symbol {s} (at position {i}) has frequency 0 in its context's row: the model gives "
        f"it probability 0, so no code built from it can encode it (H(p,q) is infinite)"
    )


def _damaged(nbits, n, why):
    raise XentsimError(
        f"bits ({nbits} bits) is not the encoding of any {n}-symbol message under this model: {why}"
    )


class _Why(dict):
    """Why a decoder's error code means damage (filled on first use: the codes live in
    the kernel module)."""

    def __missing__(self, code):
        self.update({
            K_.ERR_CORRUPT: "a target value falls outside the frequency total (garbage)",
            K_.ERR_END: "it does not end where the decoded message's encoding ends "
                        "(truncated, extended, or the wrong n)",
        })
        return dict.__getitem__(self, code)


_WHY = _Why()


# ------------------------------------------------------------------------ reference


class _TableCursor:
    """Walks a model's tables along a message: the frequency table for the next symbol."""

    def __init__(self, plan):
        self.plan = plan
        self.row = 0
        self.i = 0
        self.rows = {}  # row -> list of K + 1 cumulative frequencies (adaptive: counts)

    def table(self):
        """(cumulative frequencies as a list of K + 1 ints, total)."""
        p = self.plan
        if self.row not in self.rows:
            self.rows[self.row] = [int(c) for c in p.cum[self.row]]
        cum = self.rows[self.row]
        return cum, (cum[-1] if p.inc else 1 << p.precision)

    def update(self, s):
        p = self.plan
        if p.inc:
            cum = self.rows[self.row]
            for j in range(s + 1, len(cum)):
                cum[j] += p.inc
        self.i += 1
        if p.position:
            self.row = self.i
        elif p.contexts is not None:
            self.row = (self.row * p.K + s) % p.contexts


class _MappedCursor:
    """_TableCursor for mapped tables: the context number, a dict context -> row."""

    def __init__(self, plan):
        self.plan = plan
        self.ctx = 0
        self.history = []
        self.row_of = {}  # context -> list of K + 1 cumulative frequencies
        self.cum = None
        self.pairs = set()  # (context, symbol) pairs seen (adaptive)

    def table(self):
        """(cumulative frequencies, total); None when the context has no row."""
        p = self.plan
        if self.ctx not in self.row_of:
            if p.inc:
                if len(self.row_of) >= p.pool:
                    return None
                self.row_of[self.ctx] = [int(c) for c in p.cum[0]]
            else:
                hits = np.flatnonzero(np.asarray(p.tables.contexts) == self.ctx)
                row = int(hits[0]) if hits.size else p.default_row
                if row < 0:
                    return None
                self.row_of[self.ctx] = [int(c) for c in p.cum[row]]
        self.cum = self.row_of[self.ctx]
        return self.cum, (self.cum[-1] if p.inc else 1 << p.precision)

    def update(self, s):
        p = self.plan
        if p.inc:
            for j in range(s + 1, len(self.cum)):
                self.cum[j] += p.inc
            self.pairs.add((self.ctx, s))
            if p.sparse and len(self.pairs) > p.pairs:
                raise XentsimError(f"the message opens more than {p.pairs} distinct "
                                   "(context, symbol) pairs, the model's bound")
        self.history.append(s)
        if p.order:
            self.ctx = (self.ctx * p.K + s) % p.K ** p.order


def _cursor(plan):
    return _MappedCursor(plan) if isinstance(plan, _MappedPlan) else _TableCursor(plan)


class _Core:
    """The interval arithmetic shared by encoder and decoder.

    State: 0 <= low < 2^64 and, between symbols, 2^56 <= rng < 2^64. Subclasses give
    the two hooks: ``_carry()`` (low overflowed 2^64) and ``_shift(byte)`` (the top
    byte of low leaves the window).
    """

    def __init__(self):
        self.low = 0
        self.rng = MASK64

    def _narrow(self, cum, freq, total):
        r = self.rng // total
        low = self.low + r * cum
        if low > MASK64:
            self._carry()
        self.low = low & MASK64
        self.rng = r * freq
        while self.rng < TOP:
            self._shift(self.low >> 56)
            self.low = (self.low << 8) & MASK64
            self.rng <<= 8

    def _termination(self):
        """(m, x): the smallest m with a multiple x of 2^(64-m) in [low, low + rng),
        x the smallest such multiple (x may be 2^64 or more: a carry)."""
        for m in range(65):
            step = 1 << (64 - m)
            x = -(-self.low // step) * step  # low rounded up to a multiple of step
            if x - self.low < self.rng:
                return m, x
        raise AssertionError("unreachable: m = 64 gives x = low")  # pragma: no cover


class _Encoder(_Core):
    def __init__(self):
        super().__init__()
        self.out = bytearray()  # out[0] is a dummy 0 byte that no carry can reach
        self.cache = 0  # the byte before the window; open to a carry
        self.pending = 0  # 0xFF bytes after the cache

    def _carry(self):
        self.cache += 1
        if self.pending:
            self.out.append(self.cache)
            self.out.extend(b"\x00" * (self.pending - 1))
            self.cache, self.pending = 0, 0

    def _shift(self, byte):
        if byte == 0xFF:
            self.pending += 1  # may still become 0x00 under a carry
        else:
            self.out.append(self.cache)
            self.out.extend(b"\xff" * self.pending)
            self.cache, self.pending = byte, 0

    def committed_bits(self):
        return 8 * (len(self.out) + self.pending)

    def finish(self):
        """Append the first m bits of x (``_termination``); return the bit length."""
        shifted = len(self.out) + self.pending
        m, x = self._termination()
        if x > MASK64:
            self._carry()
        x &= MASK64
        for j in range(8):
            self._shift((x >> (56 - 8 * j)) & 0xFF)
        self.out.append(self.cache)
        self.out.extend(b"\xff" * self.pending)
        return 8 * shifted + m


class _Decoder(_Core):
    def __init__(self, data: bytes):
        super().__init__()
        self.data = data
        self.pos = 8  # bytes read into the window
        self.window = int.from_bytes(data[:8].ljust(8, b"\x00"), "big")

    def _carry(self):
        pass  # the stream already holds the carried bytes; window - low is taken mod 2^64

    def _shift(self, byte):
        nxt = self.data[self.pos] if self.pos < len(self.data) else 0
        self.pos += 1
        self.window = ((self.window << 8) | nxt) & MASK64

    def target(self, total):
        return ((self.window - self.low) & MASK64) // (self.rng // total)

    def ends_here(self, nbits):
        """Whether the stream is exactly what the encoder writes from this state."""
        m, x = self._termination()
        return (x & MASK64) == self.window and nbits == 8 * (self.pos - 8) + m


class ReferenceCoder:
    """The readable coder: one Python step per symbol (about 0.1 Msym/s)."""

    @staticmethod
    def encode(symbols, model, *, trace: bool = False):
        """Encode; returns the bitarray, or (bitarray, committed bits after each symbol)."""
        symbols = _as_message(symbols)
        plan = _plan(model, symbols.size)
        _scan(symbols, plan)
        enc = _Encoder()
        cursor = _cursor(plan)
        committed = []
        for i, s in enumerate(symbols.tolist()):
            got = cursor.table()
            if got is None:
                if plan.inc:
                    raise XentsimError(f"position {i} opens more distinct contexts than the "
                                       f"model's pool of {plan.pool} rows")
                _mapped_refusal(symbols, plan, model, i)
            cum, total = got
            if cum[s + 1] == cum[s]:
                if isinstance(plan, _MappedPlan):
                    _mapped_refusal(symbols, plan, model, i)
                _unencodable(s, i)
            enc._narrow(cum[s], cum[s + 1] - cum[s], total)
            cursor.update(s)
            committed.append(enc.committed_bits())
        nbits = enc.finish()
        bits = bitarray(endian="big")
        bits.frombytes(bytes(enc.out[1:]))
        del bits[nbits:]
        return (bits, np.array(committed, dtype=np.int64)) if trace else bits

    @staticmethod
    def decode(bits, model, n_symbols):
        """Decode n symbols, with the same damage checks as :func:`decode`."""
        bits = _as_bits(bits)
        n = check_int(n_symbols, "n_symbols", minimum=0)
        plan = _plan(model, n)
        data = bits.tobytes()
        dec = _Decoder(data)
        cursor = _cursor(plan)
        out = []
        for _ in range(n):
            got = cursor.table()
            if got is None:
                _damaged(len(bits), n, _WHY[K_.ERR_CORRUPT])
            cum, total = got
            v = dec.target(total)
            if v >= total:
                _damaged(len(bits), n, _WHY[K_.ERR_CORRUPT])
            s = max(j for j in range(len(cum) - 1) if cum[j] <= v)
            dec._narrow(cum[s], cum[s + 1] - cum[s], total)
            if dec.pos > len(data) + 8:
                _damaged(len(bits), n, _WHY[K_.ERR_END])
            cursor.update(s)
            out.append(s)
        if not dec.ends_here(len(bits)):
            _damaged(len(bits), n, _WHY[K_.ERR_END])
        return np.array(out, dtype=np.int64)


# ------------------------------------------------------------------------ fast path


def encode(symbols, model, *, trace: bool = False):
    """Arithmetic-code a message with ``model``; bit for bit what ReferenceCoder gives.

    Returns a big-endian bitarray, or with ``trace=True`` also the bits committed
    (shifted out of the coder's window) after each symbol. After S bytes have left
    the window, the interval's width is rng 2^-(64 + 8S) with 2^56 <= rng < 2^64, so
    the ideal prefix length sum_j -log2 q^(x_j) lies in (8S, 8S + 8]: the trace lags it
    by less than 8 bits (and never leads it, up to the truncation term).

    Raises XentsimError for a model without tables, symbols that are not a 1-D integer
    array, and a symbol outside 0..K-1 (naming its position and value);
    UnencodableSymbolError for a symbol of frequency 0.
    """
    symbols = _as_message(symbols)
    n = symbols.size
    plan = _plan(model, n)
    if isinstance(plan, _MappedPlan):
        return _encode_mapped(symbols, plan, model, trace)
    ideal = _scan(symbols, plan)  # one compiled pass: validation and the length bound
    # The proven bound (module doc) plus room for rounding in ``ideal`` and the kernel's
    # look-ahead stores (4 bytes) and final bytes (8).
    hi = slack_bounds(n, plan.total + plan.inc * n)[1] + n * 1e-9
    nbytes = int((ideal + hi) // 8) + 16
    bits = bitarray(8 * nbytes, endian="big")
    out = np.frombuffer(bits, dtype=np.uint8)
    tr = np.zeros(n if trace else 0, dtype=np.int64)
    tree, freq, totals, inc = plan.adaptive_state()
    nbits = K_.encode(symbols, plan.cum, plan.precision, plan.position, plan.contexts,
                      tree, freq, totals, inc, out, tr, None)
    del out  # release the exported buffer so the bitarray can shrink
    if not 0 <= nbits <= 8 * (nbytes - 8):
        raise XentsimError(
            f"model {model!r}: the coder overran its proven length bound ({nbits}); "
            "its tables break the Tables contract"
        )
    del bits[nbits:]
    return (bits, tr) if trace else bits


def decode(bits, model, n_symbols) -> np.ndarray:
    """Decode ``n_symbols`` symbols coded with ``model``.

    Raises XentsimError when ``bits`` is not the encoding of any n-symbol message under
    the model (see the module doc for what this catches and what no decoder can).
    """
    bits = _as_bits(bits)
    n = check_int(n_symbols, "n_symbols", minimum=0)
    plan = _plan(model, n)
    buf = padded_bytes(bits)
    out = np.empty(n, dtype=symbol_dtype(plan.K))
    if isinstance(plan, _MappedPlan) and plan.sparse:
        stats = np.zeros(2, dtype=np.int64)
        end = K_.sparse_code(None, buf, len(bits), n, plan.K, plan.order, plan.cum, np.uint64(plan.inc),
                             plan.pool, plan.pairs, out, stats)
        if end < 0:
            _damaged(len(bits), n, _WHY[end])
        return out
    if isinstance(plan, _MappedPlan):
        table, shift, tree, ext, tot = plan.fresh_map()
        end = K_.decode_mapped(buf, len(bits), n, plan.K, plan.order, plan.cum, plan.precision,
                               table, shift, plan.default_row, tree, ext, tot,
                               np.uint64(plan.inc), plan.pool, plan.row_guide, plan.guide_bits, out)
        if end < 0:
            _damaged(len(bits), n, _WHY[end])
        return out
    tree, freq, totals, inc = plan.adaptive_state()
    end = K_.decode(buf, len(bits), n, plan.cum, plan.precision, plan.position, plan.contexts,
                    tree, freq, totals, inc, plan.guide, plan.guide_shift, out, None, True)
    if end < 0:
        _damaged(len(bits), n, _WHY[end])
    return out


def _encode_mapped(symbols, plan, model, trace):
    """encode() for mapped tables (ContextTables): the same coder, rows found by context."""
    if trace:
        raise XentsimError("trace=True is not available for mapped context tables")
    n = symbols.size
    bound = _scan(symbols, plan)
    hi = slack_bounds(n, plan.max_total(n))[1] + n * 1e-9
    nbytes = int((bound + hi) // 8) + 16
    out = np.empty(nbytes, dtype=np.uint8)
    if plan.sparse:
        stats = np.zeros(2, dtype=np.int64)
        nbits = K_.sparse_code(symbols, None, 0, n, plan.K, plan.order, plan.cum, np.uint64(plan.inc),
                               plan.pool, plan.pairs, out, stats)
    else:
        table, shift, tree, ext, tot = plan.fresh_map()
        nbits = K_.encode_mapped(symbols, plan.K, plan.order, plan.cum, plan.precision, table, shift,
                                 plan.default_row, tree, ext, tot, np.uint64(plan.inc), plan.pool, out)
    return _mapped_result(out, nbits, nbytes, symbols, plan, model)


def _mapped_result(out, nbits, nbytes, symbols, plan, model):
    if nbits == K_.ERR_POOL:
        raise XentsimError(f"the message has more distinct contexts or (context, symbol) pairs "
                           f"than the model allows ({plan.pool} and {plan.pairs}; model {model!r})")
    if nbits < 0 and nbits != K_.ERR_OVERFLOW:
        _mapped_refusal(symbols, plan, model, -nbits - 1)
    if not 0 <= nbits <= 8 * (nbytes - 8):
        raise XentsimError(
            f"model {model!r}: the coder overran its proven length bound ({nbits}); "
            "its tables break the Tables contract"
        )
    bits = bitarray(endian="big")
    bits.frombytes(out[: (nbits + 7) // 8].tobytes())
    del bits[nbits:]
    return bits


# ------------------------------------------------------------------------ streaming

#: a pushed chunk is coded in slices of at most this many symbols, so that the
#: encoder's scratch buffer stays bounded whatever the chunk size
STREAM_SLICE = 1 << 18


def _stream_plan(model, n: int | None) -> _Plan:
    """The plan of a chunked message: tables with const or context rows.

    Per-position tables (row "position", e.g. a classifier's predictions) and mapped
    tables (row "mapped", the byte-file models) are refused: they are coded as whole
    messages only."""
    try:
        plan = _plan(model, 0 if n is None else n)
    except XentsimError as e:
        if n is not None:
            raise
        raise XentsimError(f"chunked coding needs tables that do not depend on the message "
                           f"length (const or context rows); model {model!r}: {e}") from e
    if isinstance(plan, _MappedPlan) or plan.position:
        kind = "mapped context" if isinstance(plan, _MappedPlan) else "per-position"
        raise XentsimError(f"chunked (streaming) arithmetic coding supports const and context "
                           f"rows only; model {model!r} has {kind} tables: code its messages "
                           "whole (encode / decode)")
    return plan


def _fresh_state() -> np.ndarray:
    state = np.zeros(K_.STATE_SIZE, dtype=np.uint64)
    state[K_.STATE_RNG] = MASK64
    return state


class ArithmeticStreamEncoder:
    """Encodes one message chunk by chunk (:class:`~simulator.interfaces.StreamEncoder`).

    The concatenation of every ``push`` and the ``finish`` is bit for bit
    ``encode(whole message, model)``, whatever the chunk boundaries. The coder's state
    (low, rng, the row, the adaptive counts) lives in this object between chunks. A
    carry adds one to the bytes already shifted out, through a run of 0xFF bytes, so
    ``push`` hands out only the bytes before the last byte below 0xFF and holds that
    byte and the 0xFF run after it (``held_bytes``: one byte plus the run, which is
    rarely more than a byte or two; a long run needs the interval to straddle a byte
    boundary for a long stretch of the message, and is held whole). That no carry
    reaches further back: low < 2^64 and rng < 2^64 in the window, so every later
    interval lies below (S + 2) 2^64, S the bytes shifted out read as a number: the
    later digits are those of S or S + 1, which differ only from the last byte below
    0xFF on. Memory: the held bytes plus a scratch buffer for one slice of
    ``STREAM_SLICE`` symbols, whatever the chunk size; the returned bits are the chunk's.

    ``need_bits``: after symbols 0..t are pushed, with pos_t bytes shifted out of the
    window, a decoder must have been fed 8 (pos_t + 8) bits to decode them (0 before
    any symbol): its window after symbol t holds stream bytes pos_t .. pos_t + 7, and
    it never reads a byte beyond those it shifts in, so 8 bits fewer make the pull
    raise. This is the bits handed out so far plus 64 plus 8 ``held_bytes``: a decoder
    fed what ``push`` returned runs behind the encoder by those bits' worth of symbols;
    after ``finish`` the whole stream suffices (fed with ``last=True``).

    Errors (symbol outside 0..K-1, a symbol of frequency 0, adaptive totals reaching
    2^32) raise as ``encode`` does, naming the symbol's position in the message; the
    encoder is then unusable, as it is after ``finish``.
    """

    def __init__(self, model):
        plan = _stream_plan(model, None)
        self._model = model
        self._plan = plan
        self._tree, self._freq, self._totals, self._inc = plan.adaptive_state()
        self._state = _fresh_state()
        self._scratch = np.zeros(0, dtype=np.uint8)  # held bytes at its start
        self._emitted = 0  # bytes handed out
        self._open = True
        #: symbols pushed so far
        self.n_pushed = 0
        #: bits a decoder must have been fed to decode every symbol pushed so far
        self.need_bits = 0
        #: bits handed out so far (push and finish)
        self.bits_out = 0

    @property
    def held_bytes(self) -> int:
        """Bytes shifted out of the window but held back (a carry can still reach them)."""
        return int(self._state[K_.STATE_POS])

    @property
    def buffer_bytes(self) -> int:
        """Bytes of buffer this object holds (the scratch buffer, held bytes included)."""
        return int(self._scratch.size)

    def _check_open(self):
        if not self._open:
            raise XentsimError("the stream encoder is finished (or failed); start a new one "
                               "with code.encoder()")

    def push(self, symbols) -> bitarray:
        """Encode the next chunk; return the bytes that became final, as a big-endian
        bitarray (possibly empty)."""
        self._check_open()
        x = _as_message(symbols)
        plan = self._plan
        n = x.size
        bits = bitarray(endian="big")
        if n == 0:
            return bits
        t0 = self.n_pushed
        K = plan.K
        if not (x.dtype.kind == "u" and x.dtype.itemsize < 8 and K >= 1 << 8 * x.dtype.itemsize):
            if int(x.min()) < 0 or int(x.max()) >= K:
                self._open = False
                i = int(np.argmax((x < 0) | (x >= K)))
                raise XentsimError(f"symbols[{i}] of this chunk (position {t0 + i} of the message) "
                                   f"is {int(x[i])}, outside the model's alphabet 0..{K - 1}")
        if plan.inc and plan.max_total(t0 + n) >= 1 << 32:
            self._open = False
            raise XentsimError(
                f"adaptive coding keeps frequency totals below 2^32; {t0 + n} symbols would "
                f"reach {plan.max_total(t0 + n)}"
            )
        empty = np.zeros(0, dtype=np.int64)
        for a in range(0, n, STREAM_SLICE):
            part = x[a:a + STREAM_SLICE]
            m = part.size
            held = int(self._state[K_.STATE_POS])
            total = plan.max_total(t0 + a + m)
            per = plan.precision if not plan.inc else math.log2(total)
            need = held + int((m * per + slack_bounds(m, total)[1] + 8) // 8) + 24
            if self._scratch.size < need:
                grown = np.zeros(max(need, 2 * self._scratch.size), dtype=np.uint8)
                grown[:held] = self._scratch[:held]
                self._scratch = grown
            out = self._scratch
            pos = K_.encode(part, plan.cum, plan.precision, None, plan.contexts, self._tree,
                            self._freq, self._totals, self._inc, out, empty, self._state)
            if pos < 0:
                self._open = False
                if pos == K_.ERR_OVERFLOW:
                    raise XentsimError(f"model {self._model!r}: the coder overran its proven "
                                       "length bound; its tables break the Tables contract")
                i = -pos - 1
                _unencodable(int(part[i]), t0 + a + i)
            # final: everything before the last byte below 0xFF (a carry stops there)
            cut = pos - 1
            if cut >= 0 and out[cut] == 0xFF:
                below = np.flatnonzero(out[:pos] != 0xFF)
                cut = int(below[-1]) if below.size else 0
            cut = max(cut, 0)
            if cut:
                bits.frombytes(out[:cut].tobytes())
                out[: pos - cut] = out[cut:pos].copy()
                self._emitted += cut
                self._state[K_.STATE_POS] = np.uint64(pos - cut)
        self.n_pushed = t0 + n
        self.need_bits = 8 * (self._emitted + int(self._state[K_.STATE_POS]) + 8)
        self.bits_out += len(bits)
        return bits

    def finish(self) -> bitarray:
        """End the message: the held bytes and the termination (``encode``'s last bits)."""
        self._check_open()
        self._open = False
        held = int(self._state[K_.STATE_POS])
        if self._scratch.size < held + 12:
            grown = np.zeros(held + 12, dtype=np.uint8)
            grown[:held] = self._scratch[:held]
            self._scratch = grown
        nbits = int(K_.finish(self._state, self._scratch))
        bits = bitarray(endian="big")
        bits.frombytes(self._scratch[: (nbits + 7) // 8].tobytes())
        del bits[nbits:]
        self._scratch = np.zeros(0, dtype=np.uint8)
        self.bits_out += nbits
        return bits


class ArithmeticStreamDecoder:
    """Decodes one n-symbol message from bits fed in order
    (:class:`~simulator.interfaces.StreamDecoder`).

    It keeps only the fed bytes it still needs: from the first byte of its 64-bit
    window on (the end check reads that window), plus fewer than 8 fed bits that do not
    yet make a byte. A symbol is decoded only when every byte its renormalisation
    shifts into the window has been fed; before ``feed(..., last=True)`` it never reads
    a byte that was not fed, and a ``pull`` that needs one raises (the caller fed less
    than the encoder's ``need_bits``, or the stream is damaged). With ``last=True`` the
    stream is complete and, as in ``decode``, 8 zero bytes follow it.

    ``close()`` after all n symbols checks that the stream (everything fed; ``close``
    marks it complete if ``last`` was not given) ends exactly where the encoding of the
    decoded message ends. A damaged stream raises :class:`XentsimError` in ``pull`` or
    ``close``, as ``decode`` does for the whole stream: when neither raises, the
    decoded message's encoding is exactly the stream that was fed. After an error the
    decoder is unusable.
    """

    def __init__(self, model, n_symbols):
        n = check_int(n_symbols, "n_symbols", minimum=0)
        plan = _stream_plan(model, n)
        self._plan = plan
        self.n_symbols = n
        self._tree, self._freq, self._totals, self._inc = plan.adaptive_state()
        self._state = None  # after the first 8 bytes
        self._buf = np.zeros(0, dtype=np.uint8)
        self._lo = 0  # buf[lo] is the window's first byte (before the start: the stream's)
        self._hi = 0  # buf[lo:hi] are the fed bytes still needed
        self._base = 0  # the stream's byte index of buf[lo]
        self._partial = bitarray(endian="big")  # fed bits not yet a whole byte
        self._nbits = 0
        self._last = False
        self._ok = True
        self._closed = False
        #: symbols pulled so far
        self.n_pulled = 0

    @property
    def buffered_bytes(self) -> int:
        """Fed bytes held (those the decoder still needs)."""
        return self._hi - self._lo

    @property
    def buffer_bytes(self) -> int:
        """Bytes of buffer this object holds (its capacity, the needed bytes included)."""
        return int(self._buf.size)

    def _check_usable(self):
        if not self._ok:
            raise XentsimError("the stream decoder failed earlier (damaged stream or too few "
                               "bits fed); start a new one with code.decoder(n)")
        if self._closed:
            raise XentsimError("the stream decoder is closed")

    def _append(self, data: np.ndarray) -> None:
        live = self._hi - self._lo
        need = live + data.size
        if self._hi + data.size > self._buf.size or self._lo > live:
            if need > self._buf.size:
                # a power of two at least twice what is needed: a stream fed in
                # pieces of similar sizes settles at one capacity
                buf = np.zeros(1 << max(6, (2 * need - 1).bit_length()), dtype=np.uint8)
                buf[:live] = self._buf[self._lo:self._hi]
                self._buf = buf
            else:
                self._buf[:live] = self._buf[self._lo:self._hi].copy()
            self._lo, self._hi = 0, live
        self._buf[self._hi:self._hi + data.size] = data
        self._hi += data.size

    def feed(self, bits, *, last: bool = False) -> None:
        """Append ``bits`` (a big-endian bitarray); ``last=True``: the stream is complete."""
        self._check_usable()
        bits = _as_bits(bits)
        if self._last:
            raise XentsimError("feed() after the stream was marked complete (last=True)")
        if not isinstance(last, (bool, np.bool_)):
            raise XentsimError(f"last must be a bool, got {last!r}")
        self._nbits += len(bits)
        if len(self._partial):
            bits = self._partial + bits
        whole = len(bits) // 8 * 8
        if whole:
            self._append(np.frombuffer(bits[:whole].tobytes(), dtype=np.uint8))
        self._partial = bits[whole:]
        if last:
            self._last = True
            tail = np.zeros(8 + (1 if len(self._partial) else 0), dtype=np.uint8)
            if len(self._partial):
                tail[0] = self._partial.tobytes()[0]  # zero padded on the right
            self._partial = bitarray(endian="big")
            self._append(tail)

    def _damaged(self, why):
        self._ok = False
        raise XentsimError(
            f"the stream ({self._nbits} bits fed{', complete' if self._last else ''}) is not "
            f"the encoding of any {self.n_symbols}-symbol message under this model: {why}"
        )

    def _start(self) -> bool:
        if self._state is not None:
            return True
        if self._hi - self._lo < 8:
            return False
        state = _fresh_state()
        state[K_.STATE_CODE] = np.uint64(int.from_bytes(self._buf[self._lo:self._lo + 8].tobytes(), "big"))
        state[K_.STATE_BPOS] = np.uint64(8)
        self._state = state
        return True

    def pull(self, count) -> np.ndarray:
        """The next ``count`` symbols (see the class doc)."""
        self._check_usable()
        count = check_int(count, "count", minimum=0)
        if self.n_pulled + count > self.n_symbols:
            raise XentsimError(f"count is {count}, but only {self.n_symbols - self.n_pulled} "
                               f"of the message's {self.n_symbols} symbols are left")
        plan = self._plan
        out = np.empty(count, dtype=symbol_dtype(plan.K))
        if count == 0:
            return out
        if not self._start():
            self._ok = False
            raise XentsimError(f"pull(): only {self._nbits} bits were fed; decoding needs the "
                               "encoder's need_bits (at least 64) or the whole stream (last=True)")
        view = self._buf[self._lo:self._hi]
        res = K_.decode(view, 0, count, plan.cum, plan.precision, None, plan.contexts,
                        self._tree, self._freq, self._totals, self._inc, plan.guide,
                        plan.guide_shift, out, self._state, self._last)
        if res == K_.NEED_MORE:
            self._ok = False
            t = self.n_pulled + int(self._state[K_.STATE_DONE])
            raise XentsimError(
                f"pull({count}): symbol {t} needs stream bits beyond the {self._nbits} fed; "
                "feed at least the encoder's need_bits for the symbols pulled, or the whole "
                "stream with last=True (or the stream is damaged)")
        if res < 0:
            self._damaged(_WHY[res])
        # drop the bytes before the window
        shift = int(self._state[K_.STATE_BPOS]) - 8
        self._lo += shift
        self._base += shift
        self._state[K_.STATE_BPOS] = np.uint64(8)
        self.n_pulled += count
        return out

    def close(self) -> None:
        """After all n symbols: raise unless the stream ends exactly where the decoded
        message's encoding ends (the end check of ``decode``)."""
        self._check_usable()
        if self.n_pulled != self.n_symbols:
            raise XentsimError(f"close() after {self.n_pulled} of the message's "
                               f"{self.n_symbols} symbols; pull them all first")
        if not self._last:
            self.feed(bitarray(endian="big"), last=True)
        self._start()
        st = self._state
        end = K_._check_end(self._buf[self._lo:self._hi], self._nbits - 8 * self._base,
                            st[K_.STATE_CODE], st[K_.STATE_RNG], np.int64(st[K_.STATE_BPOS]))
        if end < 0:
            self._damaged(_WHY[end])
        self._closed = True


# ------------------------------------------------------------------------ for the engine


class ArithmeticCode:
    """The arithmetic coder as a code built from q, for :func:`simulator.engine.simulate`.

    ``model="static"`` codes with q quantised at ``precision`` bits; ``"laplace"`` and
    ``"kt"`` ignore q's values (only its alphabet size is used) and learn from the data.
    The model comes from the registry :data:`simulator.models.MODELS`.
    """

    name = "arithmetic"
    symbols_per_codeword = 1

    def __init__(self, q, precision: int | None = None, model: str = "static"):
        self.q = check_pmf(q, "q")
        self.model = build_model(model, self.q, precision)
        self.precision = getattr(self.model, "precision", None)
        self.model_name = model
        self.n_symbols = self.q.size

    def encode(self, symbols) -> bitarray:
        return encode(symbols, self.model)

    def decode(self, bits, n_symbols) -> np.ndarray:
        return decode(bits, self.model, n_symbols)

    def encoder(self) -> ArithmeticStreamEncoder:
        """A fresh chunk-by-chunk encoder (:class:`ArithmeticStreamEncoder`); refused
        with XentsimError for per-position and mapped tables."""
        return ArithmeticStreamEncoder(self.model)

    def decoder(self, n_symbols) -> ArithmeticStreamDecoder:
        """A fresh decoder of an ``n_symbols``-symbol message fed in pieces
        (:class:`ArithmeticStreamDecoder`)."""
        return ArithmeticStreamDecoder(self.model, n_symbols)

    def length_moments(self, symbols):
        return self.model.length_moments(symbols)

    # ------------------------------------------------------------------ Code interface

    symbols_per_unit = 1
    #: real bits minus sum_i -log2 q^(x_i) per message, without the truncation term
    #: n * TRUNCATION_BITS * total (at b = 24 below 3.4e-10 bits per symbol), which
    #: :meth:`message_slack_bits` adds
    slack_bits = SLACK_BITS

    def message_slack_bits(self, n: int) -> tuple[float, float]:
        """(lo, hi) of real - ideal bits for an n-symbol message, truncation included."""
        total = getattr(self.model, "total", None)
        if total is None:  # adaptive: totals grow to at most K + 2 n
            total = self.n_symbols + 2 * n
        return slack_bounds(n, total)

    def unit_bits(self, symbols) -> np.ndarray:
        """-log2 q^(x_t | past) of each symbol, in bits."""
        return self.model.symbol_bits(symbols)

    def unit_law(self, source):
        """(law of one symbol, -log2 q^ per symbol) for a static model; None otherwise."""
        bits = self.model.fixed_symbol_bits
        if bits is None:
            return None
        return np.asarray(source.marginal(), dtype=np.float64), bits

    def expected_message_bits(self, source, n: int):
        law = self.unit_law(source)
        if law is None:
            return None
        w, bits = law
        on = w > 0
        if np.isinf(bits[on]).any():
            return math.inf
        return n * math.fsum(w[on] * bits[on])

    def report(self) -> dict:
        return {"precision": self.precision, "model": self.model_name}

    def expected_bits_per_symbol(self, p) -> float:
        """H(p, q^) when q^ is the same at every position (the model's own
        ``cross_entropy``); NaN for adaptive models (no closed form)."""
        if self.model.fixed_symbol_bits is None:
            return math.nan
        return self.model.cross_entropy(p)

    def quantisation_gap(self, p) -> float | None:
        """H(p, q^) - H(p, q): either sign; large when q has values below 2^-b. None
        when q^ changes along the message."""
        if self.model.fixed_symbol_bits is None:
            return None
        return self.expected_bits_per_symbol(p) - cross_entropy(p, self.q)
