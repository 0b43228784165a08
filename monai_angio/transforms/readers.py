"""Reading angiogram files as numpy arrays: DICOM XA, still images, videos and NIfTI cines, as ``(T, H, W)``.

These readers use numpy and the file-format libraries only (pydicom, Pillow, tifffile, imageio-ffmpeg, nibabel,
each imported when its format is read), never torch or MONAI, so that tools which only need the pixels and the
calibration metadata (``monai-angio qca``, input discovery) start quickly. The MONAI transforms built on them,
:class:`~monai_angio.transforms.io.LoadAngiogram` / :class:`~monai_angio.transforms.io.LoadAngiogramd`, live in
:mod:`monai_angio.transforms.io`, which re-exports every name of this module; the metadata keys, the spacing
preference and the DICOM photometry rules are described there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from monai_angio.errors import AngioInputError
from monai_angio.transforms.limits import check_frame_size, is_oversized

__all__ = [
    "DICOM_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "NIFTI_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "rgb_to_luminance",
    "read_dicom",
    "read_image",
    "read_video",
    "read_nifti",
    "read_angiogram",
    "count_frames",
    "check_frame_indices",
    "header_frame_size",
    "is_dicom_path",
    "spacing_from_meta",
    "frame_time_from_meta",
]

DICOM_EXTENSIONS = (".dcm", ".dicom", ".dic", ".ima")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv")
NIFTI_EXTENSIONS = (".nii", ".nii.gz")
SUPPORTED_EXTENSIONS = DICOM_EXTENSIONS + IMAGE_EXTENSIONS + VIDEO_EXTENSIONS + NIFTI_EXTENSIONS

# ITU-R BT.601 luma weights (the ones PIL uses for mode "L").
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float64)

PathT = Union[str, os.PathLike]


def rgb_to_luminance(arr: np.ndarray) -> np.ndarray:
    """Convert a ``(..., 3)`` RGB or ``(..., 4)`` RGBA array to luminance ``(...)`` (BT.601 weights), float64.

    The alpha channel, if any, is ignored. The input range (8 or 16 bit) is kept.
    """
    if arr.shape[-1] not in (3, 4):
        raise ValueError(f"expected a trailing colour axis of 3 or 4, got shape {arr.shape}")
    return np.tensordot(arr[..., :3].astype(np.float64), _LUMA, axes=([-1], [0]))


def _suffix(path: PathT) -> str:
    name = os.fspath(path).lower()
    if name.endswith(".nii.gz"):
        return ".nii.gz"
    return Path(name).suffix


def _has_dicom_preamble(path: PathT) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def is_dicom_path(path: PathT) -> bool:
    """Whether ``path`` names a DICOM file: a DICOM extension, or no extension and the ``DICM`` preamble."""
    name = Path(path).name.lower()
    if name.endswith(DICOM_EXTENSIONS):
        return True
    return "." not in name and _has_dicom_preamble(path)


# --------------------------------------------------------------------------------------------- DICOM


def _float_list(value: Any) -> Optional[list[float]]:
    items = [value] if isinstance(value, (str, bytes, float, int)) or not hasattr(value, "__iter__") else list(value)
    try:
        vals = [float(v) for v in items]
    except (TypeError, ValueError):
        return None
    if not vals or not all(np.isfinite(vals)):
        return None
    if len(vals) == 1:
        vals = vals * 2
    return vals[:2]


def spacing_from_meta(meta: Mapping[str, Any]) -> Optional[list[float]]:
    """``[row_mm, col_mm]`` from a loader's ``spacing`` / ``pixel_spacing`` / ``imager_pixel_spacing``, or None."""
    for key in ("spacing", "pixel_spacing", "imager_pixel_spacing"):
        v = _float_list(meta.get(key))
        if v and len(v) >= 2 and all(x > 0 for x in v[:2]):
            return v[:2]
    return None


def frame_time_from_meta(meta: Mapping[str, Any]) -> Optional[float]:
    """``frame_time_ms`` from a loader's metadata, or None."""
    v = _float_list(meta.get("frame_time_ms"))
    return float(v[0]) if v and v[0] > 0 else None


