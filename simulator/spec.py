"""Distribution specs as users type them: lists, fractions, files and named families.

==========================  =====================================================
``0.7,0.2,0.1``             the numbers themselves (fractions allowed: ``1/3,2/3``)
``path.npy``, ``path.txt``  a saved 1-D array of integer or float dtype (no pickles),
                            or numbers separated by whitespace or commas
``uniform:K``               uniform on K symbols
``dyadic:K``                (1/2, 1/4, ..., 2^-(K-1), 2^-(K-1))
``zipf:K:S``                p(i) proportional to (i + 1)^-S
``geometric:K:R``           p(i) proportional to R^i
``bern:T``                  Bern(T) = (1 - T, T)
``dirichlet:K:ALPHA:SEED``  a Dirichlet(ALPHA) draw with its own seed
``mix:EPS:SPEC``            (1 - EPS) SPEC + EPS uniform
``markov:FILE``             an order-m Markov chain: a (K^m, K) row-stochastic matrix
                            in a .npy file (2-D) or a text file (one row per line,
                            numbers separated by whitespace or commas; blank lines
                            and lines starting with # are skipped)
``markov:ROWS``             the same matrix typed inline, rows separated by ``;``
                            (``markov:0.9,0.1;0.2,0.8``)
==========================  =====================================================

Row order of a ``markov:`` matrix (as everywhere in xentsim): row c is the law of the
next symbol after the context c = (x_{t-m}, ..., x_{t-1}) read as a base-K number,
oldest symbol most significant; so for order 2 on K = 3 symbols, row 5 = 1*3 + 2 is
the context "1 then 2". Positions before the start of a message read as symbol 0 when
a code looks up its context. For ``--p`` the chain must have a unique stationary law
and be aperiodic (the message starts in that law); for ``--q`` any row-stochastic
matrix is a model.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np

from . import distributions as D
from ._validate import XentsimError

FAMILIES = ("uniform", "dyadic", "zipf", "geometric", "bern", "dirichlet", "mix")
#: The prefix of a Markov chain spec (``markov:FILE`` or ``markov:ROWS``).
MARKOV = "markov"


#: The largest value accepted for a count typed on the command line: a signed 64-bit
#: integer, numpy's index type. Larger values cannot be a size on any machine.
MAX_COUNT = (1 << 63) - 1

#: A typed integer of more than this many digits is refused before it is built (so
#: ``1e1000000000`` costs nothing; Python will not convert more than 4300 digits anyway).
_MAX_DIGITS = 60


def whole_number(text: str, *, minimum: int | None = None, maximum: int | None = MAX_COUNT) -> int:
    """Parse ``text`` as an exact integer in [minimum, maximum], or raise XentsimError.

    Accepted: digits (``1000000``) and decimal or exponent forms whose value is an exact
    integer (``1e6``, ``2.5e3``, ``10.0``); the value is read exactly, never through a
    float. Refused, never rounded: ``1.5e0``, ``nan``, ``inf``, anything outside the
    bounds (by default at most ``MAX_COUNT`` = 2^63 - 1). The message starts with the
    text itself, so the caller only prefixes the argument's name.
    """
    raw = text
    text = text.strip()
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise XentsimError(f"{raw!r} is not a whole number") from None
    if not value.is_finite():
        raise XentsimError(f"{text} is not a whole number (it is not finite)")
    too_large = f"{text} is too large" + (f" (at most {maximum})" if maximum is not None else "")
    if value.adjusted() >= _MAX_DIGITS:  # huge: refuse before building the integer
        if value > 0:
            raise XentsimError(too_large)
        bound = f" (must be >= {minimum})" if minimum is not None else ""
        raise XentsimError(f"{text} is too small{bound}")
    if value != value.to_integral_value():
        raise XentsimError(f"{text} is not a whole number")
    number = int(value)
    if minimum is not None and number < minimum:
        raise XentsimError(f"{text} must be >= {minimum}")
    if maximum is not None and number > maximum:
        raise XentsimError(too_large)
    return number


def _number(text: str) -> float:
    """A real number, decimal or fraction ``a/b``; NaN and inf pass (the pmf check names them)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError, OverflowError):
        raise XentsimError(f"{text!r} is not a number") from None


def _field(parse, text: str, label: str, **bounds):
    """Parse one field of a family spec; the message names the field (the caller names the spec)."""
    try:
        return parse(text, **bounds)
    except XentsimError as exc:
        raise XentsimError(f"{label} {exc}") from None


