"""Sources: where the symbols come from (the true distribution p, or process)."""

from .iid import IIDSource

__all__ = ["IIDSource"]
