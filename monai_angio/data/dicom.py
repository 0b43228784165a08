"""DICOM X-Ray Angiographic (XA) multi-frame writer with calibration tags, for synthetic cines.

The files carry the projection geometry a QCA package needs for DICOM-based calibration:
ImagerPixelSpacing (0018,1164), DistanceSourceToDetector (0018,1110), DistanceSourceToPatient (0018,1111),
EstimatedRadiographicMagnificationFactor (0018,1114), FrameTime (0018,1063), CineRate (0018,0040) and
NumberOfFrames (0028,0008). They are anonymous: PatientName ``ANONYMOUS``, no dates, generated UIDs.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Union

import numpy as np

from monai_angio.errors import AngioInputError
from monai_angio.utils import atomic_path

__all__ = ["XA_SOP_CLASS_UID", "write_dicom_xa"]

#: X-Ray Angiographic Image Storage.
XA_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.12.1"


def write_dicom_xa(
    path: Union[str, os.PathLike],
    frames: Any,
    imager_pixel_spacing_mm: Optional[float] = None,
    sid_mm: Optional[float] = None,
    sod_mm: Optional[float] = None,
    frame_time_ms: Optional[float] = None,
    bits: int = 16,
    positioner_angles_deg: Optional[tuple] = None,
    series_description: str = "monai-angio synthetic phantom",
    overwrite: bool = False,
) -> str:
    """Write frames as an uncompressed multi-frame XA DICOM file (MONOCHROME2).

    Args:
        path: destination ``.dcm``.
        frames: ``(T, H, W)`` or ``(H, W)`` float array in [0, 1], or a ``Cine`` / ``Phantom`` (geometry and
            frame time are then taken from its ``meta`` unless given explicitly).
        imager_pixel_spacing_mm: detector pixel size (mm).
        sid_mm: source-to-detector distance (mm).
        sod_mm: source-to-patient (isocentre) distance (mm).
        frame_time_ms: time between frames (ms).
        bits: 16 (12 bits stored, values 0..4095) or 8 (0..255).
        positioner_angles_deg: ``(primary, secondary)`` C-arm angles, recorded as is.
        series_description: SeriesDescription.
        overwrite: replace an existing file.

    Returns:
        the path written.
    """
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta: Dict[str, Any] = {}
    if hasattr(frames, "images"):  # Cine
        meta = dict(frames.meta)
        frame_time_ms = frame_time_ms if frame_time_ms is not None else frames.frame_time_ms
        frames = frames.images
    elif hasattr(frames, "image"):  # Phantom
        meta = dict(frames.meta)
        frames = frames.image
    geom = meta.get("geometry", {})
    imager_pixel_spacing_mm = imager_pixel_spacing_mm if imager_pixel_spacing_mm is not None else geom.get(
        "imager_spacing_mm")
    sid_mm = sid_mm if sid_mm is not None else geom.get("sid_mm")
    sod_mm = sod_mm if sod_mm is not None else geom.get("sod_mm")
    if frame_time_ms is None:
        frame_time_ms = meta.get("frame_time_ms", 66.7)
    if positioner_angles_deg is None and "positioner_primary_angle_deg" in meta:
        positioner_angles_deg = (meta["positioner_primary_angle_deg"], meta["positioner_secondary_angle_deg"])

    a = np.asarray(frames, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.size == 0:
        raise AngioInputError(f"frames must be (T, H, W) or (H, W), got shape {a.shape}", path)
    if not np.all(np.isfinite(a)):
        raise AngioInputError("frames contain NaN or Inf", path)
    if bits not in (8, 16):
        raise AngioInputError(f"bits must be 8 or 16, got {bits}", path)
    T, H, W = a.shape
    a = np.clip(a, 0.0, 1.0)
    if bits == 16:
        pix = np.round(a * 4095).astype(np.uint16)
        stored = 12
    else:
        pix = np.round(a * 255).astype(np.uint8)
        stored = 8

    sop_uid = generate_uid()
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = XA_SOP_CLASS_UID
    fm.MediaStorageSOPInstanceUID = sop_uid
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    fm.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID

    ds = Dataset()
    ds.file_meta = fm
    ds.SOPClassUID = XA_SOP_CLASS_UID
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    ds.Modality = "XA"
    ds.ImageType = ["DERIVED", "PRIMARY", "SINGLE PLANE"]
    ds.Manufacturer = "monai-angio synthetic"
    ds.SeriesDescription = series_description
    ds.PatientName = "ANONYMOUS"
    ds.PatientID = "ANONYMOUS"
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyDate = ""
    ds.StudyTime = ""
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    ds.BurnedInAnnotation = "NO"
    ds.PositionerMotion = "STATIC"
    if positioner_angles_deg is not None:
        ds.PositionerPrimaryAngle = round(float(positioner_angles_deg[0]), 4)
        ds.PositionerSecondaryAngle = round(float(positioner_angles_deg[1]), 4)
    if imager_pixel_spacing_mm is not None:
        ds.ImagerPixelSpacing = [round(float(imager_pixel_spacing_mm), 8)] * 2
    if sid_mm is not None:
        ds.DistanceSourceToDetector = round(float(sid_mm), 6)
    if sod_mm is not None:
        ds.DistanceSourceToPatient = round(float(sod_mm), 6)
    if sid_mm is not None and sod_mm is not None:
        ds.EstimatedRadiographicMagnificationFactor = round(float(sid_mm) / float(sod_mm), 8)
    ds.FrameTime = round(float(frame_time_ms), 6)
    ds.CineRate = int(round(1000.0 / float(frame_time_ms)))
    ds.RecommendedDisplayFrameRate = ds.CineRate
    ds.FrameIncrementPointer = pydicom.tag.Tag(0x0018, 0x1063)
    ds.NumberOfFrames = int(T)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = int(H)
    ds.Columns = int(W)
    ds.BitsAllocated = 16 if bits == 16 else 8
    ds.BitsStored = stored
    ds.HighBit = stored - 1
    ds.PixelRepresentation = 0
    ds.PixelIntensityRelationship = "LIN"
    ds.WindowCenter = (2 ** stored) // 2
    ds.WindowWidth = 2 ** stored
    ds.PixelData = np.ascontiguousarray(pix).tobytes()
    with atomic_path(path, overwrite=overwrite) as tmp:
        ds.save_as(tmp, enforce_file_format=True)
    return str(path)
