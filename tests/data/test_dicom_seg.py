"""DICOM SEG writer: multi-frame XA cines and stills, frame references, de-identification, dciodvfy."""

from __future__ import annotations

import shutil
import subprocess

import highdicom as hd
import numpy as np
import pydicom
import pytest

from monai_angio.data import PhantomConfig, generate_cine, write_dicom_xa
from monai_angio.data.dicom_seg import SEG_SOP_CLASS_UID, write_dicom_seg
from monai_angio.errors import AngioInputError

CLASSES = {0: "background", 1: "artery", 2: "catheter"}

#: distinctive patient / study values put into the sources; none may leak into a de-identified SEG
PHI = {
    "PatientName": "Doe^Jane",
    "PatientID": "MRN-4711-XYZ",
    "PatientBirthDate": "19610203",
    "PatientAge": "063Y",
    "AccessionNumber": "ACC98765",
    "ReferringPhysicianName": "House^Gregory",
    "StudyDescription": "Right coronary cath",
    "StudyID": "STUDY-321",
    "StudyDate": "20230415",
    "StudyTime": "101112",
    "InstitutionName": "St Elsewhere Hospital",
    "OperatorsName": "Smith^Operator",
}


def _add_phi(path, burned_in: bool = False) -> pydicom.Dataset:
    ds = pydicom.dcmread(str(path))
    for kw, v in PHI.items():
        setattr(ds, kw, v)
    ds.PatientSex = "F"
    if burned_in:
        ds.BurnedInAnnotation = "YES"
    ds.save_as(str(path), enforce_file_format=True)
    return ds


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    d = tmp_path_factory.mktemp("xa")
    cine = generate_cine(3, PhantomConfig(size=48), frames=5)
    write_dicom_xa(d / "cine.dcm", cine)
    rng = np.random.default_rng(0)
    write_dicom_xa(d / "still.dcm", rng.random((30, 44)), imager_pixel_spacing_mm=0.3)
    return {
        "cine": d / "cine.dcm",
        "cine_ds": _add_phi(d / "cine.dcm"),
        "cine_labels": cine.labels,
        "still": d / "still.dcm",
        "still_ds": _add_phi(d / "still.dcm"),
        "still_labels": rng.integers(0, 3, (30, 44)).astype(np.uint8),
    }


def _uids(ds: pydicom.Dataset):
    return [str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)]


def _referenced_frames(seg: pydicom.Dataset):
    out = []
    for item in seg.PerFrameFunctionalGroupsSequence:
        src = item.DerivationImageSequence[0].SourceImageSequence[0]
        out.append((int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber),
                    int(src.ReferencedFrameNumber) if "ReferencedFrameNumber" in src else None,
                    str(src.ReferencedSOPInstanceUID)))  # fmt: skip
    return out


def test_cine_seg_roundtrip(sources, tmp_path):
    idx = [4, 0, 2]  # unsorted on purpose
    labels = sources["cine_labels"][idx]
    assert {1, 2} <= set(np.unique(labels).tolist())
    res = write_dicom_seg(tmp_path / "seg.dcm", sources["cine"], labels, idx, CLASSES, "monai-angio test")
    assert res.n_frames == 6 and res.warnings == []

    seg = hd.seg.segread(str(tmp_path / "seg.dcm"))
    assert seg.SOPClassUID == SEG_SOP_CLASS_UID and seg.Modality == "SEG" and seg.SegmentationType == "BINARY"
    assert int(seg.NumberOfFrames) == 6 and seg.number_of_segments == 2
    assert [s.SegmentLabel for s in seg.SegmentSequence] == ["artery", "catheter"]
    assert seg.SegmentSequence[0].SegmentedPropertyTypeCodeSequence[0].CodeValue == "41801008"
    assert seg.SegmentSequence[1].SegmentedPropertyTypeCodeSequence[0].CodeValue == "19923001"
    assert (seg.Rows, seg.Columns) == labels.shape[1:]
    assert "FrameOfReferenceUID" not in seg  # XA has no patient coordinate system

    # every SEG frame references the right source frame (1-based) of the one source instance
    refs = _referenced_frames(seg)
    assert {r[2] for r in refs} == {res.referenced_sop_instance_uid}
    expected = [(s, f + 1) for s in (1, 2) for f in sorted(idx)]
    assert [(s, f) for s, f, _ in refs] == expected
    px = seg.pixel_array  # (frames, H, W), frame order of the file
    for k, (s, f) in enumerate(expected):
        np.testing.assert_array_equal(px[k], sources["cine_labels"][f - 1] == s)
    # highdicom's own frame lookup gives back the label maps
    got = seg.get_pixels_by_source_frame(
        res.referenced_sop_instance_uid, [f + 1 for f in idx], combine_segments=True
    )
    np.testing.assert_array_equal(got, labels)


