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

import math
import time
from dataclasses import asdict, dataclass
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


def estimate_peak_bytes(code, source, n: int, trials: int, *, unit_arrays: bool) -> int:
    """Estimated peak memory, in bytes, of :func:`simulate` for messages of n symbols.

    Messages are coded one at a time, so the peak is one message's: the symbols and
    the decoded copy (``symbol_dtype(K)`` each), the comparison mask (1 byte per
    symbol), the bitstream three times (the encoder's output, the decoder's byte copy
    and its padded buffer), per-unit float64 lengths when the interval needs them
    (plus 16 bytes per symbol of coder temporaries for k > 1), ``CONTEXT_BYTES`` per
    symbol for a context code (its int64 context indices and their temporaries), the
    per-trial record, and ``BASE_BYTES``.
    """
    item = symbol_dtype(source.n_symbols).itemsize
    hi = max(float(code.slack_bits[1]), 0.0)
    stream = (n * _max_bits_per_symbol(code, source, n) + hi) / 8 + 64
    k = code.symbols_per_unit
    temps = (8 * (n // k) + (16 * n if k > 1 else 0)) if unit_arrays else (16 * n if k > 1 else 0)
    if context_order_of(code):
        temps += CONTEXT_BYTES * n
    return int(2 * n * item + n + 3 * stream + temps + TRIAL_BYTES * trials + BASE_BYTES)


# --------------------------------------------------------------------------- simulate


def _spawned(rng: np.random.Generator, trials: int, chunk: int = 1024):
    """rng.spawn(trials), produced ``chunk`` at a time (the same generators, in order)."""
    for start in range(0, trials, chunk):
        yield from rng.spawn(min(chunk, trials - start))


def simulate(p, q, code: str = "huffman", *, n: int, rng: np.random.Generator,
             trials: int = 1, block: int | None = None, precision: int | None = None,
             model: str = "static", order: int | None = None, seed: int | None = None,
             memory_limit=None) -> Measurement:
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
    check_memory(TRIAL_BYTES * trials, f"trials = {trials} messages",
                 "use fewer trials", memory_limit)
    need = estimate_peak_bytes(coder, source, n, trials, unit_arrays=unit_arrays)
    check_memory(need, f"n = {n} symbols per message",
                 "use a smaller n and more trials (messages are coded one at a time)",
                 memory_limit)

    batches_per_message = max(1, min(nb, -(-BATCHES // trials))) if method == "batch-means" else 0
    total_bits = 0
    trial_bits = []
    unit_total = 0.0  # sum of whole-unit lengths (only when a partial unit exists)
    batch_means = []
    enc_s = dec_s = smp_s = warm_s = 0.0
    tw = time.perf_counter()
    source.sample(min(n, 64), rng=np.random.default_rng(0))  # compile / load the sampler
    warm_s += time.perf_counter() - tw
    for j, child in enumerate(_spawned(rng, trials)):
        t0 = time.perf_counter()
        x = source.sample(n, rng=child)
        t1 = time.perf_counter()
        smp_s += t1 - t0
        if j == 0:  # compile or load the coder's kernels on a short prefix, untimed
            head = x[: min(n, 64 * k)]
            coder.decode(coder.encode(head), head.size)
            t1b = time.perf_counter()
            warm_s += t1b - t1
            t1 = t1b
        bits = coder.encode(x)
        t2 = time.perf_counter()
        y = coder.decode(bits, n)
        t3 = time.perf_counter()
        if y.shape != x.shape or not np.array_equal(x, y):
            bad = int(np.flatnonzero(x != y)[0]) if y.shape == x.shape else -1
            raise RoundTripError(f"{code}: decoded message differs from the input at {bad}")
        del y
        enc_s += t2 - t1
        dec_s += t3 - t2
        length = len(bits)
        del bits
        total_bits += length
        trial_bits.append(length)
        if unit_arrays:
            units = coder.unit_bits(x)
            if method == "batch-means":
                sizes = np.full(batches_per_message, nb // batches_per_message)
                sizes[: nb % batches_per_message] += 1
                starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
                sums = np.add.reduceat(units, starts) if nb else np.zeros(1)
                sym = sizes.astype(np.float64) * k
                sums[-1] += length - math.fsum(sums.tolist())  # partial unit and slack
                sym[-1] += r
                batch_means.extend((sums / sym).tolist())
            else:
                unit_total += math.fsum(units.tolist())
            del units

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
