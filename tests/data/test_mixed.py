"""Mixed real / synthetic training samples (:mod:`monai_angio.data.mixed`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from monai_angio.data.mixed import (
    MixedAngioDataset,
    MixedSampleConfig,
    encode_phantom,
    encode_real_mask,
    zoom_image_and_label,
)
from monai_angio.losses import BRANCH, DEVICE, NOT_ARTERY, UNKNOWN, VESSEL


def test_encodings() -> None:
    assert encode_real_mask(np.array([[0, 255, 1]])).tolist() == [[NOT_ARTERY, 1, 1]]
    label = np.array([[0, 1, 2, 0]])
    vessel = np.array([[0, 1, 0, 1]], bool)  # the last pixel: a thin branch drawn but not labelled artery
    assert encode_phantom(label, vessel).tolist() == [[0, 1, 2, UNKNOWN]]
    # 4-class coding: the thin branch becomes a class of its own, a real vessel "major artery or branch"
    assert encode_phantom(label, vessel, branch_class=True).tolist() == [[0, 1, 2, BRANCH]]
    assert encode_real_mask(np.array([[0, 255]]), branch_class=True).tolist() == [[NOT_ARTERY, VESSEL]]


def test_device_pixels_are_coded_only_where_they_are_background() -> None:
    """A device over background becomes 7; where it crosses an artery, the catheter or a thin branch, their codes
    stay (the artery is still there under a wire)."""
    label = np.array([[0, 1, 2, 0, 0]])
    vessel = np.array([[0, 1, 0, 1, 0]], bool)
    device = np.array([[1, 1, 1, 1, 0]], bool)
    assert encode_phantom(label, vessel, device_mask=device).tolist() == [[DEVICE, 1, 2, UNKNOWN, 0]]
    assert encode_phantom(label, vessel).tolist() == [[0, 1, 2, UNKNOWN, 0]]


def test_dataset_device_code_moves_only_background_under_devices() -> None:
    """``device_code``: the same cath-lab sample, with the background under its devices coded 7 instead of 0."""
    from monai_angio.bundle.training import cathlab_config

    kw = dict(crop=128, synthetic_sizes=(128,), scale_range=(1.0, 1.0), rotate_deg=0.0, real_fraction=0.0,
              synthetic_config=cathlab_config(1.0), seed=3)
    off = MixedAngioDataset([], 4, MixedSampleConfig(**kw))
    on = MixedAngioDataset([], 4, MixedSampleConfig(device_code=True, **kw))
    moved_any = False
    for i in range(4):
        a, b = off[i], on[i]
        assert np.array_equal(a["image"].numpy(), b["image"].numpy())
        la, lb = a["label"].numpy(), b["label"].numpy()
        moved = la != lb
        assert (la[moved] == 0).all() and (lb[moved] == DEVICE).all()
        moved_any |= bool(moved.any())
    assert moved_any


def test_dataset_branch_class_codes_real_and_phantom_samples(tmp_path: Path) -> None:
    """``branch_class``: real vessel pixels are coded 6 where they were 1; phantom branches 5 where they were 4,
    with the same image drawn; nothing else moves."""
    items = _one_vessel_case(tmp_path)
    kw = dict(crop=64, real_fraction=1.0)
    off = MixedAngioDataset(items, 1, MixedSampleConfig(**kw))[0]
    on = MixedAngioDataset(items, 1, MixedSampleConfig(branch_class=True, **kw))[0]
    assert np.array_equal(off["image"].numpy(), on["image"].numpy())
    a, b = off["label"].numpy(), on["label"].numpy()
    assert (a == 1).any() and np.array_equal(b == VESSEL, a == 1) and np.array_equal(a != 1, (a == b) & (a != 1))
    kw = dict(crop=96, synthetic_sizes=(128,), scale_range=(1.0, 1.0), rotate_deg=0.0)
    a = MixedAngioDataset([], 1, MixedSampleConfig(**kw))[0]["label"].numpy()
    b = MixedAngioDataset([], 1, MixedSampleConfig(branch_class=True, **kw))[0]["label"].numpy()
    moved = a != b
    assert moved.any() and (a[moved] == UNKNOWN).all() and (b[moved] == BRANCH).all()


def test_phantom_edge_ignore_leaves_the_boundary_ring_of_wide_arteries_unknown() -> None:
    """``edge_ignore``: a 6 px wide artery keeps its 4 px core and loses its one-pixel ring to "unknown"; a 2 px
    artery (no pixel 2 px inside its edge) stays fully known; background, catheter and thin branches are unchanged."""
    label = np.zeros((16, 20), np.uint8)
    label[2:8, 2:18] = 1  # wide artery, 6 px
    label[10:12, 2:18] = 1  # narrow artery, 2 px
    label[14:16, :] = 2  # catheter
    vessel = label == 1
    vessel[13, 2:18] = True  # a thin branch, drawn but not artery
    plain = encode_phantom(label, vessel)
    t = encode_phantom(label, vessel, edge_ignore=True)
    ring = np.zeros_like(vessel)
    ring[2:8, 2:18] = True
    ring[3:7, 3:17] = False
    assert (t[ring] == UNKNOWN).all() and (t[3:7, 3:17] == 1).all()
    assert (t[10:12, 2:18] == 1).all()
    assert np.array_equal(t[~ring], plain[~ring])
    assert (t[13, 2:18] == UNKNOWN).all() and (t[14:16] == 2).all() and (t[0] == 0).all()


def test_dataset_passes_phantom_edge_ignore_on() -> None:
    kw = dict(crop=64, synthetic_sizes=(128,), scale_range=(1.0, 1.0), rotate_deg=0.0)
    off = MixedAngioDataset([], 1, MixedSampleConfig(**kw))[0]["label"].numpy()
    on = MixedAngioDataset([], 1, MixedSampleConfig(phantom_edge_ignore=True, **kw))[0]["label"].numpy()
    moved = off != on
    assert moved.any() and (off[moved] == 1).all() and (on[moved] == UNKNOWN).all()


def _one_vessel_case(folder: Path, cols: slice = slice(None)) -> list:
    """A 96 px real case (``1.png`` + ``1_gt.png``): a dark horizontal vessel in rows 40-47, ``cols``."""
    img = np.full((96, 96), 180, np.uint8)
    img[40:48, cols] = 60
    mask = np.zeros((96, 96), np.uint8)
    mask[40:48, cols] = 255
    Image.fromarray(img).save(folder / "1.png")
    Image.fromarray(mask).save(folder / "1_gt.png")
    return [{"image": str(folder / "1.png"), "label": str(folder / "1_gt.png")}]


def test_samples_real_and_synthetic(tmp_path: Path) -> None:
    items = _one_vessel_case(tmp_path)
    real = MixedAngioDataset(items, 3, MixedSampleConfig(crop=64, real_fraction=1.0))
    s = real[0]
    assert s["image"].shape == (1, 64, 64) and s["label"].shape == (1, 64, 64)
    assert 0.0 <= float(s["image"].min()) and float(s["image"].max()) <= 1.0
    assert set(np.unique(s["label"].numpy())) <= {1, NOT_ARTERY, UNKNOWN}
    again = MixedAngioDataset(items, 3, MixedSampleConfig(crop=64, real_fraction=1.0))[0]
    assert np.array_equal(again["image"].numpy(), s["image"].numpy())  # deterministic per (seed, epoch, index)
    synth = MixedAngioDataset([], 1, MixedSampleConfig(crop=64, synthetic_sizes=(128,)))[0]
    assert set(np.unique(synth["label"].numpy())) <= {0, 1, 2, UNKNOWN} and 1 in np.unique(synth["label"].numpy())


def test_flips_move_image_and_label_together(tmp_path: Path) -> None:
    """``flip_prob=1``: every sample is flipped up-down and left-right, the label with its image; ``0`` adds no
    flip (the samples of recipes without flips are unchanged)."""
    items = _one_vessel_case(tmp_path, slice(10, 70))  # an off-centre vessel: a flip moves it
    kw = dict(crop=96, real_fraction=1.0, scale_range=(1.0, 1.0), rotate_deg=0.0)
    plain = MixedAngioDataset(items, 1, MixedSampleConfig(**kw))
    flipped = MixedAngioDataset(items, 1, MixedSampleConfig(flip_prob=1.0, **kw))
    assert not any("Flip" in type(t).__name__ for t in plain.aug.transforms)
    lab0, lab1 = plain[0]["label"][0].numpy(), flipped[0]["label"][0].numpy()
    assert (lab0[40:48, 10:70] == 1).all() and (lab1[48:56, 26:86] == 1).all()
    assert (lab1 == 1).sum() == (lab0 == 1).sum()
    im1 = flipped[0]["image"][0].numpy()
    assert im1[lab1 == 1].mean() < im1[lab1 == NOT_ARTERY].mean() - 0.3  # the dark vessel moved with its label


def _centre(weights: np.ndarray) -> float:
    """Centre of mass along the last axis."""
    x = np.arange(weights.shape[-1], dtype=np.float64)
    return float((weights * x).sum() / weights.sum())


def test_zoomed_label_stays_on_its_vessel() -> None:
    """A zoomed target stays centred on the zoomed image's vessel at any zoom (plain ``"nearest"`` moved it by
    about half a pixel), and keeps the vessel's width."""
    rng = np.random.default_rng(0)
    offsets, widths = [], []
    for _ in range(60):
        zoom = float(np.exp(rng.uniform(np.log(0.7), np.log(1.5))))
        if abs(zoom - 1.0) < 0.03:
            continue
        c, w = int(rng.integers(20, 70)), int(rng.integers(2, 8))
        img = np.ones((16, 100), np.float32)
        img[:, c : c + w] = 0.0
        tgt = np.full((16, 100), NOT_ARTERY, np.uint8)
        tgt[:, c : c + w] = 1
        zi, zt = zoom_image_and_label(img, tgt, zoom)
        assert zi.shape == zt.shape == (round(16 * zoom), round(100 * zoom)) and zt.dtype == np.uint8
        assert set(np.unique(zt)) == {1, NOT_ARTERY}
        offsets.append(_centre((zt == 1)[8]) - _centre(1.0 - zi[8]))
        widths.append((zt == 1)[8].sum() - (1.0 - zi[8]).sum())
    assert abs(np.mean(offsets)) < 0.05 and np.max(np.abs(offsets)) < 0.6
    assert abs(np.mean(widths)) < 0.15
    same = zoom_image_and_label(img, tgt, 1.01)
    assert same[0] is img and same[1] is tgt


