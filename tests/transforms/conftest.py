"""Helpers for the transforms tests: in-test DICOM XA writers (no data files are shipped)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

SECRET_NAME = "Leaky^Secret^Patient"
SECRET_ID = "SECRET-ID-4711"
XA_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.12.1"


def make_xa_dataset(
    frames: np.ndarray,
    photometric: str = "MONOCHROME2",
    geometry: bool = True,
    frame_time: Optional[float] = 66.7,
    rescale: Optional[tuple] = None,
):
    """A pydicom XA dataset with PHI that must never leak, uncompressed (Explicit VR Little Endian)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    frames = np.asarray(frames)
    multi = frames.ndim == 3
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = XA_SOP_CLASS
    fm.MediaStorageSOPInstanceUID = generate_uid()
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = fm
    ds.SOPClassUID = XA_SOP_CLASS
    ds.SOPInstanceUID = fm.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "XA"
    ds.PatientName = SECRET_NAME
    ds.PatientID = SECRET_ID
    ds.PatientBirthDate = "19450102"
    ds.InstitutionName = "Secret Hospital"
    ds.ReferringPhysicianName = "Doctor^Secret"
    ds.OperatorsName = "Operator^Secret"
    ds.AccessionNumber = "ACC-SECRET"
    ds.StudyDate = "20240101"
    ds.Rows, ds.Columns = frames.shape[-2:]
    if multi:
        ds.NumberOfFrames = frames.shape[0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    bits = 8 * frames.dtype.itemsize
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if geometry:
        ds.ImagerPixelSpacing = [0.2, 0.2]
        ds.DistanceSourceToDetector = 1000
        ds.DistanceSourceToPatient = 750
        ds.EstimatedRadiographicMagnificationFactor = round(1000 / 750, 4)
        ds.PositionerPrimaryAngle = -30
        ds.PositionerSecondaryAngle = 20
    if frame_time is not None:
        ds.FrameTime = frame_time
        if multi:
            ds.FrameIncrementPointer = 0x00181063
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
    ds.PixelData = np.ascontiguousarray(frames).tobytes()
    return ds


def save_ds(ds, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def encapsulated_jpeg_baseline(ds, frames: np.ndarray, quality: int = 95):
    """Re-encode 8-bit ``frames`` as JPEG Baseline (Pillow) and encapsulate them into ``ds``."""
    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    blobs = []
    for f in np.asarray(frames).reshape(-1, *frames.shape[-2:]):
        buf = io.BytesIO()
        Image.fromarray(f.astype(np.uint8), mode="L").save(buf, format="JPEG", quality=quality)
        blobs.append(buf.getvalue())
    ds.PixelData = encapsulate(blobs)
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.LossyImageCompression = "01"
    return ds


@pytest.fixture
def xa_frames_u16() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 4096, size=(5, 64, 64), dtype=np.uint16)


@pytest.fixture
def xa_frames_u8() -> np.ndarray:
    yy, xx = np.mgrid[0:64, 0:64]
    base = (40 + 3 * xx + yy).astype(np.int64)
    return np.stack([(base + 5 * t) % 256 for t in range(5)]).astype(np.uint8)


def encode_jpeg_lossless_sv1(frame: np.ndarray, precision: int) -> bytes:
    """Minimal JPEG Lossless (ITU T.81 process 14, predictor 1) encoder for one grey frame.

    Written for the tests only (no encoder for DICOM's most common XA transfer syntax, 1.2.840.10008.1.2.4.70,
    ships with pydicom): a single DC Huffman table giving each difference category 0..16 a 5-bit code.
    """
    x = np.asarray(frame).astype(np.int64)
    rows, cols = x.shape
    pred = np.empty_like(x)
    pred[0, 0] = 1 << (precision - 1)
    pred[0, 1:] = x[0, :-1]  # first row: left neighbour
    pred[1:, 0] = x[:-1, 0]  # first column: sample above
    pred[1:, 1:] = x[1:, :-1]  # predictor 1 (Ra) elsewhere
    diff = (x - pred) % 65536
    diff[diff >= 32768] -= 65536
    bits: list[str] = []
    for d in diff.ravel().tolist():
        ssss = 16 if d == -32768 else abs(d).bit_length()
        bits.append(format(ssss, "05b"))
        if 0 < ssss < 16:
            extra = d if d > 0 else d + (1 << ssss) - 1
            bits.append(format(extra, f"0{ssss}b"))
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)
    data = bytearray()
    for i in range(0, len(stream), 8):
        byte = int(stream[i : i + 8], 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0x00)
    counts = [0] * 16
    counts[4] = 17
    dht = bytes([0x00]) + bytes(counts) + bytes(range(17))
    sof = bytes([precision]) + rows.to_bytes(2, "big") + cols.to_bytes(2, "big") + bytes([1, 1, 0x11, 0])
    sos = bytes([1, 1, 0x00, 1, 0, 0])

    def seg(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload

    return b"\xff\xd8" + seg(0xC4, dht) + seg(0xC3, sof) + seg(0xDA, sos) + bytes(data) + b"\xff\xd9"


def encapsulated_jpeg_lossless(ds, frames: np.ndarray, precision: int):
    """Encode ``frames`` with :func:`encode_jpeg_lossless_sv1` and encapsulate them into ``ds``."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGLosslessSV1

    frames = np.asarray(frames).reshape(-1, *np.shape(frames)[-2:])
    ds.PixelData = encapsulate([encode_jpeg_lossless_sv1(f, precision) for f in frames])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1
    return ds
