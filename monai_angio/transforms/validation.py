"""Input validation transforms that turn bad arrays into :class:`~monai_angio.errors.AngioInputError`.

They pass good input through unchanged, so they can sit anywhere in a MONAI ``Compose`` chain and make a
corrupt file fail with a clear message (``"<file>: <problem>"``) instead of a NaN loss many steps later.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Optional, Union

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform, Transform

from monai_angio.errors import AngioInputError
from monai_angio.utils.arrays import as_numpy

__all__ = [
    "check_segmentable",
    "check_frame_size",
    "MIN_SIZE_PX",
    "MAX_SIZE_PX",
    "MAX_FRAME_PIXELS",
    "MAX_ASPECT_RATIO",
    "get_filename",
    "check_finite",
    "CheckFinite",
    "CheckFinited",
    "EnsureAngioShape",
    "EnsureAngioShaped",
]


def get_filename(img: Any, default: Optional[str] = None) -> Optional[str]:
    """Return the source file of ``img`` from its MONAI metadata (``filename_or_obj``), else ``default``.

    Args:
        img: a ``MetaTensor`` (or anything with a ``meta`` mapping), a plain array, or a meta dict.
        default: value returned when no file name is recorded.
    """
    meta = img if isinstance(img, Mapping) else getattr(img, "meta", None)
    if isinstance(meta, Mapping):
        name = meta.get("filename_or_obj")
        if isinstance(name, (list, tuple)) and len(name) > 0:  # collated batch
            name = name[0]
        if name is not None and str(name) != "":
            return str(name)
    return default


def check_finite(img: Union[np.ndarray, torch.Tensor], filename: Optional[str] = None, what: str = "image") -> None:
    """Raise :class:`AngioInputError` if ``img`` holds NaN or +-Inf values.

    Args:
        img: array or tensor to check.
        filename: file name for the message; taken from ``img.meta`` when ``None``.
        what: word describing the array in the message.
    """
    filename = filename if filename is not None else get_filename(img)
    if isinstance(img, torch.Tensor):
        if not torch.is_floating_point(img) and not torch.is_complex(img):
            return
        t = img.as_tensor() if isinstance(img, MetaTensor) else img
        if t.device.type == "cpu" and not t.is_complex() and t.dtype != torch.bfloat16:
            counts = _nonfinite_counts(t.detach().numpy())  # a view: numpy needs no float temporaries, torch does
        else:
            finite = torch.isfinite(t)
            counts = None
            if not bool(finite.all()):
                n_nan = int(torch.isnan(t).sum())
                counts = (n_nan, int((~finite).sum()) - n_nan)
    else:
        arr = np.asarray(img)
        counts = _nonfinite_counts(arr) if np.issubdtype(arr.dtype, np.inexact) else None
    if counts is not None:
        raise AngioInputError(f"{what} contains non-finite values ({counts[0]} NaN, {counts[1]} Inf)", filename)


def _nonfinite_counts(arr: np.ndarray, step: int = 1 << 22) -> Optional[tuple[int, int]]:
    """``(NaN count, Inf count)`` of a float array, or None if all finite; checked ``step`` values at a time, so a
    whole cine never gets a full-size temporary (300 x 512 x 512: 79 MB of bool)."""
    flat = arr.reshape(-1)
    chunks = range(0, flat.size, step)
    if all(np.isfinite(flat[i : i + step]).all() for i in chunks):
        return None
    n_nan = int(sum(np.isnan(flat[i : i + step]).sum() for i in chunks))
    return n_nan, int(sum((~np.isfinite(flat[i : i + step])).sum() for i in chunks)) - n_nan


# the frame-size limits live in a module without torch / MONAI, so that readers can apply them before decoding
from monai_angio.transforms.limits import (  # noqa: E402
    MAX_ASPECT_RATIO,
    MAX_FRAME_PIXELS,
    MAX_SIZE_PX,
    MIN_SIZE_PX,
    check_frame_size,
)


def check_segmentable(frames: Union[np.ndarray, torch.Tensor], filename: Optional[str] = None) -> None:
    """Refuse frames a segmentation cannot mean anything on, with the file and the problem named.

    Checks the in-plane size (:func:`check_frame_size`) and contrast: a frame whose intensities are
    constant (all black, all white, one grey level) holds no vessel, and any label map for it would be invented.

    Args:
        frames: ``(T, H, W)`` frames.
        filename: named in the error.

    Raises:
        AngioInputError: too small, too large, or no contrast in any frame.
    """
    check_frame_size(int(frames.shape[-2]), int(frames.shape[-1]), filename)
    arr = as_numpy(frames)
    flat = arr.reshape(arr.shape[0] if arr.ndim == 3 else 1, -1)
    spread = flat.max(axis=1) - flat.min(axis=1)
    if not np.any(spread > 0):
        raise AngioInputError(
            f"no contrast: every frame is one constant value ({float(flat.flat[0]):g}); nothing to segment", filename
        )


class CheckFinite(Transform):
    """Pass the input through unchanged, raising :class:`AngioInputError` on NaN or Inf values.

    Args:
        what: word describing the array in error messages (``"image"``, ``"label"``, ...).
    """

    def __init__(self, what: str = "image") -> None:
        self.what = what

    def __call__(self, img: Any) -> Any:
        check_finite(img, what=self.what)
        return img


class CheckFinited(MapTransform):
    """Dictionary version of :class:`CheckFinite`.

    Args:
        keys: keys of the items to check.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(self, keys: KeysCollection, allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            check_finite(d[key], what=str(key))
        return d


class EnsureAngioShape(Transform):
    """Check that an array is a channel-first angiogram with the expected number of spatial dimensions.

    The default accepts ``(C, H, W)`` (a still ``(1, H, W)`` or a cine ``(T, H, W)``). Use ``spatial_dims=3``
    for temporal windows ``(1, 2N+1, H, W)``. Empty axes, too few channels/frames and images smaller than
    ``min_size`` are rejected too.

    Args:
        spatial_dims: number of spatial dimensions after the channel axis.
        num_channels: required size of axis 0 (``None``: any size >= 1).
        min_size: minimal size of every spatial axis.
        what: word describing the array in error messages.

    Raises:
        AngioInputError: naming the file from ``img.meta`` and the offending shape.
    """

    def __init__(
        self, spatial_dims: int = 2, num_channels: Optional[int] = None, min_size: int = 1, what: str = "image"
    ) -> None:
        self.spatial_dims = int(spatial_dims)
        self.num_channels = num_channels
        self.min_size = int(min_size)
        self.what = what

    def __call__(self, img: Any) -> Any:
        shape: Sequence[int] = tuple(getattr(img, "shape", np.shape(img)))
        fname = get_filename(img)
        expected = 1 + self.spatial_dims
        layout = "(C, " + ", ".join(["D", "H", "W"][-self.spatial_dims:] if self.spatial_dims <= 3 else ["..."]) + ")"
        if len(shape) != expected:
            raise AngioInputError(
                f"{self.what} has {len(shape)} dimensions {tuple(shape)}, expected {expected} {layout}", fname
            )
        if shape[0] < 1:
            raise AngioInputError(f"{self.what} is empty: shape {tuple(shape)} has no channels/frames", fname)
        if self.num_channels is not None and shape[0] != self.num_channels:
            raise AngioInputError(
                f"{self.what} has {shape[0]} channels/frames in shape {tuple(shape)}, expected {self.num_channels}",
                fname,
            )
        if any(s < self.min_size for s in shape[1:]):
            raise AngioInputError(
                f"{self.what} spatial size {tuple(shape[1:])} is smaller than the minimum {self.min_size}", fname
            )
        return img


class EnsureAngioShaped(MapTransform):
    """Dictionary version of :class:`EnsureAngioShape`.

    Args:
        keys: keys of the items to check.
        spatial_dims, num_channels, min_size: see :class:`EnsureAngioShape`.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        spatial_dims: int = 2,
        num_channels: Optional[int] = None,
        min_size: int = 1,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.spatial_dims = spatial_dims
        self.num_channels = num_channels
        self.min_size = min_size

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            EnsureAngioShape(self.spatial_dims, self.num_channels, self.min_size, what=str(key))(d[key])
        return d
