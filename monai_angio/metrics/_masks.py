"""Input checks shared by the functional metrics (private)."""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np
import torch

from monai_angio.errors import AngioInputError

__all__ = ["as_binary_mask", "as_mask_pair", "as_label_map"]


def _to_numpy(x: Any, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise AngioInputError(f"{name} cannot be read as an array ({exc})") from exc
    if arr.dtype == object or arr.size == 0:
        raise AngioInputError(f"{name} is empty or not numeric (dtype {arr.dtype}, shape {arr.shape})")
    return arr


def as_binary_mask(x: Any, name: str = "mask", ndim: int | None = 2) -> np.ndarray:
    """Return ``x`` (numpy array or torch tensor) as a boolean numpy array.

    Leading singleton axes are squeezed until ``ndim`` dimensions remain (so ``(1, H, W)`` is accepted as
    ``(H, W)``); ``ndim=None`` keeps any shape.

    Raises:
        AngioInputError: NaN/Inf values, values other than 0/1, or a wrong number of dimensions.
    """
    arr = _to_numpy(x, name)
    if ndim is not None:
        while arr.ndim > ndim and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim != ndim:
            raise AngioInputError(f"{name} must be a {ndim}D binary mask, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise AngioInputError(f"{name} contains NaN or Inf values")
    if not np.isin(arr, (0, 1)).all():
        raise AngioInputError(
            f"{name} is not binary (values other than 0/1, e.g. {arr[~np.isin(arr, (0, 1))].flat[0]}); "
            "threshold probabilities or select one label first"
        )
    return arr.astype(bool)


def as_mask_pair(pred: Any, gt: Any, ndim: int | None = 2) -> Tuple[np.ndarray, np.ndarray]:
    """Check and convert a prediction/ground-truth pair of binary masks of the same shape."""
    p = as_binary_mask(pred, "pred", ndim)
    g = as_binary_mask(gt, "gt", ndim)
    if p.shape != g.shape:
        raise AngioInputError(f"pred and gt shapes differ: {p.shape} vs {g.shape}")
    return p, g


def as_label_map(x: Any, name: str, num_classes: int) -> np.ndarray:
    """Return an integer label map with values in ``[0, num_classes)`` (any shape, singleton axes kept)."""
    arr = _to_numpy(x, name)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise AngioInputError(f"{name} contains NaN or Inf values")
        if not np.all(arr == np.round(arr)):
            raise AngioInputError(f"{name} is not an integer label map")
    arr = arr.astype(np.int64)
    if arr.min() < 0 or arr.max() >= num_classes:
        raise AngioInputError(f"{name} has labels outside [0, {num_classes - 1}] (min {arr.min()}, max {arr.max()})")
    return arr
