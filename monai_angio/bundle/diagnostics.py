"""Reading what a bundle's preprocessing measured on the last input (``BundleRunner.diagnostics``).

Kept apart from :mod:`monai_angio.bundle.runner` (which imports torch) so that the command line's summaries and the
real-data evaluation read it without importing the runner.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, List, Optional

import numpy as np

__all__ = ["diagnostic_value", "diagnostic_values"]


def diagnostic_values(model: Any, key: str) -> List[float]:
    """Every per-frame value (NaN included) ``model`` stored under ``key`` in its last ``predict``; ``[]`` when it
    measured none (or has no diagnostics)."""
    return [float(v) for v in (getattr(model, "diagnostics", None) or {}).get(key, [])]


def diagnostic_value(model: Any, key: str, reduce: Callable[[Iterable[float]], float]) -> Optional[float]:
    """``reduce`` (e.g. ``max`` for the noisiest frame, ``min`` for the lowest polarity) of the finite per-frame values
    ``model`` stored under ``key`` in its last ``predict``; None when it measured none (or has no diagnostics)."""
    values = [v for v in diagnostic_values(model, key) if np.isfinite(v)]
    return float(reduce(values)) if values else None
