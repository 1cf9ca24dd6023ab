"""Where numba keeps the compiled kernels: a writable folder, always.

The kernels are compiled with ``cache=True``. numba looks for a cache folder when a
kernel is *defined* (at import), in this order: ``NUMBA_CACHE_DIR``, the ``__pycache__``
folder beside the source file, then the user-wide folder (``~/.cache/numba``). When none
of them is writable (a read-only install with no usable home directory, as in some
containers and CI sandboxes) numba raises ``RuntimeError: cannot cache function`` and
the package cannot even be imported.

:func:`ensure_writable_cache` runs once, on ``import simulator``, before any kernel is
defined; it does not import numba (the kernel modules are imported later, when first
needed). If the user set ``NUMBA_CACHE_DIR`` it does nothing. Otherwise, if neither the
in-tree nor the user-wide folder is writable for every kernel module, it points
``NUMBA_CACHE_DIR`` at ``<tempdir>/xentsim-numba-cache-<uid>`` (and tells an already
imported numba). This module sits at the bottom of the import graph with ``errors``.
"""

from __future__ import annotations

import os
import sys
import tempfile

#: Package folders that hold ``@njit(cache=True)`` kernels (``_dist_kernels``,
#: ``_chain_kernels`` in the package folder; the coders' kernels in ``codes``).
_KERNEL_DIRS = ("", "codes")


def _writable(path: str) -> bool:
    """numba's own test: the folder can be created and a file written in it."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def _numba_appdirs():
    """numba's own copy of ``appdirs`` (``numba/misc/appdirs.py``, standard library only),
    loaded from its file without running ``numba/__init__`` (importing numba costs about
    0.2 s, which the command line's start-up must not pay); None if it is not there."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("numba")  # finds the package, does not import it
    except (ImportError, ValueError):  # pragma: no cover - broken installs
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "misc", "appdirs.py")
        if os.path.isfile(path):
            file_spec = importlib.util.spec_from_file_location("_xentsim_numba_appdirs", path)
            module = importlib.util.module_from_spec(file_spec)
            try:
                file_spec.loader.exec_module(module)
            except Exception:  # pragma: no cover - another numba version's layout
                return None
            return module
    return None


def _user_wide_dir() -> str | None:
    """The folder numba's user-wide cache locator uses (``~/.cache/numba`` on Linux)."""
    if "numba" in sys.modules:  # numba is loaded anyway: ask it directly
        try:
            from numba.misc.appdirs import AppDirs
        except ImportError:  # pragma: no cover - layout of another numba version
            return None
    else:
        appdirs = _numba_appdirs()
        if appdirs is None or not hasattr(appdirs, "AppDirs"):
            return None
        AppDirs = appdirs.AppDirs
    return AppDirs(appname="numba", appauthor=False).user_cache_dir


def fallback_dir() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"xentsim-numba-cache-{uid}")


def ensure_writable_cache() -> str | None:
    """Point numba at a writable cache folder if its defaults are not; returns the
    folder it chose, or None when it left numba's defaults alone."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    pkg = os.path.dirname(os.path.abspath(__file__))
    dirs = [os.path.join(pkg, sub) for sub in _KERNEL_DIRS]
    if all(_writable(os.path.join(d, "__pycache__")) for d in dirs):
        return None
    user = _user_wide_dir()
    if user is not None and _writable(user):
        return None
    chosen = fallback_dir()
    os.environ["NUMBA_CACHE_DIR"] = chosen
    config = sys.modules.get("numba.core.config")
    if config is not None:  # numba read its environment already
        config.CACHE_DIR = chosen
    return chosen
