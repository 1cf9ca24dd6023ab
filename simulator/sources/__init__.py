"""Sources: where the symbols come from (the true distribution p, or process)."""

from ..interfaces import Source
from .iid import IIDSource

__all__ = ["IIDSource", "as_source"]


def as_source(p) -> Source:
    """``p`` itself if it is a :class:`~simulator.interfaces.Source`, else the i.i.d.
    source of the pmf ``p`` (validated; see ``check_pmf``)."""
    if isinstance(p, Source) and not isinstance(p, (list, tuple)):
        return p
    return IIDSource(p)
