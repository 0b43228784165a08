"""LoadAngiogram: DICOM XA (raw and compressed), images, video and NIfTI round trips, PHI and error handling."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from PIL import Image

from monai_angio.errors import AngioInputError
from monai_angio.transforms import LoadAngiogram, LoadAngiogramd, ToRowMajor, count_frames
from tests.transforms.conftest import (
    SECRET_ID,
    SECRET_NAME,
    encapsulated_jpeg_baseline,
    encapsulated_jpeg_lossless,
    make_xa_dataset,
    save_ds,
)


def _rm(**kwargs):
    """``LoadAngiogram`` then ``ToRowMajor``: the row-major ``(T, H, W)`` a bundle's loading steps give."""
    load = LoadAngiogram(**kwargs)
    return lambda path: ToRowMajor()(load(path))


def _assert_no_phi(meta: dict) -> None:
    text = repr(meta)
    for secret in (SECRET_NAME, "Leaky", SECRET_ID, "19450102", "Secret Hospital", "Doctor", "Operator", "ACC-SECRET"):
        assert secret not in text, f"PHI {secret!r} leaked into metadata"
    # every key is one of the documented, PHI-free ones (MONAI bookkeeping keys included)
    allowed = {
        "modality", "imager_pixel_spacing", "pixel_spacing", "distance_source_to_detector",
        "distance_source_to_patient", "estimated_magnification_factor", "isocenter_spacing_mm", "frame_time_ms",
        "positioner_primary_angle", "positioner_secondary_angle", "photometric_interpretation", "num_frames",
        "filename_or_obj", "spacing", "spacing_source", "spatial_shape", "spatial_layout", "original_channel_dim",
        "original_affine", "affine", "space",
    }
    assert set(map(str, meta)) <= allowed, set(map(str, meta)) - allowed


def _assert_xa_geometry(img: MetaTensor) -> None:
    m = img.meta
    assert m["modality"] == "XA"
    np.testing.assert_allclose(m["imager_pixel_spacing"], [0.2, 0.2])
    assert m["distance_source_to_detector"] == pytest.approx(1000.0)
    assert m["distance_source_to_patient"] == pytest.approx(750.0)
    np.testing.assert_allclose(m["isocenter_spacing_mm"], [0.15, 0.15], rtol=1e-9)
    assert m["estimated_magnification_factor"] == pytest.approx(1000 / 750, abs=1e-4)
    assert m["frame_time_ms"] == pytest.approx(66.7)
    # MONAI spacing / affine follow the isocenter (in-patient) pixel size
    np.testing.assert_allclose(m["spacing"], [0.15, 0.15])
    np.testing.assert_allclose(img.pixdim[:2].cpu().numpy(), [0.15, 0.15])
    assert tuple(img.affine.shape) == (3, 3)
    _assert_no_phi(m)


@pytest.mark.parametrize("dtype_name", ["u16", "u8"])
def test_dicom_xa_multiframe_roundtrip(tmp_path, xa_frames_u16, xa_frames_u8, dtype_name):
    frames = xa_frames_u16 if dtype_name == "u16" else xa_frames_u8
    path = save_ds(make_xa_dataset(frames), tmp_path / "run.dcm")
    img = _rm()(path)
    assert isinstance(img, MetaTensor)
    assert img.shape == (5, 64, 64) and img.dtype == torch.float32
    np.testing.assert_array_equal(img.numpy(), frames.astype(np.float32))
    assert img.meta["num_frames"] == 5
    assert img.meta["filename_or_obj"] == os.fspath(path)
    _assert_xa_geometry(img)


