"""Small shared utilities."""

from .atomic import atomic_path, atomic_write
from .jsonable import jsonable
from .privacy import scrub_paths

__all__ = ["atomic_write", "atomic_path", "jsonable", "scrub_paths"]
