"""Boundary distances between binary masks in millimetres (Hausdorff, average surface distance).

Thin wrappers of MONAI's :func:`monai.metrics.compute_hausdorff_distance` and
:func:`monai.metrics.compute_average_surface_distance` for one ``(H, W)`` mask pair, with the pixel spacing
in mm given as a scalar (isotropic) or as ``(row_mm, col_mm)``. Distances are measured between the mask
boundaries (MONAI edge pixels) with the Euclidean metric in physical units.

Empty masks follow MONAI and are **not** errors:

* prediction and ground truth both empty -> ``nan`` (undefined; skipped by ``np.nanmean`` and MONAI's
  metric reductions),
* exactly one of them empty -> ``inf`` (the boundary of the other mask is infinitely far from nothing).

MONAI's "empty mask" warnings are silenced here because this behaviour is documented.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from monai.metrics import compute_average_surface_distance, compute_hausdorff_distance

from monai_angio.errors import AngioInputError

from ._masks import as_mask_pair

__all__ = ["hausdorff_distance_mm", "average_surface_distance_mm", "normalize_spacing"]

Spacing = Union[float, Sequence[float]]


def normalize_spacing(spacing: Spacing, ndim: int = 2) -> Tuple[float, ...]:
    """Return the pixel spacing as a tuple of ``ndim`` positive finite floats (mm).

    Args:
        spacing: scalar (isotropic) or one value per axis (``(row_mm, col_mm)`` in 2D).
        ndim: number of spatial axes.

    Raises:
        AngioInputError: wrong length, non-positive or non-finite values.
    """
    arr = np.asarray(spacing.detach().cpu() if isinstance(spacing, torch.Tensor) else spacing, dtype=float).ravel()
    if arr.size == 1:
        arr = np.repeat(arr, ndim)
    if arr.size != ndim:
        raise AngioInputError(f"spacing must be a scalar or {ndim} values (row_mm, col_mm), got {spacing!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise AngioInputError(f"spacing must be positive and finite, got {spacing!r}")
    return tuple(float(v) for v in arr)


def _tensors(pred: Any, gt: Any) -> Tuple[torch.Tensor, torch.Tensor]:
    p, g = as_mask_pair(pred, gt, ndim=2)
    return torch.from_numpy(p[None, None].astype(np.float32)), torch.from_numpy(g[None, None].astype(np.float32))


def hausdorff_distance_mm(
    pred: Any, gt: Any, spacing: Spacing = 1.0, percentile: Optional[float] = None, directed: bool = False
) -> float:
    """Symmetric Hausdorff distance between two binary masks, in mm.

    Args:
        pred: predicted binary mask ``(H, W)`` (or ``(1, H, W)``), numpy or torch.
        gt: ground-truth binary mask of the same shape.
        spacing: pixel spacing in mm, scalar or ``(row_mm, col_mm)``.
        percentile: e.g. ``95`` for HD95 (percentile of the boundary distances instead of the maximum).
        directed: only the distance from ``pred`` to ``gt``.

    Returns:
        Distance in mm; ``nan`` if both masks are empty, ``inf`` if exactly one is.

    Raises:
        AngioInputError: non-binary/NaN input, different shapes, not 2D or bad spacing.
    """
    if percentile is not None and not 0 <= percentile <= 100:
        raise AngioInputError(f"percentile must be in [0, 100], got {percentile}")
    p, g = _tensors(pred, gt)
    sp = normalize_spacing(spacing, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hd = compute_hausdorff_distance(
            p, g, include_background=True, percentile=percentile, directed=directed, spacing=sp
        )
    return float(hd[0, 0])


def average_surface_distance_mm(pred: Any, gt: Any, spacing: Spacing = 1.0, symmetric: bool = True) -> float:
    """Average surface distance between two binary masks, in mm.

    With ``symmetric=True`` this is MONAI's symmetric ASD: the mean of all boundary-to-boundary distances in
    both directions pooled together, ``(sum_{a in dA} d(a, dB) + sum_{b in dB} d(b, dA)) / (|dA| + |dB|)``.
    With ``symmetric=False`` only ``pred -> gt`` distances are averaged.

    Args:
        pred: predicted binary mask ``(H, W)``.
        gt: ground-truth binary mask of the same shape.
        spacing: pixel spacing in mm, scalar or ``(row_mm, col_mm)``.
        symmetric: pool both directions.

    Returns:
        Distance in mm; ``nan`` if both masks are empty, ``inf`` if exactly one is.

    Raises:
        AngioInputError: non-binary/NaN input, different shapes, not 2D or bad spacing.
    """
    p, g = _tensors(pred, gt)
    sp = normalize_spacing(spacing, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asd = compute_average_surface_distance(p, g, include_background=True, symmetric=symmetric, spacing=sp)
    return float(asd[0, 0])
