"""Temporal windows around a target frame of an angiographic cine, and per-frame datalist expansion."""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Optional, Union

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform, Transform

from monai_angio.errors import AngioInputError
from monai_angio.transforms.io import count_frames
from monai_angio.transforms.validation import get_filename

__all__ = ["window_indices", "TemporalWindow", "TemporalWindowd", "SelectFrame", "SelectFramed", "expand_cine_items"]


def window_indices(num_frames: int, center: int, num_neighbors: int) -> list[int]:
    """Frame indices ``center - N .. center + N`` clamped to ``[0, num_frames - 1]`` (edge repetition).

    Example:
        >>> window_indices(5, 0, 2)
        [0, 0, 0, 1, 2]
    """
    return [min(max(center + o, 0), num_frames - 1) for o in range(-num_neighbors, num_neighbors + 1)]


def _as_index(frame: Any, filename: Optional[str]) -> int:
    if isinstance(frame, (torch.Tensor, np.ndarray)):
        n = frame.size if isinstance(frame, np.ndarray) else frame.numel()
        if n != 1:
            raise AngioInputError(f"frame index must be a single integer, got {frame!r}", filename)
        frame = frame.item()
    try:
        ok = not isinstance(frame, bool) and float(frame).is_integer()
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise AngioInputError(f"frame index must be an integer, got {frame!r}", filename)
    return int(frame)


class TemporalWindow(Transform):
    """Cut the ``2N + 1`` frames around a target frame out of a cine: ``(T, H, W)`` -> ``(1, 2N+1, H, W)``.

    Frames before the first / after the last are replaced by repeating the first / last frame, so frame 0
    with ``N = 2`` gives frames ``[0, 0, 0, 1, 2]``. The output keeps the ``MetaTensor`` metadata and transform
    history (so ``Invertd`` can undo earlier padding or resizing on the prediction) and adds
    ``frame_index`` and ``window_frames``; its affine gets a unit frame axis in front of the pixel spacing.

    Args:
        num_neighbors: ``N``, number of frames taken on each side of the target.

    Raises:
        AngioInputError: empty sequence, not ``(T, H, W)``, or target index outside ``[0, T - 1]``.
    """

    def __init__(self, num_neighbors: int = 1) -> None:
        if int(num_neighbors) < 0:
            raise ValueError(f"num_neighbors must be >= 0, got {num_neighbors}")
        self.num_neighbors = int(num_neighbors)

    def __call__(self, img: Union[torch.Tensor, np.ndarray], frame: Any = 0) -> Union[torch.Tensor, np.ndarray]:
        """Return the window of ``img`` ``(T, H, W)`` centred on ``frame``."""
        fname = get_filename(img)
        if img.ndim != 3:
            raise AngioInputError(f"temporal window needs a (T, H, W) sequence, got shape {tuple(img.shape)}", fname)
        t = int(img.shape[0])
        if t == 0:
            raise AngioInputError("temporal window of an empty sequence (0 frames)", fname)
        k = _as_index(frame, fname)
        if not 0 <= k < t:
            raise AngioInputError(f"target frame {k} is outside the sequence of {t} frames", fname)
        idx = window_indices(t, k, self.num_neighbors)
        if isinstance(img, np.ndarray):
            return img[idx][None]
        out = img[torch.as_tensor(idx, dtype=torch.long, device=img.device)][None]
        if isinstance(img, MetaTensor):
            # keep the transform history so that MONAI's Invertd can undo the spatial steps before the window
            out = MetaTensor(
                out.as_tensor() if isinstance(out, MetaTensor) else out,
                meta=dict(img.meta),
                applied_operations=list(img.applied_operations),
            )
            aff2 = torch.as_tensor(img.affine, dtype=torch.float64)
            if aff2.shape == (3, 3):
                aff3 = torch.eye(4, dtype=torch.float64)
                aff3[1:, 1:] = aff2
                out.affine = aff3
            out.meta["frame_index"] = k
            out.meta["window_frames"] = idx
        return out


def _centre_label(lab: Union[torch.Tensor, np.ndarray], k: int, fname: Optional[str]) -> Any:
    """``(T, H, W)`` label cine -> ``(1, H, W)`` label of frame ``k``; a ``(1, H, W)`` label is the frame's."""
    if lab.ndim != 3:
        raise AngioInputError(f"label must be (T, H, W) or (1, H, W), got shape {tuple(lab.shape)}", fname)
    t = int(lab.shape[0])
    if t == 0:
        raise AngioInputError("label sequence is empty (0 frames)", fname)
    if t == 1:
        return lab
    if not 0 <= k < t:
        raise AngioInputError(f"target frame {k} is outside the label sequence of {t} frames", fname)
    out = lab[k : k + 1]
    if isinstance(out, MetaTensor):
        out.meta["frame_index"] = k
    return out


