"""Local overlap around a point of interest (e.g. a stenosis).

``local_f1`` is the F1 score of the pixels inside a ``box x box`` window centred on a point, the window
being clipped at the image borders (it is *not* shifted back inside the image, so near a border it is
smaller). For a centre ``(r, c)`` rounded to the nearest pixel the window covers rows
``[r - box // 2, r - box // 2 + box)`` and columns likewise, intersected with the image.
"""

from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np

from monai_angio.errors import AngioInputError

from ._masks import as_mask_pair
from .overlap import f1

__all__ = ["local_window", "local_f1"]


def local_window(shape: Sequence[int], center_rc: Sequence[float], box: int = 128) -> Tuple[slice, slice]:
    """Row and column slices of a ``box x box`` window centred on ``center_rc``, clipped to ``shape``.

    Args:
        shape: image shape ``(H, W)``.
        center_rc: window centre ``(row, col)`` in pixels (floats are rounded).
        box: window side in pixels (``>= 1``).

    Returns:
        ``(row_slice, col_slice)``.

    Raises:
        AngioInputError: centre outside the image, not two finite values, or ``box < 1``.
    """
    if int(box) != box or box < 1:
        raise AngioInputError(f"box must be a positive integer, got {box}")
    c = np.asarray(center_rc, dtype=float).ravel()
    if c.size != 2 or not np.all(np.isfinite(c)):
        raise AngioInputError(f"center_rc must be two finite numbers (row, col), got {center_rc!r}")
    h, w = int(shape[-2]), int(shape[-1])
    r, col = int(np.floor(c[0] + 0.5)), int(np.floor(c[1] + 0.5))
    if not (0 <= r < h and 0 <= col < w):
        raise AngioInputError(f"center_rc {tuple(c)} lies outside the image of shape {(h, w)}")
    r0, c0 = r - int(box) // 2, col - int(box) // 2
    return slice(max(r0, 0), min(r0 + int(box), h)), slice(max(c0, 0), min(c0 + int(box), w))


def local_f1(pred: Any, gt: Any, center_rc: Sequence[float], box: int = 128) -> float:
    """F1 (= Dice) of two binary masks inside a ``box x box`` window around ``center_rc``.

    Args:
        pred: predicted binary mask ``(H, W)`` (or ``(1, H, W)``), numpy or torch.
        gt: ground-truth binary mask of the same shape.
        center_rc: window centre ``(row, col)`` in pixels, e.g. the stenosis centre.
        box: window side in pixels (128 in the major-vessel U-Net study).

    Returns:
        F1 inside the window; 1.0 if both masks are empty there (see :mod:`monai_angio.metrics.overlap`).

    Raises:
        AngioInputError: bad masks, or a centre outside the image.
    """
    p, g = as_mask_pair(pred, gt, ndim=2)
    rows, cols = local_window(p.shape, center_rc, box)
    return f1(p[rows, cols], g[rows, cols])