def _count(text: str, label: str, minimum: int | None = None) -> int:
    return _field(whole_number, text, label, minimum=minimum)


def _real(text: str, label: str) -> float:
    return _field(_number, text, label)


def _refuse_dtype(dtype: np.dtype, where: str) -> None:
    if dtype.kind not in "iuf":
        raise XentsimError(
            f"{where}: holds an array of dtype {dtype}; a pmf must be real numbers "
            "(integer or float dtype)"
        )


def _check_npy_header(path: str, where: str) -> tuple:
    """Refuse a file that is not .npy, or whose dtype is not real, before loading its
    data; return the shape its header declares (() for a header version numpy reads
    but this check does not, whose dtype is then checked after loading)."""
    fmt = np.lib.format
    with open(path, "rb") as fh:
        if fh.read(6) != fmt.MAGIC_PREFIX:
            raise XentsimError(f"{where}: not a .npy file (no NumPy header)")
        fh.seek(0)
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(fh)
        else:
            return ()
    _refuse_dtype(dtype, where)
    return shape


def _read_file(path: str, name: str) -> np.ndarray:
    """The numbers in ``path`` (.npy, or text: numbers separated by whitespace or commas)."""
    where = f"--{name} {path}"
    try:
        if path.endswith(".npy"):
            _check_npy_header(path, where)
            values = np.load(path, allow_pickle=False)
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            values = None
    except XentsimError:
        raise
    except UnicodeDecodeError:  # before ValueError, of which it is a subclass
        raise XentsimError(f"{where}: cannot read the file (it is not UTF-8 text)") from None
    except (OSError, ValueError, EOFError) as exc:  # ValueError: a malformed or truncated .npy
        raise XentsimError(f"{where}: cannot read the file ({exc})") from None
    if values is not None:
        if not isinstance(values, np.ndarray):  # e.g. an .npz archive under a .npy name
            getattr(values, "close", lambda: None)()
            raise XentsimError(f"{where}: holds {type(values).__name__}, not an array")
        _refuse_dtype(values.dtype, where)
        if values.ndim != 1:
            raise XentsimError(
                f"{where}: holds an array of shape {values.shape}; a pmf must be 1-D"
            )
        return values
    tokens = text.replace(",", " ").split()
    if not tokens:
        raise XentsimError(f"{where}: the file holds no numbers")
    try:  # plain decimals: numpy reads them at once (and, like float(), nan and inf)
        return np.array(tokens, dtype=np.float64)
    except ValueError:
        pass
    out = np.empty(len(tokens))
    for i, token in enumerate(tokens):  # fractions, or a word to point at
        try:
            out[i] = _number(token)
        except XentsimError as exc:
            raise XentsimError(f"{where}: entry {i} {exc}") from None
    return out


def parse_pmf(spec: str, name: str = "p", *, normalize: bool = False) -> D.Pmf:
    """Turn a spec (see the module doc) into a validated :class:`~simulator.distributions.Pmf`.

    Every refusal is a :class:`XentsimError` whose message starts with ``--NAME SPEC``
    (the option and the value) and then says what is wrong, once.
    """
    spec = spec.strip()
    if not spec:
        raise XentsimError(f"--{name} is empty")
    head, colon, rest = spec.partition(":")
    if colon and head == MARKOV:
        raise XentsimError(
            f"--{name} {spec}: a Markov chain is not a pmf here (use parse_source or parse_model)"
        )
    if colon and head in FAMILIES:
        return _family(head, rest, spec, name, normalize)
    if os.path.exists(spec):
        values = _read_file(spec, name)
        return _pmf(values, name, f"--{name} {spec}", normalize)
    if "," in spec or _looks_numeric(spec):
        values = []
        for i, token in enumerate(spec.split(",")):
            try:
                values.append(_number(token))
            except XentsimError as exc:
                raise XentsimError(f"--{name} {spec}: entry {i} {exc}") from None
        return _pmf(values, name, f"--{name} {spec}", normalize)
    if colon and head.isidentifier():
        raise XentsimError(
            f"--{name} {spec}: unknown family {head!r} (known: {', '.join(FAMILIES)}, and "
            f"{MARKOV}:FILE for a Markov chain)"
        )
    if head in FAMILIES:
        raise XentsimError(f"--{name} {spec}: the family needs its parameters ({_USAGE[head]})")
    if spec.lower().endswith((".npy", ".txt", ".csv", ".dat")) or os.sep in spec or "/" in spec:
        raise XentsimError(f"--{name} {spec}: no such file")
    raise XentsimError(
        f"--{name} {spec}: neither a list of numbers, an existing file, nor a family "
        f"({', '.join(FAMILIES)})"
    )


