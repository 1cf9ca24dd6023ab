"""Probability models for the arithmetic coder: static, conditional and adaptive.

A model turns "what the coder believes" into integer frequency tables
(:class:`simulator.interfaces.Tables`); the coder reads nothing else from it. The
coder never owns a model; it is handed one for every message (``encode(symbols, model)``).

- :class:`StaticModel`: q quantised once (optimally, :func:`quantise`) to frequencies
  that total 2^b; tables ``row="const"``.
- :class:`ConditionalModel`: a different distribution at every position (an (n, K)
  array), e.g. a classifier's predicted probabilities for each example;
  ``row="position"``.
- :class:`ContextModel`: an order-m model Q, one quantised row per context (the
  previous m symbols); ``row="context"``. :class:`AdaptiveContextModel`: adaptive
  counts kept per context of order k (see :mod:`simulator.models.context`).
- :class:`AdaptiveModel`: counts updated after each symbol, Laplace (add 1) or
  Krichevsky-Trofimov (add 1/2); it learns q from the data and knows only K;
  ``row="const"`` with ``increment > 0``.
- :class:`TrainedModel` / :class:`ContextAdaptiveModel` (``trained.py``): order-k
  context models for real data, trained on another sequence or adaptive per context;
  ``row="mapped"`` (:class:`ContextTables`: rows only for contexts that occur).

``MODELS`` maps the model names a code is built with ("static", "laplace", "kt") to a
constructor ``(q, precision) -> model``; :func:`build_model` looks one up.
"""

from __future__ import annotations

from .._validate import XentsimError
from .adaptive import AdaptiveModel
from .conditional import ConditionalModel, rounding_loss_bound_bits
from .context import AdaptiveContextModel, ContextModel
from .static import DEFAULT_PRECISION, MAX_PRECISION, MIN_PRECISION, StaticModel, quantise
from .trained import ContextAdaptiveModel, ContextTables, TrainedModel


def _adaptive(estimator):
    def build(q, precision=None):
        if precision is not None:
            raise XentsimError(f"precision applies to the static model only, not {estimator}")
        return AdaptiveModel(len(q), estimator)
    return build


#: model name -> constructor (q, precision) for a code built from q
MODELS = {
    "static": lambda q, precision=None: StaticModel(q, precision),
    "laplace": _adaptive("laplace"),
    "kt": _adaptive("kt"),
}


def build_model(name, q, precision=None):
    """The model called ``name`` built from q (adaptive ones use only q's size)."""
    if not isinstance(name, str) or name not in MODELS:
        raise XentsimError(f"model is {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name](q, precision)


__all__ = ["AdaptiveContextModel", "AdaptiveModel", "ConditionalModel", "ContextAdaptiveModel",
           "ContextModel", "ContextTables", "DEFAULT_PRECISION", "MAX_PRECISION",
           "MIN_PRECISION", "MODELS", "StaticModel", "TrainedModel", "build_model", "quantise",
           "rounding_loss_bound_bits"]
