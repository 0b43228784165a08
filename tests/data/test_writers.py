"""PNG / NIfTI / JSON writers: round trips, atomic refusal to overwrite, bad input."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from monai_angio.data import (
    PhantomConfig,
    generate_cine,
    generate_phantom,
    read_ground_truth,
    write_ground_truth,
    write_nifti_cine,
    write_png_image,
    write_png_label,
)
from monai_angio.errors import AngioInputError


@pytest.fixture(scope="module")
def phantom():
    return generate_phantom(1, PhantomConfig(size=64, n_stenoses=1))


def test_png_roundtrip(tmp_path, phantom):
    p16 = write_png_image(tmp_path / "img.png", phantom.image)
    a = np.asarray(Image.open(p16))
    assert a.dtype == np.uint16 and a.shape == (64, 64)
    np.testing.assert_allclose(a / 65535.0, phantom.image, atol=1 / 65535)
    p8 = write_png_image(tmp_path / "img8.png", phantom.image[None], bit_depth=8)
    b = np.asarray(Image.open(p8))
    assert b.dtype == np.uint8
    np.testing.assert_allclose(b / 255.0, phantom.image, atol=1 / 255)
    write_png_label(tmp_path / "lab.png", phantom.label)
    lab = np.asarray(Image.open(tmp_path / "lab.png"))
    assert lab.dtype == np.uint8
    np.testing.assert_array_equal(lab, phantom.label)


def test_refuse_overwrite_and_bad_input(tmp_path, phantom):
    path = tmp_path / "lab.png"
    write_png_label(path, phantom.label)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_png_label(path, np.zeros_like(phantom.label))
    assert path.read_bytes() == before
    write_png_label(path, np.zeros_like(phantom.label), overwrite=True)
    assert np.asarray(Image.open(path)).max() == 0
    assert [p.name for p in tmp_path.iterdir()] == ["lab.png"]  # no temporary files left behind
    with pytest.raises(AngioInputError, match="NaN"):
        write_png_image(tmp_path / "nan.png", np.full((8, 8), np.nan))
    with pytest.raises(AngioInputError, match="2D"):
        write_png_image(tmp_path / "bad.png", np.zeros((2, 8, 8)))
    with pytest.raises(AngioInputError):
        write_png_label(tmp_path / "neg.png", -np.ones((8, 8)))
    with pytest.raises(AngioInputError):
        write_nifti_cine(tmp_path / "e.nii.gz", np.zeros((0, 4, 4)))


def test_nifti_cine_roundtrip(tmp_path):
    cine = generate_cine(0, PhantomConfig(size=48), frames=3)
    p = write_nifti_cine(tmp_path / "c.nii.gz", cine.images, cine.spacing_mm, cine.frame_time_ms)
    img = nib.load(p)
    assert img.shape == (48, 48, 3)
    np.testing.assert_allclose(img.header.get_zooms(), (cine.spacing_mm, cine.spacing_mm, cine.frame_time_ms),
                               rtol=1e-6)
    data = np.asarray(img.dataobj)
    assert data.dtype == np.float32
    np.testing.assert_array_equal(np.transpose(data, (2, 1, 0)), cine.images)  # on disk x first: (W, H, T)
    q = write_nifti_cine(tmp_path / "l.nii.gz", cine.labels, cine.spacing_mm, cine.frame_time_ms)
    lab = np.asarray(nib.load(q).dataobj)
    assert lab.dtype == np.uint8
    np.testing.assert_array_equal(np.transpose(lab, (2, 1, 0)), cine.labels)
    # a non-square still with anisotropic spacing: (W, H) on disk, pixdim (column, row), read back row-major
    from monai_angio.transforms import read_angiogram

    img2d = np.arange(6 * 10, dtype=np.float32).reshape(6, 10)
    still = write_nifti_cine(tmp_path / "s.nii", img2d, (0.3, 0.2))
    assert nib.load(still).shape == (10, 6)
    np.testing.assert_allclose(nib.load(still).header.get_zooms()[:2], (0.2, 0.3))
    back, meta = read_angiogram(still)
    np.testing.assert_array_equal(back[0], img2d)
    np.testing.assert_allclose(meta["spacing"], (0.3, 0.2))


def test_ground_truth_json_roundtrip(tmp_path, phantom):
    p = write_ground_truth(tmp_path / "gt.json", phantom, image="images/x.png")
    raw = json.loads(open(p).read())
    assert raw["spacing_mm"] == pytest.approx(phantom.spacing_mm)
    assert raw["catheter_french"] == phantom.catheter_french and raw["image"] == "images/x.png"
    assert raw["meta"]["seed"] == 1 and "sid_mm" in raw["meta"]["geometry"]
    gt = read_ground_truth(p)
    assert [s.name for s in gt["segments"]] == [s.name for s in phantom.segments]
    for a, b in zip(gt["segments"], phantom.segments):
        np.testing.assert_allclose(a.centerline_rc, b.centerline_rc, atol=1e-4)
        np.testing.assert_allclose(a.diameter_mm, b.diameter_mm, atol=1e-4)
        assert a.is_major == b.is_major and a.is_catheter == b.is_catheter and a.parent == b.parent
    assert len(gt["stenoses"]) == len(phantom.stenoses)
    for a, b in zip(gt["stenoses"], phantom.stenoses):
        assert a.segment == b.segment and a.center_index == b.center_index
        assert a.mld_mm == pytest.approx(b.mld_mm, abs=1e-6)
    with pytest.raises(FileExistsError):
        write_ground_truth(p, phantom)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(AngioInputError, match="broken.json"):
        read_ground_truth(tmp_path / "broken.json")
