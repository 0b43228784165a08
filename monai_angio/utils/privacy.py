"""Keep input paths (and, for anonymous outputs, input names) out of written text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence, Union

__all__ = ["scrub_paths"]


def scrub_paths(
    value: Any,
    paths: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]],
    shown: Union[str, Sequence[str]],
    name_too: bool = True,
) -> Any:
    """``value`` (a string, or lists/dicts of them) with each input's path (and name) replaced by what is shown.

    Args:
        value: a string or a JSON-like tree (other leaves are returned unchanged).
        paths: the input file(s).
        shown: what the outputs call each input (its file name, or an anonymous stem); one per path.
        name_too: also replace the bare file name (for anonymous names), not only the path.

    Example:
        >>> scrub_paths({"w": "/data/p1/img.dcm: no catheter"}, "/data/p1/img.dcm", "img.dcm", name_too=False)
        {'w': 'img.dcm: no catheter'}
    """
    plist = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    slist = [shown] * len(plist) if isinstance(shown, str) else list(shown)
    pairs = []
    for p, s in zip(plist, slist):
        names = {str(p), os.path.abspath(p), os.path.realpath(p)} | ({p.name} if name_too else set())
        pairs += [(n, s) for n in names]
    pairs.sort(key=lambda ns: len(ns[0]), reverse=True)
    return _replace(value, pairs)


def _replace(value: Any, pairs: list) -> Any:
    if isinstance(value, str):
        for name, s in pairs:
            value = value.replace(name, s)
        return value
    if isinstance(value, dict):
        return {k: _replace(v, pairs) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace(v, pairs) for v in value]
    return value