def _float(value: Any) -> Optional[float]:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _dicom_get(ds: Any, keyword: str, *sequences: str) -> Any:
    """Attribute ``keyword`` from the top level of ``ds`` or from its (shared, first per-frame) functional groups."""
    value = ds.get(keyword, None)
    if value is not None and value != "":
        return value
    for group_kw in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        groups = ds.get(group_kw, None)
        if not groups:
            continue
        for seq_kw in sequences:
            seq = groups[0].get(seq_kw, None)
            if seq:
                value = seq[0].get(keyword, None)
                if value is not None and value != "":
                    return value
    return None


def _dicom_meta(ds: Any) -> dict[str, Any]:
    """Whitelisted, PHI-free calibration/timing metadata from a pydicom dataset."""
    meta: dict[str, Any] = {}
    modality = ds.get("Modality", None)
    meta["modality"] = str(modality) if modality else "OT"

    ips = _dicom_get(ds, "ImagerPixelSpacing", "PixelMeasuresSequence", "XAXRFFrameCharacteristicsSequence")
    ips = _float_list(ips) if ips is not None else None
    if ips is not None and all(v > 0 for v in ips):
        meta["imager_pixel_spacing"] = ips
    ps = _dicom_get(ds, "PixelSpacing", "PixelMeasuresSequence")
    ps = _float_list(ps) if ps is not None else None
    if ps is not None and all(v > 0 for v in ps):
        meta["pixel_spacing"] = ps

    sid = _float(_dicom_get(ds, "DistanceSourceToDetector", "XAXRFFrameCharacteristicsSequence"))
    sod = _float(_dicom_get(ds, "DistanceSourceToPatient", "XAXRFFrameCharacteristicsSequence"))
    emf = _float(_dicom_get(ds, "EstimatedRadiographicMagnificationFactor", "XAXRFFrameCharacteristicsSequence"))
    if sid is not None and sid > 0:
        meta["distance_source_to_detector"] = sid
    if sod is not None and sod > 0:
        meta["distance_source_to_patient"] = sod
    if emf is not None and emf > 0:
        meta["estimated_magnification_factor"] = emf
    if all(k in meta for k in ("imager_pixel_spacing", "distance_source_to_detector", "distance_source_to_patient")):
        ratio = meta["distance_source_to_patient"] / meta["distance_source_to_detector"]
        meta["isocenter_spacing_mm"] = [v * ratio for v in meta["imager_pixel_spacing"]]

    frame_time = _float(_dicom_get(ds, "FrameTime", "FrameContentSequence"))
    if frame_time is None or frame_time <= 0:
        ftv = ds.get("FrameTimeVector", None)
        if ftv is not None and len(ftv) > 1:  # first entry is 0 by definition
            frame_time = _float(np.mean([float(v) for v in list(ftv)[1:]]))
    if frame_time is None or frame_time <= 0:
        for rate_kw in ("CineRate", "RecommendedDisplayFrameRate"):
            rate = _float(ds.get(rate_kw, None))
            if rate is not None and rate > 0:
                frame_time = 1000.0 / rate
                break
    if frame_time is not None and frame_time > 0:
        meta["frame_time_ms"] = float(frame_time)

    for kw, key in (
        ("PositionerPrimaryAngle", "positioner_primary_angle"),
        ("PositionerSecondaryAngle", "positioner_secondary_angle"),
    ):
        v = _float(_dicom_get(ds, kw, "XAXRFPositionerSequence", "PositionerPositionSequence"))
        if v is not None:
            meta[key] = v
    photometric = ds.get("PhotometricInterpretation", None)
    if photometric:
        meta["photometric_interpretation"] = str(photometric)
    if str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES":
        meta["burned_in_annotation"] = True  # text (possibly patient data) drawn into the pixels
    return meta


def _storable(dtype: np.dtype) -> bool:
    """Whether pixel values of ``dtype`` are kept as stored by ``read_dicom(..., keep_integer=True)`` (8/16-bit int)."""
    return bool(np.issubdtype(dtype, np.integer) and np.dtype(dtype).itemsize <= 2)


