"""The measurement: q -> code, p -> samples -> bits -> decoded -> checked -> numbers.

:func:`simulate` is the one place where a code meets data. The code is built from q
alone; the symbols are drawn from a source (the pmf p, or any
:class:`~simulator.interfaces.Source`); every message is encoded to a real bitstream,
decoded, and compared symbol for symbol with what was sent. The measured length is
the length of that bitstream, never a formula.

The engine reads codes only through the Code interface and sources only through the
Source interface; codes are built through the registry :data:`CODES`.
"""

from __future__ import annotations

import copy
import ctypes
import math
import os
import signal
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Callable

import numpy as np

from . import measures
from ._validate import (XentsimError, check_int, check_memory, check_pmf, check_rng,
                        check_same_alphabet)
from .bounds import DELTA, LEVEL, bernstein_half_width, t_half_width, unit_spread
from .codes import (BlockHuffmanCode, ContextArithmeticCode, ContextHuffmanCode, HuffmanCode,
                    ShannonCode)
from .codes.arithmetic import ArithmeticCode
from .distributions import Pmf, symbol_dtype
from .errors import RoundTripError
from .interfaces import SeekableStream, StreamingCode, StreamingSource
from .models import MODELS, AdaptiveContextModel
from .sources import as_source, model_rates, order_of_source


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class CodeEntry:
    """How to build one named code: ``factory(q, **options)``, and the options it takes.

    ``contexts``: the factory also accepts an order-m model q (a (K^m, K) matrix, m >= 1)
    and then builds a context code; otherwise q must be a pmf.
    """

    factory: Callable
    options: frozenset = frozenset()
    required: frozenset = frozenset()
    contexts: bool = False


def _block(q, block):
    return BlockHuffmanCode(q, block)


def _huffman(q):
    return ContextHuffmanCode(q) if q.ndim == 2 else HuffmanCode(q)


def _arithmetic(q, precision=None, model="static", order=None, memory_limit=None):
    if model not in MODELS:
        raise XentsimError(f"model is {model!r}; choose one of {', '.join(MODELS)}")
    if model == "static":
        if order is not None:
            raise XentsimError(
                f"order is {order}: --order sets the context order of the adaptive models "
                "(kt, laplace); a static model takes its order from q (a markov: spec)")
        if q.ndim == 2:
            return ContextArithmeticCode.from_chain(q, precision)
        return ArithmeticCode(q, precision=precision, model=model)
    if precision is not None:
        raise XentsimError(f"precision applies to the static model only, not {model}")
    order = 0 if order is None else check_int(order, "order", minimum=0)
    if order == 0:  # q's values are ignored: only its alphabet is used
        return ArithmeticCode(q if q.ndim == 1 else q[0], model=model)
    return ContextArithmeticCode(AdaptiveContextModel(q.shape[-1], model, order,
                                                      memory_limit=memory_limit))


#: The codes ``simulate`` can build from q: name -> entry. A new code is one entry here.
CODES: dict[str, CodeEntry] = {
    "huffman": CodeEntry(_huffman, contexts=True),
    "shannon": CodeEntry(ShannonCode),
    "block-huffman": CodeEntry(_block, frozenset({"block"}), frozenset({"block"})),
    "arithmetic": CodeEntry(_arithmetic, frozenset({"precision", "model", "order"}),
                            contexts=True),
}

#: Codes that ``simulate`` can build from q.
CODE_NAMES = tuple(CODES)

_OPTION_USE = {"block": "block size is only for block-huffman",
               "precision": "precision and model are only for arithmetic coding",
               "model": "precision and model are only for arithmetic coding",
               "order": "order (of an adaptive context model) is only for arithmetic coding"}
_OPTION_NEED = {"block": "block-huffman needs a block size k (--block K)"}


def context_order_of(code) -> int:
    """How many past symbols a code's unit length depends on: the ``order`` in its
    ``report()`` (a context code), 0 for every other code."""
    return int(code.report().get("order", 0) or 0)


def check_model_q(q) -> tuple[np.ndarray, int]:
    """(q, m): a pmf (m = 0), or an order-m model as a read-only (K^m, K) matrix, m >= 1.

    A 2-D q is validated as a transition matrix (:func:`simulator.measures.check_chain`);
    a (1, K) matrix is the order-0 pmf. A model needs no stationary law: any
    row-stochastic matrix is accepted.
    """
    if isinstance(q, Pmf):
        return check_pmf(q, "q"), 0
    try:
        two_d = np.ndim(q) == 2
    except ValueError:
        two_d = False
    if not two_d:
        return check_pmf(q, "q"), 0
    Q, m = measures.check_chain(q, "q")
    return (Q[0], 0) if m == 0 else (Q, m)


def build_code(q, code: str = "huffman", *, block: int | None = None,
               precision: int | None = None, model: str = "static", order: int | None = None,
               n_symbols: int | None = None, memory_limit=None):
    """Build the named code from ``q`` alone, through the registry :data:`CODES`.

    Parameters
    ----------
    q : array_like
        The assumed distribution: a pmf, or an order-m model, a (K^m, K) row-stochastic
        matrix whose row c is q(. | context c) (see :mod:`simulator.measures`, "chains",
        for the row order). With an order-m q, "huffman" builds one Huffman code per
        context (:class:`~simulator.codes.ContextHuffmanCode`) and "arithmetic" codes
        with the context's row (:class:`~simulator.models.ContextModel`); the other
        codes need a pmf.
    code : {"huffman", "shannon", "block-huffman", "arithmetic"}
    block : int, optional
        Block size k for "block-huffman" (required there, refused elsewhere).
    precision : int, optional
        Frequency precision b (total 2^b) for "arithmetic".
    model : {"static", "laplace", "kt"}
        Model for "arithmetic": static q, or adaptive counts (which ignore q's values
        and learn from the data, using only q's alphabet).
    order : int, optional
        With an adaptive model: keep separate counts in each of the K^order contexts
        (default 0: one set of counts). Its tables (24 K^order (K + 1) bytes) are
        checked against ``memory_limit`` before they are allocated.
    n_symbols : int, optional
        Accepted for compatibility; the alphabet is q's.
    """
    q, q_order = check_model_q(q)
    entry = CODES.get(code) if isinstance(code, str) else None
    if entry is None:
        raise XentsimError(f"code is {code!r}; choose one of {', '.join(CODE_NAMES)}")
    given = {"block": block, "precision": precision, "model": model, "order": order}
    defaults = {"block": None, "precision": None, "model": "static", "order": None}
    for key, value in given.items():
        if value != defaults[key] and key not in entry.options:
            raise XentsimError(f"{_OPTION_USE[key]}, not {code}")
    for key in entry.required:
        if given[key] is None:
            raise XentsimError(_OPTION_NEED[key])
    if q_order and not entry.contexts:
        raise XentsimError(
            f"q is an order-{q_order} model (a markov: spec); {code} is built from a pmf: "
            f"use huffman or arithmetic, or give an i.i.d. q")
    kwargs = {k: v for k, v in given.items() if k in entry.options}
    if "order" in entry.options:
        kwargs["memory_limit"] = memory_limit
    return entry.factory(q, **kwargs)


