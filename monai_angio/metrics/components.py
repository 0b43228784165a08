"""Connected-component counts of binary masks, a measure of vessel fragmentation."""

from __future__ import annotations

from typing import Any

from skimage.measure import label

from monai_angio.errors import AngioInputError

from ._masks import as_binary_mask, as_mask_pair

__all__ = ["connected_component_count", "mask_separation_error"]


def _check_connectivity(connectivity: int) -> None:
    if connectivity not in (1, 2):
        raise AngioInputError(f"connectivity must be 1 (4-neighbour) or 2 (8-neighbour), got {connectivity}")


def connected_component_count(mask: Any, connectivity: int = 2) -> int:
    """Number of connected foreground components of a 2D binary mask.

    Args:
        mask: binary mask ``(H, W)`` (or ``(1, H, W)``), numpy or torch.
        connectivity: 1 for 4-neighbourhood, 2 for 8-neighbourhood (diagonal pixels connect).

    Returns:
        Component count (0 for an empty mask).

    Raises:
        AngioInputError: non-binary/NaN input, not 2D, or bad connectivity.
    """
    _check_connectivity(connectivity)
    m = as_binary_mask(mask, "mask", ndim=2)
    return int(label(m, connectivity=connectivity, return_num=True)[1])


def mask_separation_error(pred: Any, gt: Any, connectivity: int = 2, signed: bool = False) -> int:
    """Difference between the component counts of a prediction and its ground truth.

    A vessel tree is normally one (or a few) connected components; a prediction broken into pieces has more.

    Args:
        pred: predicted binary mask ``(H, W)``.
        gt: ground-truth binary mask of the same shape.
        connectivity: 1 (4-neighbour) or 2 (8-neighbour).
        signed: return ``n_pred - n_gt`` (positive = fragmented, negative = merged/missing pieces) instead of
            the absolute difference.

    Returns:
        ``|n_pred - n_gt|`` (default) or ``n_pred - n_gt``; 0 means the same number of components.

    Raises:
        AngioInputError: bad masks or connectivity.
    """
    p, g = as_mask_pair(pred, gt, ndim=2)
    diff = connected_component_count(p, connectivity) - connected_component_count(g, connectivity)
    return int(diff if signed else abs(diff))
