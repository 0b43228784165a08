"""Small shared utilities."""

from .atomic import atomic_write, atomic_path

__all__ = ["atomic_write", "atomic_path"]