# --------------------------------------------------------------------------- result


#: How ``ci99`` was obtained (the ``ci_method`` field).
CI_METHODS = {
    "bernstein": "Bernstein's inequality with the exact variance of the unit law",
    "trials": "Student t across independent messages",
    "batch-means": "Student t across batch means of consecutive units",
    "none": "no valid interval: too few messages (infinite)",
}

#: With a dependent source, messages are used as the interval's observations when there
#: are at least this many; otherwise each message is cut into batches to make this many.
BATCHES = 20


@dataclass(frozen=True)
class Measurement:
    """What one simulation measured, next to what theory predicts.

    Measured (from real, decoded and checked bitstreams): ``total_bits``,
    ``bits_per_symbol``, ``excess_bits``, ``ci99``, the timings.

    Theory, per symbol, in bits. For an i.i.d. source and a pmf q these are the
    familiar H(p), H(p,q) and KL(p||q); for a source with memory (a Markov chain mu)
    or an order-m model q they are rates:

    - ``entropy_rate_bits`` H(mu) (``entropy_bits`` holds the same number: H(p) for
      an i.i.d. source);
    - ``cross_entropy_rate_bits`` H(mu, q) = lim E[-log2 q(X_t | context)], with q's
      own order (a pmf is order 0), and ``kl_rate_bits`` = H(mu, q) - H(mu), summed
      term by term (``cross_entropy_bits`` and ``kl_bits`` hold the same numbers);
    - for an order-0 q coded by an order-0 code (not ``order`` >= 1 adaptive counts) on
      a source with memory, the decomposition of H(mu, q) = H(pi, q): ``marginal_entropy_bits`` H(pi) of the stationary marginal pi,
      ``memory_bits`` H(pi) - H(mu) (what an order-0 code ignores) and
      ``marginal_kl_bits`` KL(pi || q), so that H(pi, q) = H(mu) + memory + marginal KL.
      They are None otherwise.

    ``expected_bits_per_symbol``: the code's own exact expected bits per symbol for
    messages of this length, E[sum of unit lengths] / n (for the arithmetic coder the
    ideal lengths -log2 q^, so H(p, q^) for a static q^; for a context code on a
    stationary chain, including the first m symbols coded in zero-padded contexts);
    NaN when the code has no closed form (adaptive models). ``model_cross_entropy_bits``
    is the model's stationary cost H(mu, q^) (equal to the expectation for an order-0
    model) and ``quantisation_gap_bits`` = H(mu, q^) - H(mu, q).

    ``source_order`` is the source's memory (0 i.i.d., m for an order-m chain, None
    when unknown) and ``model_order`` the number of past symbols the code's model
    conditions on (0 for the order-0 codes).

    ``ci99`` is an interval that contains ``expected_bits_per_symbol`` with probability
    at least 99%, built as ``ci_method`` says (see :func:`simulate`); it is infinite
    when no valid interval exists (one message of an adaptive code).

    Timings exclude the one-off compilation or cache loading of the kernels, which is
    done on a short prefix of the first message and reported as ``warmup_seconds``.
    """

    code: str
    alphabet_size: int
    n_symbols: int  # symbols per message
    trials: int  # messages
    seed: int | None
    total_bits: int
    bits_per_symbol: float
    entropy_bits: float
    cross_entropy_bits: float
    kl_bits: float
    excess_bits: float  # bits_per_symbol - H(p) (the entropy rate)
    expected_bits_per_symbol: float
    ci99: tuple[float, float]
    roundtrip_ok: bool
    encode_seconds: float
    decode_seconds: float
    sample_seconds: float
    trial_bits: tuple[int, ...]
    block: int | None = None
    precision: int | None = None
    model: str | None = None
    model_cross_entropy_bits: float | None = None  # arithmetic: H(p, q^)
    quantisation_gap_bits: float | None = None  # arithmetic: H(p, q^) - H(p, q)
    ci_method: str = "bernstein"
    warmup_seconds: float = 0.0
    entropy_rate_bits: float = math.nan
    cross_entropy_rate_bits: float = math.nan
    kl_rate_bits: float = math.nan
    marginal_entropy_bits: float | None = None
    memory_bits: float | None = None
    marginal_kl_bits: float | None = None
    source_order: int | None = 0
    model_order: int = 0

    def to_dict(self) -> dict:
        """A dict that ``json.dumps(..., allow_nan=False)`` accepts (strict JSON).

        Non-finite numbers, wherever they occur (also inside ``ci99``), follow one rule:
        +inf and -inf become the strings ``"inf"`` and ``"-inf"``; NaN, which xentsim
        uses only for "not available" (no closed-form expectation), becomes null. The
        block key appears for block codes, the precision/model keys for codes that
        report a model (the arithmetic coder), and the marginal keys
        (``marginal_entropy_bits``, ``memory_bits``, ``marginal_kl_bits``) for an
        order-0 q on a source with memory.
        """
        d = {key: _json_value(value) for key, value in asdict(self).items()}
        if self.model is None:
            for key in ("precision", "model", "model_cross_entropy_bits", "quantisation_gap_bits"):
                d.pop(key)
        if self.block is None:
            d.pop("block")
        if self.marginal_entropy_bits is None:
            for key in ("marginal_entropy_bits", "memory_bits", "marginal_kl_bits"):
                d.pop(key)
        return d


