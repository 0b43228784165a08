"""Reading what a bundle's preprocessing measured on the last input (``BundleRunner.diagnostics``).

Kept apart from :mod:`monai_angio.bundle.runner` (which imports torch) so that the command line's summaries and the
real-data evaluation read it without importing the runner.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

import numpy as np

__all__ = ["diagnostic_value"]


def diagnostic_value(model: Any, key: str, reduce: Callable[[Iterable[float]], float]) -> Optional[float]:
    """``reduce`` (e.g. ``max`` for the noisiest frame, ``min`` for the lowest polarity) of the finite per-frame values
    ``model`` stored under ``key`` in its last ``predict``; None when it measured none (or has no diagnostics)."""
    values = [float(v) for v in (getattr(model, "diagnostics", None) or {}).get(key, []) if np.isfinite(v)]
    return float(reduce(values)) if values else None