_USAGE = {
    "uniform": "uniform:K", "dyadic": "dyadic:K", "zipf": "zipf:K:S",
    "geometric": "geometric:K:R", "bern": "bern:T", "dirichlet": "dirichlet:K:ALPHA:SEED",
    "mix": "mix:EPS:SPEC",
}


def _pmf(values, name: str, where: str, normalize: bool) -> D.Pmf:
    """A Pmf named ``name``; the pmf check's message (which names p or q and the entry) is
    kept as is, preceded by the option and spec when they say more than ``name``."""
    try:
        return D.Pmf(values, name, normalize=normalize)
    except XentsimError as exc:
        raise XentsimError(f"{where}: {exc}") from None


def _family(head: str, rest: str, spec: str, name: str, normalize: bool) -> D.Pmf:
    args = rest.split(":")
    where = f"--{name} {spec}"
    if head == "mix":
        if len(args) < 2:
            raise XentsimError(f"{where}: wrong number of fields (expected {_USAGE[head]})")
        inner_spec = ":".join(args[1:]).strip()
        if not inner_spec:
            raise XentsimError(f"{where}: the SPEC after EPS is empty (expected {_USAGE[head]})")
        try:
            inner = parse_pmf(inner_spec, name, normalize=normalize)
        except XentsimError as exc:  # its message starts "--NAME INNER: "; name the whole spec
            text = str(exc)
            head = f"--{name} {inner_spec}"
            text = text[len(head):].lstrip(": ") if text.startswith(head) else text
            raise XentsimError(f"{where}: in {inner_spec}: {text}") from None
        try:
            return D.mix_uniform(inner, _real(args[0], "EPS"))
        except XentsimError as exc:
            raise XentsimError(f"{where}: {exc}") from None
    expected = {"uniform": 1, "dyadic": 1, "zipf": 2, "geometric": 2, "bern": 1, "dirichlet": 3}
    if len(args) != expected[head]:
        raise XentsimError(f"{where}: wrong number of fields (expected {_USAGE[head]})")
    try:
        if head == "uniform":
            return D.uniform(_count(args[0], "K"))
        if head == "dyadic":
            return D.dyadic(_count(args[0], "K"))
        if head == "zipf":
            return D.zipf(_count(args[0], "K"), _real(args[1], "S"))
        if head == "geometric":
            return D.geometric(_count(args[0], "K"), _real(args[1], "R"))
        if head == "bern":
            return D.bernoulli(_real(args[0], "T"))
        rng = np.random.default_rng(_count(args[2], "SEED", minimum=0))
        return D.dirichlet(_count(args[0], "K"), _real(args[1], "ALPHA"), rng)
    except XentsimError as exc:
        raise XentsimError(f"{where}: {exc}") from None


def _looks_numeric(text: str) -> bool:
    try:
        _number(text)
        return True
    except XentsimError:
        return False


# --------------------------------------------------------------------------- Markov chains


def is_markov(spec: str) -> bool:
    """Whether ``spec`` is a ``markov:`` spec."""
    return spec.strip().partition(":")[0] == MARKOV and ":" in spec


def _matrix_rows(text: str, where: str, *, inline: bool) -> np.ndarray:
    """Rows of numbers (one row per line, or per ``;`` inline) as a 2-D float array."""
    if inline:
        raw = [(i + 1, part) for i, part in enumerate(text.split(";"))]
        label = "row"
    else:
        raw = [(i + 1, line) for i, line in enumerate(text.splitlines())
               if line.strip() and not line.lstrip().startswith("#")]
        label = "line"
    rows = []
    for number, line in raw:
        tokens = line.replace(",", " ").split()
        if not tokens:
            raise XentsimError(f"{where}: {label} {number} is empty")
        values = []
        for j, token in enumerate(tokens):
            try:
                values.append(_number(token))
            except XentsimError as exc:
                raise XentsimError(f"{where}: {label} {number}, entry {j} {exc}") from None
        if rows and len(values) != len(rows[0][1]):
            raise XentsimError(
                f"{where}: {label} {number} has {len(values)} numbers but {label} {rows[0][0]} "
                f"has {len(rows[0][1])}: a transition matrix has rows of equal length"
            )
        rows.append((number, values))
    if not rows:
        raise XentsimError(f"{where}: holds no numbers")
    return np.array([v for _, v in rows], dtype=np.float64)


