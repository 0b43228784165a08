"""The angiography augmentation preset: small rotation, shift, zoom and brightness, never a flip."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any, Optional

import numpy as np
from monai.config import KeysCollection
from monai.transforms import Affine, MapTransform, RandomizableTransform, ScaleIntensity
from monai.utils import convert_to_dst_type, ensure_tuple

from monai_angio.errors import AngioInputError
from monai_angio.transforms.validation import get_filename

__all__ = ["RandAngioAugmentd"]


class RandAngioAugmentd(RandomizableTransform, MapTransform):
    """Random geometric + brightness augmentation for 2D angiograms (stills ``(1, H, W)`` or cines ``(T, H, W)``).

    With probability ``prob`` one affine transform is drawn and applied identically to every key (all frames
    of a cine move together): rotation in ``[-rotate_range_deg, +rotate_range_deg]`` about the image centre,
    a shift of up to ``translate_range`` x the image size along each axis, and an isotropic zoom factor in
    ``[1 - scale_range, 1 + scale_range]``. Images are resampled bilinearly, labels with nearest neighbour
    (label values stay in their original set, e.g. {0, 1, 2}). With probability ``intensity_prob`` the images
    (not the labels) are multiplied by ``1 + f``, ``f`` in ``[-brightness_range, +brightness_range]``.

    There is deliberately no flip: a mirrored coronary tree is anatomically wrong (left/right dominance, the
    catheter always enters from the same side), and rotations within +-20 degrees cannot mirror an image.

    The geometric part is MONAI's :class:`~monai.transforms.Affine` (shift expressed in pixels of the current
    image, so the ranges are relative to the image size), the brightness part MONAI's
    :class:`~monai.transforms.ScaleIntensity` with ``factor`` (the operation of ``RandScaleIntensity``).
    Parameters are drawn from ``self.R``: ``set_random_state(seed)`` makes the result reproducible; the
    parameters of the last call are in ``self.last_params`` as given to MONAI's ``Affine``, which maps output
    to input coordinates (the content turns by ``rotate_deg``, moves by ``-translate_px`` and is magnified by
    ``1 / zoom``; the ranges are symmetric, so this only matters when reading the values back).

    Args:
        keys: image keys (bilinear, brightness).
        label_keys: label keys (nearest, no brightness). A key in both is treated as a label.
        prob: probability of the geometric transform.
        rotate_range_deg: maximal absolute rotation, degrees (default 20).
        translate_range: maximal absolute shift as a fraction of the image size (default 0.1).
        scale_range: maximal relative zoom (default 0.1 -> factors in [0.9, 1.1]).
        brightness_range: maximal relative brightness change (default 0.4 -> x [0.6, 1.4]).
        intensity_prob: probability of the brightness change (default: ``prob``).
        padding_mode: how to fill outside the image (MONAI/torch grid-sample modes), the same for images and
            labels so that both stay consistent. ``"reflection"`` (default) avoids dark corners that could
            look like contrast-filled vessels.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        label_keys: KeysCollection = (),
        prob: float = 0.5,
        rotate_range_deg: float = 20.0,
        translate_range: float = 0.1,
        scale_range: float = 0.1,
        brightness_range: float = 0.4,
        intensity_prob: Optional[float] = None,
        padding_mode: str = "reflection",
        allow_missing_keys: bool = False,
    ) -> None:
        label_keys = ensure_tuple(label_keys) if label_keys else ()
        image_keys = ensure_tuple(keys)
        all_keys = tuple(image_keys) + tuple(k for k in label_keys if k not in image_keys)
        MapTransform.__init__(self, all_keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        self.label_keys = set(label_keys)
        for name, v in (
            ("rotate_range_deg", rotate_range_deg),
            ("translate_range", translate_range),
            ("scale_range", scale_range),
            ("brightness_range", brightness_range),
        ):
            if v < 0:
                raise ValueError(f"{name} must be >= 0, got {v}")
        if scale_range >= 1 or brightness_range >= 1:
            raise ValueError("scale_range and brightness_range must be < 1")
        self.rotate_range_deg = float(rotate_range_deg)
        self.translate_range = float(translate_range)
        self.scale_range = float(scale_range)
        self.brightness_range = float(brightness_range)
        self.intensity_prob = float(prob if intensity_prob is None else intensity_prob)
        self.padding_mode = padding_mode
        self.last_params: dict[str, Any] = {}
        self._angle = 0.0
        self._shift = np.zeros(2)
        self._zoom = 1.0
        self._do_intensity = False
        self._factor = 0.0

    def randomize(self, data: Any = None) -> None:
        """Draw all parameters (always the same number of draws, so the random stream stays aligned)."""
        super().randomize(None)
        self._angle = float(self.R.uniform(-self.rotate_range_deg, self.rotate_range_deg))
        self._shift = self.R.uniform(-self.translate_range, self.translate_range, size=2)
        self._zoom = float(self.R.uniform(1.0 - self.scale_range, 1.0 + self.scale_range))
        self._do_intensity = bool(self.R.rand() < self.intensity_prob)
        self._factor = float(self.R.uniform(-self.brightness_range, self.brightness_range))

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        self.randomize()
        present = list(self.key_iterator(d))
        if not present:
            return d
        first = d[present[0]]
        if first.ndim != 3:
            raise AngioInputError(
                f"RandAngioAugmentd needs (C, H, W) 2D images, got shape {tuple(first.shape)} for key {present[0]!r}",
                get_filename(first),
            )
        spatial = np.asarray(first.shape[1:], dtype=np.float64)
        shift_px = self._shift * spatial
        self.last_params = {
            "affine_applied": bool(self._do_transform),
            "rotate_deg": self._angle if self._do_transform else 0.0,
            "translate_px": shift_px.tolist() if self._do_transform else [0.0, 0.0],
            "zoom": self._zoom if self._do_transform else 1.0,
            "intensity_applied": self._do_intensity,
            "brightness_factor": 1.0 + self._factor if self._do_intensity else 1.0,
        }
        for key in present:
            img = d[key]
            if tuple(img.shape[1:]) != tuple(first.shape[1:]):
                raise AngioInputError(
                    f"key {key!r} has spatial shape {tuple(img.shape[1:])}, expected {tuple(first.shape[1:])}",
                    get_filename(img),
                )
            is_label = key in self.label_keys
            if self._do_transform:
                affine = Affine(
                    rotate_params=math.radians(self._angle),
                    translate_params=shift_px.tolist(),
                    scale_params=(self._zoom, self._zoom),
                    mode="nearest" if is_label else "bilinear",
                    padding_mode=self.padding_mode,
                    image_only=True,
                )
                out = affine(img)
                if is_label:
                    out, *_ = convert_to_dst_type(out, img)
                img = out
            if self._do_intensity and not is_label:
                img = ScaleIntensity(minv=None, maxv=None, factor=self._factor)(img)
            d[key] = img
        return d

    def set_random_state(
        self, seed: Optional[int] = None, state: Optional[np.random.RandomState] = None
    ) -> "RandAngioAugmentd":
        """Seed the generator (``seed`` or ``state``); returns ``self``."""
        super().set_random_state(seed, state)
        return self
