"""Files written whole or not at all (write, then rename)."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import XentsimError


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``:
    ``path`` is either untouched or complete, never partial. An existing ``path`` that
    is not a regular file (a device, a FIFO, a folder) is refused, never replaced."""
    path = Path(path)
    if os.path.exists(path) and not os.path.isfile(path):  # a device, FIFO or folder: never replace it
        raise XentsimError(f"cannot write {str(path)!r}: it exists and is not a regular file")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise XentsimError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    finally:
        try:
            tmp.unlink()
        except OSError:
            pass
