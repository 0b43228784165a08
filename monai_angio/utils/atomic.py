"""Atomic file output: write to a temporary file in the target folder, then rename into place.

A reader never sees a half-written output, and an existing file is only replaced when the
caller explicitly allows it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator, Union

__all__ = ["atomic_path", "atomic_write"]


@contextlib.contextmanager
def atomic_path(path: Union[str, os.PathLike], overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is renamed onto ``path``.

    Use this for writers that need a file name (nibabel, matplotlib, pydicom). The temporary
    file keeps the target's suffixes so that format detection by extension still works.

    Args:
        path: final destination.
        overwrite: if False and ``path`` exists, raise ``FileExistsError`` before writing.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path}: exists; refusing to overwrite (use overwrite=True / --overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; give outputs the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_write(path: Union[str, os.PathLike], mode: str = "w", overwrite: bool = True, **kwargs) -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``path`` only if the block succeeds.

    Args:
        path: final destination.
        mode: ``"w"`` (text) or ``"wb"`` (binary).
        overwrite: if False and ``path`` exists, raise ``FileExistsError``.
        kwargs: passed to ``open`` (e.g. ``encoding``).
    """
    if "w" not in mode:
        raise ValueError(f"atomic_write needs a write mode, got {mode!r}")
    with atomic_path(path, overwrite=overwrite) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f
