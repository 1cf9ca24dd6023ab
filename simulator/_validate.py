"""Validation at the public boundary.

Every public function that takes a probability vector passes it through
:func:`check_pmf` once. Messages name the argument and the offending value, and
nothing is ever renormalised unless the caller opts in with ``normalize=True``.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .errors import UnencodableSymbolError, XentsimError  # noqa: F401 (re-exported)

#: A pmf may miss 1 by at most this much (absolute) before it is rejected.
SUM_TOLERANCE = 1e-9


def check_pmf(values, name: str = "p", *, normalize: bool = False) -> np.ndarray:
    """Return ``values`` as a read-only float64 pmf, or raise :class:`XentsimError`.

    Rejected: not 1-D, empty, NaN or inf, negative entries, and a sum that is off 1
    by more than ``SUM_TOLERANCE``. With ``normalize=True`` a vector with a positive
    finite sum is rescaled instead (the explicit opt-in).
    """
    if hasattr(values, "probs"):  # a Pmf has been validated already
        values = values.probs
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise XentsimError(f"{name} is not a vector of numbers: {exc}") from None
    if arr.ndim != 1:
        raise XentsimError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise XentsimError(f"{name} is empty: a pmf needs at least one symbol")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise XentsimError(f"{name}[{i}] is {arr[i]}: probabilities must be finite")
    if (arr < 0).any():
        i = int(np.flatnonzero(arr < 0)[0])
        raise XentsimError(f"{name}[{i}] is {float(arr[i])!r}: probabilities must be >= 0")
    with np.errstate(over="ignore"):
        total = float(arr.sum())
    if normalize:
        if not total > 0:
            raise XentsimError(f"{name} sums to {total:g}: nothing to normalise")
        if not np.isfinite(total):  # the sum overflows binary64: scale by the largest first
            arr = arr / arr.max()
            total = float(arr.sum())
        arr = arr / total
    elif abs(total - 1.0) > SUM_TOLERANCE:
        raise XentsimError(
            f"{name} sums to {total:.12g}, not 1 (tolerance {SUM_TOLERANCE:g}); "
            "pass normalize=True (--normalize) to rescale it"
        )
    arr.setflags(write=False)
    return arr


def check_same_alphabet(p: np.ndarray, q: np.ndarray, names=("p", "q")) -> None:
    if p.size != q.size:
        raise XentsimError(
            f"{names[0]} has {p.size} symbols but {names[1]} has {q.size}: "
            "both must be on the same alphabet 0..K-1"
        )


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer argument within [minimum, maximum], or a clear error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise XentsimError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise XentsimError(f"{name} is {value}, must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise XentsimError(f"{name} is {value}, must be <= {maximum}")
    return value


def check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise XentsimError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    return rng


# --------------------------------------------------------------------------- memory

#: Environment variable that sets the memory limit: a number of bytes, optionally with
#: a suffix K, M, G or T (powers of 1024), e.g. ``XENTSIM_MEMORY_LIMIT=64G``.
MEMORY_ENV = "XENTSIM_MEMORY_LIMIT"
#: Without an explicit limit, one allocation plan may use this fraction of the RAM the
#: operating system reports as available (``MemAvailable`` in /proc/meminfo, else
#: ``os.sysconf`` available pages).
MEMORY_FRACTION = 0.5
#: The limit used when the available RAM cannot be read at all.
FALLBACK_MEMORY_LIMIT = 4 << 30

_SUFFIX = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_bytes(value, name: str = MEMORY_ENV) -> int:
    """A byte count from an int or a string such as ``"512M"`` or ``"64G"``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        number, unit = int(value), ""
    else:
        text = str(value).strip().upper().removesuffix("IB").removesuffix("B")
        unit = text[-1:] if text[-1:] in _SUFFIX else ""
        number = text[: len(text) - len(unit)].strip()
        try:
            number = float(number)
        except ValueError:
            raise XentsimError(f"{name} is {value!r}: give a number of bytes such as 8G") from None
    total = number * _SUFFIX[unit]
    if not (math.isfinite(total) and total > 0):
        raise XentsimError(f"{name} is {value!r}: it must be a positive number of bytes")
    return int(total)


def available_memory_bytes() -> int | None:
    """RAM the operating system reports as available now, in bytes (None if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def memory_limit(limit=None) -> tuple[int, str]:
    """(limit in bytes, where it comes from): the ``limit`` argument, else the
    ``XENTSIM_MEMORY_LIMIT`` environment variable, else ``MEMORY_FRACTION`` of the
    available RAM (``FALLBACK_MEMORY_LIMIT`` when that cannot be read)."""
    if limit is not None:
        return parse_bytes(limit, "memory_limit"), "the memory_limit argument"
    env = os.environ.get(MEMORY_ENV, "").strip()
    if env:
        return parse_bytes(env), MEMORY_ENV
    avail = available_memory_bytes()
    if avail is None:
        return FALLBACK_MEMORY_LIMIT, "a default, since the available RAM is unknown"
    return int(avail * MEMORY_FRACTION), f"{MEMORY_FRACTION:g} of the available RAM"


def format_bytes(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


def check_memory(need: float, what: str, advice: str, limit=None) -> None:
    """Refuse, before allocating, a plan that needs more than the memory limit.

    ``what`` names the argument and value ("n = 10^12 symbols per message"), ``advice``
    says how to do with less; the message also says how to raise the limit.
    """
    cap, origin = memory_limit(limit)
    if need > cap:
        raise XentsimError(
            f"{what} needs about {format_bytes(need)}, above the memory limit of "
            f"{format_bytes(cap)} ({origin}); {advice}, or raise the limit with "
            f"{MEMORY_ENV}=BYTES (e.g. 64G)"
        )
