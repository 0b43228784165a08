"""Loading angiograms: DICOM XA, still images, videos and NIfTI cines as ``MetaTensor``\\ s, frames first.

Every reader returns frames first and row-major, a still angiogram ``(1, H, W)``, a cine ``(T, H, W)``;
:class:`LoadAngiogram` hands them to MONAI in MONAI's in-plane order, ``(T, W, H)`` (see
:mod:`monai_angio.transforms.layout` and "Axis convention" in ``docs/design.md``).

Metadata (``MetaTensor.meta``) uses the keys of ``docs/design.md``; keys whose value is unknown are *left out*
(never ``None``), so that MONAI collation works and ``meta.get(key)`` tells whether a value exists:

- always: ``filename_or_obj``, ``modality`` (``"XA"`` for DICOM XA, ``"OT"`` for images/videos/NIfTI unless the
  DICOM says otherwise), ``num_frames``, ``spacing`` (mm along the array's axes: row, col from the readers, x, y from
  :class:`LoadAngiogram`; 1.0 when unknown), ``spacing_source``, ``spatial_layout`` (:class:`LoadAngiogram`),
  ``spatial_shape``, ``original_channel_dim`` (0), ``affine`` / ``original_affine`` (3 x 3, 2 spatial dims);
- DICOM when present: ``imager_pixel_spacing``, ``pixel_spacing``, ``distance_source_to_detector``,
  ``distance_source_to_patient``, ``estimated_magnification_factor``, ``frame_time_ms``,
  ``isocenter_spacing_mm`` (= ImagerPixelSpacing x SOD / SID), ``photometric_interpretation`` (of the file),
  ``positioner_primary_angle`` / ``positioner_secondary_angle`` (projection angles, degrees),
  ``burned_in_annotation`` (True only when the file declares BurnedInAnnotation YES);
- videos: ``frame_time_ms`` from the frame rate; NIfTI cines: ``frame_time_ms`` from the third ``pixdim``.

Privacy: DICOM attributes are copied through an explicit whitelist (geometry, timing, pixel description,
modality). Nothing that identifies the patient, the operator or the institution is ever put in the metadata.

MONAI spacing/affine: the in-plane pixel size, in order of preference, is DICOM PixelSpacing, the isocenter
spacing, ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor, ImagerPixelSpacing, NIfTI ``pixdim``,
else 1 mm; ``meta["spacing_source"]`` says which one was used.

DICOM photometry: ``MONOCHROME1`` images (bright = low value) are inverted to the ``MONOCHROME2`` convention
(``stored' = (2**BitsStored - 1) - stored`` for unsigned, ``-1 - stored`` for signed data) *before* the
modality rescale (RescaleSlope/Intercept), so that vessels always come out dark on a bright background as in
every other format. Colour DICOMs (RGB/YBR) are converted to luminance.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Optional, Union

import numpy as np
import torch
from monai.config import DtypeLike, KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform, Transform

# The numpy-only readers (no torch / MONAI, so that tools needing only pixels start fast) live in
# ``readers``; they are re-exported here, where they have always been importable from.
from monai_angio.errors import AngioInputError
from monai_angio.transforms import readers as _readers
from monai_angio.transforms.layout import LAYOUT_KEY, XY
from monai_angio.transforms.limits import check_frame_size
from monai_angio.transforms.readers import (
    DICOM_EXTENSIONS,
    IMAGE_EXTENSIONS,
    NIFTI_EXTENSIONS,
    SUPPORTED_EXTENSIONS,
    VIDEO_EXTENSIONS,
    PathT,
    count_frames,
    frame_time_from_meta,
    is_dicom_path,
    read_angiogram,
    read_dicom,
    read_image,
    read_nifti,
    read_video,
    rgb_to_luminance,
    spacing_from_meta,
)
from monai_angio.utils.arrays import as_numpy

__all__ = [*_readers.__all__, "LoadAngiogram", "LoadAngiogramd", "READ_FRAMES_KEY"]

#: Item key of the frame indices :class:`LoadAngiogramd` reads (when present): a cine streamed a window at a time.
READ_FRAMES_KEY = "read_frames"

#: Metadata of an in-memory image that :meth:`LoadAngiogram.from_memory` keeps (calibration, timing, source).
_MEMORY_META_KEYS = (
    "modality", "imager_pixel_spacing", "pixel_spacing", "distance_source_to_detector", "distance_source_to_patient",
    "estimated_magnification_factor", "frame_time_ms", "isocenter_spacing_mm", "positioner_primary_angle",
    "positioner_secondary_angle", "burned_in_annotation",
)


class LoadAngiogram(Transform):
    """Load an angiogram file (DICOM XA, PNG/JPEG/TIFF, MP4/AVI, NIfTI) as a ``MetaTensor`` ``(T, W, H)``.

    The in-plane axes are in MONAI's order, x (column) first, exactly as MONAI's ``LoadImage`` +
    ``EnsureChannelFirst`` give a 2-D image file: a ``W x H`` still gives ``(1, W, H)``, a cine ``(T, W, H)``
    (frames first), and ``meta["spatial_layout"] == "xy"``. Follow it with
    :class:`~monai_angio.transforms.layout.ToRowMajor` (``ToRowMajord`` in a bundle) for the row-major ``(T, H, W)``
    the networks take; the numpy readers (:func:`read_angiogram`) are row-major already. Calibration metadata
    (see the module docstring, never PHI) is in ``img.meta``; the affine is a 3 x 3 (2 spatial dims) diagonal with
    the pixel spacing in mm along the array's axes (``meta["spacing"]`` likewise: ``[x_mm, y_mm]``).

    Args:
        image_only: if ``False`` (default) return a ``MetaTensor`` carrying affine and metadata; if ``True``
            return a plain ``torch.Tensor`` without metadata. (Unlike MONAI's ``LoadImage``, this loader never
            returns an ``(image, meta)`` tuple: metadata always travel on the ``MetaTensor``.)
        dtype: output data type (``np.float32`` by default); ``None`` keeps the stored integer type where the
            reader preserves it (e.g. ``uint8`` label PNGs, a ``uint16`` DICOM cine without rescale: half the memory
            of float32), float otherwise. Every bundle's ``inference.json`` loads with ``None``: its per-frame
            normalisation converts one frame at a time.

    Example:
        >>> img = LoadAngiogram()("run1.dcm")  # doctest: +SKIP
        >>> img.shape, img.meta["spatial_layout"], img.meta["isocenter_spacing_mm"]  # doctest: +SKIP
        (torch.Size([48, 512, 512]), 'xy', [0.22, 0.22])
    """

    def __init__(self, image_only: bool = False, dtype: Optional[DtypeLike] = np.float32) -> None:
        self.image_only = image_only
        self.dtype = dtype

    def __call__(
        self, filename: Union[PathT, np.ndarray, torch.Tensor], frames: Optional[Sequence[int]] = None
    ) -> Union[MetaTensor, torch.Tensor]:
        """Load ``filename``; see the class docstring. An image already in memory is taken as it is (see
        :meth:`from_memory`).

        Args:
            filename: the file (or an image in memory).
            frames: read only these frames of a file (indices into its frames, in the order given; a
                multi-frame DICOM decodes just those): how a long cine is streamed a window at a time.
        """
        if isinstance(filename, (np.ndarray, torch.Tensor)):
            image = self.from_memory(filename)
            return image if frames is None else image[[int(k) for k in frames]]
        arr, meta = read_angiogram(filename, keep_integer=self.dtype is None, frames=frames)
        if self.dtype is not None:
            arr = arr.astype(self.dtype, copy=False)
        arr = np.ascontiguousarray(arr)
        if not arr.flags.writeable:
            arr = arr.copy()
        # rows-first reader -> MONAI's (x, y) order as a strided view, not a copy: the ToRowMajor that follows in a
        # bundle swaps it back to the contiguous rows-first buffer for free (a 300-frame cine: two 315 MB copies less)
        row_mm, col_mm = (float(v) for v in meta["spacing"][:2])
        return self._wrap(np.swapaxes(arr, -1, -2), meta, col_mm, row_mm)

    def from_memory(self, image: Union[np.ndarray, torch.Tensor]) -> Union[MetaTensor, torch.Tensor]:
        """An angiogram a caller has loaded already, in MONAI's order, as ``(T, W, H)`` like a loaded file.

        MONAI Deploy's bundle inference operator hands the bundle's ``LoadAngiogramd`` the image itself (its
        loader operators read the file): a 2-D ``(x, y)`` array is one frame, a 3-D ``(x, y, frames)`` array a
        cine, as MONAI's ``LoadImage`` gives a 2-D image file or a NIfTI cine; a ``MetaTensor`` this loader made
        already (``meta["spatial_layout"] == "xy"``, frames first) passes unchanged. The in-plane spacing comes
        from ``meta["spacing"]`` (x, y, in mm) when the caller's metadata has it, else 1 mm ("unknown"). Of the
        caller's metadata only the whitelisted calibration and timing keys are kept (as from a file: never patient
        data). The frame size limits of the file readers apply.

        Raises:
            AngioInputError: not 2-D or 3-D, an empty array, or a frame over the size limits.
        """
        meta = dict(getattr(image, "meta", None) or {})
        if isinstance(image, MetaTensor) and meta.get(LAYOUT_KEY) == XY and image.ndim == 3:  # from this loader
            if self.dtype is None:
                return image if not self.image_only else image.as_tensor()
            cast = torch.as_tensor(image.detach().cpu().numpy().astype(self.dtype))
            return cast if self.image_only else MetaTensor(cast, affine=image.affine, meta=image.meta)
        arr = as_numpy(image)
        name = str(meta.get("filename_or_obj") or "<in-memory image>")
        if arr.ndim == 2:
            frames = arr[None]
        elif arr.ndim == 3:
            frames = np.moveaxis(arr, -1, 0)  # (x, y, t) -> (t, x, y)
        else:
            raise AngioInputError(f"an image in memory must be 2-D (x, y) or 3-D (x, y, frames), got shape "
                                  f"{tuple(arr.shape)}", name)
        if frames.size == 0:
            raise AngioInputError(f"an image in memory is empty (shape {tuple(arr.shape)})", name)
        check_frame_size(int(frames.shape[2]), int(frames.shape[1]), name)
        if self.dtype is not None:
            frames = frames.astype(self.dtype, copy=False)
        elif not (np.issubdtype(frames.dtype, np.integer) or np.issubdtype(frames.dtype, np.floating)):
            frames = frames.astype(np.float32)
        known = meta.get("spacing") is not None and len(np.ravel(meta["spacing"])) >= 2
        x_mm, y_mm = (float(v) for v in np.ravel(meta["spacing"])[:2]) if known else (1.0, 1.0)
        keep = {k: meta[k] for k in _MEMORY_META_KEYS if k in meta}
        keep.update({"filename_or_obj": name, "num_frames": int(frames.shape[0]),
                     "spacing_source": str(meta.get("spacing_source", "caller")) if known else "unknown"})
        keep.setdefault("modality", "OT")
        return self._wrap(np.array(frames, copy=True), keep, x_mm, y_mm)

    def _wrap(self, arr: np.ndarray, meta: dict, col_mm: float, row_mm: float) -> Union[MetaTensor, torch.Tensor]:
        """``arr`` ``(T, x, y)`` with its metadata as this loader's ``MetaTensor`` (or a plain tensor)."""
        tensor = torch.as_tensor(arr)
        if self.image_only:
            return tensor
        meta["spacing"] = np.asarray([col_mm, row_mm], dtype=np.float64)  # follows the array axes: x, y
        meta["spatial_shape"] = np.asarray(arr.shape[1:], dtype=np.int64)
        meta[LAYOUT_KEY] = XY
        affine = torch.diag(torch.tensor([col_mm, row_mm, 1.0], dtype=torch.float64))
        meta["original_affine"] = affine.clone().numpy()
        return MetaTensor(tensor, affine=affine, meta=meta)


