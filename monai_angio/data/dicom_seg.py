"""DICOM Segmentation (SEG) writer for label maps of X-ray angiography (XA / XRF) stills and cines.

:func:`write_dicom_seg` writes ONE binary DICOM Segmentation instance (SOP Class 1.2.840.10008.5.1.4.1.1.66.4)
for the segmented frames of one source image, single- or multi-frame, with one segment per non-background
class. Every SEG frame references its source frame through the Derivation Image functional group
(Derivation Image Sequence > Source Image Sequence > Referenced SOP Instance UID + Referenced Frame Number).

XA images have no patient coordinate system (the XA IOD has no Frame of Reference module and no plane
position / orientation), so the SEG has none either: its frames are located by the pixel-for-pixel
correspondence with the referenced source frame (Spatial Locations Preserved = YES), which the Segmentation
IOD allows when the Derivation Image functional group is present. highdicom refuses to build such a SEG
for a multi-frame source without a patient coordinate system, so the object is assembled here with
pydicom (highdicom only supplies the coded segment descriptions). See ``docs/dicom_output.md``.

By default the SEG carries no patient data (``include_patient_data=False``): a de-identified header
(PS3.15 Basic Application Level Confidentiality Profile, built from a whitelist), new UIDs for study and
references, ``PatientIdentityRemoved = YES``. ``include_patient_data=True`` copies the patient and study
modules and keeps the source UIDs, for a SEG that goes back to the PACS next to its image.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from monai_angio.errors import AngioInputError
from monai_angio.utils import atomic_path

__all__ = [
    "SEG_SOP_CLASS_UID",
    "SEGMENT_CODES",
    "DicomSegResult",
    "write_dicom_seg",
]

PathLike = Union[str, os.PathLike]

#: Segmentation Storage (binary / fractional).
SEG_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.66.4"

#: Class name (lower case) -> (segmented property category, segmented property type), as
#: ``(code value, coding scheme designator, code meaning)`` triples (CID 7150 / CID 7151 / SCT).
SEGMENT_CODES: Dict[str, Tuple[Tuple[str, str, str], Tuple[str, str, str]]] = {
    "artery": (("91723000", "SCT", "Anatomical Structure"), ("41801008", "SCT", "Coronary artery")),
    "arteries": (("91723000", "SCT", "Anatomical Structure"), ("41801008", "SCT", "Coronary artery")),
    "coronary": (("91723000", "SCT", "Anatomical Structure"), ("41801008", "SCT", "Coronary artery")),
    "coronary artery": (("91723000", "SCT", "Anatomical Structure"), ("41801008", "SCT", "Coronary artery")),
    "vessel": (("91723000", "SCT", "Anatomical Structure"), ("59820001", "SCT", "Blood vessel")),
    "vessels": (("91723000", "SCT", "Anatomical Structure"), ("59820001", "SCT", "Blood vessel")),
    "catheter": (("260787004", "SCT", "Physical object"), ("19923001", "SCT", "Catheter")),
    "guidewire": (("260787004", "SCT", "Physical object"), ("272224001", "SCT", "Guide wire")),
    "guide wire": (("260787004", "SCT", "Physical object"), ("272224001", "SCT", "Guide wire")),
    "stent": (("260787004", "SCT", "Physical object"), ("65818007", "SCT", "Stent")),
}
_GENERIC_CODE = (("91723000", "SCT", "Anatomical Structure"), ("91723000", "SCT", "Anatomical Structure"))
_DISPLAY_COLORS = {"artery": "red", "arteries": "red", "coronary": "red", "coronary artery": "red",
                   "vessel": "red", "vessels": "red", "catheter": "yellow", "guidewire": "cyan",
                   "guide wire": "cyan", "stent": "green"}  # fmt: skip

# Patient, Clinical Trial Subject, General Study, Patient Study and Clinical Trial Study module attributes
# (PS3.3 C.7.1.1, C.7.1.3, C.7.2.1, C.7.2.2, C.7.2.3) copied when include_patient_data=True.
_PATIENT_STUDY_KEYWORDS = (
    # Patient
    "PatientName", "PatientID", "IssuerOfPatientID", "IssuerOfPatientIDQualifiersSequence", "TypeOfPatientID",
    "PatientBirthDate", "PatientBirthDateInAlternativeCalendar", "PatientDeathDateInAlternativeCalendar",
    "PatientAlternativeCalendar", "PatientSex", "ReferencedPatientPhotoSequence", "QualityControlSubject",
    "ReferencedPatientSequence", "PatientBirthTime", "OtherPatientIDsSequence", "OtherPatientNames",
    "EthnicGroup", "EthnicGroupCodeSequence", "PatientComments", "PatientSpeciesDescription",
    "PatientSpeciesCodeSequence", "PatientBreedDescription", "PatientBreedCodeSequence",
    "BreedRegistrationSequence", "StrainDescription", "StrainNomenclature", "StrainCodeSequence",
    "StrainAdditionalInformation", "StrainStockSequence", "GeneticModificationsSequence",
    "ResponsiblePerson", "ResponsiblePersonRole", "ResponsibleOrganization", "PatientIdentityRemoved",
    "DeidentificationMethod", "DeidentificationMethodCodeSequence", "SourcePatientGroupIdentificationSequence",
    "GroupOfPatientsIdentificationSequence",
    # Clinical Trial Subject
    "ClinicalTrialSponsorName", "ClinicalTrialProtocolID", "ClinicalTrialProtocolName", "ClinicalTrialSiteID",
    "ClinicalTrialSiteName", "ClinicalTrialSubjectID", "ClinicalTrialSubjectReadingID",
    "ClinicalTrialProtocolEthicsCommitteeName", "ClinicalTrialProtocolEthicsCommitteeApprovalNumber",
    # General Study
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName",
    "ReferringPhysicianIdentificationSequence", "ConsultingPhysicianName",
    "ConsultingPhysicianIdentificationSequence", "StudyID", "AccessionNumber", "IssuerOfAccessionNumberSequence",
    "StudyDescription", "PhysiciansOfRecord", "PhysiciansOfRecordIdentificationSequence",
    "NameOfPhysiciansReadingStudy", "PhysiciansReadingStudyIdentificationSequence",
    "RequestingServiceCodeSequence", "ReferencedStudySequence", "ProcedureCodeSequence",
    "ReasonForPerformedProcedureCodeSequence",
    # Patient Study
    "AdmittingDiagnosesDescription", "AdmittingDiagnosesCodeSequence", "PatientAge", "PatientSize",
    "PatientWeight", "PatientBodyMassIndex", "MeasuredAPDimension", "MeasuredLateralDimension",
    "PatientSizeCodeSequence", "MedicalAlerts", "Allergies", "SmokingStatus", "PregnancyStatus",
    "LastMenstrualDate", "PatientState", "Occupation", "AdditionalPatientHistory", "AdmissionID",
    "IssuerOfAdmissionIDSequence", "ServiceEpisodeID", "IssuerOfServiceEpisodeIDSequence",
    "ServiceEpisodeDescription", "PatientSexNeutered",
    # Clinical Trial Study
    "ClinicalTrialTimePointID", "ClinicalTrialTimePointDescription", "LongitudinalTemporalOffsetFromEvent",
    "LongitudinalTemporalEventType", "ConsentForClinicalTrialUseSequence",
)  # fmt: skip


@dataclass
class DicomSegResult:
    """What :func:`write_dicom_seg` wrote.

    Attributes:
        path: the SEG file.
        sop_instance_uid: SOP Instance UID of the SEG.
        study_instance_uid: Study Instance UID of the SEG (the source's, or its replacement when de-identified).
        referenced_sop_instance_uid: the source SOP Instance UID as referenced by the SEG (replaced when
            de-identified).
        n_frames: number of SEG frames (segmented source frames x segments).
        warnings: things the caller should tell the user (e.g. burned-in annotation in the source).
    """

    path: str
    sop_instance_uid: str
    study_instance_uid: str
    referenced_sop_instance_uid: str
    n_frames: int
    warnings: List[str] = field(default_factory=list)


def _code_item(code: Tuple[str, str, str]) -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code
    return item


def _uid_mapper(key: Optional[str]):
    """``uid -> new uid``: keyed SHA-256 of the UID as a ``2.25.<int>`` UID (PS3.5 B.2); random key if None."""
    secret = key.encode("utf-8") if key is not None else secrets.token_bytes(32)

    def new_uid(uid: str, kind: str) -> str:
        digest = hashlib.sha256(secret + b"\0" + kind.encode() + b"\0" + str(uid).encode()).digest()
        return "2.25." + str(int.from_bytes(digest[:16], "big") >> 1)  # < 2**127: at most 39 digits

    return new_uid


def _read_source(source: Union[PathLike, Any]) -> Tuple[Any, str]:
    import pydicom
    from pydicom.dataset import Dataset

    if isinstance(source, Dataset):
        return source, str(getattr(source, "filename", None) or "<source dataset>")
    name = str(source)
    try:
        return pydicom.dcmread(name, stop_before_pixels=True), name
    except FileNotFoundError:
        raise AngioInputError("source DICOM file not found", name) from None
    except Exception as e:  # noqa: BLE001 - pydicom raises many types for broken files
        raise AngioInputError(f"cannot read the source DICOM ({type(e).__name__}: {e})", name) from e


def _segments(
    class_names: Mapping[int, str], algorithm_name: str, version: str, warnings_out: List[str]
) -> Tuple[List[int], List[Any]]:
    import highdicom as hd
    from pydicom.sr.coding import Code

    values = sorted(int(v) for v in class_names if int(v) > 0)
    algo = hd.AlgorithmIdentificationSequence(
        name=algorithm_name[:64], family=Code("123110", "DCM", "Artificial Intelligence"), version=version[:64]
    )
    descs = []
    for number, value in enumerate(values, start=1):
        name = str(class_names[value]).strip() or f"class {value}"
        key = name.lower().replace("_", " ")
        cat, typ = SEGMENT_CODES.get(key, SEGMENT_CODES.get(key.replace(" ", ""), _GENERIC_CODE))
        if (cat, typ) == _GENERIC_CODE:
            warnings_out.append(
                f"no SNOMED code known for class '{name}'; its segment is coded as generic 'Anatomical Structure'"
            )
        color = _DISPLAY_COLORS.get(key)
        descs.append(
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=name[:64],
                segmented_property_category=Code(*cat),
                segmented_property_type=Code(*typ),
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
                algorithm_identification=algo,
                display_color=hd.color.CIELabColor.from_string(color) if color else None,
            )
        )
    return values, descs


def _pack_frames(lab: np.ndarray, frames: Sequence[tuple]) -> bytes:
    """1-bit pixel data of the binary frames ``lab[j] == value`` for ``(j, value)`` in order, packed back to back.

    PS3.5 8.1.1: the first pixel goes to the lowest bit, frames follow without padding, the whole value is padded
    to an even length. When a frame holds a whole number of bytes (rows x columns divisible by 8, e.g. 512 x 512)
    each frame is packed on its own, so that a long cine never holds all its binary frames at once.
    """
    from pydicom.pixels import pack_bits

    rows, cols = lab.shape[-2:]
    if (rows * cols) % 8 == 0:
        data = b"".join(np.packbits(lab[j] == v, bitorder="little").tobytes() for j, v in frames)
        return data + b"\x00" if len(data) % 2 else data
    return pack_bits(np.stack([lab[j] == v for j, v in frames]).astype(np.uint8), pad=True)


def write_dicom_seg(
    out_path: PathLike,
    source: Union[PathLike, Any],
    labels: np.ndarray,
    frame_indices: Sequence[int],
    class_names: Mapping[int, str],
    algorithm_name: str,
    overwrite: bool = False,
    include_patient_data: bool = False,
    deid_key: Optional[str] = None,
    series_number: int = 900,
    series_description: Optional[str] = None,
    manufacturer: str = "monai-angio",
    software_version: Optional[str] = None,
) -> DicomSegResult:
    """Write a binary DICOM Segmentation of (some frames of) an XA still or cine.

    One SEG frame per (segment, segmented source frame), ordered by segment then source frame. Each frame
    carries Segment Identification (Referenced Segment Number), Frame Content (Dimension Index Values,
    and for multi-frame sources the Temporal Position Index = rank of the source frame among the
    segmented ones) and Derivation Image (Referenced SOP Instance UID + Referenced Frame Number of the
    source frame, 1-based). Empty frames are kept, so "segmented, nothing found" stays distinguishable
    from "not segmented".

    Args:
        out_path: destination ``.dcm`` (written atomically).
        source: the source image: path or ``pydicom.Dataset`` (pixel data not needed).
        labels: ``(F, H, W)`` (or ``(H, W)``) integer label map of the segmented frames, ``H, W`` = the
            source's Rows, Columns; values ``0`` (background) or keys of ``class_names``.
        frame_indices: the 0-based source frame of each ``labels[i]`` (distinct).
        class_names: label value -> class name; every value ``> 0`` becomes one segment (numbered 1..K in
            increasing label value), even if absent from ``labels``.
        algorithm_name: name of the model/bundle, recorded in the Algorithm Identification Sequence.
        overwrite: replace an existing ``out_path``.
        include_patient_data: copy the patient and study modules of the source and reference the source by
            its own UIDs (for a SEG that goes back to the PACS). If False (default), the SEG is de-identified.
        deid_key: only when de-identifying: secret key for the UID replacement. ``None`` (default): a random
            key per call, so no two outputs can be linked. With a key, the same source study / image
            always gets the same replacement UIDs (SEGs of one study share their Study Instance UID).
        series_number: Series Number of the SEG.
        series_description: Series Description (default ``"<algorithm_name> segmentation"``).
        manufacturer: Manufacturer of the (software) equipment.
        software_version: Software Versions (default: the monai-angio version).

    Returns:
        :class:`DicomSegResult`; its ``warnings`` include one if the source declares BurnedInAnnotation YES.

    Raises:
        AngioInputError: unreadable source, or labels / frame indices / class names that do not fit it.
        FileExistsError: ``out_path`` exists and ``overwrite`` is False.
    """
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    import monai_angio

    src, src_name = _read_source(source)
    warnings_out: List[str] = []

    # ------------------------------------------------------------------ checks
    for kw in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Rows", "Columns"):
        if kw not in src or src[kw].value in (None, ""):
            raise AngioInputError(f"source has no {kw}; cannot reference it from a DICOM SEG", src_name)
    rows, cols = int(src.Rows), int(src.Columns)
    is_multiframe = "NumberOfFrames" in src and src.NumberOfFrames not in (None, "")
    n_src = int(src.NumberOfFrames) if is_multiframe else 1
    lab = np.asarray(labels)
    if lab.ndim == 2:
        lab = lab[None]
    if lab.ndim != 3 or lab.shape[0] == 0:
        raise AngioInputError(f"labels must be (F, H, W) or (H, W), got shape {np.shape(labels)}", out_path)
    if lab.shape[1:] != (rows, cols):
        raise AngioInputError(
            f"labels are {lab.shape[1]}x{lab.shape[2]} but the source is {rows}x{cols} (rows x columns)", src_name
        )
    if not (np.issubdtype(lab.dtype, np.integer) or lab.dtype == bool):
        raise AngioInputError(f"labels must be an integer label map, got dtype {lab.dtype}", out_path)
    idx = [int(i) for i in frame_indices]
    if len(idx) != lab.shape[0]:
        raise AngioInputError(f"{len(idx)} frame indices for {lab.shape[0]} label frames", out_path)
    if len(set(idx)) != len(idx):
        raise AngioInputError(f"frame indices must be distinct, got {idx}", out_path)
    bad = [i for i in idx if not 0 <= i < n_src]
    if bad:
        raise AngioInputError(f"frame indices {bad} outside the source's {n_src} frame(s)", src_name)
    values, descs = _segments(class_names, algorithm_name, software_version or monai_angio.__version__, warnings_out)
    if not values:
        raise AngioInputError("class_names has no class > 0; nothing to write as a segment", out_path)
    present = set().union(*(np.unique(f).tolist() for f in lab)) - {0}  # per frame: no sorted copy of a cine
    unknown = sorted(present - set(values))
    if unknown:
        raise AngioInputError(f"label values {unknown} are not in class_names {dict(class_names)}", out_path)
    if str(src.get("BurnedInAnnotation", "")).upper() == "YES":
        warnings_out.append(
            f"{src_name}: the source declares BurnedInAnnotation YES: its pixels may show patient data as text. "
            "The SEG masks do not copy pixel values, but overlay images made from the source (PNG/GIF) may show it"
        )

    # ------------------------------------------------------------------ identity / UIDs
    now = datetime.datetime.now()
    seg_sop_uid, seg_series_uid, dim_org_uid = generate_uid(), generate_uid(), generate_uid()
    if include_patient_data:
        study_uid = str(src.StudyInstanceUID)
        ref_series_uid, ref_sop_uid = str(src.SeriesInstanceUID), str(src.SOPInstanceUID)
    else:
        new_uid = _uid_mapper(deid_key)
        study_uid = new_uid(src.StudyInstanceUID, "study")
        ref_series_uid = new_uid(src.SeriesInstanceUID, "series")
        ref_sop_uid = new_uid(src.SOPInstanceUID, "instance")
    ref_sop_class = str(src.SOPClassUID)

    ds = Dataset()
    if include_patient_data:
        for kw in _PATIENT_STUDY_KEYWORDS:
            if kw in src:
                ds[kw] = src[kw]
        # Type 2 attributes of the Patient / General Study modules must be present, if empty
        for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                   "ReferringPhysicianName", "StudyID", "AccessionNumber"):  # fmt: skip
            if kw not in ds:
                setattr(ds, kw, "")
    else:
        ds.PatientName = "ANONYMOUS^"
        ds.PatientID = "ANONYMOUS"
        ds.PatientBirthDate = ""
        ds.PatientSex = ""
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = ["monai-angio whitelisted header", "no patient or study data", "UIDs replaced"]
        ds.DeidentificationMethodCodeSequence = [
            _code_item(("113100", "DCM", "Basic Application Confidentiality Profile")),
            _code_item(("113105", "DCM", "Clean Descriptors Option")),
        ]
        ds.StudyInstanceUID = study_uid
        ds.StudyDate = ""
        ds.StudyTime = ""
        ds.ReferringPhysicianName = ""
        ds.StudyID = ""
        ds.AccessionNumber = ""

    # ------------------------------------------------------------------ series, equipment, image
    ds.SOPClassUID = SEG_SOP_CLASS_UID
    ds.SOPInstanceUID = seg_sop_uid
    ds.Modality = "SEG"
    ds.SeriesInstanceUID = seg_series_uid
    ds.SeriesNumber = int(series_number)
    ds.SeriesDescription = (series_description or f"{algorithm_name} segmentation")[:64]
    ds.Manufacturer = manufacturer[:64]
    ds.ManufacturerModelName = algorithm_name[:64] or "monai-angio"
    ds.DeviceSerialNumber = "0"
    ds.SoftwareVersions = (software_version or monai_angio.__version__)[:64]
    ds.InstanceNumber = 1
    if include_patient_data:
        ds.ContentDate = now.strftime("%Y%m%d")
        ds.ContentTime = now.strftime("%H%M%S")
    else:
        # Type 1, but the date of writing is often the date of the examination (segmentation run in the cath lab)
        ds.ContentDate = "19000101"
        ds.ContentTime = "000000"
        ds.LongitudinalTemporalInformationModified = "REMOVED"
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.ContentLabel = "ANGIO_SEG"
    ds.ContentDescription = f"{algorithm_name}: {len(idx)} of {n_src} source frame(s)"[:64]
    ds.ContentCreatorName = ""
    ds.BurnedInAnnotation = "NO"
    # the masks are derived from the source pixels: a lossy source history carries over (PS3.3 C.7.6.1.1.5)
    ds.LossyImageCompression = "01" if str(src.get("LossyImageCompression", "00")) == "01" else "00"
    if ds.LossyImageCompression == "01":
        for kw in ("LossyImageCompressionRatio", "LossyImageCompressionMethod"):
            if kw in src:
                ds[kw] = src[kw]
    ds.PatientOrientation = src.get("PatientOrientation", "")  # projection directions, not patient data
    ds.SegmentationType = "BINARY"
    ds.SegmentsOverlap = "NO"  # one label value per pixel
    ds.SegmentSequence = descs

    # Common Instance Reference module: the source series / instance
    ref_inst = Dataset()
    ref_inst.ReferencedSOPClassUID = ref_sop_class
    ref_inst.ReferencedSOPInstanceUID = ref_sop_uid
    ref_series = Dataset()
    ref_series.SeriesInstanceUID = ref_series_uid
    ref_series.ReferencedInstanceSequence = [ref_inst]
    ds.ReferencedSeriesSequence = [ref_series]

    # Multi-frame Dimension module: segment number, then (multi-frame sources) temporal position
    dims = [(0x0062000B, 0x0062000A, "Segment Number")]
    if is_multiframe:
        dims.append((0x00209128, 0x00209111, "Temporal Position"))
    org = Dataset()
    org.DimensionOrganizationUID = dim_org_uid
    ds.DimensionOrganizationSequence = [org]
    dim_items = []
    for pointer, group, label in dims:
        item = Dataset()
        item.DimensionOrganizationUID = dim_org_uid
        item.DimensionIndexPointer = pointer
        item.FunctionalGroupPointer = group
        item.DimensionDescriptionLabel = label
        dim_items.append(item)
    ds.DimensionIndexSequence = dim_items

    # Multi-frame Functional Groups: per frame Segment Identification, Frame Content, Derivation Image
    order = np.argsort(idx, kind="stable")  # segmented frames in source order
    frames: List[tuple] = []  # (frame, value): the binary frames are made one at a time when packed
    per_frame = []
    for seg_number, value in enumerate(values, start=1):
        for rank, j in enumerate(order, start=1):
            frames.append((int(j), value))
            item = Dataset()
            seg_id = Dataset()
            seg_id.ReferencedSegmentNumber = seg_number
            item.SegmentIdentificationSequence = [seg_id]
            content = Dataset()
            if is_multiframe:
                content.TemporalPositionIndex = rank
                content.DimensionIndexValues = [seg_number, rank]
            else:
                content.DimensionIndexValues = [seg_number]
            item.FrameContentSequence = [content]
            src_item = Dataset()
            src_item.ReferencedSOPClassUID = ref_sop_class
            src_item.ReferencedSOPInstanceUID = ref_sop_uid
            if is_multiframe:
                src_item.ReferencedFrameNumber = idx[j] + 1
            src_item.PurposeOfReferenceCodeSequence = [
                _code_item(("121322", "DCM", "Source image for image processing operation"))
            ]
            src_item.SpatialLocationsPreserved = "YES"
            deriv = Dataset()
            deriv.DerivationCodeSequence = [_code_item(("113076", "DCM", "Segmentation"))]
            deriv.SourceImageSequence = [src_item]
            item.DerivationImageSequence = [deriv]
            per_frame.append(item)
    ds.SharedFunctionalGroupsSequence = [Dataset()]
    ds.PerFrameFunctionalGroupsSequence = per_frame
    ds.NumberOfFrames = len(frames)

    # Image Pixel module: 1 bit per pixel, frames packed back to back (PS3.5 8.1.1, 8.2)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = 1
    ds.BitsStored = 1
    ds.HighBit = 0
    ds.PixelRepresentation = 0
    ds.PixelData = _pack_frames(lab, frames)

    texts = [str(v) for v in (ds.PatientName, ds.SeriesDescription, ds.ContentDescription, algorithm_name)]
    texts += [str(class_names[v]) for v in values]
    if include_patient_data:
        texts += [str(el.value) for el in ds if el.VR in ("PN", "LO", "SH", "ST", "LT", "UT")]
    if any(not t.isascii() for t in texts):
        ds.SpecificCharacterSet = "ISO_IR 192"

    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = SEG_SOP_CLASS_UID
    fm.MediaStorageSOPInstanceUID = seg_sop_uid
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    fm.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = fm
    with atomic_path(out_path, overwrite=overwrite) as tmp:
        ds.save_as(str(tmp), enforce_file_format=True)
    return DicomSegResult(
        path=str(out_path),
        sop_instance_uid=seg_sop_uid,
        study_instance_uid=study_uid,
        referenced_sop_instance_uid=ref_sop_uid,
        n_frames=len(frames),
        warnings=warnings_out,
    )
