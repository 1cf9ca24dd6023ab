"""The experiments behind every figure, installed as ``simulator.experiments``.

One module per figure, each ending with its :class:`~simulator.experiments.common.Experiment`;
``registry`` lists them in order, ``runner`` runs them for ``xentsim reproduce``. The
source files live in the repository's top-level ``experiments/`` folder; pyproject.toml
maps that folder into the package, and in a checkout ``simulator/experiments`` is a
symbolic link to it. Run one as ``python experiments/NAME.py [--quick]`` (with
xentsim installed, e.g. ``pip install -e .``).
"""