class TemporalWindowd(MapTransform):
    """Dictionary version of :class:`TemporalWindow` driven by a per-sample frame index.

    Images under ``keys`` become ``(1, 2N+1, H, W)`` windows centred on ``data[frame_key]``; labels under
    ``label_keys`` become the ``(1, H, W)`` label of that centre frame (a ``(1, H, W)`` label is taken as the
    label of the target frame and passed through). When ``frame_key`` is absent the sequence must have a
    single frame (a still image, frame 0).

    Args:
        keys: image keys to window.
        num_neighbors: ``N``.
        frame_key: key of the target frame index.
        label_keys: label keys reduced to the centre frame.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        num_neighbors: int = 1,
        frame_key: str = "frame",
        label_keys: KeysCollection = (),
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.window = TemporalWindow(num_neighbors)
        self.frame_key = frame_key
        self.label_keys: tuple[Hashable, ...] = (
            (label_keys,) if isinstance(label_keys, (str, int)) else tuple(label_keys or ())
        )

    def _frame(self, d: Mapping[Hashable, Any], arr: Any) -> int:
        fname = get_filename(arr)
        if self.frame_key in d and d[self.frame_key] is not None:
            return _as_index(d[self.frame_key], fname)
        if getattr(arr, "shape", (0,))[0] == 1:
            return 0
        raise AngioInputError(
            f"no target frame index under key {self.frame_key!r} for a sequence of {arr.shape[0]} frames", fname
        )

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.window(d[key], self._frame(d, d[key]))
        for key in self.label_keys:
            if key not in d:
                if self.allow_missing_keys:
                    continue
                raise KeyError(f"label key {key!r} not found in data")
            d[key] = _centre_label(d[key], self._frame(d, d[key]), get_filename(d[key]))
        return d


class SelectFrame(Transform):
    """One frame of a cine as a channel-first 2D image: ``(T, H, W)`` -> ``(1, H, W)``.

    The per-frame step of 2D bundles: a bundle's preprocessing loads the whole file, then selects the frame of the
    item (``{"image": path, "frame": k}``), so the same config segments stills and every frame of a cine. For a
    cine the frame index is stored as ``meta["patch_index"]`` (``SaveImaged`` then writes one file per frame).

    Raises:
        AngioInputError: not ``(T, H, W)``, empty, or the index is outside the cine.
    """

    def __call__(self, img: Union[torch.Tensor, np.ndarray], frame: Any = 0) -> Union[torch.Tensor, np.ndarray]:
        """Return frame ``frame`` of ``img`` as ``(1, H, W)``."""
        fname = get_filename(img)
        k = _as_index(frame, fname)
        if img.ndim == 3 and img.shape[0] == 1 and k != 0:
            raise AngioInputError(f"frame {k} requested but the input has 1 frame", fname)
        out = _centre_label(img, k, fname)
        if isinstance(out, MetaTensor) and img.shape[0] > 1:
            out.meta["patch_index"] = k
        return out


class SelectFramed(MapTransform):
    """Dictionary version of :class:`SelectFrame`, driven by ``data[frame_key]`` (a single-frame input needs none).

    Args:
        keys: image keys.
        frame_key: key of the frame index.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(self, keys: KeysCollection, frame_key: str = "frame", allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.frame_key = frame_key
        self.op = SelectFrame()

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            img = d[key]
            frame = d.get(self.frame_key)
            if frame is None:
                if getattr(img, "shape", (0,))[0] != 1:
                    raise AngioInputError(
                        f"no frame index under key {self.frame_key!r} for a cine of {img.shape[0]} frames "
                        "(list one item per frame, e.g. with monai_angio.bundle.hooks.inference_items)",
                        get_filename(img),
                    )
                frame = 0
            d[key] = self.op(img, frame)
        return d


def expand_cine_items(
    items: Sequence[Mapping[str, Any]],
    image_key: str = "image",
    frame_key: str = "frame",
    base_dir: Optional[Union[str, os.PathLike]] = None,
    frames: Optional[Union[Sequence[int], slice]] = None,
) -> list[dict[str, Any]]:
    """Expand datalist items pointing to cines into one item per frame (``{..., frame_key: k}``).

    Items that already have ``frame_key`` are kept as they are. The number of frames is read from the file
    header (:func:`~monai_angio.transforms.io.count_frames`), so the images are not decoded where the format
    allows it.

    Args:
        items: datalist entries (dicts) with a file name under ``image_key``.
        image_key: key of the cine file name.
        frame_key: key receiving the frame index.
        base_dir: directory relative file names are resolved against (the file names in the returned items
            are left unchanged).
        frames: optional selection of frame indices (e.g. ``slice(2, -2)``) applied to every cine.

    Returns:
        a new list of dicts, one per (file, frame).

    Raises:
        AngioInputError: an unreadable file or a cine with no frames.
    """
    out: list[dict[str, Any]] = []
    for item in items:
        if frame_key in item:
            out.append(dict(item))
            continue
        path = os.fspath(item[image_key])
        if base_dir is not None and not os.path.isabs(path):
            path = os.path.join(os.fspath(base_dir), path)
        t = count_frames(path)
        if t < 1:
            raise AngioInputError("cine has no frames", path)
        ks = list(range(t))
        if isinstance(frames, slice):
            ks = ks[frames]
        elif frames is not None:
            ks = [k for k in frames if -t <= k < t]
            ks = [k % t for k in ks]
        for k in ks:
            new = dict(item)
            new[frame_key] = k
            out.append(new)
    return out