class LoadAngiogramd(MapTransform):
    """Dictionary version of :class:`LoadAngiogram`: replaces each file name under ``keys`` by its ``MetaTensor``.

    Args:
        keys: keys whose values are file names (``"image"``, ``"label"``, ...).
        dtype: output data type, one for all keys or one per key (``None`` keeps the stored type).
        image_only: see :class:`LoadAngiogram`.
        allow_missing_keys: don't raise if a key is missing.
        read_frames_key: an item holding a list of frame indices under this key has only those frames read
            (:class:`LoadAngiogram`'s ``frames``); items without it are read whole.
    """

    def __init__(
        self,
        keys: KeysCollection,
        dtype: Union[Optional[DtypeLike], Sequence[Optional[DtypeLike]]] = np.float32,
        image_only: bool = False,
        allow_missing_keys: bool = False,
        read_frames_key: str = READ_FRAMES_KEY,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.read_frames_key = read_frames_key
        if isinstance(dtype, (list, tuple)):
            if len(dtype) != len(self.keys):
                raise ValueError(f"got {len(dtype)} dtypes for {len(self.keys)} keys")
            dtypes = list(dtype)
        else:
            dtypes = [dtype] * len(self.keys)
        self.loaders = {k: LoadAngiogram(image_only=image_only, dtype=t) for k, t in zip(self.keys, dtypes)}

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        frames = d.get(self.read_frames_key)
        for key in self.key_iterator(d):
            d[key] = self.loaders[key](d[key], frames)
        return d
