"""One conversion of numpy / torch values, paths and containers to JSON-serialisable Python objects."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["jsonable"]


def jsonable(obj: Any, nan_to_none: bool = False) -> Any:
    """Convert ``obj`` recursively for :func:`json.dump`.

    numpy scalars and arrays, torch tensors (as lists), paths (as strings), dataclass-free containers; anything
    else becomes its ``str``.

    Args:
        obj: the value.
        nan_to_none: write NaN / infinite floats as ``null`` (strict JSON) instead of ``NaN``.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v, nan_to_none) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v, nan_to_none) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if nan_to_none and not math.isfinite(f) else f
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist(), nan_to_none)
    if type(obj).__module__.startswith("torch") and hasattr(obj, "detach"):
        return jsonable(obj.detach().cpu().numpy(), nan_to_none)
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (str, int)):
        return obj
    return str(obj)
