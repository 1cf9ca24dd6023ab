"""Compiled-kernel modules loaded on first use, so that numba (about 0.2 s to import) is
paid only by a command that codes something: ``--help`` and refused input never load it.

A module that calls kernels writes::

    def _kernels():
        from . import _arith_kernels  # (the import the layer test reads)
        return _arith_kernels

    K_ = Kernels(_kernels)

and uses ``K_.name`` as it would use the module.
"""

from __future__ import annotations


class Kernels:
    """Stands for a module until an attribute is read; then imports it and forwards."""

    __slots__ = ("_load", "_module")

    def __init__(self, load):
        self._load = load
        self._module = None

    def __getattr__(self, name: str):
        # Special and own names are never forwarded: they are asked for by copy, pickle
        # and inspect (e.g. __wrapped__, __deepcopy__), which must neither load numba
        # nor recurse here while the slots are still unset.
        if name.startswith("__") or name in ("_load", "_module"):
            raise AttributeError(name)
        module = self._module
        if module is None:
            module = self._module = self._load()
        return getattr(module, name)