@pytest.mark.parametrize("syntax", ["RLELossless", "JPEGLSLossless"])
def test_dicom_compressed_lossless_roundtrip(tmp_path, xa_frames_u16, syntax):
    import pydicom
    import pydicom.uid as uid
    from pydicom.pixels import get_encoder

    ts = getattr(uid, syntax)
    if not get_encoder(ts).is_available:
        pytest.skip(f"no pydicom encoder available for {syntax}")
    ds = make_xa_dataset(xa_frames_u16)
    ds.compress(ts, xa_frames_u16)
    path = save_ds(ds, tmp_path / "compressed.dcm")
    on_disk = pydicom.dcmread(path)
    assert on_disk.file_meta.TransferSyntaxUID == ts and on_disk.file_meta.TransferSyntaxUID.is_compressed
    img = _rm()(path)
    np.testing.assert_array_equal(img.numpy(), xa_frames_u16.astype(np.float32))
    _assert_xa_geometry(img)


@pytest.mark.parametrize("bits", [8, 12, 16])
def test_dicom_jpeg_lossless_sv1_roundtrip(tmp_path, bits):
    """JPEG Lossless process 14 SV1 (the usual XA transfer syntax) decodes exactly through pylibjpeg."""
    import pydicom
    from pydicom.uid import JPEGLosslessSV1

    dtype = np.uint8 if bits == 8 else np.uint16
    frames = np.random.default_rng(bits).integers(0, 2**bits, size=(5, 64, 64)).astype(dtype)
    ds = make_xa_dataset(frames)
    ds.BitsStored, ds.HighBit = bits, bits - 1
    path = save_ds(encapsulated_jpeg_lossless(ds, frames, precision=bits), tmp_path / "jpegll.dcm")
    assert pydicom.dcmread(path).file_meta.TransferSyntaxUID == JPEGLosslessSV1
    img = _rm()(path)
    np.testing.assert_array_equal(img.numpy(), frames.astype(np.float32))
    _assert_xa_geometry(img)


def test_dicom_jpeg_baseline_decodes(tmp_path, xa_frames_u8):
    ds = encapsulated_jpeg_baseline(make_xa_dataset(xa_frames_u8), xa_frames_u8, quality=95)
    path = save_ds(ds, tmp_path / "jpeg.dcm")
    img = _rm()(path)
    assert img.shape == (5, 64, 64)
    # lossy: close to the original on average, and every frame decoded separately
    assert float(np.abs(img.numpy() - xa_frames_u8).mean()) < 4.0
    # each frame decoded into its own slot (the frames differ from each other)
    np.testing.assert_allclose(img.numpy().mean(axis=(1, 2)), xa_frames_u8.mean(axis=(1, 2)), atol=2.0)


def test_dicom_single_frame_rescale_no_extension(tmp_path):
    frame = (np.arange(32 * 48, dtype=np.uint16).reshape(32, 48) % 1000).astype(np.uint16)
    ds = make_xa_dataset(frame, geometry=False, frame_time=None, rescale=(2.0, -100.0))
    path = save_ds(ds, tmp_path / "IM000001")  # DICOM files often have no extension
    img = _rm()(path)
    assert img.shape == (1, 32, 48)
    np.testing.assert_allclose(img.numpy()[0], 2.0 * frame - 100.0)
    for key in ("imager_pixel_spacing", "isocenter_spacing_mm", "frame_time_ms"):
        assert key not in img.meta
    np.testing.assert_allclose(img.meta["spacing"], [1.0, 1.0])
    assert img.meta["spacing_source"] == "unknown"
    assert count_frames(path) == 1


def test_dicom_monochrome1_is_inverted(tmp_path, xa_frames_u8):
    path = save_ds(make_xa_dataset(xa_frames_u8, photometric="MONOCHROME1"), tmp_path / "m1.dcm")
    img = _rm()(path)
    np.testing.assert_array_equal(img.numpy(), 255.0 - xa_frames_u8)
    assert img.meta["photometric_interpretation"] == "MONOCHROME1"


