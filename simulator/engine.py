"""The measurement: q -> code, p -> samples -> bits -> decoded -> checked -> numbers.

:func:`simulate` is the one place where a code meets data. The code is built from q
alone; the symbols are drawn from p; every message is encoded to a real bitstream,
decoded, and compared symbol for symbol with what was sent. The measured length is
the length of that bitstream, never a formula.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from . import measures
from .errors import RoundTripError
from ._validate import XentsimError, check_int, check_pmf, check_rng, check_same_alphabet
from .codes import BlockHuffmanCode, HuffmanCode, ShannonCode
from .distributions import sample

#: Codes that ``simulate`` can build from q.
CODE_NAMES = ("huffman", "shannon", "block-huffman", "arithmetic")

#: Two-sided 99% standard-normal quantile, z_{0.995}.
Z99 = 2.5758293035489004


def build_code(q, code: str = "huffman", *, block: int | None = None,
               precision: int | None = None, model: str = "static", n_symbols: int | None = None):
    """Build the named code from ``q`` alone.

    Parameters
    ----------
    q : array_like
        The assumed distribution.
    code : {"huffman", "shannon", "block-huffman", "arithmetic"}
    block : int, optional
        Block size k for "block-huffman" (required there, refused elsewhere).
    precision : int, optional
        Frequency precision b (total 2^b) for "arithmetic".
    model : {"static", "laplace", "kt"}
        Model for "arithmetic": static q, or adaptive counts (which ignore q's values
        and learn from the data, using only q's alphabet).
    """
    q = check_pmf(q, "q")
    if code not in CODE_NAMES:
        raise XentsimError(f"code is {code!r}; choose one of {', '.join(CODE_NAMES)}")
    if block is not None and code != "block-huffman":
        raise XentsimError(f"block size is only for block-huffman, not {code}")
    if code != "arithmetic" and (precision is not None or model != "static"):
        raise XentsimError(f"precision and model are only for arithmetic coding, not {code}")
    if code == "huffman":
        return HuffmanCode(q)
    if code == "shannon":
        return ShannonCode(q)
    if code == "block-huffman":
        if block is None:
            raise XentsimError("block-huffman needs a block size k (--block K)")
        return BlockHuffmanCode(q, block)
    from .codes.arithmetic import ArithmeticCode

    return ArithmeticCode(q, precision=precision, model=model)


@dataclass(frozen=True)
class Measurement:
    """What one simulation measured, next to what theory predicts.

    Measured (from real, decoded and checked bitstreams): ``total_bits``,
    ``bits_per_symbol``, ``excess_bits``, ``ci99``, the timings. Theory (from p and q):
    ``entropy_bits`` H(p), ``cross_entropy_bits`` H(p,q), ``kl_bits`` KL(p||q), and the
    code's own exact ``expected_bits_per_symbol`` for messages of this length (for the
    arithmetic coder: H(p, q^), the cross-entropy of its quantised model).
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
    excess_bits: float  # bits_per_symbol - H(p)
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

    def to_dict(self) -> dict:
        """A JSON-ready dict; infinities become the string "inf", NaN becomes null."""
        d = asdict(self)
        d["ci99"] = list(self.ci99)
        d["trial_bits"] = list(self.trial_bits)
        for key, value in d.items():
            if isinstance(value, float) and math.isinf(value):
                d[key] = "inf" if value > 0 else "-inf"
            elif isinstance(value, float) and math.isnan(value):
                d[key] = None  # e.g. no closed-form expectation for adaptive models
        if self.code != "arithmetic":
            for key in ("precision", "model", "model_cross_entropy_bits", "quantisation_gap_bits"):
                d.pop(key)
        if self.code != "block-huffman":
            d.pop("block")
        return d


def simulate(p, q, code: str = "huffman", *, n: int, rng: np.random.Generator,
             trials: int = 1, block: int | None = None, precision: int | None = None,
             model: str = "static", seed: int | None = None) -> Measurement:
    """Code ``trials`` messages of ``n`` symbols from ``p`` with a code built from ``q``.

    Each message is sampled with its own generator from ``rng.spawn(trials)``, encoded,
    decoded and compared with the input (a mismatch raises :class:`RoundTripError`).
    The 99% confidence interval for the expected bits per symbol is
    ``bits_per_symbol +- z_{0.995} s / sqrt(N)``, with ``s`` the sample standard
    deviation of the per-codeword lengths (per-symbol ideal lengths -log2 q^(x) for
    the arithmetic coder) and ``N`` their number.

    ``seed`` is only recorded in the result (pass the seed ``rng`` was made from).

    Examples
    --------
    >>> import numpy as np
    >>> m = simulate([0.9, 0.1], [0.1, 0.9], "shannon", n=10_000, rng=np.random.default_rng(1))
    >>> m.expected_bits_per_symbol, round(m.cross_entropy_bits, 6)
    (3.7, 3.004936)
    """
    p = check_pmf(p, "p")
    q = check_pmf(q, "q")
    check_same_alphabet(p, q)
    n = check_int(n, "n", minimum=1)
    trials = check_int(trials, "trials", minimum=1)
    rng = check_rng(rng)
    coder = build_code(q, code, block=block, precision=precision, model=model)

    per_codeword = coder.symbols_per_codeword
    total_bits = 0
    trial_bits = []
    enc_s = dec_s = smp_s = 0.0
    s1 = s2 = 0.0  # sum and sum of squares of the per-codeword lengths
    units = 0
    for child in rng.spawn(trials):
        t0 = time.perf_counter()
        x = sample(p, n, child)
        t1 = time.perf_counter()
        bits = coder.encode(x)
        t2 = time.perf_counter()
        y = coder.decode(bits, n)
        t3 = time.perf_counter()
        if y.shape != x.shape or not np.array_equal(x, y):
            bad = int(np.flatnonzero(x != y)[0]) if y.shape == x.shape else -1
            raise RoundTripError(f"{code}: decoded message differs from the input at {bad}")
        smp_s += t1 - t0
        enc_s += t2 - t1
        dec_s += t3 - t2
        total_bits += len(bits)
        trial_bits.append(len(bits))
        u, a, b = coder.length_moments(x)
        units += u
        s1 += a
        s2 += b

    n_total = n * trials
    bps = total_bits / n_total
    if units > 1:
        var = max(s2 - s1 * s1 / units, 0.0) / (units - 1)
        half = Z99 * math.sqrt(var / units) / per_codeword
    else:
        half = math.inf
    h_p = measures.entropy(p)
    extra = {}
    if code == "arithmetic":
        expected = coder.expected_bits_per_symbol(p)
        extra = dict(precision=coder.precision, model=coder.model_name,
                     model_cross_entropy_bits=expected,
                     quantisation_gap_bits=coder.quantisation_gap(p))
    else:
        expected = coder.expected_message_bits_p(p, n) / n
    return Measurement(
        code=code, alphabet_size=int(p.size), n_symbols=n, trials=trials, seed=seed,
        total_bits=total_bits, bits_per_symbol=bps, entropy_bits=h_p,
        cross_entropy_bits=measures.cross_entropy(p, q), kl_bits=measures.kl_divergence(p, q),
        excess_bits=bps - h_p, expected_bits_per_symbol=expected, ci99=(bps - half, bps + half),
        roundtrip_ok=True, encode_seconds=enc_s, decode_seconds=dec_s, sample_seconds=smp_s,
        trial_bits=tuple(trial_bits), block=block, **extra,
    )
