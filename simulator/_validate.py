"""Validation at the public boundary.

Every public function that takes a probability vector passes it through
:func:`check_pmf` once. Messages name the argument and the offending value, and
nothing is ever renormalised unless the caller opts in with ``normalize=True``.
"""

from __future__ import annotations

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
    total = float(arr.sum())
    if normalize:
        if not total > 0:
            raise XentsimError(f"{name} sums to {total:g}: nothing to normalise")
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