def test_still_seg_roundtrip(sources, tmp_path):
    lab = sources["still_labels"]
    res = write_dicom_seg(tmp_path / "still_seg.dcm", sources["still"], lab, [0], CLASSES, "monai-angio test")
    seg = hd.seg.segread(str(tmp_path / "still_seg.dcm"))
    assert int(seg.NumberOfFrames) == 2 and (seg.Rows, seg.Columns) == (30, 44)
    # write_dicom_xa writes NumberOfFrames even for one frame: the frame is referenced as frame 1
    assert [(s, f) for s, f, _ in _referenced_frames(seg)] == [(1, 1), (2, 1)]
    got = seg.get_pixels_by_source_frame(res.referenced_sop_instance_uid, [1], combine_segments=True)
    np.testing.assert_array_equal(got[0], lab)


def test_single_frame_source_without_number_of_frames(sources, tmp_path):
    ds = pydicom.dcmread(str(sources["still"]))
    del ds.NumberOfFrames
    del ds.FrameIncrementPointer
    lab = sources["still_labels"]
    res = write_dicom_seg(tmp_path / "s.dcm", ds, lab[None], [0], CLASSES, "t", include_patient_data=True)
    seg = hd.seg.segread(res.path)
    assert [(s, f) for s, f, _ in _referenced_frames(seg)] == [(1, None), (2, None)]
    np.testing.assert_array_equal(seg.pixel_array[1], lab == 2)
    assert res.referenced_sop_instance_uid == ds.SOPInstanceUID


def test_no_patient_data_by_default(sources, tmp_path):
    src = sources["cine_ds"]
    res = write_dicom_seg(tmp_path / "seg.dcm", sources["cine"], sources["cine_labels"][:2], [0, 1], CLASSES, "t")
    raw = (tmp_path / "seg.dcm").read_bytes()
    for kw, v in PHI.items():
        assert v.encode() not in raw, f"{kw} leaked into the SEG"
    for uid in _uids(src):
        assert uid.encode() not in raw, "a source UID leaked into the SEG"
    seg = pydicom.dcmread(str(tmp_path / "seg.dcm"))
    assert seg.PatientIdentityRemoved == "YES" and seg.DeidentificationMethod
    assert seg.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert seg.PatientSex == "" and seg.PatientBirthDate == "" and seg.StudyDate == ""
    assert str(seg.PatientID) == "ANONYMOUS"
    assert seg.ContentDate == "19000101" and seg.LongitudinalTemporalInformationModified == "REMOVED"
    assert seg.StudyInstanceUID == res.study_instance_uid != src.StudyInstanceUID
    ref = seg.ReferencedSeriesSequence[0]
    assert ref.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == res.referenced_sop_instance_uid
    assert ref.SeriesInstanceUID != src.SeriesInstanceUID


def test_include_patient_data(sources, tmp_path):
    src = sources["cine_ds"]
    res = write_dicom_seg(tmp_path / "seg.dcm", sources["cine"], sources["cine_labels"][:1], [3], CLASSES, "t",
                          include_patient_data=True)  # fmt: skip
    raw = (tmp_path / "seg.dcm").read_bytes()
    for kw in ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "ReferringPhysicianName",
               "StudyDescription", "StudyID"):  # fmt: skip
        assert PHI[kw].encode() in raw, kw
    seg = hd.seg.segread(str(tmp_path / "seg.dcm"))
    assert str(seg.PatientName) == "Doe^Jane" and seg.PatientSex == "F" and seg.PatientAge == "063Y"
    assert "PatientIdentityRemoved" not in seg and seg.ContentDate != "19000101"
    assert seg.StudyInstanceUID == src.StudyInstanceUID == res.study_instance_uid
    assert (src.StudyInstanceUID, src.SeriesInstanceUID, src.SOPInstanceUID) in seg.get_source_image_uids()
    assert _referenced_frames(seg)[0][1:] == (4, src.SOPInstanceUID)
    # the SEG is a new series / instance; the operator and institution of the XA are not the SEG's
    assert seg.SeriesInstanceUID != src.SeriesInstanceUID and seg.SOPInstanceUID != src.SOPInstanceUID
    assert b"St Elsewhere" not in raw and b"Smith^Operator" not in raw


def test_deid_key_links_outputs_of_one_study(sources, tmp_path):
    args = (sources["cine_labels"][:1], [0], CLASSES, "t")
    a = write_dicom_seg(tmp_path / "a.dcm", sources["cine"], *args, deid_key="s3cret")
    b = write_dicom_seg(tmp_path / "b.dcm", sources["cine"], *args, deid_key="s3cret")
    c = write_dicom_seg(tmp_path / "c.dcm", sources["cine"], *args)
    d = write_dicom_seg(tmp_path / "d.dcm", sources["cine"], *args)
    assert a.study_instance_uid == b.study_instance_uid
    assert a.referenced_sop_instance_uid == b.referenced_sop_instance_uid
    assert a.sop_instance_uid != b.sop_instance_uid  # two SEGs are two instances
    assert c.study_instance_uid != d.study_instance_uid != a.study_instance_uid
    for r in (a, c):
        assert r.study_instance_uid.startswith("2.25.") and len(r.study_instance_uid) <= 64


