"""Real data: code a user's file with a model trained on another, or a classifier's labels.

Everything here codes for real: the symbols are arithmetic-coded, the stream decoded
and compared with the input; a length is the length of that stream.

- :func:`read_symbols`: a file as symbols, bytes (K = 256) or the integers of a .npy.
- :func:`build_file_model`: the order-k model, trained on another sequence (static,
  add-alpha) or adaptive (KT, Laplace) (:mod:`simulator.models.trained`).
- :func:`code_symbols`: encode, decode, compare, and the model's exact log-loss next to
  the measured bits (:class:`FileReport`).
- :func:`code_predictions`: a classifier's per-example probabilities code its labels
  (:class:`~simulator.models.ConditionalModel`), next to the mean cross-entropy loss.
- :func:`compressor_bits`: zlib, bz2 and lzma (level 9, standard library) on the same bytes.
- The ``.xent`` container (:func:`pack`, :func:`unpack`, :func:`compress`,
  :func:`decompress`): a self-describing header, then the stream.

The .xent format, version 1 (all integers big-endian)::

    offset  size  field
    0       4     magic b"XENT"
    4       1     format version, 1
    5       4     L, the header's length in bytes
    9       L     header: a JSON object, UTF-8, keys sorted (below)
    9 + L   4     CRC-32 of bytes 0 .. 9 + L - 1 (magic, version, L, header)
    13 + L  S     the arithmetic coder's stream: nbits bits, S = ceil(nbits / 8) bytes,
                  the unused low bits of the last byte zero

Header keys: ``symbols`` ("bytes" or "npy"), ``dtype`` (the .npy array's dtype, "npy"
only), ``alphabet`` (K), ``n`` (symbols), ``crc32`` (CRC-32 of the original: the file's
bytes, or the array's raw bytes in its dtype), ``model`` ("static", "kt", "laplace"),
``order`` (k), ``nbits``; static only: ``alpha``, ``precision``, ``train_sha256`` and
``train_bytes`` (the sha256 and size of the training file as stored), ``train_name`` (its base name, for
messages); adaptive only: ``contexts`` (the distinct contexts of the message) and
``pairs`` (an upper bound on its distinct (context, symbol) pairs): the decoder allocates
no more than these. The file is exactly 13 + L + S bytes long.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import lzma
import math
import os
import struct
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from bitarray import bitarray

from ._files import write_atomic
from ._validate import UnencodableSymbolError, XentsimError
from ._lazy import Kernels


def _kernels():
    from .codes import _arith_kernels
    return _arith_kernels


K_ = Kernels(_kernels)  # numba loads on the first kernel call
from .codes.arithmetic import decode, encode, slack_bounds
from .distributions import symbol_dtype
from .models import ConditionalModel
from .models.static import check_precision
from .models.trained import (ContextAdaptiveModel, TrainedModel, check_memory, check_order,
                             memory_limit_bytes)

MAGIC = b"XENT"
VERSION = 1
#: model names for files: trained static, or adaptive per context
FILE_MODELS = ("static", "kt", "laplace")
#: tolerance on a probability row's sum (as simulator._validate.check_pmf)
ROW_SUM_TOLERANCE = 1e-9


# ------------------------------------------------------------------ reading files


def read_bytes(path, what: str = "FILE") -> bytes:
    """A file's bytes, or a one-line XentsimError naming it."""
    p = Path(path)
    try:
        return p.read_bytes()
    except IsADirectoryError:
        raise XentsimError(f"{what} {str(path)!r} is a directory, not a file") from None
    except OSError as exc:
        raise XentsimError(f"{what} {str(path)!r} cannot be read: {exc.strerror or exc}") from None


