"""DICOM XA multi-frame writer: calibration tags readable with pydicom, pixel data, anonymity."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from monai_angio.data import PhantomConfig, generate_cine, generate_phantom, write_dicom_xa
from monai_angio.data.dicom import XA_SOP_CLASS_UID
from monai_angio.errors import AngioInputError


def test_dicom_xa_cine_tags(tmp_path):
    cine = generate_cine(4, PhantomConfig(size=48, frame_time_ms=50.0), frames=4)
    p = write_dicom_xa(tmp_path / "c.dcm", cine)
    ds = pydicom.dcmread(p)
    g = cine.frames[0].meta["geometry"]
    assert ds.SOPClassUID == XA_SOP_CLASS_UID and ds.Modality == "XA"
    assert int(ds.NumberOfFrames) == 4 and ds.Rows == 48 and ds.Columns == 48
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert float(ds.FrameTime) == pytest.approx(50.0) and int(ds.CineRate) == 20
    assert [float(v) for v in ds.ImagerPixelSpacing] == pytest.approx([g["imager_spacing_mm"]] * 2)
    sid, sod = float(ds.DistanceSourceToDetector), float(ds.DistanceSourceToPatient)
    assert sid == pytest.approx(g["sid_mm"]) and sod == pytest.approx(g["sod_mm"])
    assert float(ds.EstimatedRadiographicMagnificationFactor) == pytest.approx(sid / sod)
    # isocentre calibration from the tags reproduces the phantom's true spacing
    assert float(ds.ImagerPixelSpacing[0]) * sod / sid == pytest.approx(cine.spacing_mm, rel=1e-6)
    assert str(ds.PatientName) == "ANONYMOUS" and ds.StudyDate == ""
    arr = ds.pixel_array
    assert arr.shape == (4, 48, 48) and arr.dtype == np.uint16 and arr.max() <= 4095
    np.testing.assert_allclose(arr / 4095.0, cine.images, atol=1 / 4095)
    with pytest.raises(FileExistsError):
        write_dicom_xa(p, cine)


def test_dicom_xa_still_8bit_and_bad_input(tmp_path):
    ph = generate_phantom(0, PhantomConfig(size=32))
    p = write_dicom_xa(tmp_path / "s.dcm", ph, bits=8, frame_time_ms=100.0)
    ds = pydicom.dcmread(p)
    assert int(ds.NumberOfFrames) == 1 and ds.BitsAllocated == 8
    assert ds.pixel_array.shape == (32, 32)
    a = write_dicom_xa(tmp_path / "a.dcm", ph)
    b = write_dicom_xa(tmp_path / "b.dcm", ph)
    assert pydicom.dcmread(a).SOPInstanceUID != pydicom.dcmread(b).SOPInstanceUID
    with pytest.raises(AngioInputError):
        write_dicom_xa(tmp_path / "x.dcm", np.full((2, 8, 8), np.nan))
    with pytest.raises(AngioInputError):
        write_dicom_xa(tmp_path / "y.dcm", np.zeros((8,)))