def test_real_images_use_the_configured_field_of_view_method(tmp_path: Path) -> None:
    """A real image with a 4 px black frame strip on top: the robust detector (the default, what inference runs)
    fills the strip with the field's median before sampling; the basic one (stages 1-16) leaves it black."""
    rng = np.random.default_rng(0)
    img = (150 + 20 * rng.standard_normal((96, 96))).clip(0, 255).astype(np.uint8)
    img[40:48, :] = 60
    img[:4, :] = 3
    mask = np.zeros((96, 96), np.uint8)
    mask[40:48, :] = 255
    Image.fromarray(img).save(tmp_path / "1.png")
    Image.fromarray(mask).save(tmp_path / "1_gt.png")
    items = [{"image": str(tmp_path / "1.png"), "label": str(tmp_path / "1_gt.png")}]
    assert MixedSampleConfig().fov_method == "robust"
    robust = MixedAngioDataset(items, 1, MixedSampleConfig(crop=64)).real[0][0]
    basic = MixedAngioDataset(items, 1, MixedSampleConfig(crop=64, fov_method="basic")).real[0][0]
    assert float(basic[:4].max()) == 0.0  # the strip stays the darkest thing in the image
    np.testing.assert_allclose(robust[:4], np.median(robust[10:38]), atol=0.05)  # filled with the field's median


def test_acquisition_aug_changes_images_not_labels_and_is_off_by_default(tmp_path: Path) -> None:
    """``acquisition_aug=True`` adds random acquisition shifts after the other steps: the same geometry and labels,
    other pixels on some samples; the default adds no step, so earlier recipes draw the samples they always drew."""
    items = _one_vessel_case(tmp_path)
    plain = MixedAngioDataset(items, 8, MixedSampleConfig(crop=64, real_fraction=1.0))
    shifted = MixedAngioDataset(items, 8, MixedSampleConfig(crop=64, real_fraction=1.0, acquisition_aug=True))
    assert not any("Acquisition" in type(t).__name__ for t in plain.aug.transforms)
    changed = 0
    for i in range(8):
        a, b = plain[i], shifted[i]
        assert np.array_equal(a["label"].numpy(), b["label"].numpy())
        changed += not np.allclose(a["image"].numpy(), b["image"].numpy())
    assert changed >= 2  # each step has its own probability (0.2-0.3): most of eight samples get at least one
