"""Arithmetic (range) coding with finite precision, built from q or learnt from the data.

The coder keeps a 64-bit interval [low, low + rng) with 2^56 <= rng < 2^64, narrows it
by each symbol's integer frequency interval, and sends bytes out of the top of the
window as rng shrinks, resolving carries with a one-byte cache and a count of 0xFF
bytes. It stops with the fewest bits that identify a point of the final interval, so a
message costs at most

    sum_i -log2 q^(x_i) + 1 + n * 1.443 * total * 2^-56 + 2^-63   bits,

where q^ is the model's quantised distribution and total its frequency total (2^b for
the static and conditional models, at most 2n + K for the adaptive ones). At b = 24
the per-symbol term is below 4e-10, so every message of up to 10^8 symbols stays within
2 bits of its ideal length. The decoder is given n.

Two implementations produce the same bits: :class:`ReferenceCoder`, plain Python that
reads like the description above, and compiled kernels (``encode`` and ``decode``),
which the test suite checks against it bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from bitarray import bitarray

from .._validate import UnencodableSymbolError, XentsimError, check_int, check_pmf
from . import _arith_kernels as K_
from ..models import AdaptiveModel, ConditionalModel, StaticModel
from .prefix import _as_bits, _as_symbols, padded_bytes

MASK64 = (1 << 64) - 1
TOP = 1 << 56  # renormalise while rng < TOP


# ------------------------------------------------------------------------ reference


class _ModelCursor:
    """Walks a model along a message: the frequency table for the next symbol."""

    def __init__(self, model):
        self.model = model
        self.i = 0
        if isinstance(model, AdaptiveModel):
            self.freq = [1] * model.n_symbols
        if isinstance(model, StaticModel):
            self.static = [int(c) for c in model.cum], model.total

    def table(self):
        """(cumulative frequencies as a list of K + 1 ints, total)."""
        m = self.model
        if isinstance(m, StaticModel):
            return self.static
        if isinstance(m, ConditionalModel):
            return [int(c) for c in m.cum[self.i]], m.total
        cum = [0]
        for f in self.freq:
            cum.append(cum[-1] + f)
        return cum, cum[-1]

    def update(self, s):
        if isinstance(self.model, AdaptiveModel):
            self.freq[s] += self.model.increment
        self.i += 1


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
        assert 0 < self.rng
        while self.rng < TOP:
            self._shift(self.low >> 56)
            self.low = (self.low << 8) & MASK64
            self.rng <<= 8
        assert TOP <= self.rng <= MASK64


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
        """Append the shortest x = k 2^(64-m) in [low, low + rng); return the bit length."""
        shifted = len(self.out) + self.pending
        for m in range(65):
            step = 1 << (64 - m)
            x = -(-self.low // step) * step  # low rounded up to a multiple of step
            if x - self.low < self.rng:
                break
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
        self.pos = 8
        self.window = int.from_bytes(data[:8].ljust(8, b"\x00"), "big")

    def _carry(self):
        pass  # the stream already holds the carried bytes; window - low is taken mod 2^64

    def _shift(self, byte):
        nxt = self.data[self.pos] if self.pos < len(self.data) else 0
        self.pos += 1
        self.window = ((self.window << 8) | nxt) & MASK64

    def target(self, total):
        return ((self.window - self.low) & MASK64) // (self.rng // total)


class ReferenceCoder:
    """The readable coder: one Python step per symbol (about 0.1 Msym/s)."""

    @staticmethod
    def encode(symbols, model, *, trace: bool = False):
        """Encode; returns the bitarray, or (bitarray, committed bits after each symbol)."""
        symbols = _check_message(symbols, model)
        enc = _Encoder()
        cursor = _ModelCursor(model)
        committed = []
        for i, s in enumerate(symbols.tolist()):
            cum, total = cursor.table()
            if cum[s + 1] == cum[s]:
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
        bits = _as_bits(bits)
        n = check_int(n_symbols, "n_symbols", minimum=0)
        dec = _Decoder(bits.tobytes())
        cursor = _ModelCursor(model)
        out = []
        for _ in range(n):
            cum, total = cursor.table()
            v = dec.target(total)
            if v >= total:
                raise XentsimError("the bitstream is not a message of this model")
            s = max(j for j in range(len(cum) - 1) if cum[j] <= v)
            dec._narrow(cum[s], cum[s + 1] - cum[s], total)
            cursor.update(s)
            out.append(s)
        return np.array(out, dtype=np.int64)


# ------------------------------------------------------------------------ fast path


def _unencodable(s, i):
    raise UnencodableSymbolError(
        f"symbol {s} (at position {i}) has frequency 0: the model was built from a q with "
        f"q({s}) = 0, so no code built from q can encode it (H(p,q) is infinite)"
    )


def _check_model(symbols, model):
    if not isinstance(model, (StaticModel, ConditionalModel, AdaptiveModel)):
        raise XentsimError(f"model must be a Static-, Conditional- or AdaptiveModel, got {model!r}")
    if isinstance(model, ConditionalModel) and symbols.size != model.n_positions:
        raise XentsimError(
            f"the conditional model has {model.n_positions} positions but the message has "
            f"{symbols.size} symbols"
        )


def _bad_symbol(symbols, model, i):
    s = int(symbols[i])
    if s >= model.n_symbols:
        raise XentsimError(
            f"symbols[{i}] is {s}, outside the model's alphabet 0..{model.n_symbols - 1}"
        )
    _unencodable(s, i)


def _check_message(symbols, model):
    """Validate a message for ``model`` (used by the reference coder)."""
    symbols = _as_symbols(symbols)
    _check_model(symbols, model)
    i = K_.first_outside(symbols, model.n_symbols)
    if i >= 0:
        _bad_symbol(symbols, model, i)
    return symbols


def encode(symbols, model, *, trace: bool = False):
    """Arithmetic-code a message with ``model``; bit for bit what ReferenceCoder gives.

    Returns a big-endian bitarray, or with ``trace=True`` also the bits committed
    (shifted out of the coder's window) after each symbol. After S bytes have left
    the window, the interval's width is rng 2^-(64 + 8S) with 2^56 <= rng < 2^64, so
    the ideal prefix length sum_j -log2 q^(x_j) lies in (8S, 8S + 8]: the trace lags it
    by less than 8 bits (and never leads it, up to the truncation term).
    """
    symbols = _as_symbols(symbols)
    _check_model(symbols, model)
    n = symbols.size
    tr = np.zeros(n if trace else 0, dtype=np.int64)
    # One compiled pass validates the message and gives the length bound.
    if isinstance(model, StaticModel):
        ideal, bad = K_.static_ideal_bits(symbols, model.neglog)
        total = model.total
    elif isinstance(model, ConditionalModel):
        ideal, bad = K_.conditional_ideal_bits(symbols, model.cum, model.precision)
        total = model.total
    else:
        bad = K_.first_outside(symbols, model.n_symbols)
        total = 2 * n + model.n_symbols
        if total >= 1 << 32:
            raise XentsimError(f"adaptive coding is limited to messages of < 2^31 symbols, got {n}")
        ideal = n * math.log2(total)  # every adaptive frequency is >= 1 of at most ``total``
    if bad >= 0:
        _bad_symbol(symbols, model, bad)
    # The proven bound (module doc) plus room for rounding in ``ideal`` and the kernel's
    # look-ahead stores (up to 8 bytes past the last one kept).
    slack = 2 + n * (1.443 * total * 2.0**-56 + 1e-9)
    nbytes = int((ideal + slack) // 8) + 16
    bits = bitarray(8 * nbytes, endian="big")
    out = np.frombuffer(bits, dtype=np.uint8)
    if isinstance(model, StaticModel):
        nbits = K_.encode_static(symbols, model.cum, model.precision, out, tr)
    elif isinstance(model, ConditionalModel):
        nbits = K_.encode_conditional(symbols, model.cum, model.precision, out, tr)
    else:
        nbits = K_.encode_adaptive(symbols, model.n_symbols, model.increment, out, tr)
    del out  # release the exported buffer so the bitarray can shrink
    assert 0 <= nbits <= 8 * (nbytes - 8), "arithmetic coder overran its proven length bound"
    del bits[nbits:]
    return (bits, tr) if trace else bits


def decode(bits, model, n_symbols) -> np.ndarray:
    """Decode ``n_symbols`` symbols coded with ``model``."""
    from ..distributions import symbol_dtype

    bits = _as_bits(bits)
    n = check_int(n_symbols, "n_symbols", minimum=0)
    buf = padded_bytes(bits)
    out = np.empty(n, dtype=symbol_dtype(model.n_symbols))
    if isinstance(model, StaticModel):
        end = K_.decode_static(buf, n, model.cum, model.precision, model._guide,
                               model._guide_shift, out)
    elif isinstance(model, ConditionalModel):
        if n != model.n_positions:
            raise XentsimError(f"the conditional model has {model.n_positions} positions, not {n}")
        end = K_.decode_conditional(buf, n, model.cum, model.precision, out)
    elif isinstance(model, AdaptiveModel):
        end = K_.decode_adaptive(buf, n, model.n_symbols, model.increment, out)
    else:
        raise XentsimError(f"model must be a Static-, Conditional- or AdaptiveModel, got {model!r}")
    if end == K_.ERR_CORRUPT:
        raise XentsimError("the bitstream is not a message of this model")
    return out


# ------------------------------------------------------------------------ for the engine


class ArithmeticCode:
    """The arithmetic coder as a code built from q, for :func:`simulator.engine.simulate`.

    ``model="static"`` codes with q quantised at ``precision`` bits; ``"laplace"`` and
    ``"kt"`` ignore q's values (only its alphabet size is used) and learn from the data.
    """

    name = "arithmetic"
    symbols_per_codeword = 1

    def __init__(self, q, precision: int | None = None, model: str = "static"):
        self.q = check_pmf(q, "q")
        if model == "static":
            self.model = StaticModel(self.q, precision)
            self.precision = self.model.precision
        elif model in ("laplace", "kt"):
            if precision is not None:
                raise XentsimError(f"precision applies to the static model only, not {model}")
            self.model = AdaptiveModel(self.q.size, model)
            self.precision = None
        else:
            raise XentsimError(f"model is {model!r}; choose static, laplace or kt")
        self.model_name = model
        self.n_symbols = self.q.size

    def encode(self, symbols) -> bitarray:
        return encode(symbols, self.model)

    def decode(self, bits, n_symbols) -> np.ndarray:
        return decode(bits, self.model, n_symbols)

    def length_moments(self, symbols):
        return self.model.length_moments(symbols)

    # ------------------------------------------------------------------ Code interface

    symbols_per_unit = 1
    #: real bits minus sum_i -log2 q^(x_i), per message (see the module doc)
    slack_bits = (-8.0, 1.0)

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
        """H(p, q^) for the static model; NaN for adaptive ones (no closed form)."""
        if isinstance(self.model, StaticModel):
            return self.model.cross_entropy(p)
        return math.nan

    def quantisation_gap(self, p) -> float | None:
        """H(p, q^) - H(p, q): either sign; large when q has values below 2^-b."""
        if not isinstance(self.model, StaticModel):
            return None
        from ..measures import cross_entropy

        return self.model.cross_entropy(p) - cross_entropy(p, self.q)