def check_output(path, option: str, inputs: dict | None = None) -> None:
    """Refuse, in one XentsimError naming the option, an output path that names no file
    (``--out ''`` would become the folder ``.``), one that names an input (``inputs``
    maps an option to its path: writing would destroy it) and an existing target that
    is not a regular file (a device, a FIFO, a folder: the rename would replace it)."""
    if not str(path).strip():
        raise XentsimError(f"{option} is empty ({str(path)!r}): give the name of the file to write")
    for other, given in (inputs or {}).items():
        if given is None:
            continue
        try:
            same = os.path.samefile(path, given)
        except OSError:  # either does not exist (yet): compare the resolved names
            same = Path(path).resolve() == Path(given).resolve()
        if same:
            raise XentsimError(f"{option} {str(path)!r} is the same file as {other} {str(given)!r}: "
                               "writing it would destroy the input; choose another name")
    if os.path.exists(path) and not os.path.isfile(path):
        raise XentsimError(f"{option} {str(path)!r} exists and is not a regular file: "
                           "xentsim writes only regular files; choose another name")


def load_npy(path, what: str) -> np.ndarray:
    """A .npy array (no pickles), or a one-line XentsimError naming it."""
    return npy_array(read_bytes(path, what), path, what)


def check_symbol_array(arr: np.ndarray, what: str, alphabet: int | None = None) -> np.ndarray:
    """A 1-D integer array with values in 0..alphabet-1 (any non-negative values when
    alphabet is None), or a one-line XentsimError."""
    if arr.ndim != 1:
        raise XentsimError(f"{what} must be a 1-D array of integers, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise XentsimError(f"{what} must hold integers, got dtype {arr.dtype}")
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0:
            i = int(np.flatnonzero(arr < 0)[0])
            raise XentsimError(f"{what}[{i}] is {int(arr[i])}: symbols must be >= 0")
        if alphabet is not None and hi >= alphabet:
            i = int(np.flatnonzero(arr >= alphabet)[0])
            raise XentsimError(f"{what}[{i}] is {int(arr[i])}, outside the alphabet 0..{alphabet - 1}")
        if hi >= 1 << 24:
            raise XentsimError(f"{what} holds the symbol {hi}: symbols must be below 2^24")
    return arr


def read_symbols(path, kind: str = "bytes", what: str = "FILE"):
    """(symbols, raw, file bytes): a file as symbols, read once. ``kind="bytes"``: its
    bytes as uint8 (raw is the bytes); ``"npy"``: a 1-D integer .npy array (raw is the
    array's bytes, what the CRC-32 and the compressors see)."""
    if kind not in ("bytes", "npy"):
        raise XentsimError(f"symbols is {kind!r}; choose 'bytes' or 'npy'")
    data = read_bytes(path, what)
    if kind == "bytes":
        return np.frombuffer(data, dtype=np.uint8), data, data
    arr = np.ascontiguousarray(check_symbol_array(npy_array(data, path, what), what))
    return arr, arr.tobytes(), data


def npy_array(data: bytes, path, what: str) -> np.ndarray:
    """The array of .npy bytes (no pickles), or a one-line XentsimError naming the file.
    Numbers stored in the other byte order are converted to the machine's (values unchanged)."""
    import io

    if not data.startswith(b"\x93NUMPY"):  # np.load would take it for a pickle
        raise XentsimError(f"{what} {str(path)!r} is not a .npy file (it does not start with "
                           "the .npy magic bytes \\x93NUMPY)")
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise XentsimError(f"{what} {str(path)!r} is not a readable .npy file: {' '.join(str(exc).split())}") from None
    if not isinstance(arr, np.ndarray):
        raise XentsimError(f"{what} {str(path)!r} holds no single array")
    if arr.dtype.kind in "iuf" and not arr.dtype.isnative:  # the compiled coder reads native order
        arr = arr.astype(arr.dtype.newbyteorder("="))  # the same values
    return arr


def printable(text) -> str:
    """``text`` with every non-printable character (ESC, newlines, ...) shown as its
    Python escape, so that text from a file cannot drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ models


def parse_alpha(text) -> float:
    """alpha from '0.5', '1/2' or a number: finite and >= 0."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        s = str(text).strip()
        try:
            if "/" in s:
                a, b = s.split("/", 1)
                value = float(a) / float(b)
            else:
                value = float(s)
        except (ValueError, ZeroDivisionError):
            raise XentsimError(f"--alpha is {text!r}: give a number >= 0 such as 0.5 or 1/2") from None
    if not math.isfinite(value) or value < 0:
        raise XentsimError(f"--alpha is {text!r}: it must be a finite number >= 0")
    return value


def build_file_model(kind: str, n_symbols: int, order: int, *, train=None, alpha: float = 0.5,
                     precision: int | None = None, max_contexts=None, max_pairs=None):
    """The order-k model called ``kind``: "static" (trained on ``train``, add-alpha) or
    "kt" / "laplace" (adaptive; ``train``, ``alpha`` and ``precision`` do not apply)."""
    if kind not in FILE_MODELS:
        raise XentsimError(f"model is {kind!r}; choose one of {', '.join(FILE_MODELS)}")
    order = check_order(order, n_symbols)
    if kind == "static":
        if train is None:
            raise XentsimError("the static model is trained on another file: give --train TRAIN "
                               "(or choose --model kt or laplace, which learn from FILE itself)")
        return TrainedModel(train, order, n_symbols, alpha, precision)
    if train is not None:
        raise XentsimError(f"--train applies to the static model only; model {kind} learns from FILE itself")
    return ContextAdaptiveModel(n_symbols, order, kind, max_contexts, max_pairs)


def message_bounds(symbols, n_symbols: int, order: int) -> tuple[int, int]:
    """(distinct contexts, an upper bound on distinct (context, symbol) pairs) of a
    message: the pairs (c_t, x_t) are the order-(k+1) contexts of positions 1..n."""
    x = np.ascontiguousarray(symbols)
    if x.size == 0:
        return 0, 0
    contexts = K_.count_contexts(x, n_symbols, order)
    if n_symbols ** (order + 1) > 1 << 62:  # order-(k+1) numbers would not fit: bound by n
        return int(contexts), int(x.size)
    pairs = K_.count_contexts(np.concatenate([x, x[:1]]), n_symbols, order + 1)
    return int(contexts), int(pairs)


# ------------------------------------------------------------------ compressors


def compressor_bits(data: bytes) -> dict:
    """Bits of zlib, bz2 and lzma (xz) output, level 9 each (``preset=9`` for lzma), on
    ``data``; each is decompressed and compared."""
    out = {}
    for name, comp, decomp in (("zlib", lambda d: zlib.compress(d, 9), zlib.decompress),
                               ("bz2", lambda d: bz2.compress(d, 9), bz2.decompress),
                               ("lzma", lambda d: lzma.compress(d, preset=9), lzma.decompress)):
        packed = comp(data)
        if decomp(packed) != data:  # pragma: no cover - a broken standard library
            raise RuntimeError(f"{name} did not round-trip")
        out[name] = 8 * len(packed)
    return out


# ------------------------------------------------------------------ coding and reports


def _per_symbol(total, n):
    return None if n == 0 else total / n


@dataclass
class FileReport:
    """What :func:`code_symbols` measured. Per-symbol values are None for n = 0."""

    n_symbols: int
    alphabet_size: int
    model: str
    order: int | None
    total_bits: int
    bits_per_symbol: float | None
    log_loss_bits: float | None  #: mean -log2 q(x_t | c_t), the model unquantised
    quantised_log_loss_bits: float | None  #: mean -log2 q^(x_t | c_t), the coder's model
    slack_bits: tuple  #: total_bits - n * quantised_log_loss_bits lies in this range
    within_slack: bool
    roundtrip_ok: bool
    zlib_bits_per_symbol: float | None
    bz2_bits_per_symbol: float | None
    lzma_bits_per_symbol: float | None
    encode_seconds: float
    decode_seconds: float
    contexts: int | None = None  #: static: contexts seen in training; adaptive: in FILE

    def to_dict(self) -> dict:
        d = asdict(self)
        d["slack_bits"] = list(self.slack_bits)
        return d


def _slack(n, total):
    lo, hi = slack_bounds(n, total)
    return lo, hi + n * 1e-9  # rounding in the float sum of -log2 q^


def _explain_refusal(x, model, exc):
    """Re-raise the coder's refusal of a trained model in the data's terms."""
    inf = np.flatnonzero(np.isinf(model.exact_bits(x)))
    if not inf.size:  # pragma: no cover - the coder and the model agree on q = 0
        raise exc
    i = int(inf[0])
    s = int(x[i])
    shown = f"{s}" + (f" (0x{s:02x}{' ' + repr(chr(s)) if 32 <= s < 127 else ''})" if model.n_symbols == 256 else "")
    unseen = model.rows_of(x[: i + 1])[i] < 0
    if model.order == 0:
        why = "it never occurs in the training data (N(x) = 0)"
    elif unseen:
        why = f"its context (the {model.order} symbols before it) never occurs in the training data"
    else:
        why = "it never follows its context in the training data (N(c, x) = 0)"
    raise UnencodableSymbolError(
        f"position {i} holds the symbol {shown}: {why}, and alpha = {model.alpha:g}, so "
        f"q(x | c) = 0 and its code length is infinite (H(p,q) = inf): the coder refuses it; "
        f"smooth the model with alpha > 0"
    ) from None


def _rowless(model) -> bool:
    """A trained model without a single row (empty training data and alpha = 0): it gives
    every symbol probability 0, so only the empty message is codable (to no bits)."""
    return isinstance(model, TrainedModel) and model.cum.shape[0] == 0


def code_symbols(symbols, model, raw: bytes | None = None, *, compressors: bool = True):
    """Encode ``symbols`` with ``model``, decode, compare; (FileReport, bits).

    ``raw`` are the bytes the standard compressors get (default: the symbols' bytes).
    Raises UnencodableSymbolError (naming the position) when the model gives a symbol
    probability 0, and RoundTripError should the decoded message differ (a bug).
    """
    from .errors import RoundTripError

    x = np.ascontiguousarray(symbols)
    n = int(x.size)
    rowless = _rowless(model)
    if rowless and n:  # q = 0 everywhere: refuse at position 0, in the data's terms
        _explain_refusal(x, model, UnencodableSymbolError("the model has no rows"))
    if not rowless:
        decode(encode(x[:0], model), model, 0)  # load the compiled kernels: not part of the timing
    t0 = time.perf_counter()
    try:
        bits = bitarray(endian="big") if rowless else encode(x, model)
    except UnencodableSymbolError as exc:
        if isinstance(model, TrainedModel):
            _explain_refusal(x, model, exc)
        raise
    t1 = time.perf_counter()
    back = x.copy() if rowless else decode(bits, model, n)
    t2 = time.perf_counter()
    ok = bool(np.array_equal(back.astype(np.int64), x.astype(np.int64)))
    if not ok:  # pragma: no cover - a coder bug, never data
        raise RoundTripError("the decoded message differs from the encoded one")
    quant = model.symbol_bits(x)
    exact = model.exact_bits(x)
    qsum, esum = math.fsum(quant), math.fsum(exact)
    if isinstance(model, TrainedModel):
        top = model.total
    else:
        top = model.n_symbols + model.increment * n
    lo, hi = _slack(n, top)
    real = len(bits)
    comp = compressor_bits(raw if raw is not None else x.tobytes()) if compressors else {}
    rep = FileReport(
        n_symbols=n, alphabet_size=model.n_symbols,
        model="static" if isinstance(model, TrainedModel) else model.estimator,
        order=model.order, total_bits=real, bits_per_symbol=_per_symbol(real, n),
        log_loss_bits=_per_symbol(esum, n), quantised_log_loss_bits=_per_symbol(qsum, n),
        slack_bits=(lo, hi), within_slack=bool(lo <= real - qsum <= hi), roundtrip_ok=ok,
        zlib_bits_per_symbol=_per_symbol(comp["zlib"], n) if comp else None,
        bz2_bits_per_symbol=_per_symbol(comp["bz2"], n) if comp else None,
        lzma_bits_per_symbol=_per_symbol(comp["lzma"], n) if comp else None,
        encode_seconds=t1 - t0, decode_seconds=t2 - t1,
        contexts=model.n_contexts if isinstance(model, TrainedModel) else None,
    )
    return rep, bits


# ------------------------------------------------------------------ predictions


def check_predictions(probs, targets, *, normalize: bool = False):
    """(P as float64 rows summing to 1, Y as int64), validated; names the bad row."""
    P = np.asarray(probs)
    Y = np.asarray(targets)
    if P.ndim != 2 or P.shape[1] < 1:
        raise XentsimError(f"--probs must be an (n, K) array of probabilities, got shape {P.shape}")
    if P.dtype.kind not in "fiu":
        raise XentsimError(f"--probs must hold numbers, got dtype {P.dtype}")
    P = P.astype(np.float64)
    Y = check_symbol_array(Y, "--targets", P.shape[1])
    if Y.shape[0] != P.shape[0]:
        raise XentsimError(f"--probs has {P.shape[0]} rows but --targets has {Y.shape[0]} labels: "
                           "one label per row")
    bad = ~np.isfinite(P).all(axis=1) | (P < 0).any(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise XentsimError(f"--probs row {i} holds a negative or non-finite value")
    with np.errstate(over="ignore"):  # an overflowing row is refused below, by number
        sums = P.sum(axis=1)
    if not np.isfinite(sums).all():
        i = int(np.flatnonzero(~np.isfinite(sums))[0])
        raise XentsimError(f"--probs row {i} sums beyond the largest float (its values are finite "
                           "but their sum overflows): it is not a probability row; rescale it")
    if normalize:
        if (sums <= 0).any():
            i = int(np.flatnonzero(sums <= 0)[0])
            raise XentsimError(f"--probs row {i} sums to {sums[i]:g}: nothing to normalise")
        P = P / sums[:, None]
    else:
        off = np.abs(sums - 1) > ROW_SUM_TOLERANCE
        if off.any():
            i = int(np.flatnonzero(off)[0])
            raise XentsimError(f"--probs row {i} sums to {sums[i]:.12g}, not 1 (tolerance "
                               f"{ROW_SUM_TOLERANCE:g}); pass --normalize to rescale the rows")
    Y = Y.astype(np.int64)
    if Y.size:
        pt = P[np.arange(Y.size), Y]
        zero = pt == 0
        if zero.any():
            i = int(np.flatnonzero(zero)[0])
            raise UnencodableSymbolError(
                f"--probs row {i} gives its target label {int(Y[i])} probability 0: its code "
                "length -log2 0 and the cross-entropy loss are infinite, so no code built from "
                "these predictions can encode the labels"
            )
    return P, Y


@dataclass
class PredictionReport:
    """What :func:`code_predictions` measured (per-symbol values None for n = 0)."""

    n_symbols: int
    alphabet_size: int
    precision: int
    total_bits: int
    bits_per_symbol: float | None
    cross_entropy_loss_bits: float | None  #: mean -log2 P[i, y_i]
    log_loss_bits: float | None  #: the same number (the name used for files)
    quantised_log_loss_bits: float | None  #: mean -log2 q^_i(y_i), the coder's rows
    slack_bits: tuple
    within_slack: bool
    #: total_bits - n * cross_entropy_loss_bits: the termination slack plus the rounding
    #: of the rows to 2^-b (quantised - exact, reported separately)
    difference_bits: float
    rounding_bits: float
    roundtrip_ok: bool
    zlib_bits_per_symbol: float | None
    bz2_bits_per_symbol: float | None
    lzma_bits_per_symbol: float | None
    encode_seconds: float
    decode_seconds: float

    def to_dict(self) -> dict:
        d = asdict(self)
        d["slack_bits"] = list(self.slack_bits)
        return d


def code_predictions(probs, targets, *, normalize: bool = False, precision: int | None = None,
                     compressors: bool = True):
    """Code labels Y with the per-row models P (ConditionalModel); (report, bits).

    The measured total lies within the coder's termination slack [-8, +1] bits (plus
    its truncation term) of sum_i -log2 q^_i(y_i), where q^_i is row i rounded to
    integers over 2^b; that sum differs from the cross-entropy loss sum_i -log2 P[i, y_i]
    by the rounding, reported as ``rounding_bits``.
    """
    from .errors import RoundTripError

    P, Y = check_predictions(probs, targets, normalize=normalize)
    b = check_precision(precision)
    n, K = P.shape
    check_memory(n * (K + 1) * 8 * 4, f"the per-row model ({n} rows x {K} labels)")
    if n == 0:
        model = None
        bits = bitarray(endian="big")
        quant = exact = np.zeros(0)
        t1 = t2 = t0 = time.perf_counter()
        ok = True
    else:
        model = ConditionalModel(P, b)
        m = min(n, 64)  # load or compile the kernels on a short prefix: not part of the timing
        head = ConditionalModel(P[:m], b)
        decode(encode(Y[:m], head), head, m)
        t0 = time.perf_counter()
        bits = encode(Y, model)
        t1 = time.perf_counter()
        back = decode(bits, model, n)
        t2 = time.perf_counter()
        ok = bool(np.array_equal(back.astype(np.int64), Y))
        if not ok:  # pragma: no cover
            raise RoundTripError("the decoded labels differ from the encoded ones")
        quant = model.symbol_bits(Y)
        exact = -np.log2(P[np.arange(n), Y])
    qsum, esum = math.fsum(quant), math.fsum(exact)
    lo, hi = _slack(n, 1 << b)
    real = len(bits)
    comp = compressor_bits(Y.astype(symbol_dtype(K)).tobytes()) if compressors else {}
    rep = PredictionReport(
        n_symbols=n, alphabet_size=K, precision=b, total_bits=real,
        bits_per_symbol=_per_symbol(real, n), cross_entropy_loss_bits=_per_symbol(esum, n),
        log_loss_bits=_per_symbol(esum, n), quantised_log_loss_bits=_per_symbol(qsum, n),
        slack_bits=(lo, hi), within_slack=bool(lo <= real - qsum <= hi),
        difference_bits=real - esum, rounding_bits=qsum - esum, roundtrip_ok=ok,
        zlib_bits_per_symbol=_per_symbol(comp["zlib"], n) if comp else None,
        bz2_bits_per_symbol=_per_symbol(comp["bz2"], n) if comp else None,
        lzma_bits_per_symbol=_per_symbol(comp["lzma"], n) if comp else None,
        encode_seconds=t1 - t0, decode_seconds=t2 - t1,
    )
    return rep, bits


# ------------------------------------------------------------------ the .xent container


def _crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def pack(header: dict, bits: bitarray) -> bytes:
    """The .xent bytes of a header and a stream (module doc); sets header["nbits"]."""
    header = dict(header, nbits=len(bits))
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    head = MAGIC + bytes([VERSION]) + struct.pack(">I", len(text)) + text
    return head + struct.pack(">I", _crc(head)) + bits.tobytes()


def _corrupt(path, why):
    raise XentsimError(f"{path} is not a valid .xent file: {why}")


_HEADER_TYPES = {"symbols": str, "alphabet": int, "n": int, "crc32": int, "model": str,
                 "order": int, "nbits": int}
#: the other keys a header may hold (module doc), with their JSON types
_OPTIONAL_TYPES = {"dtype": (str,), "alpha": (int, float), "precision": (int,),
                   "train_sha256": (str,), "train_bytes": (int,), "train_name": (str, type(None)),
                   "contexts": (int,), "pairs": (int,)}


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def unpack(data: bytes, path: str = "the input"):
    """(header, bits) of .xent bytes; a one-line XentsimError for anything else:
    another format, an unknown version, a damaged header, a truncated or extended file."""
    if len(data) < 4 or data[:4] != MAGIC:
        _corrupt(path, "it does not start with the magic bytes XENT")
    if len(data) < 5:
        _corrupt(path, "it is truncated inside the header")
    if data[4] != VERSION:
        raise XentsimError(f"{path} is .xent format version {data[4]}; this xentsim reads version {VERSION} only")
    if len(data) < 13:
        _corrupt(path, "it is truncated inside the header")
    (L,) = struct.unpack(">I", data[5:9])
    if 13 + L > len(data):
        _corrupt(path, f"it is truncated: the header says {L} header bytes, the file has {len(data)} bytes")
    head = data[: 9 + L]
    (crc,) = struct.unpack(">I", data[9 + L: 13 + L])
    if _crc(head) != crc:
        _corrupt(path, "the header's CRC-32 does not match (damaged header)")
    try:
        header = json.loads(data[9: 9 + L].decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        _corrupt(path, "the header is not JSON")
    if not isinstance(header, dict):
        _corrupt(path, "the header is not a JSON object")
    unknown = sorted(set(header) - set(_HEADER_TYPES) - set(_OPTIONAL_TYPES))
    if unknown:
        _corrupt(path, f"the header has unknown fields {printable(', '.join(map(repr, unknown)))[:200]}")
    for key, types in _OPTIONAL_TYPES.items():
        if key in header and (not isinstance(header[key], types) or isinstance(header[key], bool)):
            _corrupt(path, f"header field {key!r} is invalid ({printable(repr(header[key]))[:80]})")
    for key, typ in _HEADER_TYPES.items():
        v = header.get(key)
        if not isinstance(v, typ) or isinstance(v, bool) or (typ is int and v < 0):
            _corrupt(path, f"header field {key!r} is missing or invalid ({printable(repr(v))[:80]})")
    if header["symbols"] not in ("bytes", "npy") or header["model"] not in FILE_MODELS:
        _corrupt(path, f"header names symbols {header['symbols']!r} / model {header['model']!r}")
    nbits = header["nbits"]
    stream = data[13 + L:]
    if len(stream) != (nbits + 7) // 8:
        _corrupt(path, f"the stream has {len(stream)} bytes but the header says {nbits} bits "
                       f"({(nbits + 7) // 8} bytes): the file is truncated or extended")
    bits = bitarray(endian="big")
    bits.frombytes(stream)
    if bits[nbits:].any():
        _corrupt(path, "the padding bits after the stream are not zero")
    del bits[nbits:]
    return header, bits


def file_header(model, *, symbols_kind: str, n: int, crc32: int, dtype: str | None = None,
                train_raw: bytes | None = None, train_name: str | None = None,
                contexts: int | None = None, pairs: int | None = None) -> dict:
    """The header fields (module doc) for a message coded with ``model``."""
    h = {"symbols": symbols_kind, "alphabet": model.n_symbols, "n": n, "crc32": crc32,
         "order": model.order}
    if dtype is not None:
        h["dtype"] = dtype
    if isinstance(model, TrainedModel):
        h.update(model="static", alpha=model.alpha, precision=model.precision,
                 train_sha256=sha256_hex(train_raw), train_bytes=len(train_raw),
                 train_name=train_name)
    else:
        h.update(model=model.estimator, contexts=contexts, pairs=pairs)
    return h


def compress(symbols, model, *, symbols_kind: str, raw: bytes, dtype: str | None = None,
             train_raw: bytes | None = None, train_name: str | None = None):
    """(.xent bytes, FileReport): code ``symbols`` with ``model``, decode, compare, pack.

    For an adaptive model the decoder's bounds (distinct contexts and pairs) are counted
    first and the model that codes is the one the decoder will rebuild from them."""
    x = np.ascontiguousarray(symbols)
    contexts = pairs = None
    if isinstance(model, ContextAdaptiveModel):
        contexts, pairs = message_bounds(x, model.n_symbols, model.order)
        model = ContextAdaptiveModel(model.n_symbols, model.order, model.estimator, contexts, pairs)
    rep, bits = code_symbols(x, model, raw)
    if contexts is not None:
        rep.contexts = contexts
    header = file_header(model, symbols_kind=symbols_kind, n=int(x.size), crc32=_crc(raw),
                         dtype=dtype, train_raw=train_raw, train_name=train_name,
                         contexts=contexts, pairs=pairs)
    return pack(header, bits), rep


def model_from_header(header: dict, train_raw: bytes | None, path: str = "the input",
                      train_path: str | None = None):
    """Rebuild the coding model from a header (and the training file for "static")."""
    K, k, kind = header["alphabet"], header["order"], header["model"]
    if not 1 <= K <= 1 << 24 or (header["symbols"] == "bytes" and K != 256):
        _corrupt(path, f"alphabet {K} is invalid for symbols {header['symbols']!r}")
    if kind == "static":
        want = header.get("train_sha256")
        if not isinstance(want, str):
            _corrupt(path, "the header has no train_sha256")
        # text from the file reaches the terminal only with its control characters escaped
        name = printable(header.get("train_name") or "the training file")[:200]
        want_shown = printable(want[:16])
        if train_raw is None:
            raise XentsimError(f"{path} was coded with a model trained on {name} (sha256 "
                               f"{want_shown}...): give it with --train")
        got = sha256_hex(train_raw)
        if got != want:
            raise XentsimError(
                f"--train {train_path!r} is not the file {path} was trained on: its sha256 is "
                f"{got[:16]}..., the header wants {want_shown}... ({name}, "
                f"{header.get('train_bytes')} bytes)")
        if header["symbols"] == "bytes":
            train = np.frombuffer(train_raw, dtype=np.uint8)
        else:
            train = check_symbol_array(npy_array(train_raw, train_path, "--train"), "--train", K)
        alpha, b = header.get("alpha"), header.get("precision")
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not isinstance(b, int):
            _corrupt(path, "the header's alpha or precision is invalid")
        return TrainedModel(train, k, K, float(alpha), b)
    if train_raw is not None:
        raise XentsimError(f"{path} uses the adaptive model {kind}, which needs no --train")
    contexts, pairs = header.get("contexts"), header.get("pairs")
    for key, v in (("contexts", contexts), ("pairs", pairs)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > header["n"] + 1:
            _corrupt(path, f"header field {key!r} is missing or invalid ({v!r})")
    return ContextAdaptiveModel(K, k, kind, contexts, pairs)


def decompress(data: bytes, train_raw: bytes | None = None, path: str = "the input",
               train_path: str | None = None):
    """(header, original bytes): decode a .xent file and check it against its CRC-32.

    Raises a one-line XentsimError for a damaged file (the stream must decode, end
    exactly where the encoding of the decoded message ends, and match the CRC), the
    wrong training file, or an unknown version."""
    header, bits = unpack(data, path)
    n = header["n"]
    K = header["alphabet"]
    check_order(header["order"], max(K, 1))
    dtype = None
    if header["symbols"] == "npy":
        try:
            dtype = np.dtype(header.get("dtype"))
        except TypeError:
            _corrupt(path, f"header dtype {header.get('dtype')!r} is not a numpy dtype")
        if dtype.kind not in "iu":
            _corrupt(path, f"header dtype {dtype} is not an integer dtype")
    itemsize = 1 if dtype is None else dtype.itemsize
    check_memory(n * (itemsize + 8), f"decoding {n} symbols")
    model = model_from_header(header, train_raw, path, train_path)
    try:
        if _rowless(model):  # only the empty message, coded to no bits
            if n or len(bits):
                raise XentsimError("the model gives every symbol probability 0")
            symbols = np.zeros(0, dtype=np.int64)
        else:
            symbols = decode(bits, model, n)
    except UnencodableSymbolError as exc:  # pragma: no cover - decode raises XentsimError
        _corrupt(path, str(exc))
    except XentsimError as exc:
        _corrupt(path, f"the stream does not decode ({exc})")
    if header["symbols"] == "bytes":
        raw = symbols.astype(np.uint8).tobytes()
    else:
        if n and int(symbols.max()) > np.iinfo(dtype).max:
            _corrupt(path, "a decoded symbol does not fit the header's dtype")
        raw = symbols.astype(dtype).tobytes()
    if _crc(raw) != header["crc32"]:
        _corrupt(path, "the decoded data do not match the CRC-32 of the original")
    return header, raw


def npy_bytes(raw: bytes, dtype: str) -> bytes:
    """A .npy file holding the 1-D array whose raw bytes are ``raw``."""
    import io

    buf = io.BytesIO()
    np.save(buf, np.frombuffer(raw, dtype=np.dtype(dtype)), allow_pickle=False)
    return buf.getvalue()


__all__ = ["FILE_MODELS", "FileReport", "MAGIC", "PredictionReport", "VERSION", "build_file_model",
           "code_predictions", "code_symbols", "compress", "compressor_bits", "decompress",
           "memory_limit_bytes", "pack", "parse_alpha", "read_symbols", "unpack", "write_atomic"]
