"""Which way round is the image? Vessels of an X-ray angiogram are darker than their surroundings.

The networks learned dark vessels on a brighter background, the convention of X-ray angiography (``MONOCHROME2``
display of transmitted intensity). An inverted image (a ``MONOCHROME1`` frame whose photometric tag was lost on
export, a screenshot of an inverted display, a "black bone" view) shows them bright, and the networks then miss
most of the tree without any error. :func:`vessel_polarity` tells the two apart from the image alone: narrow
structures (vessels, the catheter, wires) stand out from their local background on one side only. On a working copy
about 150 px across, the image minus its 15 px (separable) median leaves those narrow structures; the log ratio of
the residual's 1st percentile (magnitude) to its 99th is positive when they are dark. Broad anatomy (spine,
diaphragm, heart border) is removed by the median, so it does not vote.

Measured after the flagship's field of view and normalisation (``docs/design.md``, "Image polarity"): the 40 real
CIMAT angiograms read +0.47 or more and the same images inverted -0.47 or less; 30 plain phantoms (256-1024 px)
+1.39 or more against -1.39 or less; 30 cath-lab phantoms +0.77 or more, while 28 of them inverted read negative
(two, with much burned-in text and dark devices, stay positive). No normal image read negative.

:class:`VesselPolarityd` stores the measurement (the ``monai-angio segment`` warning reads it) and can invert the
normalised image (``1 - x``, exact for :class:`~monai_angio.transforms.FOVNormalized`'s ``[0, 1]`` range) always or
only when the polarity is negative.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Optional, Union

import numpy as np
from monai.config import KeysCollection, NdarrayOrTensor
from monai.transforms import MapTransform, Transform
from monai.utils import convert_to_numpy
from scipy import ndimage

from monai_angio.transforms.tensors import float32_like

__all__ = ["vessel_polarity", "VesselPolarity", "VesselPolarityd", "INVERT_CHOICES"]

#: ``invert`` settings of :class:`VesselPolarity`: never (measure only), always, or when the polarity is negative
INVERT_CHOICES = (False, True, "auto")


def vessel_polarity(image: np.ndarray, fov: Optional[np.ndarray] = None, work_px: int = 150, window: int = 15) -> float:
    """Log ratio of how far narrow structures reach below and above their local background (positive: dark vessels).

    Args:
        image: ``(H, W)`` frame (any intensity range; vessels dark in a normal angiogram).
        fov: optional ``(H, W)`` field-of-view mask; only pixels well inside it are used.
        work_px: the shorter side of the working copy the measurement runs on.
        window: median window (px of the working copy) that defines the local background.

    Returns:
        ``log(|p1| / p99)`` of ``image - median(image)`` inside the field of view; ``nan`` when there are too few
        pixels or no narrow structure at all (a flat image).
    """
    x = np.asarray(image, np.float32)
    if x.ndim != 2:
        raise ValueError(f"vessel_polarity needs a 2D frame, got shape {x.shape}")
    zoom = work_px / max(min(x.shape), 1)
    small = ndimage.zoom(x, zoom, order=1) if abs(zoom - 1.0) > 0.05 else x
    inside = np.ones(small.shape, bool)
    if fov is not None:
        m = np.asarray(fov, np.float32)
        m = ndimage.zoom(m, np.divide(small.shape, m.shape), order=1) > 0.5 if m.shape != small.shape else m > 0.5
        inside = ndimage.binary_erosion(m, iterations=window // 2 + 2)
    inside[: window // 2] = inside[-(window // 2):] = False
    inside[:, : window // 2] = inside[:, -(window // 2):] = False
    if inside.sum() < 100:
        return float("nan")
    # a separable median (rows, then columns): as discriminating as the square one here and five times faster
    background = ndimage.median_filter(small, size=(window, 1), mode="nearest")
    background = ndimage.median_filter(background, size=(1, window), mode="nearest")
    resid = (small - background)[inside]
    lo, hi = np.percentile(resid, [1.0, 99.0])
    if lo >= 0 or hi <= 0:
        return float("nan")
    return float(np.log(-lo / hi))


class VesselPolarity(Transform):
    """Array transform: measure :func:`vessel_polarity` of a ``(C, [T,] H, W)`` image and optionally invert it.

    The measurement is on the mean of the frames (one answer per cine). The image must already be scaled to
    ``[0, 1]`` for ``invert`` to keep its range (``1 - x``).

    Args:
        invert: ``False`` measure only; ``True`` always invert; ``"auto"`` invert when the polarity is negative.
    """

    def __init__(self, invert: Union[bool, str] = False) -> None:
        if invert not in INVERT_CHOICES:
            raise ValueError(f"invert must be one of {INVERT_CHOICES}, got {invert!r}")
        self.invert = invert
        #: polarity measured by the last call
        self.last_polarity: float = float("nan")
        #: whether the last call inverted the image
        self.last_inverted: bool = False

    def __call__(self, img: NdarrayOrTensor, fov: Optional[NdarrayOrTensor] = None) -> NdarrayOrTensor:
        """Measure (and with ``invert``, invert) ``img``."""
        arr = convert_to_numpy(img).astype(np.float32)
        frame = arr.reshape((-1,) + arr.shape[-2:]).mean(0)
        mask = None
        if fov is not None:
            m = convert_to_numpy(fov).astype(bool)
            mask = m.reshape((-1,) + m.shape[-2:])[0]
        self.last_polarity = vessel_polarity(frame, mask)
        flip = self.invert is True or (self.invert == "auto" and self.last_polarity < 0)
        self.last_inverted = bool(flip)
        return _inverted(img) if flip else img


def _inverted(img: NdarrayOrTensor) -> NdarrayOrTensor:
    """``1 - img`` as float32, of ``img``'s type (a MetaTensor keeps its metadata and applied operations)."""
    return float32_like(1.0 - convert_to_numpy(img).astype(np.float32), img)


class VesselPolarityd(MapTransform):
    """Dictionary version of :class:`VesselPolarity`, measuring inside the mask under ``fov_key``.

    Args:
        keys: image keys (the first one is measured and the others follow its decision).
        fov_key: key of the field-of-view mask (:class:`~monai_angio.transforms.FieldOfViewd`).
        invert: see :class:`VesselPolarity`.
        polarity_key: where the measured polarity is stored (a float; ``monai-angio segment`` warns when it is
            negative and the image was not inverted), with ``1.0`` / ``0.0`` under ``polarity_key + "_inverted"``
            for whether it was inverted; None: neither is stored.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        fov_key: str = "fov",
        invert: Union[bool, str] = False,
        polarity_key: Optional[str] = "vessel_polarity",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.fov_key, self.polarity_key = fov_key, polarity_key
        self.op = VesselPolarity(invert)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        decided: Optional[bool] = None
        for key in self.key_iterator(d):
            if decided is None:
                d[key] = self.op(d[key], d.get(self.fov_key))
                decided = self.op.last_inverted
                if self.polarity_key is not None:
                    d[self.polarity_key] = self.op.last_polarity
                    d[self.polarity_key + "_inverted"] = float(decided)
            elif decided:
                d[key] = _inverted(d[key])
        return d