def _json_value(value):
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value


# --------------------------------------------------------------------------- memory


#: Bytes per trial kept for the result (the message lengths) and the spawned generators.
TRIAL_BYTES = 64
#: Fixed allowance: the sampler's uniform buffer, tables and interpreter slack.
BASE_BYTES = 8 << 20
#: Bytes per symbol of a context code's temporaries: the int64 flat context index of
#: every position and the int64 arrays it is computed from (up to four at once), plus
#: the float64 unit lengths.
CONTEXT_BYTES = 40

#: Symbols of a message coded at a time by :func:`simulate` (rounded down to a multiple
#: of the code's k): memory is bounded by the chunk, not the message.
CHUNK = 1 << 20
#: Chunks whose symbols are kept for the comparison while the decoder waits for their
#: bits; older waiting chunks are drawn again when they are decoded, from one copy of
#: the sampler (:data:`SNAPSHOT_BYTES`).
LAG_CHUNKS = 4
#: Bytes of one sampler copy (a generator's state and the stream object).
SNAPSHOT_BYTES = 4096


def _max_bits_per_symbol(code, source, n: int) -> float:
    """An upper estimate of the bits per symbol of any message (sizes the bitstream)."""
    law = code.unit_law(source)
    k = code.symbols_per_unit
    if law is not None:
        w, lengths = law
        on = (np.asarray(w) > 0) & np.isfinite(lengths)
        longest = float(np.max(np.asarray(lengths)[on])) if on.any() else 0.0
        return longest / k + (1.0 if k > 1 else 0.0)  # (a partial unit's symbols cost more)
    # no fixed law (adaptive counts): a symbol costs at most log2 of the count total
    return math.log2(2.0 * n + source.n_symbols) + 1.0


def streams(code) -> bool:
    """True when the code encodes and decodes chunk by chunk (``encoder``/``decoder``)."""
    return isinstance(code, StreamingCode)


