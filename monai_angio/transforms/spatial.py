"""The scale policy of angiogram inference: keep the native pixel grid, shrink only what is too large.

Networks trained with random zoom (vessel widths varying several-fold in pixels) segment an angiogram best at its
own resolution: resizing a 300 px image to 512 px makes its vessels wider than anything in the training data, and
resizing a 1024 px image to 512 px makes its thin branches vanish. :class:`LimitSize` therefore leaves inputs up
to ``max_size`` pixels untouched and downsamples larger ones (area-averaged) so their longer side is
``max_size``; when the pixel spacing is known and finer than ``min_spacing_mm``, it downsamples to that spacing.
The dictionary version is invertible, so MONAI's ``Invertd`` restores predictions to the input grid.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Optional, Sequence

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import InvertibleTransform, MapTransform, Resize, Transform
from monai.utils import TraceKeys

__all__ = ["target_size", "LimitSize", "LimitSized"]


def _spacing(img: Any) -> Optional[float]:
    """In-plane pixel spacing (mm) from a MetaTensor whose loader found one, else None."""
    if not isinstance(img, MetaTensor) or img.meta.get("spacing_source", "unknown") == "unknown":
        return None
    try:
        aff = np.asarray(img.affine, dtype=float)
        return float(min(abs(aff[0, 0]), abs(aff[1, 1])))
    except (TypeError, ValueError, IndexError):
        return None


def target_size(
    shape: Sequence[int], max_size: int = 1024, spacing_mm: Optional[float] = None, min_spacing_mm: Optional[float] = None
) -> tuple:
    """``(H, W)`` an image of in-plane ``shape`` is run at (its own shape unless it is too large or too fine)."""
    h, w = int(shape[-2]), int(shape[-1])
    scale = 1.0
    if max(h, w) > max_size:
        scale = max_size / max(h, w)
    if spacing_mm and min_spacing_mm and spacing_mm < min_spacing_mm:
        scale = min(scale, spacing_mm / min_spacing_mm)
    if scale >= 1.0:
        return h, w
    return max(1, int(round(h * scale))), max(1, int(round(w * scale)))


class LimitSize(Transform):
    """Array transform: downsample ``(C, H, W)`` images larger than ``max_size`` (see the module docstring).

    Args:
        max_size: longest side (pixels) run at native size.
        min_spacing_mm: downsample images with a known spacing finer than this (None: never by spacing).
    """

    def __init__(self, max_size: int = 1024, min_spacing_mm: Optional[float] = None) -> None:
        self.max_size, self.min_spacing_mm = int(max_size), min_spacing_mm

    def size_for(self, img: Any) -> tuple:
        """The ``(H, W)`` the image will have."""
        return target_size(img.shape, self.max_size, _spacing(img), self.min_spacing_mm)

    def __call__(self, img: Any) -> Any:
        """Return ``img`` unchanged or area-downsampled."""
        size = self.size_for(img)
        if tuple(size) == tuple(img.shape[-2:]):
            return img
        return Resize(spatial_size=size, mode="area")(img)


class LimitSized(MapTransform, InvertibleTransform):
    """Dictionary version of :class:`LimitSize`; invertible (``Invertd`` resizes predictions back, bilinear).

    Args:
        keys: image keys.
        max_size, min_spacing_mm: see :class:`LimitSize`.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        max_size: int = 1024,
        min_spacing_mm: Optional[float] = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.op = LimitSize(max_size, min_spacing_mm)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            img = d[key]
            size = self.op.size_for(img)
            if not isinstance(img, MetaTensor):
                img = MetaTensor(torch.as_tensor(np.asarray(img)))
            orig = tuple(int(s) for s in img.shape[-2:])
            if tuple(size) != orig:
                img = Resize(spatial_size=size, mode="area")(img)
                if isinstance(img, MetaTensor) and img.applied_operations:
                    img.applied_operations.pop()  # our own trace below replaces Resize's
            self.push_transform(img, orig_size=orig, extra_info={"resized": tuple(size) != orig})
            d[key] = img
        return d

    def inverse(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            op = self.pop_transform(d[key])
            if op[TraceKeys.EXTRA_INFO]["resized"]:
                size = [int(s) for s in op[TraceKeys.ORIG_SIZE]]
                img = d[key]
                res = Resize(spatial_size=size, mode="bilinear")(img)
                if isinstance(res, MetaTensor) and res.applied_operations:
                    res.applied_operations.pop()
                d[key] = res
        return d