def test_dicom_cine_rate_fallback_and_count_frames(tmp_path, xa_frames_u8):
    ds = make_xa_dataset(xa_frames_u8, frame_time=None)
    ds.CineRate = 15
    path = save_ds(ds, tmp_path / "rate.dcm")
    assert _rm()(path).meta["frame_time_ms"] == pytest.approx(1000 / 15)
    assert count_frames(path) == 5
    # an explicit PixelSpacing wins for the MONAI spacing; the detector geometry is still reported
    ds.PixelSpacing = [0.3, 0.25]
    img = _rm()(save_ds(ds, tmp_path / "ps.dcm"))
    np.testing.assert_allclose(img.meta["pixel_spacing"], [0.3, 0.25])
    np.testing.assert_allclose(img.meta["spacing"], [0.3, 0.25])
    assert img.meta["spacing_source"] == "pixel_spacing"
    np.testing.assert_allclose(img.meta["isocenter_spacing_mm"], [0.15, 0.15])


def test_dicom_without_pixel_data(tmp_path, xa_frames_u8):
    ds = make_xa_dataset(xa_frames_u8)
    del ds.PixelData
    path = save_ds(ds, tmp_path / "nopix.dcm")
    with pytest.raises(AngioInputError, match="no pixel data") as e:
        _rm()(path)
    assert "nopix.dcm" in str(e.value)


def test_corrupt_dicom_names_file(tmp_path):
    path = tmp_path / "garbage.dcm"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(AngioInputError) as e:
        _rm()(path)
    assert str(path) in str(e.value) and e.value.filename == str(path)


def test_truncated_dicom_pixel_data(tmp_path, xa_frames_u16):
    path = save_ds(make_xa_dataset(xa_frames_u16), tmp_path / "trunc.dcm")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 3000])
    with pytest.raises(AngioInputError, match="trunc.dcm"):
        _rm()(path)


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(AngioInputError, match="file not found") as e:
        _rm()(tmp_path / "nope.png")
    assert "nope.png" in str(e.value)
    odd = tmp_path / "notes.xyz"
    odd.write_text("hello")
    with pytest.raises(AngioInputError, match="unsupported file type") as e:
        _rm()(odd)
    assert "notes.xyz" in str(e.value)
    bad_png = tmp_path / "broken.png"
    bad_png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    with pytest.raises(AngioInputError, match="broken.png"):
        _rm()(bad_png)


