"""Writers for synthetic angiograms: PNG stills, NIfTI cines and JSON ground truth (all atomic).

File formats follow design.md: 16-bit grayscale PNG images (row = first axis), 8-bit label PNGs (0/1/2),
NIfTI cines stored on disk x first, ``(W, H, T)`` with ``pixdim = (col_mm, row_mm, frame_time_ms)`` (NIfTI's ``i``
is the column, as MONAI and NIfTI viewers read it; "Axis convention" in ``docs/design.md``).
Every writer refuses to replace an existing file unless ``overwrite=True``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Union

import numpy as np

from monai_angio.errors import AngioInputError
from monai_angio.transforms.readers import COLUMN_FIRST_DESCRIP, ROW_FIRST_DESCRIP
from monai_angio.utils import atomic_path, atomic_write

__all__ = [
    "write_png_image",
    "write_png_label",
    "write_nifti_cine",
    "write_ground_truth",
    "read_ground_truth",
]

PathLike = Union[str, os.PathLike]


def _check_2d(array: np.ndarray, path: PathLike, what: str) -> np.ndarray:
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise AngioInputError(f"{what} must be 2D (H, W), got shape {a.shape}", path)
    if not np.all(np.isfinite(a)):
        raise AngioInputError(f"{what} contains NaN or Inf", path)
    return a


def write_png_image(path: PathLike, image: np.ndarray, bit_depth: int = 16, overwrite: bool = False) -> str:
    """Write a ``[0, 1]`` float image as an 8- or 16-bit grayscale PNG (values are clipped to [0, 1]).

    Args:
        path: destination ``.png``.
        image: ``(H, W)`` or ``(1, H, W)`` array in [0, 1].
        bit_depth: 16 (default, keeps the dynamic range) or 8.
        overwrite: replace an existing file.

    Returns:
        the path written.
    """
    from PIL import Image

    a = _check_2d(image, path, "image")
    if bit_depth not in (8, 16):
        raise AngioInputError(f"bit_depth must be 8 or 16, got {bit_depth}", path)
    a = np.clip(a.astype(np.float64), 0.0, 1.0)
    if bit_depth == 16:
        img = Image.fromarray(np.round(a * 65535).astype(np.uint16))
    else:
        img = Image.fromarray(np.round(a * 255).astype(np.uint8))
    with atomic_path(path, overwrite=overwrite) as tmp:
        img.save(tmp, format="PNG")
    return str(path)


def write_png_label(path: PathLike, label: np.ndarray, overwrite: bool = False) -> str:
    """Write an integer label map (values 0..255, e.g. 0/1/2) as an 8-bit PNG."""
    from PIL import Image

    a = _check_2d(label, path, "label")
    if a.min() < 0 or a.max() > 255 or not np.all(np.equal(np.mod(a, 1), 0)):
        raise AngioInputError("label values must be integers in [0, 255]", path)
    img = Image.fromarray(a.astype(np.uint8))
    with atomic_path(path, overwrite=overwrite) as tmp:
        img.save(tmp, format="PNG")
    return str(path)


def write_nifti_cine(
    path: PathLike,
    frames: np.ndarray,
    spacing_mm: Union[float, tuple] = 1.0,
    frame_time_ms: float = 1.0,
    dtype: Union[str, np.dtype, None] = None,
    overwrite: bool = False,
    label: bool = False,
    row_first: bool = False,
) -> str:
    """Write a row-major ``(T, H, W)`` cine (or ``(H, W)`` still) as NIfTI with on-disk shape ``(W, H, T)`` / ``(W, H)``.

    NIfTI's first index is x (the column), so MONAI's ``LoadImage`` gives the same in-plane order for this file as
    for a PNG/DICOM of the same frames, and :func:`~monai_angio.transforms.readers.read_nifti` reads it back
    row-major. The affine is ``diag(col_mm, row_mm, frame_time_ms, 1)`` so that
    ``pixdim = (col_mm, row_mm, frame_time_ms)``; a 2-D still keeps its spacing in ``diag(col_mm, row_mm, 1, 1)``.

    Args:
        path: destination (``.nii`` or ``.nii.gz``).
        frames: ``(T, H, W)`` images or labels (a 2D array is written as ``(H, W)``).
        spacing_mm: isotropic or ``(row, col)`` pixel spacing in mm.
        frame_time_ms: time between frames.
        dtype: on-disk dtype (default float32 for floats, uint8 for integer labels <= 255).
        overwrite: replace an existing file.
        label: mark the file as a label map (NIfTI intent ``label``), e.g. a segmentation's ``_labels.nii.gz``.
        row_first: write the layout of monai-angio 0.1, rows first (``(H, W, T)``, ``pixdim = (row_mm,
            col_mm, ...)``; deprecated, for scripts that index ``[row, col, t]``). The file says so in its
            ``descrip`` (``i=row``), and :func:`~monai_angio.transforms.readers.read_nifti` reads it right.
    """
    import nibabel as nib

    a = np.asarray(frames)
    if a.ndim not in (2, 3):
        raise AngioInputError(f"cine must be (T, H, W) or (H, W), got shape {a.shape}", path)
    if a.size == 0:
        raise AngioInputError("cine is empty", path)
    if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
        raise AngioInputError("cine contains NaN or Inf", path)
    if dtype is None:
        dtype = np.float32 if np.issubdtype(a.dtype, np.floating) else np.uint8
    sp = (float(spacing_mm), float(spacing_mm)) if np.isscalar(spacing_mm) else tuple(float(v) for v in spacing_mm)
    if row_first:
        data = np.moveaxis(a, 0, -1) if a.ndim == 3 else a
        plane = [sp[0], sp[1]]
    else:
        data = np.transpose(a, (2, 1, 0)) if a.ndim == 3 else a.T  # (T, H, W) -> (W, H, T): x first
        plane = [sp[1], sp[0]]
    # no contiguous copy: NIfTI stores x fastest (Fortran order), which the transposed view of a row-major
    # (T, H, W) cine already is
    data = data if data.dtype == np.dtype(dtype) else data.astype(dtype, order="K")
    zooms = plane + ([float(frame_time_ms)] if a.ndim == 3 else [])
    affine = np.diag(zooms + [1.0] * (4 - len(zooms)))
    img = nib.Nifti1Image(data, affine)
    img.header.set_zooms(zooms)
    img.header.set_xyzt_units("mm", "msec")
    if label:
        img.header.set_intent("label", name="monai-angio labels")
    img.header["descrip"] = ROW_FIRST_DESCRIP if row_first else COLUMN_FIRST_DESCRIP
    with atomic_path(path, overwrite=overwrite) as tmp:
        nib.save(img, str(tmp))
    return str(path)


def write_ground_truth(path: PathLike, phantom_or_cine: Any, overwrite: bool = False, **extra: Any) -> str:
    """Write the ground truth of a ``Phantom`` or ``Cine`` (segments, stenoses, spacing, French) as JSON.

    Args:
        path: destination ``.json``.
        phantom_or_cine: object with a ``ground_truth()`` method, or a plain dict.
        overwrite: replace an existing file.
        extra: additional top-level fields (e.g. file names of the matching images).
    """
    gt: Dict[str, Any] = phantom_or_cine if isinstance(phantom_or_cine, dict) else phantom_or_cine.ground_truth()
    gt = dict(gt, **extra)
    with atomic_write(path, "w", overwrite=overwrite, encoding="utf-8") as f:
        json.dump(gt, f, indent=1)
        f.write("\n")
    return str(path)


def read_ground_truth(path: PathLike) -> Dict[str, Any]:
    """Read a ground-truth JSON; ``segments``/``stenoses`` become ``VesselSegment``/``Stenosis`` objects.

    Raises:
        AngioInputError: the file is missing or not valid ground-truth JSON.
    """
    from monai_angio.data.synthetic import Stenosis, VesselSegment

    try:
        with open(path, encoding="utf-8") as f:
            gt = json.load(f)
        gt["segments"] = [VesselSegment.from_dict(s) for s in gt.get("segments", [])]
        gt["stenoses"] = [Stenosis.from_dict(s) for s in gt.get("stenoses", [])]
    except FileNotFoundError as e:
        raise AngioInputError("ground-truth file not found", path) from e
    except (ValueError, KeyError, TypeError) as e:
        raise AngioInputError(f"not a valid ground-truth JSON ({e})", path) from e
    return gt
