"""Batch helpers shared by ``monai-angio segment``: input discovery, frame selection, output naming and writers.

- :func:`expand_inputs`: files and folders -> supported files (skipping previous outputs).
- :func:`parse_frames`: ``"all"`` / ``K`` / ``"0,5,10-12"`` -> frame indices.
- :func:`output_paths`: the files written for one input.
- :func:`load_angiogram_file`: ``LoadAngiogram`` -> ``(T, H, W)`` float32 array + metadata, with checks.
- :func:`write_label_nifti`, :func:`write_dicom_seg`: label writers (atomic).
- :func:`dicom_calibration`: mm/pixel from DICOM geometry metadata, for the summary.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import torch

from monai_angio.errors import AngioInputError
from monai_angio.utils import atomic_path

__all__ = [
    "SUPPORTED_SUFFIXES",
    "OUTPUT_ENDINGS",
    "is_dicom_file",
    "is_supported",
    "is_dicom_input",
    "file_stem",
    "expand_inputs",
    "output_paths",
    "parse_frames",
    "load_angiogram_file",
    "spacing_from_meta",
    "frame_time_from_meta",
    "dicom_calibration",
    "jsonable",
    "write_label_nifti",
    "write_dicom_seg",
]

PathLike = Union[str, os.PathLike]

#: File name endings that ``segment`` accepts (besides extension-less DICOM files).
SUPPORTED_SUFFIXES = (
    ".dcm", ".dicom", ".dic", ".ima",
    ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp",
    ".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv",
    ".nii", ".nii.gz",
)  # fmt: skip

_DICOM_SUFFIXES = (".dcm", ".dicom", ".dic", ".ima")


def is_dicom_file(path: Path) -> bool:
    """Whether the file starts with the 128-byte preamble + ``DICM`` of a DICOM Part 10 file."""
    try:
        with open(path, "rb") as f:
            head = f.read(132)
        return len(head) == 132 and head[128:132] == b"DICM"
    except OSError:
        return False


def is_dicom_input(path: Path) -> bool:
    """Whether ``path`` is a DICOM file (by extension, or by the ``DICM`` preamble for extension-less names)."""
    path = Path(path)
    return path.name.lower().endswith(_DICOM_SUFFIXES) or ("." not in path.name and is_dicom_file(path))


def is_supported(path: Path) -> bool:
    """Whether ``segment`` can read the file (by extension; extension-less DICOM files too)."""
    name = path.name.lower()
    if name.startswith("."):
        return False
    if any(name.endswith(s) for s in SUPPORTED_SUFFIXES):
        return True
    return "." not in name and is_dicom_file(path)


def file_stem(path: Path) -> str:
    """File name without its extension (``.nii.gz`` counts as one)."""
    name = path.name
    return name[: -len(".nii.gz")] if name.lower().endswith(".nii.gz") else path.stem


OUTPUT_ENDINGS = ("_labels.nii.gz", "_overlay.png", "_overlay.gif", "_seg.dcm", "_summary.json")


def expand_inputs(paths: Iterable[PathLike], exclude: Optional[PathLike] = None) -> List[Path]:
    """Expand folders to the supported files they hold (recursively, sorted); keep files as given.

    So that a re-run does not segment its own outputs, a folder expansion never takes files from inside
    ``exclude`` (the output folder) when it is a sub-folder, and skips files named like ``segment`` outputs
    (``*_labels.nii.gz``, ``*_overlay.png``, ...) when the output folder is the input folder itself.
    Files given explicitly are always kept.

    Args:
        paths: files and/or folders.
        exclude: the output folder.

    Returns:
        Files, without duplicates, in the given order.
    """
    out: List[Path] = []
    seen = set()
    excl = Path(exclude).resolve() if exclude is not None else None
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = []
            same = excl is not None and excl == p.resolve()
            for f in sorted(p.rglob("*")):
                if not f.is_file() or not is_supported(f):
                    continue
                rf = f.resolve()
                if same and f.name.lower().endswith(OUTPUT_ENDINGS) and rf.parent == excl:
                    continue
                if excl is not None and not same and excl in rf.parents:
                    continue
                found.append(f)
        else:
            found = [p]
        for f in found:
            key = str(f.resolve())
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def output_paths(path: PathLike, out_dir: PathLike, stem: Optional[str] = None) -> Dict[str, Path]:
    """Output files for one input: keys ``labels``, ``overlay``, ``gif``, ``seg``, ``summary``."""
    s = stem or file_stem(Path(path))
    d = Path(out_dir)
    return {
        "labels": d / f"{s}_labels.nii.gz",
        "overlay": d / f"{s}_overlay.png",
        "gif": d / f"{s}_overlay.gif",
        "seg": d / f"{s}_seg.dcm",
        "summary": d / f"{s}_summary.json",
    }


def parse_frames(
    spec: Union[str, int, Sequence[int], None], num_frames: int, filename: Optional[str] = None
) -> List[int]:
    """Frame selection: ``"all"``/None, an index ``K``, or a list like ``"0,5,10-12"`` (0-based, inclusive).

    Raises:
        AngioInputError: an index outside ``[0, num_frames)`` or an unreadable spec.
    """
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "all"):
        return list(range(num_frames))
    if isinstance(spec, int):
        idx = [spec]
    elif isinstance(spec, str):
        idx = []
        try:
            for part in spec.split(","):
                part = part.strip()
                if "-" in part[1:]:
                    a, b = part.split("-", 1)
                    idx.extend(range(int(a), int(b) + 1))
                elif part:
                    idx.append(int(part))
        except ValueError:
            raise AngioInputError(f"cannot read frame selection {spec!r} (use 'all', K or e.g. '0,5,10-12')", filename)
    else:
        idx = [int(i) for i in spec]
    bad = [i for i in idx if not 0 <= i < num_frames]
    if bad or not idx:
        raise AngioInputError(f"frame(s) {bad or spec} requested but the input has {num_frames} frame(s)", filename)
    return sorted(dict.fromkeys(idx))


def load_angiogram_file(path: Path) -> tuple:
    """Load a file with ``LoadAngiogram`` -> ``(T, H, W)`` float32 array and metadata dict.

    Raises:
        AngioInputError: unreadable file (naming the reader's problem), wrong shape, NaN/Inf values.
    """
    from monai_angio.transforms import LoadAngiogram

    try:
        img = LoadAngiogram(image_only=False)(str(path))
    except AngioInputError:
        raise
    except Exception as e:  # unreadable file: name it and the problem
        raise AngioInputError(f"cannot read ({type(e).__name__}: {e})", path) from e
    meta = dict(img.meta)
    arr = np.asarray(img.detach().cpu(), dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or 0 in arr.shape:
        raise AngioInputError(f"expected a (T, H, W) angiogram, got shape {tuple(arr.shape)}", path)
    if not np.isfinite(arr).all():
        raise AngioInputError("image contains NaN or infinite values", path)
    return arr, meta


def _as_list(v: Any) -> Optional[List[float]]:
    if v is None:
        return None
    try:
        arr = np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None
    return [float(x) for x in arr] if arr.size else None


def spacing_from_meta(meta: dict) -> Optional[List[float]]:
    """``[row_mm, col_mm]`` from ``spacing`` / ``pixel_spacing`` / ``imager_pixel_spacing``, or None."""
    for key in ("spacing", "pixel_spacing", "imager_pixel_spacing"):
        v = _as_list(meta.get(key))
        if v and len(v) >= 2 and all(x > 0 for x in v[:2]):
            return v[:2]
    return None


def frame_time_from_meta(meta: dict) -> Optional[float]:
    """``frame_time_ms`` from the metadata, or None."""
    v = _as_list(meta.get("frame_time_ms"))
    return float(v[0]) if v and v[0] > 0 else None


def dicom_calibration(meta: dict) -> Optional[dict]:
    """DICOM-geometry calibration (isocentre, else imager spacing) from :func:`monai_angio.qca.calibrate_from_dicom`,
    or None when the metadata has no geometry."""
    from monai_angio.qca import calibrate_from_dicom

    try:
        cal = calibrate_from_dicom(meta)
    except (ValueError, TypeError):  # CalibrationError: no geometry (e.g. PNG input)
        return None
    return {"mm_per_px": float(cal.mm_per_px), "source": str(cal.source), "details": jsonable(cal.details)}


def jsonable(obj: Any) -> Any:
    """Convert numpy/torch values, paths and containers to JSON-serialisable Python objects."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.ndarray, torch.Tensor)):
        return _as_list(obj)
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def write_label_nifti(
    path: Path, labels: np.ndarray, spacing: Optional[List[float]], frame_time: Optional[float], overwrite: bool
) -> None:
    """Write ``(T, H, W)`` labels as uint8 NIfTI, ``(H, W, T)`` on disk, ``pixdim = (row_mm, col_mm, frame_ms)``."""
    import nibabel as nib

    r, c = spacing if spacing else (1.0, 1.0)
    ft = frame_time if frame_time else 1.0
    data = np.ascontiguousarray(np.transpose(labels.astype(np.uint8), (1, 2, 0)))  # (T,H,W) -> (H,W,T)
    img = nib.Nifti1Image(data, np.diag([r, c, ft, 1.0]))
    img.header.set_zooms((r, c, ft))
    img.header.set_xyzt_units("mm", "msec")
    img.header.set_intent("label", name="monai-angio labels")
    with atomic_path(path, overwrite=overwrite) as tmp:
        nib.save(img, str(tmp))


def write_dicom_seg(
    path: Path,
    source: Path,
    labels: np.ndarray,
    indices: List[int],
    class_names: Dict[int, str],
    bundle: str,
    overwrite: bool,
) -> List[str]:
    """De-identified binary DICOM SEG of the segmented frames of an XA still or cine (one file, frame-referenced).

    Thin wrapper around :func:`monai_angio.data.dicom_seg.write_dicom_seg` (``include_patient_data=False``).
    Its warnings (e.g. burned-in annotation in the source) are issued with :func:`warnings.warn` and returned.
    """
    import warnings

    from monai_angio.data.dicom_seg import write_dicom_seg as _write_dicom_seg

    res = _write_dicom_seg(path, source, labels, indices, class_names, f"monai-angio {bundle}", overwrite=overwrite)
    for w in res.warnings:
        warnings.warn(w, stacklevel=2)
    return list(res.warnings)