def parse_chain(spec: str, name: str = "p", *, normalize: bool = False) -> tuple[np.ndarray, int]:
    """The matrix of a ``markov:FILE`` or ``markov:ROWS`` spec, validated as a
    transition matrix (:func:`simulator.measures.check_chain`): (read-only (K^m, K)
    matrix, order m). Refusals start with ``--NAME SPEC``; the matrix is called P for
    ``--p`` and Q for ``--q``.
    """
    from .measures import MAX_CHAIN_ENTRIES, check_chain

    spec = spec.strip()
    where = f"--{name} {spec}"
    head, _, rest = spec.partition(":")
    if head != MARKOV:
        raise XentsimError(f"{where}: not a {MARKOV}: spec")
    rest = rest.strip()
    if not rest:
        raise XentsimError(f"{where}: give a matrix file or rows ({MARKOV}:FILE or {MARKOV}:0.9,0.1;0.2,0.8)")
    if os.path.exists(rest):
        try:
            if rest.endswith(".npy"):
                shape = _check_npy_header(rest, where)
                if shape and int(np.prod(shape, dtype=object)) > MAX_CHAIN_ENTRIES:
                    raise XentsimError(f"{where}: holds an array of shape {shape}, more than "
                                       f"{MAX_CHAIN_ENTRIES} entries")
                values = np.load(rest, allow_pickle=False)
                if not isinstance(values, np.ndarray):
                    getattr(values, "close", lambda: None)()
                    raise XentsimError(f"{where}: holds {type(values).__name__}, not an array")
                _refuse_dtype(values.dtype, where)
                if values.ndim not in (1, 2):
                    raise XentsimError(f"{where}: holds an array of shape {values.shape}; a "
                                       "transition matrix is 2-D, (K^m, K)")
            else:
                with open(rest, encoding="utf-8") as fh:
                    values = _matrix_rows(fh.read(), where, inline=False)
        except XentsimError:
            raise
        except UnicodeDecodeError:
            raise XentsimError(f"{where}: cannot read the file (it is not UTF-8 text)") from None
        except (OSError, ValueError, EOFError) as exc:
            raise XentsimError(f"{where}: cannot read the file ({exc})") from None
    elif ";" in rest or "," in rest or _looks_numeric(rest):
        values = _matrix_rows(rest, where, inline=True)
    else:
        raise XentsimError(f"{where}: no such file (and not rows of numbers separated by ;)")
    try:
        return check_chain(values, "P" if name == "p" else "Q", normalize=normalize)
    except XentsimError as exc:
        raise XentsimError(f"{where}: {exc}") from None


def _markov_source(spec: str, normalize: bool):
    from .sources import MarkovSource

    P, _ = parse_chain(spec, "p", normalize=normalize)
    return MarkovSource(P, name="P")


#: Source specs for ``--p`` beyond the i.i.d. pmfs: prefix -> ``build(spec, normalize)``
#: returning a :class:`~simulator.interfaces.Source`. A new kind of source is one class
#: in ``simulator/sources/`` plus one line here.
SOURCES = {
    MARKOV: _markov_source,
}


def parse_source(spec: str, *, normalize: bool = False):
    """``--p SPEC``: the source of a registered prefix (:data:`SOURCES`, e.g. a
    :class:`~simulator.sources.MarkovSource` for ``markov:``; a chain's stationary law
    must be unique and the chain aperiodic), else the pmf of an i.i.d. source."""
    head, colon, _ = spec.strip().partition(":")
    if not (colon and head in SOURCES):
        return parse_pmf(spec, "p", normalize=normalize)
    try:
        return SOURCES[head](spec, normalize)
    except XentsimError as exc:
        text = str(exc)
        prefix = f"--p {spec.strip()}: "
        raise XentsimError(text if text.startswith(prefix) else prefix + text) from None


def parse_model(spec: str, *, normalize: bool = False):
    """``--q SPEC``: the (K^m, K) matrix of a ``markov:`` spec (an order-m model; a
    1-row matrix is the pmf of its row), else a Pmf."""
    if not is_markov(spec):
        return parse_pmf(spec, "q", normalize=normalize)
    Q, m = parse_chain(spec, "q", normalize=normalize)
    return Q[0] if m == 0 else Q
