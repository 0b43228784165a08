"""Centreline (skeleton) metrics of binary vessel masks: clDice (Shit et al., CVPR 2021).

clDice compares each mask's skeleton with the other mask, so a thin branch counts as much as a thick trunk and a
gap in a vessel costs in proportion to its length, not its area:

* topology precision ``Tprec = |S(P) & G| / |S(P)|`` (how much of the predicted centreline lies in the truth),
* topology sensitivity ``Tsens = |S(G) & P| / |S(G)|`` (how much of the true centreline is covered),
* ``clDice = 2 Tprec Tsens / (Tprec + Tsens)``,

with skeletons ``S`` from :func:`skimage.morphology.skeletonize`. Empty masks follow the conventions of
:mod:`.overlap`: both empty -> 1.0, only one empty -> 0.0.
"""

from __future__ import annotations

from typing import Any, Dict

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from ._masks import as_binary_mask, as_mask_pair

__all__ = ["skeleton", "centerline_precision_sensitivity", "cldice", "width_excess_px"]


def skeleton(mask: Any) -> np.ndarray:
    """One-pixel-wide skeleton of a 2D binary mask (:func:`skimage.morphology.skeletonize`).

    Args:
        mask: binary mask ``(H, W)`` (or ``(1, H, W)``), numpy or torch.

    Returns:
        ``(H, W)`` bool skeleton.

    Raises:
        AngioInputError: non-binary/NaN input or not 2D.
    """
    m = as_binary_mask(mask, "mask", ndim=2)
    if not m.any():
        return np.zeros(m.shape, dtype=bool)
    return np.asarray(skeletonize(m), dtype=bool)


def centerline_precision_sensitivity(pred: Any, gt: Any) -> Dict[str, float]:
    """Topology precision and sensitivity of a prediction (the two halves of clDice).

    Args:
        pred: predicted binary mask ``(H, W)``.
        gt: ground-truth binary mask of the same shape.

    Returns:
        ``{"tprec", "tsens", "cldice", "skeleton_pred_px", "skeleton_gt_px"}``; ``tprec`` is 1.0 for an empty
        prediction only when the truth is empty too (else 0.0), likewise ``tsens``.

    Raises:
        AngioInputError: bad masks or different shapes.
    """
    p, g = as_mask_pair(pred, gt, ndim=2)
    sp, sg = skeleton(p), skeleton(g)
    n_sp, n_sg = int(sp.sum()), int(sg.sum())
    both_empty = not p.any() and not g.any()
    if both_empty:
        tprec = tsens = cl = 1.0
    else:
        tprec = float((sp & g).sum()) / n_sp if n_sp else 0.0
        tsens = float((sg & p).sum()) / n_sg if n_sg else 0.0
        cl = 2.0 * tprec * tsens / (tprec + tsens) if (tprec + tsens) > 0 else 0.0
    return {
        "tprec": tprec,
        "tsens": tsens,
        "cldice": cl,
        "skeleton_pred_px": float(n_sp),
        "skeleton_gt_px": float(n_sg),
    }


def cldice(pred: Any, gt: Any) -> float:
    """Centreline Dice ``2 Tprec Tsens / (Tprec + Tsens)`` of two 2D binary masks.

    Args:
        pred: predicted binary mask ``(H, W)`` (or ``(1, H, W)``), numpy or torch.
        gt: ground-truth binary mask of the same shape.

    Returns:
        clDice in ``[0, 1]``: 1.0 for identical masks (and for two empty masks), 0.0 when the masks do not touch
        each other's skeletons (or only one is empty).

    Raises:
        AngioInputError: bad masks or different shapes.
    """
    return centerline_precision_sensitivity(pred, gt)["cldice"]


def width_excess_px(pred: Any, gt: Any, margin_px: float = 3.0) -> float:
    """Mean signed width error (px) of a prediction along the part of the true centreline it covers.

    Every pixel is assigned to its nearest true skeleton pixel (``S(G)``); over the pixels assigned to skeleton
    pixels that the prediction covers (``S(G) & P``) and lying within the truth's largest half-width plus
    ``margin_px`` of them, ``(|P| - |G|) / |S(G) & P|``: predicted minus true area per centreline pixel, i.e. how much
    wider (> 0) or narrower (< 0) the predicted vessels are where both agree a vessel runs. Missed or extra branches
    do not enter, so it separates boundary calibration from detection (Dice, clDice). A shift without a width change
    reads about 0.

    Args:
        pred: predicted binary mask ``(H, W)``.
        gt: ground-truth binary mask of the same shape.
        margin_px: how far beyond the truth's widest half-width a predicted boundary may lie and still count.

    Returns:
        width excess in pixels; NaN when the prediction covers none of the true centreline.

    Raises:
        AngioInputError: bad masks or different shapes.
    """
    p, g = as_mask_pair(pred, gt, ndim=2)
    sg = skeleton(g)
    covered = sg & p
    n = int(covered.sum())
    if n == 0:
        return float("nan")
    radius = float(ndimage.distance_transform_edt(g).max()) + float(margin_px)
    dist, (ri, ci) = ndimage.distance_transform_edt(~sg, return_indices=True)
    region = covered[ri, ci] & (dist <= radius)
    return float((p & region).sum() - (g & region).sum()) / n
