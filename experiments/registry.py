"""The experiments, in the order the story is told (and the README shows them).

An explicit list of explicit imports: an experiment that fails to import (a missing
dependency, a renamed function) fails every run that reaches this module, loudly,
instead of vanishing from the suite.
"""

from __future__ import annotations

from simulator.errors import XentsimError

from . import (asymmetry, block_huffman, classification, continuous, convergence, direction,
               gibbs_minimum, kl_excess, learning, memory, precision, real_text,
               support_mismatch)
from .common import Experiment

EXPERIMENTS: tuple[Experiment, ...] = (
    convergence.EXPERIMENT,
    kl_excess.EXPERIMENT,
    asymmetry.EXPERIMENT,
    gibbs_minimum.EXPERIMENT,
    block_huffman.EXPERIMENT,
    support_mismatch.EXPERIMENT,
    classification.EXPERIMENT,
    continuous.EXPERIMENT,
    learning.EXPERIMENT,
    memory.EXPERIMENT,
    real_text.EXPERIMENT,
    precision.EXPERIMENT,
    direction.EXPERIMENT,
)
NAMES: tuple[str, ...] = tuple(e.name for e in EXPERIMENTS)
if len(set(NAMES)) != len(NAMES):
    raise XentsimError(f"two experiments share a name: {NAMES}")


def get(name: str) -> Experiment:
    """The experiment called ``name``, or a XentsimError listing the names."""
    for e in EXPERIMENTS:
        if e.name == name:
            return e
    raise XentsimError(f"unknown experiment {name!r}; choose from {', '.join(NAMES)}")