def _stream_frames(
    ds: Any, fname: str, nframes: int, native: bool = False, frames: Optional[Sequence[int]] = None
) -> Optional[tuple[np.ndarray, np.dtype]]:
    """Decode a multi-frame grey DICOM frame by frame: (``(T, H, W)`` float32, or the stored integer type with
    ``native``; the decoded frames' dtype), or None.

    The stored pixel data (and a full array in the stored type) are never held beside the cine: a 300-frame
    512x512 16-bit cine peaks at its 315 MB of float32 (157 MB with ``native``) instead of about 630 MB; with
    ``frames`` only those frames are read from the file and decoded. Any problem (an unusual encoding, a frame
    count that does not match) returns None and the caller decodes the whole pixel data the usual way.
    """
    try:
        from pydicom.pixels import iter_pixels

        rows, cols = int(ds.Rows), int(ds.Columns)
        wanted = nframes if frames is None else len(frames)
        out: Optional[np.ndarray] = None
        k, dtype = -1, None
        for k, frame in enumerate(iter_pixels(fname, indices=None if frames is None else list(frames))):
            if k >= wanted or frame.shape != (rows, cols):
                return None
            if out is None:
                keep = native and _storable(frame.dtype)
                out = np.empty((wanted, rows, cols), dtype=frame.dtype if keep else np.float32)
            out[k] = frame
            dtype = frame.dtype
        if k + 1 != wanted or out is None:
            return None
    except Exception:  # noqa: BLE001 - fall back to the whole-array decode, which reports errors properly
        return None
    return out, np.dtype(dtype)


