"""Distribution specs as users type them: lists, fractions, files and named families.

==========================  =====================================================
``0.7,0.2,0.1``             the numbers themselves (fractions allowed: ``1/3,2/3``)
``path.npy``, ``path.txt``  a saved 1-D array, or whitespace-separated numbers
``uniform:K``               uniform on K symbols
``dyadic:K``                (1/2, 1/4, ..., 2^-(K-1), 2^-(K-1))
``zipf:K:S``                p(i) proportional to (i + 1)^-S
``geometric:K:R``           p(i) proportional to R^i
``bern:T``                  Bern(T) = (1 - T, T)
``dirichlet:K:ALPHA:SEED``  a Dirichlet(ALPHA) draw with its own seed
``mix:EPS:SPEC``            (1 - EPS) SPEC + EPS uniform
==========================  =====================================================
"""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np

from . import distributions as D
from ._validate import XentsimError

FAMILIES = ("uniform", "dyadic", "zipf", "geometric", "bern", "dirichlet", "mix")


def _number(text: str, what: str) -> float:
    text = text.strip()
    try:
        return float(text)  # also 'nan' and 'inf', which the pmf check then names
    except ValueError:
        pass
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise XentsimError(f"{what}: {text!r} is not a number") from None


def _count(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise XentsimError(f"{what}: {text!r} is not a whole number") from None


def parse_pmf(spec: str, name: str = "p", *, normalize: bool = False) -> D.Pmf:
    """Turn a spec (see the module doc) into a validated :class:`~simulator.distributions.Pmf`."""
    spec = spec.strip()
    if not spec:
        raise XentsimError(f"--{name} is empty")
    head, _, rest = spec.partition(":")
    if head in FAMILIES and rest:
        args = rest.split(":")
        what = f"--{name} {spec}"
        try:
            if head == "uniform" and len(args) == 1:
                return D.uniform(_count(args[0], what))
            if head == "dyadic" and len(args) == 1:
                return D.dyadic(_count(args[0], what))
            if head == "zipf" and len(args) == 2:
                return D.zipf(_count(args[0], what), _number(args[1], what))
            if head == "geometric" and len(args) == 2:
                return D.geometric(_count(args[0], what), _number(args[1], what))
            if head == "bern" and len(args) == 1:
                return D.bernoulli(_number(args[0], what))
            if head == "dirichlet" and len(args) == 3:
                rng = np.random.default_rng(_count(args[2], what))
                return D.dirichlet(_count(args[0], what), _number(args[1], what), rng)
            if head == "mix" and len(args) >= 2:
                inner = parse_pmf(":".join(args[1:]), name, normalize=normalize)
                return D.mix_uniform(inner, _number(args[0], what))
        except XentsimError as exc:
            raise XentsimError(f"--{name} {spec}: {exc}") from None
        raise XentsimError(f"--{name} {spec}: wrong number of fields for {head} (see --help)")
    if os.path.exists(spec):
        try:
            if spec.endswith(".npy"):
                values = np.load(spec, allow_pickle=False)
            else:
                with open(spec, encoding="utf-8") as fh:
                    tokens = fh.read().replace(",", " ").split()
                values = [_number(t, f"--{name} {spec}") for t in tokens]
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise XentsimError(f"--{name} {spec}: cannot read the file: {exc}") from None
        return D.Pmf(values, name, normalize=normalize)
    if "," in spec or _looks_numeric(spec):
        return D.Pmf([_number(t, f"--{name}") for t in spec.split(",")], name, normalize=normalize)
    raise XentsimError(
        f"--{name} {spec!r} is neither a list of numbers, an existing file, nor a family "
        f"({', '.join(FAMILIES)})"
    )


def _looks_numeric(text: str) -> bool:
    try:
        _number(text, "")
        return True
    except XentsimError:
        return False