def test_png_8bit_16bit_rgb(tmp_path):
    rng = np.random.default_rng(3)
    a8 = rng.integers(0, 256, (40, 56), dtype=np.uint8)
    a16 = rng.integers(0, 65536, (40, 56), dtype=np.uint16)
    Image.fromarray(a8).save(tmp_path / "a8.png")
    Image.fromarray(a16).save(tmp_path / "a16.png")
    rgb = np.zeros((40, 56, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    Image.fromarray(rgb).save(tmp_path / "rgb.png")

    i8 = _rm()(tmp_path / "a8.png")
    assert i8.shape == (1, 40, 56) and i8.dtype == torch.float32
    np.testing.assert_array_equal(i8.numpy()[0], a8)
    assert i8.meta["num_frames"] == 1 and i8.meta["modality"] == "OT"
    i16 = _rm()(tmp_path / "a16.png")
    np.testing.assert_array_equal(i16.numpy()[0], a16.astype(np.float32))  # 16 bit kept, not rescaled
    assert float(i16.max()) > 255
    irgb = _rm()(tmp_path / "rgb.png")
    assert irgb.shape == (1, 40, 56)
    np.testing.assert_allclose(irgb.numpy(), 0.299 * 200 + 0.587 * 100 + 0.114 * 50, rtol=1e-6)
    # labels keep their integer type with dtype=None
    lab = _rm(dtype=None)(tmp_path / "a8.png")
    assert lab.dtype == torch.uint8
    # image_only=True gives a plain tensor
    plain = LoadAngiogram(image_only=True)(tmp_path / "a8.png")
    assert type(plain) is torch.Tensor


def test_tiff_and_jpeg(tmp_path):
    import tifffile

    a16 = (np.arange(24 * 32).reshape(24, 32) * 50).astype(np.uint16)
    tifffile.imwrite(tmp_path / "x.tif", a16)
    np.testing.assert_array_equal(_rm()(tmp_path / "x.tif").numpy()[0], a16)
    stack = np.stack([a16, a16 + 1, a16 + 2])
    tifffile.imwrite(tmp_path / "stack.tiff", stack, photometric="minisblack")
    assert _rm()(tmp_path / "stack.tiff").shape == (3, 24, 32)
    rgb = np.zeros((3, 24, 32), np.uint8)
    rgb[0], rgb[1], rgb[2] = 200, 100, 50
    tifffile.imwrite(tmp_path / "planar_rgb.tif", rgb, photometric="rgb", planarconfig="separate")
    img = _rm()(tmp_path / "planar_rgb.tif")
    assert img.shape == (1, 24, 32)
    np.testing.assert_allclose(img.numpy(), 0.299 * 200 + 0.587 * 100 + 0.114 * 50, rtol=1e-6)
    a8 = np.full((24, 32), 120, dtype=np.uint8)
    Image.fromarray(a8).save(tmp_path / "x.jpg", quality=95)
    img = _rm()(tmp_path / "x.jpg")
    assert img.shape == (1, 24, 32) and abs(float(img.mean()) - 120) < 2


def test_video_mp4(tmp_path):
    imageio = pytest.importorskip("imageio.v2")
    try:
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as e:  # pragma: no cover - depends on the platform
        pytest.skip(f"ffmpeg binary unavailable: {e}")
    # 4 flat frames with increasing grey level: robust to lossy H.264 coding
    levels = [30, 90, 150, 210]
    frames = [np.full((32, 48, 3), v, dtype=np.uint8) for v in levels]
    path = tmp_path / "cine.mp4"
    writer = imageio.get_writer(path, fps=12.5, format="FFMPEG", macro_block_size=16)
    for f in frames:
        writer.append_data(f)
    writer.close()
    img = _rm()(path)
    assert img.shape == (4, 32, 48) and img.dtype == torch.float32
    np.testing.assert_allclose(img.numpy().mean(axis=(1, 2)), levels, atol=4)
    assert img.meta["frame_time_ms"] == pytest.approx(80.0, rel=1e-3)
    assert img.meta["num_frames"] == 4


def test_nifti_cine_orientation(tmp_path):
    """NIfTI is x first (i = column, j = row, as MONAI and NIfTI viewers read it): rows first after ToRowMajor."""
    h, w, t = 20, 30, 4
    vol = np.zeros((w, h, t), dtype=np.float32)  # on disk (W, H, T)
    for k in range(t):
        vol[:, :, k] = k * 100 + np.arange(h)[None, :] + 1000 * (np.arange(w)[:, None] == 0)
    hdr_img = nib.Nifti1Image(vol, np.diag([0.25, 0.3, 66.7, 1.0]))  # column 0.25 mm, row 0.3 mm
    hdr_img.header.set_zooms((0.25, 0.3, 66.7))
    nib.save(hdr_img, tmp_path / "cine.nii.gz")
    img = _rm()(tmp_path / "cine.nii.gz")
    assert img.shape == (t, h, w)
    for k in range(t):
        np.testing.assert_array_equal(img.numpy()[k], vol[:, :, k].T)  # row r, column c = vol[c, r, k]
        assert (img.numpy()[k][:, 0] >= 1000).all()  # the marked column 0 is the first column
    assert img.meta["frame_time_ms"] == pytest.approx(66.7, rel=1e-5)
    np.testing.assert_allclose(img.meta["spacing"], [0.3, 0.25], rtol=1e-6)  # row, column
    assert img.meta["spacing_source"] == "nifti_pixdim"
    assert "pixel_spacing" not in img.meta  # NIfTI pixdim is not claimed to be a DICOM calibration
    assert count_frames(tmp_path / "cine.nii.gz") == t
    # MONAI's order straight from the loader: (T, W, H), spacing (x, y), as NibabelReader gives the array
    xy = LoadAngiogram()(tmp_path / "cine.nii.gz")
    assert xy.shape == (t, w, h) and xy.meta["spatial_layout"] == "xy"
    np.testing.assert_array_equal(xy.numpy(), np.moveaxis(vol, -1, 0))
    np.testing.assert_allclose(xy.meta["spacing"], [0.25, 0.3], rtol=1e-6)
    # a 2D NIfTI still
    nib.save(nib.Nifti1Image(vol[:, :, 0], np.eye(4)), tmp_path / "still.nii")
    assert _rm()(tmp_path / "still.nii").shape == (1, h, w)
    # wrong dimensionality
    nib.save(nib.Nifti1Image(np.zeros((4, 5, 6, 7), np.float32), np.eye(4)), tmp_path / "vol4d.nii.gz")
    with pytest.raises(AngioInputError, match="vol4d.nii.gz"):
        _rm()(tmp_path / "vol4d.nii.gz")


def test_nan_inf_rejected(tmp_path):
    vol = np.ones((8, 8, 2), dtype=np.float32)
    vol[2, 3, 1] = np.nan
    vol[0, 0, 0] = np.inf
    nib.save(nib.Nifti1Image(vol, np.eye(4)), tmp_path / "nan.nii.gz")
    with pytest.raises(AngioInputError, match=r"nan\.nii\.gz: image contains non-finite values \(1 NaN, 1 Inf\)"):
        _rm()(tmp_path / "nan.nii.gz")
    tif = tmp_path / "nan.tif"
    import tifffile

    tifffile.imwrite(tif, np.full((4, 4), np.nan, np.float32))
    with pytest.raises(AngioInputError, match="nan.tif"):
        _rm()(tif)


def test_load_dict_and_phi_free(tmp_path, xa_frames_u8):
    dcm = save_ds(make_xa_dataset(xa_frames_u8), tmp_path / "run.dcm")
    lab = np.zeros((5, 64, 64), np.uint8)
    lab[:, 10:20, 10:20] = 1
    lab[:, 30:34, :] = 2
    nib.save(nib.Nifti1Image(np.moveaxis(lab, 0, 2), np.eye(4)), tmp_path / "lab.nii.gz")
    d = LoadAngiogramd(["image", "label"], dtype=[np.float32, None])(
        {"image": str(dcm), "label": str(tmp_path / "lab.nii.gz"), "frame": 2}
    )
    assert d["frame"] == 2
    assert d["image"].shape == (5, 64, 64) and d["label"].shape == (5, 64, 64)
    assert d["label"].dtype == torch.uint8
    assert set(np.unique(d["label"].numpy())) == {0, 1, 2}
    _assert_no_phi(d["image"].meta)
    with pytest.raises(KeyError):
        LoadAngiogramd(["image", "label"])({"image": str(dcm)})
    assert "label" not in LoadAngiogramd(["image", "label"], allow_missing_keys=True)({"image": str(dcm)})


def test_meta_collates(tmp_path, xa_frames_u8):
    """The metadata (no ``None`` values) survives MONAI's list_data_collate."""
    from monai.data import list_data_collate

    paths = [save_ds(make_xa_dataset(xa_frames_u8), tmp_path / f"r{i}.dcm") for i in range(2)]
    batch = list_data_collate([{"image": _rm()(p)} for p in paths])
    assert batch["image"].shape == (2, 5, 64, 64)
    assert len(batch["image"].meta["filename_or_obj"]) == 2
    # copying a file keeps working: no absolute state in the loader
    shutil.copy(paths[0], tmp_path / "copy.dcm")
    assert _rm()(Path(tmp_path / "copy.dcm")).shape == (5, 64, 64)


@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_dicom_cine_streamed_frame_by_frame_equals_whole_decode(tmp_path, monkeypatch, photometric):
    """Multi-frame DICOM is decoded one frame at a time into float32; the values match the whole-array decode."""
    from monai_angio.transforms import readers

    frames = (np.arange(4 * 24 * 32, dtype=np.uint16).reshape(4, 24, 32) * 7 % 4096).astype(np.uint16)
    ds = make_xa_dataset(frames, photometric=photometric, rescale=(0.5, 10.0))
    ds.BitsStored = 12
    path = save_ds(ds, tmp_path / "cine.dcm")
    calls = []
    real = readers._stream_frames
    monkeypatch.setattr(readers, "_stream_frames", lambda *a: calls.append(1) or real(*a))
    streamed, _ = readers.read_dicom(path)
    assert calls and streamed.dtype == np.float32
    monkeypatch.setattr(readers, "_stream_frames", lambda *a: None)
    whole, _ = readers.read_dicom(path)
    stored = 4095.0 - frames if photometric == "MONOCHROME1" else frames.astype(np.float64)
    np.testing.assert_array_equal(streamed, whole)
    np.testing.assert_allclose(streamed, 0.5 * stored + 10.0)


def test_loader_agrees_with_monai_loadimage_on_2d_files(tmp_path):
    """LoadAngiogram gives MONAI's in-plane order for PNG, TIFF, NIfTI and DICOM; ToRowMajor(d) inverts exactly."""
    from monai.transforms import EnsureChannelFirst, LoadImage

    from monai_angio.transforms import ToRowMajord

    a = np.zeros((24, 40), np.uint8)  # H x W, with an asymmetric mark near the top-left
    a[2:5, 3:12] = 200
    Image.fromarray(a).save(tmp_path / "mark.png")
    ours = LoadAngiogram()(tmp_path / "mark.png")
    theirs = EnsureChannelFirst()(LoadImage(image_only=True)(tmp_path / "mark.png"))
    assert tuple(ours.shape) == tuple(theirs.shape) == (1, 40, 24)
    np.testing.assert_array_equal(ours.numpy(), np.asarray(theirs))
    assert ours.meta["spatial_layout"] == "xy"
    to_rm = ToRowMajord("image")
    d = to_rm({"image": ours})
    np.testing.assert_array_equal(d["image"].numpy()[0], a)
    assert d["image"].meta["spatial_layout"] == "rc"
    back = to_rm.inverse(d)["image"]
    np.testing.assert_array_equal(back.numpy(), ours.numpy())
    assert back.meta["spatial_layout"] == "xy" and not back.applied_operations
    # spacing and affine follow the axes: (x, y) in MONAI's order, (row, column) row-major
    nib.save(nib.Nifti1Image(a.T.astype(np.float32), np.diag([0.25, 0.3, 1.0, 1.0])), tmp_path / "mark.nii.gz")
    nifti = LoadAngiogram()(tmp_path / "mark.nii.gz")
    np.testing.assert_array_equal(nifti.numpy(), ours.numpy())
    np.testing.assert_allclose(nifti.meta["spacing"], [0.25, 0.3])
    np.testing.assert_allclose(np.diag(np.asarray(nifti.affine))[:2], [0.25, 0.3])
    rm = ToRowMajor()(nifti)
    np.testing.assert_allclose(rm.meta["spacing"], [0.3, 0.25])
    np.testing.assert_allclose(np.diag(np.asarray(rm.affine))[:2], [0.3, 0.25])


def test_oversized_frames_refused_from_the_header_before_decoding(tmp_path, xa_frames_u16):
    """A header that declares a 5000 x 5000 frame is refused with the size and the limit, before any pixel is
    decoded: the files below hold far fewer pixels than they declare, so decoding them would fail differently."""
    from monai_angio.transforms.readers import header_frame_size, read_angiogram

    ds = make_xa_dataset(xa_frames_u16)
    ds.Rows, ds.Columns = 5000, 5000  # PixelData stays that of the small frames
    dcm = save_ds(ds, tmp_path / "huge.dcm")
    hdr = nib.Nifti1Header()
    hdr.set_data_shape((5000, 4000, 2))
    hdr.set_data_dtype(np.uint8)
    nii = tmp_path / "huge.nii"
    with open(nii, "wb") as fh:  # header only, no data
        hdr.write_to(fh)
        fh.write(b"\0" * 4)
    assert header_frame_size(dcm) == (5000, 5000)
    assert header_frame_size(nii) == (4000, 5000)  # NIfTI is x first on disk
    for path in (dcm, nii):
        with pytest.raises(AngioInputError, match="megapixels") as e:
            read_angiogram(path)
        assert e.value.filename == str(path)
    png = tmp_path / "small.png"
    Image.fromarray(np.zeros((30, 50), np.uint8)).save(png)
    assert header_frame_size(png) == (30, 50)
    assert header_frame_size(tmp_path / "missing.png") is None


@pytest.mark.parametrize(
    "photometric, rescale, kept",
    [("MONOCHROME2", None, True), ("MONOCHROME1", None, False), ("MONOCHROME2", (2.0, -10.0), False)],
)
def test_dicom_stored_integers_kept_when_they_are_the_pixel_values(
    tmp_path, xa_frames_u16, photometric, rescale, kept
):
    """``LoadAngiogram(dtype=None)`` (every bundle's inference.json) keeps a plain 16-bit cine as uint16, half the
    memory of float32, with the same values; inverted or rescaled data still come as the float32 pixel values."""
    path = save_ds(make_xa_dataset(xa_frames_u16, photometric=photometric, rescale=rescale), tmp_path / "c.dcm")
    native = LoadAngiogram(dtype=None)(path)
    reference = LoadAngiogram()(path)
    assert native.dtype == (torch.uint16 if kept else torch.float32)
    np.testing.assert_array_equal(native.numpy().astype(np.float32), reference.numpy())
    assert native.meta["spatial_layout"] == reference.meta["spatial_layout"] == "xy"


def test_in_memory_image_as_monai_gives_it(tmp_path):
    """An image already loaded in MONAI's order (what MONAI Deploy's bundle operator hands the loader) comes out
    exactly as the file would: 2-D (x, y) -> (1, x, y), 3-D (x, y, t) -> (t, x, y), spacing from the caller."""
    rows = np.arange(24 * 40, dtype=np.uint16).reshape(24, 40) * 7  # H 24, W 40: an asymmetric frame
    png = tmp_path / "frame.png"
    Image.fromarray(rows).save(png)
    from_file = LoadAngiogram(dtype=None)(png)
    xy = MetaTensor(torch.as_tensor(rows.T.copy()),
                    meta={"spacing": np.array([0.25, 0.3]), "frame_time_ms": 66.7, "PatientName": "Doe^John"})
    mem = LoadAngiogram(dtype=None)(xy)
    assert tuple(mem.shape) == (1, 40, 24) and mem.meta["spatial_layout"] == "xy"
    np.testing.assert_array_equal(mem.numpy(), from_file.numpy())
    np.testing.assert_array_equal(ToRowMajor()(mem).numpy()[0], rows)  # row-major again for the network
    assert mem.meta["spacing"].tolist() == [0.25, 0.3] and mem.meta["spacing_source"] == "caller"
    assert mem.meta["frame_time_ms"] == 66.7 and mem.meta["num_frames"] == 1
    assert "PatientName" not in mem.meta  # only the whitelisted calibration keys of the caller's metadata
    assert LoadAngiogram()(rows.T).meta["spacing_source"] == "unknown"  # plain array: 1 mm, said so
    cine = np.stack([rows.T + i for i in range(5)], axis=-1)  # (x, y, t) as LoadImage gives a NIfTI cine
    out = LoadAngiogram()(cine)
    assert tuple(out.shape) == (5, 40, 24) and out.dtype == torch.float32
    np.testing.assert_array_equal(out[3].numpy(), (rows.T + 3).astype(np.float32))
    assert LoadAngiogram(dtype=None)(from_file) is from_file  # this loader's own output passes unchanged
    d = LoadAngiogramd(keys="image", dtype=None)({"image": xy, "model": "x"})
    assert d["model"] == "x" and tuple(d["image"].shape) == (1, 40, 24)


@pytest.mark.parametrize(
    "array, message",
    [(np.zeros((2, 3, 4, 5)), r"2-D \(x, y\) or 3-D"), (np.zeros((0, 64)), "empty"), (np.zeros((8, 64)), "at least"),
     (np.zeros((5000, 5000), np.uint8), "megapixels")],
)
def test_in_memory_image_refused_clearly(array, message):
    with pytest.raises(AngioInputError, match=message) as e:
        LoadAngiogram()(array)
    assert "in-memory image" in str(e.value)


@pytest.mark.parametrize("syntax", ["ExplicitVRLittleEndian", "RLELossless"])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_chosen_frames_of_a_dicom_cine_equal_those_of_the_whole_cine(tmp_path, xa_frames_u16, syntax, photometric):
    """``frames`` reads just those frames (in the order given), with the same values as the whole cine; the
    dictionary loader takes them from the item's ``read_frames``; an index outside the file is named."""
    import pydicom.uid as uid
    from pydicom.pixels import get_encoder

    from monai_angio.transforms import READ_FRAMES_KEY, read_dicom

    ts = getattr(uid, syntax)
    ds = make_xa_dataset(xa_frames_u16, photometric=photometric, rescale=(0.5, 10.0))
    if ts.is_compressed:
        if not get_encoder(ts).is_available:
            pytest.skip(f"no pydicom encoder available for {syntax}")
        ds.compress(ts, xa_frames_u16)
    path = save_ds(ds, tmp_path / "cine.dcm")
    whole, whole_meta = read_dicom(path)
    some, meta = read_dicom(path, frames=[4, 0, 0, 2])
    np.testing.assert_array_equal(some, whole[[4, 0, 0, 2]])
    assert meta["frame_time_ms"] == whole_meta["frame_time_ms"] and meta["imager_pixel_spacing"] is not None
    d = LoadAngiogramd("image", dtype=None)({"image": path, READ_FRAMES_KEY: [3, 1]})
    np.testing.assert_array_equal(ToRowMajor()(d["image"]).numpy(), whole[[3, 1]])
    with pytest.raises(AngioInputError, match="cine.dcm.*frame 5 requested but the file has 5"):
        read_dicom(path, frames=[1, 5])


def test_chosen_frames_of_other_formats(tmp_path):
    """A NIfTI cine or a still is read whole and the frames picked; a still has exactly one frame."""
    from monai_angio.transforms import read_angiogram

    cine = np.random.default_rng(0).integers(0, 255, (24, 32, 6)).astype(np.uint8)  # (x, y, t) as NIfTI stores
    nib.save(nib.Nifti1Image(cine, np.eye(4)), str(tmp_path / "cine.nii.gz"))
    whole, _ = read_angiogram(tmp_path / "cine.nii.gz")
    some, _ = read_angiogram(tmp_path / "cine.nii.gz", frames=[5, 1])
    np.testing.assert_array_equal(some, whole[[5, 1]])
    Image.fromarray(cine[..., 0]).save(tmp_path / "still.png")
    assert read_angiogram(tmp_path / "still.png", frames=[0])[0].shape == (1, 24, 32)
    with pytest.raises(AngioInputError, match="still.png.*frame 1 requested but the file has 1"):
        read_angiogram(tmp_path / "still.png", frames=[1])