def read_dicom(
    path: PathT, keep_integer: bool = False, frames: Optional[Sequence[int]] = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a single- or multi-frame DICOM (XA, RF, CR, DX, SC, ...) as a float32 ``(T, H, W)`` array.

    float32 holds every stored integer up to 24 bits exactly; a 300-frame 512x512 cine costs 315 MB instead of
    the 630 MB of float64. With ``keep_integer`` the stored 8/16-bit integers are returned as they are (157 MB for
    that cine) whenever they are the pixel values already: grey ``MONOCHROME2`` without a rescale (slope 1,
    intercept 0); otherwise float32 as usual. Consumers that normalise per frame (every bundle's ``inference.json``)
    convert one frame at a time.

    Compressed transfer syntaxes (JPEG Lossless/Baseline, JPEG-LS, RLE, ...) are decoded by the pydicom
    pixel handlers (pylibjpeg, pylibjpeg-libjpeg, pyjpegls when installed). Stored values are inverted for
    ``MONOCHROME1`` and then passed through RescaleSlope/Intercept when present.

    Args:
        path: the DICOM file.
        keep_integer: return stored integers unconverted where they need no conversion (see above).
        frames: read only these frames (indices into the file's frames, in the order given): a multi-frame file
            is then decoded a window at a time without ever holding the whole cine (see
            :class:`~monai_angio.bundle.cine.CineFile`).

    Returns:
        ``(array, meta)`` where ``meta`` is the whitelisted metadata (see module docstring).

    Raises:
        AngioInputError: unreadable file, no pixel data, undecodable pixel data, unexpected shape, or a frame
            index outside the file.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    fname = os.fspath(path)
    forced = False
    try:
        ds = pydicom.dcmread(fname, defer_size="1 MB")  # large elements (pixel data) read when used
    except InvalidDicomError:
        ds = None
    except Exception as e:  # noqa: BLE001 - anything pydicom trips over is a corrupt file to the user
        raise AngioInputError(f"not a readable DICOM file ({type(e).__name__}: {e})", fname) from e
    if ds is None:
        # files without the 128-byte preamble are still valid DICOM if the dataset parses and has pixels
        forced = True
        try:
            ds = pydicom.dcmread(fname, force=True)
        except Exception as e:  # noqa: BLE001
            raise AngioInputError(f"not a DICOM file ({type(e).__name__}: {e})", fname) from e
        if "PixelData" not in ds or "Rows" not in ds:
            raise AngioInputError("not a DICOM file (no DICOM header and no pixel data found)", fname)
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise AngioInputError("DICOM file has no pixel data", fname)
    if "TransferSyntaxUID" not in ds.file_meta:
        # pydicom needs a transfer syntax to decode: assume implicit little endian (the DICOM default)
        from pydicom.uid import ImplicitVRLittleEndian

        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        forced = True
    nframes = int(_float(ds.get("NumberOfFrames", 1)) or 1)
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    slope = _float(_dicom_get(ds, "RescaleSlope", "PixelValueTransformationSequence"))
    intercept = _float(_dicom_get(ds, "RescaleIntercept", "PixelValueTransformationSequence"))
    monochrome1 = spp == 1 and str(ds.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1"
    native = (
        keep_integer
        and spp == 1
        and not monochrome1
        and slope in (None, 1.0)
        and intercept in (None, 0.0)
    )
    if frames is not None:
        frames = [int(k) for k in frames]
        check_frame_indices(frames, nframes, fname)
    streamed = _stream_frames(ds, fname, nframes, native, frames) if spp == 1 and nframes > 1 and not forced else None
    if streamed is not None:
        arr, stored = streamed
    else:
        try:
            arr = np.asarray(ds.pixel_array)
        except Exception as e:  # noqa: BLE001
            tsuid = ds.file_meta.get("TransferSyntaxUID", "unknown")
            name = getattr(tsuid, "name", str(tsuid))
            raise AngioInputError(
                f"cannot decode DICOM pixel data (transfer syntax {name}): {type(e).__name__}: {e}", fname
            ) from e
        stored = arr.dtype
    if spp > 1:
        if arr.shape[-1] != spp:
            raise AngioInputError(f"unexpected colour pixel array shape {arr.shape}", fname)
        arr = rgb_to_luminance(arr)

    if arr.ndim == 2:
        arr = arr[None]
    elif arr.ndim == 3 and (nframes == arr.shape[0] or streamed is not None):
        pass
    else:
        raise AngioInputError(f"unexpected DICOM pixel array shape {arr.shape} (NumberOfFrames={nframes})", fname)
    if frames is not None and streamed is None:  # decoded whole (single frame, an unusual encoding): keep those
        arr = arr[frames]
    if native and _storable(arr.dtype):
        return arr, _dicom_meta(ds)
    arr = np.asarray(arr, dtype=np.float32)  # in place for streamed frames; float32 is exact up to 24 bits

    if monochrome1:
        integer = np.issubdtype(stored, np.integer)
        if integer and int(ds.get("PixelRepresentation", 0)) == 1:
            np.subtract(-1.0, arr, out=arr)
        elif integer:
            np.subtract(float(2 ** int(ds.get("BitsStored", 8 * stored.itemsize)) - 1), arr, out=arr)
        else:  # float pixel data: mirror within the observed range
            np.subtract(float(arr.max()) + float(arr.min()), arr, out=arr)

    if slope is not None and slope != 1.0:
        arr *= np.float32(slope)
    if intercept is not None and intercept != 0.0:
        arr += np.float32(intercept)

    meta = _dicom_meta(ds)
    return arr, meta


# --------------------------------------------------------------------------------------------- images


def read_image(path: PathT) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a PNG / JPEG / BMP / TIFF still as ``(1, H, W)`` (multi-page TIFF: ``(T, H, W)``).

    8- and 16-bit grey values are kept as stored; RGB(A) is converted to luminance; palette images keep their
    indices (label maps saved with a palette load as labels).

    Raises:
        AngioInputError: unreadable or unsupported image.
    """
    fname = os.fspath(path)
    suffix = _suffix(fname)
    try:
        if suffix in (".tif", ".tiff"):
            import tifffile

            arr = np.asarray(tifffile.imread(fname))
            photometric = None
            with tifffile.TiffFile(fname) as tf:
                page = tf.pages[0]
                photometric = getattr(page.photometric, "name", None)
            if photometric in ("MINISWHITE",):
                info = np.iinfo(arr.dtype) if np.issubdtype(arr.dtype, np.integer) else None
                arr = (info.max + info.min - arr.astype(np.int64)) if info else (arr.max() + arr.min() - arr)
            if photometric == "RGB" or (arr.ndim == 4 and arr.shape[-1] in (3, 4)):
                if arr.shape[-1] in (3, 4):
                    arr = rgb_to_luminance(arr)
                elif arr.ndim >= 3 and arr.shape[-3] in (3, 4):  # planar (separate) RGB
                    arr = rgb_to_luminance(np.moveaxis(arr, -3, -1))
        else:
            from PIL import Image

            with Image.open(fname) as im:
                im.load()
                mode = im.mode
                if mode in ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
                    arr = rgb_to_luminance(np.asarray(im.convert("RGB")))
                elif mode in ("LA", "La", "PA"):
                    arr = np.asarray(im)[..., 0]
                elif mode == "1":
                    arr = np.asarray(im).astype(np.uint8)
                else:  # L, P, I, I;16, F
                    arr = np.asarray(im)
    except AngioInputError:
        raise
    except Exception as e:  # noqa: BLE001
        raise AngioInputError(f"cannot read image ({type(e).__name__}: {e})", fname) from e
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise AngioInputError(f"unexpected image array shape {arr.shape}", fname)
    return arr, {"modality": "OT"}


# --------------------------------------------------------------------------------------------- video


def read_video(path: PathT) -> tuple[np.ndarray, dict[str, Any]]:
    """Read an MP4 / AVI / ... video with imageio-ffmpeg as grey ``(T, H, W)`` frames (luminance, 0-255).

    Raises:
        AngioInputError: undecodable video, no frames, or no ffmpeg available.
    """
    fname = os.fspath(path)
    try:
        import imageio.v2 as iio2

        reader = iio2.get_reader(fname, format="FFMPEG")
        try:
            fps = _float(reader.get_meta_data().get("fps"))
            frames = [np.asarray(f) for f in reader]
        finally:
            reader.close()
    except Exception as e:  # noqa: BLE001
        raise AngioInputError(f"cannot decode video ({type(e).__name__}: {e})", fname) from e
    if not frames:
        raise AngioInputError("video has no frames", fname)
    arr = np.stack(frames)
    if arr.ndim == 4:
        arr = rgb_to_luminance(arr) if arr.shape[-1] in (3, 4) else arr[..., 0]
    if arr.ndim != 3:
        raise AngioInputError(f"unexpected video array shape {arr.shape}", fname)
    meta: dict[str, Any] = {"modality": "OT"}
    if fps is not None and fps > 0:
        meta["frame_time_ms"] = 1000.0 / fps
    return arr, meta


# --------------------------------------------------------------------------------------------- NIfTI


COLUMN_FIRST_DESCRIP = b"monai-angio: i=column j=row t=frame"
"""NIfTI ``descrip`` of the files monai-angio writes: x (the column) first, as NIfTI and MONAI read it."""
ROW_FIRST_DESCRIP = b"monai-angio: i=row j=column t=frame"
"""NIfTI ``descrip`` of files written rows first (monai-angio 0.1, and ``segment --nifti-row-first``)."""


def read_nifti(path: PathT) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a NIfTI angiogram stored as ``(W, H)`` or ``(W, H, T)`` (x first, design.md) as row-major ``(T, H, W)``.

    NIfTI's first index ``i`` is x, the column, as in MONAI and every NIfTI viewer, and ``j`` the row, so the
    in-plane axes are swapped to rows first. Trailing singleton axes are dropped, so ``(W, H, 1, T)`` also works.
    A file whose ``descrip`` is :data:`ROW_FIRST_DESCRIP` (written rows first by ``segment --nifti-row-first``)
    is read as written. ``pixdim[1:3]`` give the column/row spacing (MONAI ``spacing`` only: a NIfTI does not
    say whether it is the detector or the isocenter size) and, for a cine, ``pixdim[3]`` the frame time in ms
    (``frame_time_ms``).

    Raises:
        AngioInputError: unreadable file or unexpected dimensionality.
    """
    import nibabel as nib

    fname = os.fspath(path)
    try:
        img = nib.load(fname)
        arr = np.asanyarray(img.dataobj)
        zooms = [float(z) for z in img.header.get_zooms()]
    except Exception as e:  # noqa: BLE001
        raise AngioInputError(f"cannot read NIfTI ({type(e).__name__}: {e})", fname) from e
    shape = arr.shape
    while arr.ndim > 3 and 1 in arr.shape[2:]:
        axis = 2 + list(arr.shape[2:]).index(1)
        arr = np.squeeze(arr, axis=axis)
        zooms = zooms[:axis] + zooms[axis + 1 :]
    meta: dict[str, Any] = {"modality": "OT"}
    descrip = bytes(np.asarray(img.header.get("descrip", b"")).tobytes()).rstrip(b"\x00")
    if descrip == ROW_FIRST_DESCRIP:  # written rows first on purpose: read it as written
        arr = np.swapaxes(arr, 0, 1)
        zooms[:2] = zooms[1::-1]
    if arr.ndim == 2:
        arr = arr.T[None]
    elif arr.ndim == 3:
        arr = np.transpose(arr, (2, 1, 0))
        if len(zooms) > 2 and zooms[2] > 0 and arr.shape[0] > 1:
            meta["frame_time_ms"] = zooms[2]
    else:
        raise AngioInputError(f"NIfTI array of shape {shape} is not (W, H) or (W, H, T)", fname)
    if len(zooms) >= 2 and zooms[0] > 0 and zooms[1] > 0:
        meta["_nifti_spacing"] = [zooms[1], zooms[0]]  # row (j), column (i)
    return arr, meta


# --------------------------------------------------------------------------------------------- dispatch


def _reader_for(path: PathT) -> Callable[[PathT], tuple[np.ndarray, dict[str, Any]]]:
    suffix = _suffix(path)
    if suffix in DICOM_EXTENSIONS:
        return read_dicom
    if suffix in IMAGE_EXTENSIONS:
        return read_image
    if suffix in VIDEO_EXTENSIONS:
        return read_video
    if suffix in NIFTI_EXTENSIONS:
        return read_nifti
    if _has_dicom_preamble(path):  # DICOM files are often stored without extension
        return read_dicom
    raise AngioInputError(
        f"unsupported file type {suffix or '(no extension)'!r}; expected DICOM, PNG/JPEG/TIFF, MP4/AVI or NIfTI",
        os.fspath(path),
    )


def _choose_spacing(meta: Mapping[str, Any]) -> tuple[list[float], str]:
    if "pixel_spacing" in meta:
        return list(meta["pixel_spacing"]), "pixel_spacing"
    if "isocenter_spacing_mm" in meta:
        return list(meta["isocenter_spacing_mm"]), "isocenter_spacing_mm"
    if "imager_pixel_spacing" in meta and "estimated_magnification_factor" in meta:
        m = meta["estimated_magnification_factor"]
        return [v / m for v in meta["imager_pixel_spacing"]], "imager_pixel_spacing/estimated_magnification_factor"
    if "imager_pixel_spacing" in meta:
        return list(meta["imager_pixel_spacing"]), "imager_pixel_spacing"
    if "_nifti_spacing" in meta:
        return list(meta["_nifti_spacing"]), "nifti_pixdim"
    return [1.0, 1.0], "unknown"


def header_frame_size(path: PathT) -> Optional[tuple[int, int]]:
    """``(rows, columns)`` of one frame from the file's header alone (no pixel decoded), or None if it cannot tell.

    Raster images (PIL reads the header only), DICOM (``Rows`` / ``Columns``) and NIfTI (the header's shape; x
    first, so swapped) are read this way; videos and unreadable files give None (the reader then reports).
    Lets a caller refuse an oversized image before decoding it: a 20000 x 20000 PNG takes gigabytes once decoded.

    Raises:
        AngioInputError: the header declares more pixels than the imaging library agrees to open.
    """
    fname = os.fspath(path)
    suffix = _suffix(fname)
    try:
        if suffix in IMAGE_EXTENSIONS:
            import warnings

            from PIL import Image

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                try:
                    with Image.open(fname) as im:
                        return int(im.size[1]), int(im.size[0])
                except Image.DecompressionBombError as e:
                    raise AngioInputError(f"image is too large to decode safely ({e})", fname) from e
        if suffix in NIFTI_EXTENSIONS:
            import nibabel as nib

            shape = nib.load(fname).header.get_data_shape()
            return (int(shape[1]), int(shape[0])) if len(shape) >= 2 else None
        if suffix in DICOM_EXTENSIONS or (suffix not in SUPPORTED_EXTENSIONS and is_dicom_path(fname)):
            import pydicom

            ds = pydicom.dcmread(fname, stop_before_pixels=True, specific_tags=["Rows", "Columns"], force=True)
            if "Rows" in ds and "Columns" in ds:
                return int(ds.Rows), int(ds.Columns)
    except AngioInputError:
        raise
    except Exception:  # noqa: BLE001 - unreadable header: the reader says why
        return None
    return None


def _refuse_oversized(h: int, w: int, fname: str) -> None:
    if is_oversized(h, w):
        check_frame_size(h, w, fname)  # raises, naming the size and the limit


def check_frame_indices(frames: Sequence[int], nframes: int, fname: str) -> None:
    """Refuse an empty frame list or an index outside ``[0, nframes)``, naming the file.

    Raises:
        AngioInputError: no frames, or a frame the file does not have.
    """
    if len(frames) == 0:
        raise AngioInputError("no frames requested", fname)
    bad = [k for k in frames if not 0 <= k < nframes]
    if bad:
        raise AngioInputError(f"frame {bad[0]} requested but the file has {nframes} frame(s)", fname)


def read_angiogram(
    path: PathT, keep_integer: bool = False, frames: Optional[Sequence[int]] = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Read any supported angiogram file as a ``(T, H, W)`` array plus complete metadata.

    DICOM comes back as float32 (with ``keep_integer``, in its stored integer type where that is the pixel value:
    see :func:`read_dicom`), images in their stored type where it is exact (``uint8`` / ``uint16``), other
    sources as float.

    Args:
        path: DICOM, PNG/JPEG/BMP/TIFF, MP4/AVI/..., or NIfTI file.
        keep_integer: passed to :func:`read_dicom`.
        frames: only these frames (file frame indices, in the order given); a multi-frame DICOM decodes just
            those (:func:`read_dicom`), other formats are read whole and indexed.

    Returns:
        ``(array, meta)``; see the module docstring for the metadata keys.

    Raises:
        AngioInputError: missing, unsupported or corrupt file, no pixel data, wrong dimensionality, empty
            image, a frame larger than :data:`~monai_angio.transforms.validation.MAX_FRAME_PIXELS` /
            ``MAX_SIZE_PX`` (refused from the header, before decoding, where the format has one), or NaN/Inf
            values. The message names the file.
    """
    fname = os.fspath(path)
    if not os.path.exists(fname):
        raise AngioInputError("file not found", fname)
    if os.path.isdir(fname):
        raise AngioInputError("is a directory, expected an image file", fname)
    if os.path.getsize(fname) == 0:
        raise AngioInputError("file is empty", fname)
    reader = _reader_for(fname)
    size = header_frame_size(fname)
    if size is not None:  # refused before decoding
        _refuse_oversized(size[0], size[1], fname)
    if reader is read_dicom:
        arr, meta = read_dicom(fname, keep_integer=keep_integer, frames=frames)
    else:
        arr, meta = reader(fname)
    arr = np.asarray(arr)
    if frames is not None and reader is not read_dicom and arr.ndim == 3:
        frames = [int(k) for k in frames]
        check_frame_indices(frames, int(arr.shape[0]), fname)
        arr = arr[frames]
    if arr.ndim == 3:  # formats whose header does not tell (video)
        _refuse_oversized(int(arr.shape[1]), int(arr.shape[2]), fname)
    if arr.ndim != 3:
        raise AngioInputError(f"expected a (T, H, W) image, got shape {arr.shape}", fname)
    if arr.size == 0 or min(arr.shape) == 0:
        raise AngioInputError(f"image is empty (shape {arr.shape})", fname)
    if np.issubdtype(arr.dtype, np.inexact) and not np.isfinite(arr).all():
        n_nan = int(np.isnan(arr).sum())
        n_inf = int((~np.isfinite(arr)).sum()) - n_nan
        raise AngioInputError(f"image contains non-finite values ({n_nan} NaN, {n_inf} Inf)", fname)
    spacing, source = _choose_spacing(meta)
    meta.pop("_nifti_spacing", None)
    meta["num_frames"] = int(arr.shape[0])
    meta["filename_or_obj"] = fname
    meta["spacing"] = np.asarray(spacing, dtype=np.float64)
    meta["spacing_source"] = source
    meta["spatial_shape"] = np.asarray(arr.shape[1:], dtype=np.int64)
    meta["original_channel_dim"] = 0
    return arr, meta


def count_frames(path: PathT) -> int:
    """Number of frames ``T`` of an angiogram file, reading only the header where the format allows it.

    Args:
        path: any file :func:`read_angiogram` supports.

    Raises:
        AngioInputError: as :func:`read_angiogram`.
    """
    fname = os.fspath(path)
    if not os.path.exists(fname):
        raise AngioInputError("file not found", fname)
    reader = _reader_for(fname)
    if reader is read_nifti:
        import nibabel as nib

        try:
            shape = [s for s in nib.load(fname).shape]
        except Exception as e:  # noqa: BLE001
            raise AngioInputError(f"cannot read NIfTI ({type(e).__name__}: {e})", fname) from e
        shape = shape[:2] + [s for s in shape[2:] if s != 1]
        return 1 if len(shape) == 2 else int(shape[2])
    if reader is read_dicom:
        import pydicom

        try:
            ds = pydicom.dcmread(fname, stop_before_pixels=True, force=True)
            if "Rows" in ds:
                return int(_float(ds.get("NumberOfFrames", 1)) or 1)
        except Exception:  # noqa: BLE001 - fall back to a full read, which raises a proper error
            pass
    return int(read_angiogram(fname)[0].shape[0])
