"""The three interfaces every layer talks through: Source, Model, Code.

Nothing above this module branches on a concrete class: the engine, the intervals,
the experiments and the command line read these attributes and call these methods.
A new source is one class satisfying :class:`Source`; a new arithmetic-coding model is
one class satisfying :class:`Model`; both are then listed in their registry.

This module holds only typing declarations; it imports nothing from the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Source(Protocol):
    """Where symbols come from: the true distribution p (or process)."""

    n_symbols: int
    #: True when the symbols are i.i.d.: per-unit code lengths are then independent and
    #: an interval built on the exact unit law (Bernstein) is valid; otherwise the
    #: engine uses message-level or batch-means intervals.
    independent: bool

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """n symbols (integers 0..K-1); the only consumer of randomness."""

    def marginal(self) -> np.ndarray:
        """The law of one symbol (for a stationary source, the stationary law)."""

    def block_law(self, k: int) -> np.ndarray:
        """The law of k consecutive symbols over the K^k tuples in base-K order."""

    def entropy_rate_bits(self) -> float:
        """H of the process per symbol, in bits (H(p) for an i.i.d. source)."""

    # Optional (see :class:`StreamingSource`): ``stream(rng) -> SymbolStream``, the same
    # symbols as ``sample`` drawn a chunk at a time. A source without it is sampled whole.


@runtime_checkable
class SymbolStream(Protocol):
    """One message's symbols, drawn a chunk at a time from one generator.

    For the same generator state, the concatenation of ``next(c_1), next(c_2), ...``
    equals ``source.sample(c_1 + c_2 + ..., rng=...)`` exactly, whatever the chunk
    sizes, so memory is bounded by the chunk rather than the message.
    """

    def next(self, count: int) -> np.ndarray:
        """The next ``count`` symbols (``count`` >= 0)."""

    def copy(self) -> "SymbolStream":
        """An independent stream at the same position (its own copy of the generator
        and of any carried state): it yields the symbols this one would yield next."""


@runtime_checkable
class SeekableStream(SymbolStream, Protocol):
    """A :class:`SymbolStream` that can jump ahead without drawing (the i.i.d. sampler
    on a PCG64 generator: one 64-bit step per symbol), so distant pieces of one message
    can be drawn independently."""

    #: whether :meth:`skip` works with this stream's generator
    seekable: bool

    def skip(self, count: int) -> None:
        """Move past ``count`` symbols; the next ``next`` continues from there."""


@runtime_checkable
class StreamingSource(Source, Protocol):
    """A :class:`Source` that can also be drawn in chunks."""

    def stream(self, rng: np.random.Generator) -> SymbolStream:
        """A :class:`SymbolStream` over the symbols ``sample(n, rng=rng)`` would give."""


@dataclass(frozen=True)
class Tables:
    """All the compiled arithmetic coder reads from a model.

    ``cum`` holds cumulative frequencies, one row of K + 1 entries per row index. Which
    row codes position t is fixed by ``row``:

    - ``"const"``: row 0 at every position (one static table);
    - ``"position"``: row t (a distribution per position);
    - ``"context"``: row = the previous ``order`` symbols read as a base-K number
      (positions before the start read as symbol 0);
    - with ``increment > 0`` the counts are adaptive: the coder starts from ``cum`` and
      adds ``increment`` to the coded symbol's frequency (in its row) after each symbol.

    The frequency total is ``cum[row, -1]``; for the non-adaptive kinds it is
    ``2**precision``.
    """

    cum: np.ndarray
    row: str = "const"
    order: int = 0
    increment: int = 0
    precision: int | None = None


@runtime_checkable
class Model(Protocol):
    """What the arithmetic coder believes: q as integer frequency tables."""

    n_symbols: int
    name: str

    def tables(self, n: int) -> Tables:
        """The tables that code a message of n symbols."""

    def symbol_bits(self, symbols: np.ndarray) -> np.ndarray:
        """Exact -log2 q^(x_t | past) of each symbol, in bits (inf where q^ is 0)."""


@runtime_checkable
class Code(Protocol):
    """A code built from q alone: encode to real bits, decode, and its exact lengths.

    The engine measures ``len(encode(x))``; everything else here is the theory the
    measurement is compared with.
    """

    name: str
    n_symbols: int
    #: symbols per coding unit: 1, or k for a block code (intervals count units)
    symbols_per_unit: int
    #: (lo, hi): a message's real length minus the sum of its unit lengths lies in
    #: [lo, hi] bits. (0, 0) for prefix codes; the arithmetic coder's termination bound.
    slack_bits: tuple[float, float]

    def encode(self, symbols: np.ndarray):
        """A big-endian bitarray."""

    def decode(self, bits, n_symbols: int) -> np.ndarray:
        """Exactly ``n_symbols`` symbols, or a clear error for a damaged stream."""

    def unit_bits(self, symbols: np.ndarray) -> np.ndarray:
        """The length in bits of each whole unit of a message (float64)."""

    def unit_law(self, source: Source) -> tuple[np.ndarray, np.ndarray] | None:
        """(probabilities, lengths) of one unit under ``source``, exactly; None when
        no fixed law exists (adaptive or per-position models)."""

    def expected_message_bits(self, source: Source, n: int) -> float | None:
        """Exact expected length of an n-symbol message (sum of unit lengths, slack
        excluded); None when not computable."""

    def report(self) -> dict:
        """Fields describing the code for reports (e.g. precision, model name)."""

    # Streaming is an optional capability, :class:`StreamingCode`: every code xentsim
    # builds has it (the engine then holds one chunk, not the message); a code without
    # it is still accepted and coded a whole message at a time.


@runtime_checkable
class StreamingCode(Code, Protocol):
    """A :class:`Code` that also codes a message chunk by chunk."""

    def encoder(self) -> "StreamEncoder":
        """A fresh :class:`StreamEncoder` for one message."""

    def decoder(self, n_symbols: int) -> "StreamDecoder":
        """A fresh :class:`StreamDecoder` for one message of ``n_symbols`` symbols."""


@runtime_checkable
class StreamEncoder(Protocol):
    """Encodes one message in chunks, giving the same bits as ``Code.encode`` of the
    whole message, whatever the chunk boundaries (a block code needs every chunk but
    the last to hold a multiple of ``symbols_per_unit`` symbols).

    Memory is bounded by the chunk, not the message: only bits that no later symbol can
    change are handed out (an arithmetic coder holds back the bytes a carry can reach).
    """

    #: bits a decoder must have been fed to decode every symbol pushed so far (before
    #: ``finish``); a prefix code's is the number of bits produced so far.
    need_bits: int

    def push(self, symbols: np.ndarray):
        """Encode the next chunk; return the bits that became final (a big-endian
        bitarray, possibly empty)."""

    def finish(self):
        """End the message; return the remaining bits (the termination, if any)."""


@runtime_checkable
class StreamDecoder(Protocol):
    """Decodes one message of a known length from bits fed in order."""

    def feed(self, bits, *, last: bool = False) -> None:
        """Append bits; ``last=True`` says the stream is complete."""

    def pull(self, count: int) -> np.ndarray:
        """The next ``count`` symbols. The caller has fed at least the ``need_bits``
        the encoder reported after pushing them, or the whole stream (``last``).
        A damaged stream raises :class:`~simulator.errors.XentsimError`."""

    def close(self) -> None:
        """After all n symbols: raise unless the stream ends exactly where the
        encoding of the decoded message ends (nothing missing, nothing appended)."""
