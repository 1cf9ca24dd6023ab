"""The corpus shipped with xentsim: real files, checked by sha256 on every load.

See ``simulator/data/corpus/README.md`` for provenance and licences.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import XentsimError

#: Folder holding the corpus files.
CORPUS_DIR = Path(__file__).resolve().parent / "data" / "corpus"

#: name -> (bytes, sha256): the pinned content of each file.
FILES = {
    "alice29.txt": (152089, "7467306ee0feed4971260f3c87421154a05be571d944e9cb021a5713700c38f0"),
    "asyoulik.txt": (125179, "eaa3526fe53859f34ecdf255712f9ecf0b2c903451d4755b2edaa2e2599cb0fc"),
    "lcet10.txt": (426754, "5314ba1dbb03f471df88bec6cd120a938ef60d0fd3511c5c1dce61bf7463245f"),
    "plrabn12.txt": (481861, "07e2e0b461af78c7c647cb53dab39de560198e16f799b4516eccf0fbd69f764c"),
    "kppkn.gtb": (184320, "1df7e44e4ec9bad952e7716fbdba0a2208665091866ded43407d03ed9ce23c24"),
}

#: The four English texts of the Canterbury corpus (kppkn.gtb is binary).
TEXTS = ("alice29.txt", "asyoulik.txt", "lcet10.txt", "plrabn12.txt")


def path(name: str) -> Path:
    """Where a corpus file lives."""
    if name not in FILES:
        raise XentsimError(f"corpus file {name!r} is unknown; choose one of {', '.join(FILES)}")
    return CORPUS_DIR / name


def load(name: str) -> bytes:
    """The bytes of a corpus file, after checking their size and sha256."""
    p = path(name)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise XentsimError(f"corpus file {name!r} cannot be read at {p}: {exc.strerror}") from None
    size, digest = FILES[name]
    got = hashlib.sha256(data).hexdigest()
    if len(data) != size or got != digest:
        raise XentsimError(
            f"corpus file {name!r} at {p} is not the pinned file ({len(data)} bytes, sha256 "
            f"{got[:12]}...; expected {size} bytes, sha256 {digest[:12]}...)"
        )
    return data