def test_burned_in_annotation_warning(sources, tmp_path):
    ds = pydicom.dcmread(str(sources["still"]))
    ds.BurnedInAnnotation = "YES"
    res = write_dicom_seg(tmp_path / "seg.dcm", ds, sources["still_labels"], [0], CLASSES, "t")
    assert len(res.warnings) == 1 and "BurnedInAnnotation" in res.warnings[0]
    assert pydicom.dcmread(res.path).BurnedInAnnotation == "NO"  # the masks carry no text


def test_lossy_source_history_carries_over(sources, tmp_path):
    ds = pydicom.dcmread(str(sources["still"]))
    ds.LossyImageCompression, ds.LossyImageCompressionRatio, ds.LossyImageCompressionMethod = "01", 8, "ISO_10918_1"
    seg = pydicom.dcmread(write_dicom_seg(tmp_path / "s.dcm", ds, sources["still_labels"], [0], CLASSES, "t").path)
    assert seg.LossyImageCompression == "01" and seg.LossyImageCompressionMethod == "ISO_10918_1"
    seg = pydicom.dcmread(write_dicom_seg(tmp_path / "t.dcm", sources["still"], sources["still_labels"], [0],
                                          CLASSES, "t").path)  # fmt: skip
    assert seg.LossyImageCompression == "00"


def test_non_ascii_and_uncoded_class_names(sources, tmp_path):
    ds = pydicom.dcmread(str(sources["still"]))
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Müller^Jörg"
    res = write_dicom_seg(tmp_path / "seg.dcm", ds, sources["still_labels"], [0], {1: "artère", 2: "catheter"}, "t",
                          include_patient_data=True)  # fmt: skip
    assert any("artère" in w for w in res.warnings)  # no SNOMED code known: generic code + warning
    seg = pydicom.dcmread(res.path)
    assert seg.SpecificCharacterSet == "ISO_IR 192" and str(seg.PatientName) == "Müller^Jörg"
    assert seg.SegmentSequence[0].SegmentLabel == "artère"


def test_errors_name_the_file(sources, tmp_path):
    lab = sources["cine_labels"][:2]
    out = tmp_path / "seg.dcm"
    with pytest.raises(AngioInputError, match="cine.dcm.*source is 48x48"):
        write_dicom_seg(out, sources["cine"], lab[:, :40], [0, 1], CLASSES, "t")
    with pytest.raises(AngioInputError, match=r"cine.dcm.*\[7\] outside"):
        write_dicom_seg(out, sources["cine"], lab, [0, 7], CLASSES, "t")
    with pytest.raises(AngioInputError, match="distinct"):
        write_dicom_seg(out, sources["cine"], lab, [1, 1], CLASSES, "t")
    with pytest.raises(AngioInputError, match="2 frame indices for 1"):
        write_dicom_seg(out, sources["cine"], lab[:1], [0, 1], CLASSES, "t")
    with pytest.raises(AngioInputError, match=r"label values \[2\]"):
        write_dicom_seg(out, sources["cine"], lab, [0, 1], {1: "artery"}, "t")
    with pytest.raises(AngioInputError, match="missing.dcm.*not found"):
        write_dicom_seg(out, tmp_path / "missing.dcm", lab, [0, 1], CLASSES, "t")
    assert not out.exists()
    write_dicom_seg(out, sources["cine"], lab, [0, 1], CLASSES, "t")
    with pytest.raises(FileExistsError, match="seg.dcm"):
        write_dicom_seg(out, sources["cine"], lab, [0, 1], CLASSES, "t")
    write_dicom_seg(out, sources["cine"], lab, [0, 1], CLASSES, "t", overwrite=True)


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")
@pytest.mark.parametrize("case", ["cine", "cine_phi", "still"])
def test_dciodvfy_has_no_errors(sources, tmp_path, case):
    src = sources["still" if case == "still" else "cine"]
    lab = sources["still_labels"] if case == "still" else sources["cine_labels"][[1, 3]]
    idx = [0] if case == "still" else [1, 3]
    out = tmp_path / "seg.dcm"
    write_dicom_seg(out, src, lab, idx, CLASSES, "monai-angio test", include_patient_data=case == "cine_phi")
    proc = subprocess.run(["dciodvfy", str(out)], capture_output=True, text=True, timeout=60)
    report = proc.stdout + proc.stderr
    assert "Segmentation" in report, report
    errors = [line for line in report.splitlines() if line.startswith("Error")]
    assert not errors, report


@pytest.mark.parametrize("shape", [(3, 16, 24), (3, 5, 7)])
def test_frames_packed_one_at_a_time_match_whole_packing(shape):
    """Per-frame 1-bit packing (byte-aligned frames) gives the bytes of packing all binary frames at once."""
    from pydicom.pixels import pack_bits

    from monai_angio.data.dicom_seg import _pack_frames

    lab = np.random.default_rng(0).integers(0, 3, size=shape).astype(np.uint8)
    frames = [(j, v) for v in (1, 2) for j in (2, 0, 1)]
    whole = pack_bits(np.stack([lab[j] == v for j, v in frames]).astype(np.uint8), pad=True)
    assert _pack_frames(lab, frames) == whole
