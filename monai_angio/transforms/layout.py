"""In-plane axis order of angiogram arrays: MONAI's ``(x, y)`` at the boundary, row-major ``(rows, columns)`` inside.

MONAI's readers put the image's x axis (the column index) first for 2-D image files: ``LoadImage`` on a
``512 x 300`` (width x height) PNG gives ``(512, 300)``, and MONAI's writers (``PILWriter``, ``ITKWriter``,
``NibabelWriter``) and MONAI Label's writer expect that order back. The networks of this package were trained on
row-major images ``(H, W)`` (rows first, as a picture is displayed and as DICOM stores its pixels). So:

- :class:`~monai_angio.transforms.io.LoadAngiogram` returns MONAI's order, frames first: ``(T, W, H)``, with
  ``meta["spatial_layout"] == "xy"``;
- :class:`ToRowMajor` / :class:`ToRowMajord` (right after the loader in every bundle) swap the two in-plane axes to
  ``(T, H, W)`` (``"rc"``), updating the affine and ``meta["spacing"]``, and record themselves in
  ``applied_operations``, so the ``Invertd`` of a bundle's postprocessing gives the prediction back in MONAI's order.

``meta["spacing"]`` follows the array's axes (``[x_mm, y_mm]`` in ``"xy"``, ``[row_mm, col_mm]`` in ``"rc"``); the
DICOM-named keys (``pixel_spacing``, ``imager_pixel_spacing``, ``isocenter_spacing_mm``) keep DICOM's
``[row, column]`` order in both layouts. See "Axis convention" in ``docs/design.md``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.data import MetaTensor
from monai.transforms import InvertibleTransform, MapTransform, Transform
from monai.utils import TraceKeys

__all__ = [
    "LAYOUT_KEY",
    "XY",
    "RC",
    "layout_of",
    "swap_in_plane",
    "match_layout",
    "ToRowMajor",
    "ToRowMajord",
]

LAYOUT_KEY = "spatial_layout"
"""Metadata key naming the in-plane axis order of a ``MetaTensor``: :data:`XY` or :data:`RC`."""
XY = "xy"
"""MONAI's order: the first in-plane axis is x (the column index), the second y (the row index)."""
RC = "rc"
"""Row-major order: rows (y) first, then columns (x); what the networks and the package's own code use."""


def layout_of(img: Any, default: str = RC) -> str:
    """The in-plane layout recorded in ``img.meta`` (``default`` for plain arrays or unrecorded tensors)."""
    meta = getattr(img, "meta", None)
    value = meta.get(LAYOUT_KEY) if isinstance(meta, Mapping) else None
    return str(value) if value in (XY, RC) else default


def swap_in_plane(img: NdarrayOrTensor) -> NdarrayOrTensor:
    """Swap the last two axes of an array or tensor (contiguous result, the type kept; no metadata change)."""
    if isinstance(img, torch.Tensor):
        return img.transpose(-1, -2).contiguous()
    return np.ascontiguousarray(np.swapaxes(np.asarray(img), -1, -2))


def match_layout(mask: NdarrayOrTensor, like: Any, default: str = RC) -> NdarrayOrTensor:
    """``mask`` in the in-plane layout of ``like`` (both read with :func:`layout_of`); swapped only if they differ."""
    if layout_of(mask, default) == layout_of(like, default):
        return mask
    return swap_in_plane(mask)


def _swapped(img: MetaTensor, layout: str) -> MetaTensor:
    """``img`` with its in-plane axes swapped, and the affine and ``meta["spacing"]`` with them.

    The affine's in-plane rows and columns are both swapped: the world axes are relabelled with the array axes, so
    a diagonal ``diag(x_mm, y_mm)`` becomes ``diag(row_mm, col_mm)`` (the package's row-major convention, in which
    ``affine[0, 0]`` is the row spacing) and back.
    """
    out = img.transpose(-1, -2).contiguous()
    if not isinstance(out, MetaTensor):
        out = MetaTensor(out, meta=dict(img.meta), applied_operations=list(img.applied_operations))
    aff = torch.as_tensor(img.affine).clone()
    if aff.ndim == 2 and aff.shape[0] >= 3:  # the two in-plane (last spatial) axes, in array and in world order
        i, j = aff.shape[0] - 3, aff.shape[0] - 2
        aff[[i, j]] = aff[[j, i]]
        aff[:, [i, j]] = aff[:, [j, i]]
        out.affine = aff
    spacing = out.meta.get("spacing")
    if spacing is not None and len(spacing) >= 2:
        sp = np.asarray(spacing, dtype=np.float64).copy()
        sp[[0, 1]] = sp[[1, 0]]
        out.meta["spacing"] = sp
    out.meta[LAYOUT_KEY] = layout
    return out


class ToRowMajor(InvertibleTransform, Transform):
    """Array transform: a ``(C, X, Y)`` image in MONAI's order (``"xy"``) -> row-major ``(C, H, W)`` (``"rc"``).

    The two trailing (in-plane) axes are swapped, the affine and ``meta["spacing"]`` follow, and the step is
    recorded in ``applied_operations`` so that :meth:`inverse` (and MONAI's ``Invertd``) swap back. An image
    already row-major (``meta["spatial_layout"] == "rc"``) passes unchanged (and records that, so the inverse is
    a no-op too). A plain array or tensor without metadata is taken to be in MONAI's order.

    Example:
        >>> img = LoadAngiogram()("still.png")  # doctest: +SKIP  # (1, W, H), "xy": as MONAI's LoadImage
        >>> ToRowMajor()(img).shape  # doctest: +SKIP
        torch.Size([1, H, W])
    """

    def __call__(self, img: NdarrayOrTensor) -> MetaTensor:
        """Return ``img`` row-major (a ``MetaTensor``)."""
        if not isinstance(img, MetaTensor):
            img = MetaTensor(torch.as_tensor(np.asarray(img)))
        if img.ndim < 2:
            raise ValueError(f"ToRowMajor needs at least 2 spatial axes, got shape {tuple(img.shape)}")
        swapped = layout_of(img, default=XY) == XY
        out = _swapped(img, RC) if swapped else img.clone()
        self.push_transform(out, orig_size=tuple(int(s) for s in img.shape[-2:]), extra_info={"swapped": swapped})
        return out

    def inverse(self, data: NdarrayOrTensor) -> MetaTensor:
        """Undo :meth:`__call__` on ``data`` (e.g. a prediction carrying the image's ``applied_operations``).

        Data whose most recent traced step is not a :class:`ToRowMajor` pass unchanged: a caller that consumed the
        reorientation (:meth:`monai_angio.bundle.BundleRunner.load` drops its entry to keep row-major results)
        gets row-major back.
        """
        img = data if isinstance(data, MetaTensor) else MetaTensor(torch.as_tensor(np.asarray(data)))
        ops = img.applied_operations
        if not ops or ops[-1].get(TraceKeys.CLASS_NAME) != type(self).__name__:
            return img
        op = self.pop_transform(img)
        if op[TraceKeys.EXTRA_INFO]["swapped"]:
            return _swapped(img, XY)
        return img


class ToRowMajord(MapTransform, InvertibleTransform):
    """Dictionary version of :class:`ToRowMajor`; place it right after ``LoadAngiogramd`` (or ``LoadImaged``).

    Args:
        keys: image (and label) keys.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(self, keys: KeysCollection, allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.op = ToRowMajor()

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.op(d[key])
        return d

    def inverse(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.op.inverse(d[key])
        return d
