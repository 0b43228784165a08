"""Small functions the bundle configs call by name (``$monai_angio.bundle.hooks.<name>(...)``).

- :func:`load_datalist`: one split of a ``monai-angio synth`` datalist with paths resolved against its folder;
- :func:`inference_items`: the items of an inference run from a datalist, or from input files and folders (a
  DICOM cine becomes one item per frame, ``{"image": path, "frame": k}``);
- :func:`spacing_from_datalist`, :func:`center_to_meta`: datalist facts into the tensors' metadata;
- :func:`tag_frame`, :func:`resize_to_original`: per-frame naming and resizing for temporal bundles;
- :func:`channel_output_transform`: one channel of ``pred``/``label`` for MONAI's ``MeanDice`` handler.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

__all__ = [
    "load_datalist",
    "inference_items",
    "spacing_from_datalist",
    "center_to_meta",
    "tag_frame",
    "resize_to_original",
    "channel_output_transform",
]


def load_datalist(
    data_list_file_path: str | os.PathLike, split: str = "training", label_key: str = "label"
) -> list[dict]:
    """Load one split of a decathlon-style datalist (as written by ``monai-angio synth``).

    Relative paths are resolved against the folder of the datalist file (MONAI
    ``load_decathlon_datalist(..., base_dir=...)``). If ``label_key`` is not ``"label"`` (e.g.
    ``"label_vessel"`` for the binary bundles), that entry is copied to ``"label"`` so that MONAI's default
    ``prepare_batch`` finds it. Entries without the label (test splits) are kept as they are.

    Raises:
        AngioInputError: if the file is missing, has no such split, or the split is empty.
    """
    from monai.data import load_decathlon_datalist

    from monai_angio.errors import AngioInputError

    path = Path(data_list_file_path).expanduser().resolve()
    if not path.is_file():
        raise AngioInputError("datalist file not found (run `monai-angio synth` or set dataset_dir)", path)
    try:
        items = load_decathlon_datalist(str(path), True, split, base_dir=str(path.parent))
    except (ValueError, KeyError) as e:
        raise AngioInputError(f"cannot read split {split!r}: {e}", path) from e
    if not items:
        raise AngioInputError(f"split {split!r} is empty", path)
    if label_key != "label":
        for item in items:
            if label_key in item:
                item["label"] = item[label_key]
    return _collatable(items)


def inference_items(
    inputs: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], None] = None,
    data_list_file_path: Optional[Union[str, os.PathLike]] = None,
    split: str = "test",
) -> list[dict]:
    """The items of an inference run: one per still, one per frame of a cine (``{"image": path, "frame": k}``).

    With ``inputs`` (files and/or folders, or one ``os.pathsep``-separated string as given on a
    ``python -m monai.bundle run --input ...`` command line), folders are searched for supported files
    (:func:`monai_angio.data.inputs.expand_inputs`); otherwise the ``split`` of the datalist is used. Items that
    name a file get one entry per frame, so a multi-frame DICOM XA run is segmented frame by frame (by
    ``SelectFramed`` or ``TemporalWindowd`` in the bundle's preprocessing).

    Raises:
        AngioInputError: no input found, an unreadable file, or a datalist without that split.
    """
    from monai_angio.data.inputs import expand_inputs
    from monai_angio.errors import AngioInputError
    from monai_angio.transforms.io import count_frames

    if inputs:
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [p for p in str(inputs).split(os.pathsep) if p]
        base = [{"image": str(p)} for p in expand_inputs(inputs)]
        if not base:
            raise AngioInputError(f"no supported input files found in {list(map(str, inputs))}")
    elif data_list_file_path:
        base = load_datalist(data_list_file_path, split)
    else:
        raise AngioInputError("no input: give --input FILE_OR_FOLDER or a datalist file with a split")
    items: list[dict] = []
    for item in base:
        if "frame" in item or not isinstance(item.get("image"), (str, os.PathLike)):
            items.append(item)
            continue
        n = count_frames(item["image"])
        if n > 1:
            items.extend(dict(item, frame=k) for k in range(n))
        else:
            items.append(item)
    return items


def _collatable(items: list[dict]) -> list[dict]:
    """Make optional per-entry values batchable: MONAI collates dicts key by key, so a key that is ``None`` in
    some entries (e.g. ``stenosis_rc`` of a phantom without lesion) and a list in others cannot be batched.
    Such ``None`` values become NaN of the same length as the other entries (``center_to_meta`` reads NaN as "no
    lesion"); a key that is ``None`` everywhere is dropped.
    """
    keys = {k for item in items for k, v in item.items() if v is None}
    for key in keys:
        filled = [item[key] for item in items if item.get(key) is not None]
        for item in items:
            if not filled:
                item.pop(key, None)
            elif item.get(key) is None:
                item[key] = (np.full(np.shape(filled[0]), np.nan).tolist() if np.ndim(filled[0]) else float("nan"))
    return items


def spacing_from_datalist(
    data: Mapping, keys: Sequence[str] = ("image", "label"), spacing_key: str = "spacing_mm"
) -> dict:
    """Give images without a known pixel size the datalist's ``spacing_mm`` (mm per pixel) as MONAI affine.

    ``monai-angio synth`` stores the true in-plane spacing of each phantom in the datalist. PNG stills carry
    none, so the loader sets 1 mm (``meta["spacing_source"] == "unknown"``); this function rewrites the affine
    of those tensors to ``diag(s, s, 1)`` so that later spatial transforms (``Resized``) keep track of the
    spacing and mm metrics (``SurfaceDistanceMMMetric``) use it. Tensors whose loader found a spacing
    (DICOM, NIfTI) are left alone, as are entries without ``spacing_key``.
    """
    import torch
    from monai.data import MetaTensor

    out = dict(data)
    value = out.get(spacing_key)
    if value is None:
        return out
    row, col = (float(value),) * 2 if np.ndim(value) == 0 else (float(value[0]), float(value[1]))
    for key in keys:
        t = out.get(key)
        if not isinstance(t, MetaTensor) or t.meta.get("spacing_source", "unknown") != "unknown":
            continue
        t = t.clone()
        affine = torch.eye(3, dtype=torch.float64)
        affine[0, 0], affine[1, 1] = row, col
        t.affine = affine
        t.meta["spacing_source"] = "datalist"
        out[key] = t
    return out


def center_to_meta(
    data: Mapping, key: str = "label", center_key: str = "stenosis_rc", meta_key: str = "stenosis_center_rc"
) -> dict:
    """Copy ``data[center_key]`` (row, col in original pixels) into ``data[key].meta[meta_key]``.

    The centre is rescaled from the original size (``meta["spatial_shape"]``) to the current one, so it can be
    applied after ``Resized``. ``monai_angio.metrics.LocalF1Metric`` reads it from there (the ignite handler
    passes only ``y_pred`` and ``y``). Entries whose ``center_key`` is missing or ``None`` (no lesion) get the
    image centre, so that every item of a batch carries the key (MONAI collates metadata key by key).
    """
    from monai.data import MetaTensor

    out = dict(data)
    center = out.get(center_key)
    t = out.get(key)
    if not isinstance(t, MetaTensor):
        return out
    current = np.asarray(t.shape[-2:], dtype=float)
    if center is not None and not np.all(np.isfinite(np.asarray(center, dtype=float))):
        center = None  # NaN placeholder written by load_datalist for entries without a lesion
    if center is None:  # no lesion: the image centre (LocalF1Metric's own fallback), so every item has the key
        rc = current // 2
    else:
        original = np.asarray(t.meta.get("spatial_shape", current), dtype=float).ravel()[-2:]
        rc = np.asarray(center, dtype=float).ravel()[:2] * current / np.maximum(original, 1)
    t = t.clone()
    t.meta[meta_key] = rc
    out[key] = t
    return out


def tag_frame(data: Mapping, key: str = "image", frame_key: str = "frame") -> dict:
    """Store the cine frame index as ``meta["patch_index"]`` so that ``SaveImaged`` writes one file per frame.

    ``SaveImaged`` appends ``_<patch_index>`` to the output name (``cine_000_seg_3.nii.gz`` for frame 3).
    """
    from monai.data import MetaTensor

    out = dict(data)
    t = out.get(key)
    if frame_key in out and isinstance(t, MetaTensor):
        t = t.clone()
        t.meta["patch_index"] = int(out[frame_key])
        out[key] = t
    return out


def resize_to_original(img: Any, mode: str = "bilinear") -> Any:
    """Resize a channel-first 2D prediction back to the original in-plane size ``meta["spatial_shape"][-2:]``.

    Used where MONAI ``Invertd`` cannot follow the preprocessing (the temporal window replaces the image and
    its transform history). A tensor without that metadata, or already of that size, is returned unchanged.
    """
    from monai.data import MetaTensor
    from monai.transforms import Resize

    if not isinstance(img, MetaTensor) or "spatial_shape" not in img.meta:
        return img
    size = [int(v) for v in np.asarray(img.meta["spatial_shape"]).ravel()[-2:]]
    if list(img.shape[-2:]) == size:
        return img
    return Resize(spatial_size=size, mode=mode)(img)


def channel_output_transform(channel: int, keys: Sequence[str] = ("pred", "label")) -> Callable:
    """Ignite ``output_transform`` returning ``(preds, labels)`` restricted to one one-hot channel.

    Used with ``monai.handlers.MeanDice(include_background=True)`` to report the Dice of one class (e.g.
    ``channel=1`` artery, ``channel=2`` catheter) next to the key metric.

    Args:
        channel: channel index to keep (the channel axis is 0 for decollated items).
        keys: keys of the prediction and the label in each decollated output item.
    """
    from monai.handlers import from_engine

    getter = from_engine(list(keys))

    def _transform(output: Any) -> tuple:
        return tuple([t[channel : channel + 1] for t in values] for values in getter(output))

    return _transform