def _working_bytes(code, source, n: int, c: int, *, unit_arrays: bool) -> int:
    """Peak bytes of coding c symbols at once within an n-symbol message (module doc of
    :func:`estimate_peak_bytes`)."""
    item = symbol_dtype(source.n_symbols).itemsize
    hi = max(float(code.slack_bits[1]), 0.0)
    stream = (c * _max_bits_per_symbol(code, source, n) + hi) / 8 + 64
    k = code.symbols_per_unit
    temps = (8 * (c // k) + (16 * c if k > 1 else 0)) if unit_arrays else (16 * c if k > 1 else 0)
    if context_order_of(code):
        temps += CONTEXT_BYTES * c
    return int(2 * c * item + c + 3 * stream + temps)


def estimate_peak_bytes(code, source, n: int, trials: int, *, unit_arrays: bool,
                        chunk: int | None = CHUNK, jobs: int = 1) -> int:
    """Estimated peak memory, in bytes, of :func:`simulate` for messages of n symbols.

    Messages are coded one at a time (per worker process). Coding c symbols at once
    needs: the symbols and the decoded copy (``symbol_dtype(K)`` each), the comparison
    mask (1 byte per symbol), the bitstream three times (the encoder's output, the
    decoder's byte copy and its padded buffer), per-unit float64 lengths when the
    interval needs them (plus 16 bytes per symbol of coder temporaries for k > 1),
    ``CONTEXT_BYTES`` per symbol for a context code. A code that streams (see
    :func:`streams`) has c = min(n, chunk) and keeps besides up to ``LAG_CHUNKS``
    chunks of symbols waiting for their bits, one more drawn again, and at most
    ``LAG_CHUNKS`` + 2 sampler copies (``SNAPSHOT_BYTES`` each); with ``chunk=None``
    or a code that does not stream, c = n.
    A source without ``stream`` is sampled whole (n more symbols). Each of ``jobs``
    worker processes holds its own working set. Added: the per-trial record
    (``TRIAL_BYTES``) and ``BASE_BYTES``.
    """
    item = symbol_dtype(source.n_symbols).itemsize
    if chunk is not None and streams(code):
        k = code.symbols_per_unit
        c = min(n, max(k, chunk - chunk % k))
        work = _working_bytes(code, source, n, c, unit_arrays=unit_arrays)
        work += (LAG_CHUNKS + 1) * c * item + (LAG_CHUNKS + 2) * SNAPSHOT_BYTES
        if not isinstance(source, StreamingSource):
            work += n * item
    else:
        work = _working_bytes(code, source, n, n, unit_arrays=unit_arrays)
    return int(jobs * (work + BASE_BYTES) + TRIAL_BYTES * trials)


# --------------------------------------------------------------------------- exact sums


#: Unit lengths of a non-integer code are summed exactly as integers in units of
#: 2^-_SCALE bits (below the smallest double, 2^-1074, times 2^-53).
_SCALE = 1130
_SPLIT = 26  # bits of the low half of a 53-bit integer mantissa
_BLOCK = 1 << 24  # values summed per bincount (sums of 2^27-bounded halves stay exact)


def _scaled_sum(values: np.ndarray) -> int:
    """The exact sum of finite float64 ``values`` times 2^_SCALE, as a Python int.

    Each value is m 2^e with an integer |m| < 2^53 (``frexp``); the mantissas are
    split into halves below 2^27 and summed per exponent by ``bincount`` (exact
    in float64 for up to 2^24 values), then combined in Python integers.
    """
    total = 0
    for start in range(0, values.size, _BLOCK):
        v = values[start : start + _BLOCK]
        if not v.size:
            continue
        frac, e = np.frexp(v)
        m = np.ldexp(frac, 53).astype(np.int64)
        e = e.astype(np.int64) - 53
        lo_e = int(e.min())
        idx = e - lo_e
        hi = np.bincount(idx, weights=(m >> _SPLIT).astype(np.float64))
        lo = np.bincount(idx, weights=(m & ((1 << _SPLIT) - 1)).astype(np.float64))
        for j in np.flatnonzero((hi != 0) | (lo != 0)).tolist():
            part = (int(hi[j]) << _SPLIT) + int(lo[j])
            shift = lo_e + j + _SCALE
            total += part << shift if shift >= 0 else part >> -shift  # shift >= 0 always
    return total


class _UnitSums:
    """Exact sums of a message's unit lengths into bins (its batches, or one total),
    the same whatever chunks the units arrive in.

    Integer-valued lengths (prefix and block codes) are summed as integers; others
    exactly in units of 2^-_SCALE, and :meth:`floats` rounds each bin once, correctly.
    """

    def __init__(self, starts: np.ndarray, integer: bool):
        self.starts = starts  # first unit of each bin (ascending, starts[0] = 0)
        self.integer = integer
        self.acc = [0] * starts.size

    def add(self, units: np.ndarray, first_unit: int) -> None:
        if not units.size:
            return
        end = first_unit + units.size
        b0 = int(np.searchsorted(self.starts, first_unit, side="right")) - 1
        b1 = int(np.searchsorted(self.starts, end, side="left"))
        cuts = np.maximum(self.starts[b0:b1] - first_unit, 0)
        if self.integer:
            sums = np.add.reduceat(units, cuts).tolist()
            for j, v in enumerate(sums):
                self.acc[b0 + j] += int(v)
        else:
            bounds = cuts.tolist() + [units.size]
            for j in range(len(bounds) - 1):
                self.acc[b0 + j] += _scaled_sum(units[bounds[j] : bounds[j + 1]])

    def floats(self, acc=None) -> list[float]:
        acc = self.acc if acc is None else acc
        if self.integer:
            return [float(v) for v in acc]
        return [float(Fraction(v, 1 << _SCALE)) for v in acc]


def _integer_lengths(code, source, n: int) -> bool:
    """True when every unit length the code can give is a whole number and any sum of
    a message's unit lengths stays below 2^53 (float64 sums of them are then exact)."""
    law = code.unit_law(source)
    if law is None:
        return False
    lengths = np.asarray(law[1], dtype=np.float64)
    finite = lengths[np.isfinite(lengths)]
    if not (finite == np.floor(finite)).all():
        return False
    top = float(finite.max()) if finite.size else 0.0
    return top * (n // code.symbols_per_unit + 1) < 2.0**53


# --------------------------------------------------------------------------- processes


#: Most worker processes ``simulate(jobs=...)`` accepts (4 per core).
MAX_JOBS = 4 * (os.cpu_count() or 1)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: ask Linux to SIGKILL this worker when its parent dies
    (prctl PR_SET_PDEATHSIG), then exit at once if the parent is already gone (it may
    have died between the fork and the prctl). Elsewhere only the check runs."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


_WORKER_STATE: dict = {}


def _init_worker(state: dict) -> None:
    _WORKER_STATE.clear()
    _WORKER_STATE.update(state)


def worker_pool(jobs: int, initializer=None, initargs=()) -> ProcessPoolExecutor:
    """A process pool whose workers end with the process that made it, even when that
    process is killed with SIGKILL (Linux: PR_SET_PDEATHSIG). ``initializer(*initargs)``
    runs in each worker after that."""
    pid = os.getpid()
    if initializer is None:
        return ProcessPoolExecutor(max_workers=jobs, initializer=die_with_parent,
                                   initargs=(pid,))
    return ProcessPoolExecutor(max_workers=jobs, initializer=_chain_init,
                               initargs=(pid, initializer, initargs))


def _chain_init(pid, initializer, initargs) -> None:
    die_with_parent(pid)
    initializer(*initargs)


# --------------------------------------------------------------------------- simulate


def _spawned(rng: np.random.Generator, trials: int, chunk: int = 1024):
    """rng.spawn(trials), produced ``chunk`` at a time (the same generators, in order)."""
    for start in range(0, trials, chunk):
        yield from rng.spawn(min(chunk, trials - start))


class _ArrayStream:
    """A whole sampled message handed out in chunks (for a source without ``stream``)."""

    def __init__(self, x: np.ndarray, pos: int = 0):
        self._x, self._pos = x, pos

    def next(self, count: int) -> np.ndarray:
        out = self._x[self._pos : self._pos + count]
        self._pos += count
        return out

    def copy(self) -> "_ArrayStream":
        return _ArrayStream(self._x, self._pos)


@dataclass
class _Trial:
    """What coding one message gave: its real length, the exact unit sums per bin,
    timings, and the most symbols held at once for the comparison."""

    length: int
    acc: list
    enc_s: float = 0.0
    dec_s: float = 0.0
    smp_s: float = 0.0
    warm_s: float = 0.0
    held_max: int = 0


def _check_equal(name: str, x: np.ndarray, y: np.ndarray, start: int) -> None:
    if y.shape != x.shape or not np.array_equal(x, y):
        bad = int(np.flatnonzero(x != y)[0]) + start if y.shape == x.shape else -1
        raise RoundTripError(f"{name}: decoded message differs from the input at {bad}")


def _warm_coder(coder, head: np.ndarray) -> None:
    """Compile or load the coder's kernels on a short prefix (whole and streamed).

    Only a timing aid: an error it meets (a symbol without a codeword) is left to the
    coding of the message itself, which names the positions the same way whichever
    messages or pieces a run happens to warm on."""
    try:
        coder.decode(coder.encode(head), head.size)
        if streams(coder):
            enc, dec = coder.encoder(), coder.decoder(head.size)
            dec.feed(enc.push(head))
            dec.feed(enc.finish(), last=True)
            dec.pull(head.size)
            dec.close()
    except XentsimError:
        pass


def _code_message(name, coder, source, child, n: int, chunk: int, sums: "_UnitSums | None",
                  warm: bool, progress=None, skip: int = 0) -> _Trial:
    """Sample, encode, decode and compare one message of n symbols, ``chunk`` at a time.

    Each chunk is drawn, pushed to the encoder and its final bits fed to the decoder;
    every waiting chunk whose ``need_bits`` the decoder has been fed is pulled and
    compared with what was sent. At most ``LAG_CHUNKS`` + 1 chunks of symbols wait at
    once: the oldest waiting chunks give up their symbols and are drawn again, in
    order, from one copy of the sampler taken before the first of them was drawn
    (copies are taken whenever some chunk is already waiting; a chunk drawn when
    none waited keeps its symbols), so memory stays bounded by the chunk however
    few bits the code hands out. A code without ``encoder`` is coded
    whole (one chunk).

    With ``skip`` > 0 the n symbols are a piece of a longer message that starts
    ``skip`` symbols in (a multiple of k; the stream must be a seekable
    :class:`~simulator.interfaces.SeekableStream`); unit sums are placed accordingly.
    """
    k = coder.symbols_per_unit
    m = context_order_of(coder)
    t0 = time.perf_counter()
    if isinstance(source, StreamingSource):
        stream = source.stream(child)
        if skip:
            stream.skip(skip)
    else:
        stream = _ArrayStream(source.sample(n, rng=child))
    rec = _Trial(0, [])
    rec.smp_s += time.perf_counter() - t0
    tail = np.zeros(0, dtype=symbol_dtype(source.n_symbols))  # last m symbols (context codes)
    done = 0

    def account(x):  # unit lengths of the chunk, exactly into their bins
        nonlocal tail
        if sums is None:
            return
        if m:
            joined = np.concatenate((tail, x))
            units = coder.unit_bits(joined)[tail.size :]
            tail = joined[-m:]
        else:
            units = coder.unit_bits(x)
        sums.add(units, (skip + done) // k)

    if not streams(coder):  # the whole message at once
        t0 = time.perf_counter()
        x = stream.next(n)
        t1 = time.perf_counter()
        rec.smp_s += t1 - t0
        if warm:
            _warm_coder(coder, x[: min(n, 64 * k)])
            t1b = time.perf_counter()
            rec.warm_s += t1b - t1
            t1 = t1b
        bits = coder.encode(x)
        t2 = time.perf_counter()
        y = coder.decode(bits, n)
        t3 = time.perf_counter()
        _check_equal(name, x, y, 0)
        del y
        rec.enc_s, rec.dec_s = t2 - t1, t3 - t2
        rec.length = len(bits)
        del bits
        account(x)
        rec.held_max = n
        if progress is not None:
            progress(n)
        return rec

    enc, dec = coder.encoder(), coder.decoder(n)
    waiting: deque = deque()  # [start, count, need_bits, symbols or None, sampler copy]
    held = 0  # symbols kept in ``waiting``
    fed = 0  # bits fed to the decoder
    redraw = None  # the sampler at the start of the oldest waiting chunk without symbols

    def pull(entry):
        nonlocal held, redraw
        start, count, _, x, _ = entry
        t0 = time.perf_counter()
        y = dec.pull(count)
        t1 = time.perf_counter()
        rec.dec_s += t1 - t0
        if x is None:  # drawn again (the chunks without symbols are consecutive)
            x = redraw.next(count)
            if not waiting or waiting[0][3] is not None:
                redraw = None
            rec.smp_s += time.perf_counter() - t1
        else:
            held -= count
        _check_equal(name, x, y, skip + start)  # (a piece's positions: in the message)

    while done < n:
        count = min(chunk, n - done)
        t0 = time.perf_counter()
        # a copy of the sampler, for a chunk that may have to wait behind others (a
        # chunk drawn when none waits keeps its symbols: at most one such waits)
        snap = stream.copy() if waiting else None
        x = stream.next(count)
        t1 = time.perf_counter()
        rec.smp_s += t1 - t0
        if warm and done == 0:
            _warm_coder(coder, x[: min(count, 64 * k)])
            t1b = time.perf_counter()
            rec.warm_s += t1b - t1
            t1 = t1b
        bits = enc.push(x)
        t2 = time.perf_counter()
        dec.feed(bits)
        rec.dec_s += time.perf_counter() - t2
        rec.enc_s += t2 - t1
        fed += len(bits)
        del bits
        account(x)
        waiting.append([done, count, enc.need_bits, x, snap])
        held += count
        rec.held_max = max(rec.held_max, held)
        done += count
        while waiting and waiting[0][2] <= fed:
            pull(waiting.popleft())
        for entry in waiting:  # over the bound: keep only how to draw the oldest again
            if held <= LAG_CHUNKS * chunk:
                break
            if entry[3] is None or entry[4] is None:  # dropped, or drawn when nothing
                continue  # waited (only the oldest can be): it keeps its symbols
            if redraw is None:
                redraw = entry[4]
            held -= entry[1]
            entry[3] = entry[4] = None
        if progress is not None:
            progress(done)
    t0 = time.perf_counter()
    bits = enc.finish()
    t1 = time.perf_counter()
    dec.feed(bits, last=True)
    rec.dec_s += time.perf_counter() - t1
    rec.enc_s += t1 - t0
    rec.length = fed + len(bits)
    del bits
    while waiting:
        pull(waiting.popleft())
    dec.close()
    return rec


def _run_piece(child, start: int, count: int, warm: bool) -> _Trial:
    """Worker task: code symbols start .. start + count - 1 of one message."""
    st = _WORKER_STATE
    sums = _UnitSums(st["starts"], st["integer"]) if st["unit_arrays"] else None
    rec = _code_message(st["name"], st["coder"], st["source"], child, count, st["chunk"],
                        sums, warm, skip=start)
    rec.acc = sums.acc if sums is not None else []
    return rec


def _splits_messages(coder, source, n: int, chunk: int, trials: int, jobs: int,
                     rng: np.random.Generator | None = None) -> bool:
    """True when one message can be cut into pieces coded in parallel with the same
    result: more workers than messages, at least two chunks per message, an i.i.d.
    source whose sampler can jump (PCG64), and a code whose message is the plain
    concatenation of its units' codewords (no slack, no context, a fixed unit law:
    a prefix or block code), so each piece is coded and checked on its own."""
    if jobs <= 1 or trials >= jobs or n < 2 * chunk:
        return False
    if not (source.independent and isinstance(source, StreamingSource)):
        return False
    if not (streams(coder) and tuple(coder.slack_bits) == (0.0, 0.0)
            and context_order_of(coder) == 0 and coder.unit_law(source) is not None):
        return False
    # the messages' generators are spawned from rng: same kind of bit generator
    probe = source.stream(copy.deepcopy(rng) if rng is not None else np.random.default_rng(0))
    return isinstance(probe, SeekableStream) and probe.seekable


def _run_trials(first: int, children: list, warm: bool) -> list:
    """Worker task: code the messages of ``children`` (trial indices from ``first``)."""
    st = _WORKER_STATE
    out = []
    for j, child in enumerate(children):
        sums = _UnitSums(st["starts"], st["integer"]) if st["unit_arrays"] else None
        rec = _code_message(st["name"], st["coder"], st["source"], child, st["n"],
                            st["chunk"], sums, warm and j == 0)
        rec.acc = sums.acc if sums is not None else []
        out.append(rec)
    return out


class ProgressBar:
    """A one-line progress report on a terminal stream: percent done and the rate in
    Msym/s, rewritten in place with a carriage return at most five times a second. It
    appears once the run has taken ``after`` seconds, or at once when ``total`` is at
    least ``eager`` symbols; :meth:`close` erases it."""

    def __init__(self, total: int, stream=None, *, after: float = 2.0, eager: int = 10**8):
        self.total = max(int(total), 1)
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()
        self._last = -math.inf
        self.after, self.eager = after, eager
        self.shown = False

    def __call__(self, done: int, total: int | None = None) -> None:
        now = time.perf_counter()
        if now - self._last < 0.2 and done < self.total:
            return
        if not self.shown and now - self.start < self.after and self.total < self.eager:
            return
        self._last = now
        rate = done / max(now - self.start, 1e-9) / 1e6
        self.stream.write(f"\rsimulate: {100.0 * done / self.total:5.1f}%  {rate:8.1f} Msym/s")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 40 + "\r")
            self.stream.flush()


def _run_pieces(state: dict, rng, trials: int, jobs: int, collect, bar, n: int,
                chunk: int) -> None:
    """Code each message in pieces of whole chunks on ``jobs`` workers (see
    :func:`_splits_messages`); a piece draws its symbols from a copy of the message's
    generator moved past the earlier pieces. The message's bits are the pieces' bits
    in order, its length their sum, its unit sums their sums: those of one process.

    Progress is reported as each piece ends, in order. A piece that fails names
    positions within itself, so the message is then coded again here, up to its first
    error, which is raised as one process raises it (the same message and positions)."""
    chunks = -(-n // chunk)
    per = -(-chunks // (4 * jobs)) * chunk  # symbols per piece: whole chunks
    with worker_pool(jobs, _init_worker, (state,)) as pool:
        for j, child in enumerate(_spawned(rng, trials)):
            futures = [pool.submit(_run_piece, child, a, min(per, n - a), j == 0 and a < jobs * per)
                       for a in range(0, n, per)]
            try:
                recs = []
                for i, f in enumerate(futures):
                    recs.append(f.result())
                    if bar is not None:
                        bar(j * n + min((i + 1) * per, n), trials * n)
            except XentsimError:
                for f in futures:
                    f.cancel()
                sums = _UnitSums(state["starts"], state["integer"]) if state["unit_arrays"] else None
                try:  # (child is unused here: the workers drew from pickled copies)
                    _code_message(state["name"], state["coder"], state["source"], child, n,
                                  chunk, sums, False)
                except XentsimError as same:
                    raise same from None
                raise  # (not repeated in one process: the workers' error as it was)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
            total = _Trial(sum(r.length for r in recs), [])
            if state["unit_arrays"]:
                total.acc = [sum(v) for v in zip(*(r.acc for r in recs))]
            for r in recs:
                total.enc_s += r.enc_s
                total.dec_s += r.dec_s
                total.smp_s += r.smp_s
                total.warm_s += r.warm_s
            collect(j, total)


def _run_parallel(state: dict, rng, trials: int, jobs: int, collect, bar, n: int) -> None:
    """Code the trials in ``jobs`` worker processes, in groups of consecutive trials
    with their own spawned generators, and hand the records to ``collect`` in trial
    order: the results are those of one process."""
    group = max(1, min(64, trials // (4 * jobs)))
    children = _spawned(rng, trials)
    with worker_pool(jobs, _init_worker, (state,)) as pool:
        pending: deque = deque()
        first = 0
        done = 0
        try:
            while first < trials or pending:
                while first < trials and len(pending) < 2 * jobs:
                    size = min(group, trials - first)
                    kids = [next(children) for _ in range(size)]
                    pending.append(pool.submit(_run_trials, first, kids, first < jobs * group))
                    first += size
                for rec in pending.popleft().result():
                    collect(done, rec)
                    done += 1
                if bar is not None:
                    bar(done * n, trials * n)
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise


def simulate(p, q, code: str = "huffman", *, n: int, rng: np.random.Generator,
             trials: int = 1, block: int | None = None, precision: int | None = None,
             model: str = "static", order: int | None = None, seed: int | None = None,
             memory_limit=None, chunk: int | None = None, jobs: int = 1,
             progress=None) -> Measurement:
    """Code ``trials`` messages of ``n`` symbols from ``p`` with a code built from ``q``.

    ``p`` is a pmf (the i.i.d. source of it), a (K^m, K) transition matrix (the
    stationary :class:`~simulator.sources.MarkovSource` of it), or any
    :class:`~simulator.interfaces.Source`. ``q`` is a pmf, or an order-m model as a
    (K^m, K) matrix (see :func:`build_code`; ``order`` gives an adaptive model its
    contexts). Each message is sampled with its own generator from
    ``rng.spawn(trials)``, encoded, decoded and compared with the input (a mismatch
    raises :class:`RoundTripError`).

    The interval ``ci99`` contains the code's exact expected bits per symbol,
    theta = E[sum of unit lengths] / n (``expected_bits_per_symbol``), with probability
    at least 99%. A message's real length is the sum of its unit lengths plus a slack
    in the code's ``slack_bits`` = [lo, hi] (the arithmetic coder's [-8, +1] bits), so
    every interval below is shifted by [-hi/n, -lo/n]. The method (``ci_method``):

    - ``"bernstein"``: independent units: an i.i.d. source (``source.independent``)
      and a code whose unit lengths do not depend on earlier symbols (no ``order``
      in its ``report()``, see :func:`context_order_of`), with a unit law. The m = trials * (n // k) unit lengths
      are i.i.d. with the law's exact variance v and range |l - E l| <= d, so
      Bernstein's inequality gives the half-width t(v, d, m, 0.01) per unit,
      (n // k) t / n per symbol, at every n (no normal approximation). The n mod k
      symbols of a partial final unit are not in the unit law: their observed excess
      over their exact expected length is subtracted. A zero-variance code gets a
      zero-width interval on its exact value.
    - ``"trials"``: a code with no unit law (adaptive models; their per-symbol costs
      depend on the past), or dependent units with at least ``BATCHES`` messages.
      The messages are independent (own generators), so the Student-t interval across
      their bits per symbol applies (t_{0.995, T-1} s / sqrt(T)); it is exact for
      normal message means and asymptotically valid otherwise, since each message's
      mean is an average over n symbols. With one message it is infinite (``"none"``).
    - ``"batch-means"``: dependent units (a source with memory such as a Markov
      chain, or a context code, whose length at t depends on the symbols before t)
      with a unit law and fewer than ``BATCHES`` messages. Each message is cut into
      consecutive batches of whole units (equal up to one unit; a message's partial
      unit and slack go to its last batch), ``BATCHES`` in all, and the Student-t
      interval with ``BATCHES`` - 1 degrees of freedom is taken across batch means.
      With one message the interval thus comes from the message itself. It is valid
      asymptotically when a batch is long compared with the correlation time of the
      unit lengths (for a chain that keeps its state with probability 0.95 about 40
      symbols): batch means are then nearly independent and nearly normal. The
      Bernstein interval would not be valid here: correlated lengths make the
      variance of their mean larger than v / m (for that chain about 20 times), and
      the tests show it missing far more often than 1%.

    The expectation is computed from the exact unit law (every product and sum exact,
    see :func:`simulator.bounds.exact_mean`), or for a context code from the exact
    block laws of the source (``code.expected_message_bits``), and each endpoint is
    moved outward by 4 ulps for the rounding of the final divisions.

    Each message is coded in chunks of ``chunk`` symbols (default :data:`CHUNK` = 2^20,
    rounded down to a multiple of k): a chunk is drawn (``source.stream``), pushed to
    the code's encoder, its final bits fed to the decoder, and every chunk whose bits
    have all been fed is decoded and compared (see :func:`_code_message` for the
    bounded lag). The chunking changes nothing measured: the bits are those of
    ``code.encode`` of the whole message, and unit lengths are summed exactly (as
    integers for prefix and block codes, exactly and then rounded once otherwise), so
    ``total_bits``, ``trial_bits``, the expectation and both ``ci99`` endpoints are
    the same for every ``chunk`` (the tests check this bit for bit). A code without
    ``encoder``/``decoder`` (:class:`~simulator.interfaces.StreamingCode`) is coded
    whole, as is the sample of a source without ``stream``.

    ``jobs`` > 1 codes the messages in that many worker processes (they end with this
    process), each message with its own spawned generator as above, so the result is
    the one of ``jobs=1`` (timings aside). With fewer messages than workers, an i.i.d.
    source on a PCG64 generator and a prefix or block code, each message is cut into
    pieces of whole chunks coded in parallel (a piece's generator is a copy moved
    past the earlier pieces: one 64-bit step per symbol), again with the same result
    (an error included: it names the positions one process names).
    ``progress``: True shows :class:`ProgressBar` on stderr (the command line passes
    it for a terminal), a callable is called as ``progress(done, total)`` symbols
    after each chunk (with ``jobs`` > 1: per finished group of messages, or per
    finished piece of a message cut into pieces).

    Memory is estimated before anything is allocated (:func:`estimate_peak_bytes`);
    a run above the limit is refused with an error naming n and the limit. The limit
    is ``memory_limit`` (bytes, or a string like "16G"), else the environment
    variable ``XENTSIM_MEMORY_LIMIT``, else half the RAM the system reports available.

    ``seed`` is only recorded in the result (pass the seed ``rng`` was made from).

    Examples
    --------
    >>> import numpy as np
    >>> m = simulate([0.9, 0.1], [0.1, 0.9], "shannon", n=10_000, rng=np.random.default_rng(1))
    >>> m.expected_bits_per_symbol, round(m.cross_entropy_bits, 6)
    (3.7, 3.004936)
    >>> chain = [[0.95, 0.05], [0.05, 0.95]]
    >>> m = simulate(chain, [0.5, 0.5], "arithmetic", n=100_000, rng=np.random.default_rng(1))
    >>> round(m.entropy_rate_bits, 6), round(m.memory_bits, 6), m.ci_method
    (0.286397, 0.713603, 'batch-means')
    """
    source = as_source(p)
    q, q_order = check_model_q(q)
    marginal = check_pmf(source.marginal(), "p")
    check_same_alphabet(marginal, q if q_order == 0 else q[0])
    n = check_int(n, "n", minimum=1)
    trials = check_int(trials, "trials", minimum=1)
    rng = check_rng(rng)
    coder = build_code(q, code, block=block, precision=precision, model=model, order=order,
                       memory_limit=memory_limit)
    context_order = context_order_of(coder)

    k = coder.symbols_per_unit
    nb, r = divmod(n, k)
    lo_slack, hi_slack = (float(v) for v in coder.slack_bits)
    spread = unit_spread(coder, source)
    if spread is None:
        method = "trials" if trials >= 2 else "none"
    elif source.independent and context_order == 0:
        method = "bernstein"
    else:
        method = "trials" if trials >= BATCHES else "batch-means"
    unit_arrays = method == "batch-means" or (method == "bernstein" and r > 0)
    chunk = CHUNK if chunk is None else check_int(chunk, "chunk", minimum=1)
    chunk = max(k, chunk - chunk % k)
    jobs = check_int(jobs, "jobs", minimum=1, maximum=MAX_JOBS)
    split = _splits_messages(coder, source, n, chunk, trials, jobs, rng)
    if not split:
        jobs = min(jobs, trials)
    check_memory(TRIAL_BYTES * trials, f"trials = {trials} messages",
                 "use fewer trials", memory_limit)
    need = estimate_peak_bytes(coder, source, n, trials, unit_arrays=unit_arrays, chunk=chunk,
                               jobs=jobs)
    check_memory(need, f"n = {n} symbols per message",
                 "use a smaller n and more trials (messages are coded one at a time)",
                 memory_limit)

    batches_per_message = max(1, min(nb, -(-BATCHES // trials))) if method == "batch-means" else 0
    if method == "batch-means":
        sizes = np.full(batches_per_message, nb // batches_per_message)
        sizes[: nb % batches_per_message] += 1
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    else:
        sizes = starts = np.zeros(1, dtype=np.int64)
    integer = _integer_lengths(coder, source, n) if unit_arrays else True

    def make_sums():
        return _UnitSums(starts, integer) if unit_arrays else None

    bar = None
    if progress is True:
        bar = ProgressBar(n * trials)
    elif callable(progress):
        bar = progress
    total_bits = 0
    trial_bits = []
    unit_total = 0.0  # sum of whole-unit lengths (only when a partial unit exists)
    batch_means = []
    enc_s = dec_s = smp_s = warm_s = 0.0
    if streams(coder):  # a code refuses a message length it cannot code (adaptive
        coder.decoder(n)  # totals below 2^32) before anything is drawn or compiled
    tw = time.perf_counter()
    if isinstance(source, StreamingSource):  # compile / load the sampler
        source.stream(np.random.default_rng(0)).next(min(n, 64))
    else:
        source.sample(min(n, 64), rng=np.random.default_rng(0))
    warm_s += time.perf_counter() - tw

    def collect(j: int, rec: _Trial) -> None:
        nonlocal total_bits, unit_total, enc_s, dec_s, smp_s, warm_s
        enc_s += rec.enc_s
        dec_s += rec.dec_s
        smp_s += rec.smp_s
        warm_s += rec.warm_s
        length = rec.length
        total_bits += length
        trial_bits.append(length)
        if method == "batch-means":
            sums = np.array(make_sums().floats(rec.acc))
            sym = sizes.astype(np.float64) * k
            sums[-1] += length - math.fsum(sums.tolist())  # partial unit and slack
            sym[-1] += r
            batch_means.extend((sums / sym).tolist())
        elif unit_arrays:
            unit_total += make_sums().floats(rec.acc)[0]

    try:
        if jobs == 1:
            for j, child in enumerate(_spawned(rng, trials)):
                sums = make_sums()
                step = None if bar is None else (lambda d, base=j * n: bar(base + d, n * trials))
                rec = _code_message(code, coder, source, child, n, chunk, sums, j == 0, step)
                rec.acc = sums.acc if sums is not None else []
                collect(j, rec)
        else:
            state = dict(name=code, coder=coder, source=source, n=n, chunk=chunk,
                         starts=starts, integer=integer, unit_arrays=unit_arrays)
            if split:
                _run_pieces(state, rng, trials, jobs, collect, bar, n, chunk)
            else:
                _run_parallel(state, rng, trials, jobs, collect, bar, n)
    finally:
        if isinstance(bar, ProgressBar):
            bar.close()

    n_total = n * trials
    bps = total_bits / n_total

    # ---- the exact expectation theta (slack excluded)
    if spread is not None and context_order == 0:
        mean_unit = spread[0]
        tail = float(coder.expected_message_bits(source, r)) if r else 0.0
        expected = (nb * mean_unit + tail) / n if nb else tail / n
    else:  # a context code: zero-padded contexts at the start (None: adaptive)
        e = coder.expected_message_bits(source, n)
        expected = math.nan if e is None else float(e) / n

    # ---- the interval
    if method == "bernstein":
        _, var, dev = spread
        m_units = trials * nb
        if not math.isfinite(mean_unit):
            half = math.inf
        elif m_units and var > 0:
            half = bernstein_half_width(var, dev, m_units, DELTA) * nb / n
        else:
            half = 0.0
        shift_hi, shift_lo = trials * hi_slack, trials * lo_slack
        if r:  # observed excess of the partial units (and slack) over their expectation
            excess = total_bits - unit_total - trials * tail
            shift_hi, shift_lo = max(shift_hi, excess), min(shift_lo, excess)
        ci = (bps - half - shift_hi / n_total, bps + half - shift_lo / n_total)
    elif method == "trials":
        half = t_half_width(np.array(trial_bits, dtype=np.float64) / n, LEVEL)
        ci = (bps - half - hi_slack / n, bps + half - lo_slack / n)
    elif method == "batch-means":
        half = t_half_width(np.array(batch_means), LEVEL)
        if len(batch_means) < 2:
            method = "none"
        ci = (bps - half - hi_slack / n, bps + half - lo_slack / n)
    else:
        ci = (-math.inf, math.inf)
    ci = _outward(ci, bps, expected)

    # ---- theory: rates (and the marginal decomposition for an order-0 q on a chain)
    # (an adaptive model with contexts is not an order-0 code: no marginal decomposition)
    rates = model_rates(source, q, q_order, decompose=context_order == 0)
    report = coder.report()
    extra = {key: report[key] for key in ("block", "precision", "model") if key in report}
    if "model" in report:  # a model-based coder pays the cross-entropy of its model, H(p, q^)
        if context_order == 0 or spread is None:
            model_h = expected
        else:
            model_h = spread[0]  # the stationary H(mu, q^) of a fixed context model
        extra["model_cross_entropy_bits"] = model_h
        extra["quantisation_gap_bits"] = (None if math.isnan(model_h)
                                          else model_h - rates["cross_entropy_rate_bits"])
    source_order = order_of_source(source)
    return Measurement(
        code=code, alphabet_size=int(marginal.size), n_symbols=n, trials=trials, seed=seed,
        total_bits=total_bits, bits_per_symbol=bps, entropy_bits=rates["entropy_rate_bits"],
        cross_entropy_bits=rates["cross_entropy_rate_bits"], kl_bits=rates["kl_rate_bits"],
        excess_bits=bps - rates["entropy_rate_bits"], expected_bits_per_symbol=expected,
        ci99=ci, roundtrip_ok=True, encode_seconds=enc_s, decode_seconds=dec_s,
        sample_seconds=smp_s, trial_bits=tuple(trial_bits), ci_method=method,
        warmup_seconds=warm_s, source_order=source_order, model_order=context_order,
        **rates, **extra,
    )


def _outward(ci: tuple[float, float], *values: float) -> tuple[float, float]:
    """Move both endpoints outward by 4 ulps of the largest finite magnitude involved."""
    finite = [abs(v) for v in (*ci, *values) if math.isfinite(v)]
    pad = 4 * math.ulp(max(finite, default=1.0))
    return (ci[0] - pad, ci[1] + pad)
