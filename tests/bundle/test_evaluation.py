"""Tests of :mod:`monai_angio.bundle.evaluation` (the engine of ``monai-angio evaluate``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_angio.bundle.evaluation import evaluate_real, image_metrics, order_cases, zoom_case
from monai_angio.data import write_png_image


class _Oracle:
    """Returns the vessel mask of the case it is given (looked up by its image), so every Dice is known."""

    name, weights, min_component_size = "oracle", None, 0

    def __init__(self, masks):
        self.masks = masks

    def predict(self, frames: np.ndarray) -> np.ndarray:
        for img, m in self.masks:
            if np.allclose(frames[0], img, atol=1e-3):
                return m[None].astype(np.uint8)
        raise AssertionError("unknown image")


def _folder(tmp_path: Path):
    rng = np.random.default_rng(0)
    pairs = []
    for n, w in ((1, 2), (2, 4), (3, 6)):
        img = np.full((48, 48), 0.8, np.float32) + rng.normal(0, 0.01, (48, 48)).astype(np.float32)
        mask = np.zeros((48, 48), bool)
        mask[10:10 + w, 4:44] = True
        img[mask] = 0.3
        write_png_image(tmp_path / f"{n}.png", img, bit_depth=16)
        Image.fromarray((mask * 255).astype(np.uint8)).save(tmp_path / f"{n}_gt.png")
        pairs.append((n, mask))
    return pairs


def test_writer_gets_best_median_worst_and_no_writer_writes_no_sheet(tmp_path: Path) -> None:
    from monai_angio.data import read_gray

    pairs = _folder(tmp_path / "data")
    # the "model" halves the vessel of case 1, keeps case 2, and adds a stripe to case 3
    preds = []
    for n, m in pairs:
        p = m.copy()
        if n == 1:
            p[10, :] = False
        if n == 3:
            p[30:33, 4:44] = True
        preds.append((read_gray(tmp_path / "data" / f"{n}.png"), p))
    calls = []

    def writer(path, panels, title="", overwrite=False):
        calls.append([(p["name"], p["row"]["case"]) for p in panels])
        Path(path).write_bytes(b"png")

    res = evaluate_real(tmp_path / "data", tmp_path / "o1", model=_Oracle(preds), contact_sheet_writer=writer, log=None)
    dice = {r["case"]: r["model_dice"] for r in res["rows"]}
    assert dice["2"] == pytest.approx(1.0) and dice["1"] == pytest.approx(2 / 3) and dice["3"] == pytest.approx(12 / 15)
    assert calls == [[("best", "2"), ("median", "3"), ("worst", "1")]]
    assert res["outputs"]["contact_sheet"].read_bytes() == b"png"
    res = evaluate_real(tmp_path / "data", tmp_path / "o2", model=_Oracle(preds), log=None)
    assert "contact_sheet" not in res["outputs"] and not (tmp_path / "o2" / "contact_sheet.png").exists()
    assert order_cases(res["rows"])["worst"]["case"] == "1"


def test_image_metrics_by_hand() -> None:
    truth = np.zeros((20, 20), bool)
    truth[5:9, 2:18] = True  # 64 px
    pred = truth.copy()
    pred[5, :] = False  # 48 px kept
    m = image_metrics(pred, truth)
    assert m["precision"] == pytest.approx(1.0) and m["recall"] == pytest.approx(48 / 64)
    assert m["dice"] == pytest.approx(2 * 48 / (48 + 64)) and m["px"] == 48 and m["components"] == 1
    assert m["width_excess_px"] < 0  # narrower than the truth


def test_zoom_case_keeps_the_mask_on_its_vessel() -> None:
    img = np.ones((30, 40), np.float32)
    mask = np.zeros((30, 40), bool)
    img[10:14, 5:35] = 0.2  # a dark horizontal vessel, rows 10-13
    mask[10:14, 5:35] = True
    zi, zm = zoom_case(img, mask, 512 / 300)
    assert zi.shape == zm.shape == (51, 68) and zm.dtype == bool
    assert 0.2 <= zi.min() and zi.max() <= 1.0  # clipped to the input's range (no bicubic overshoot)
    rows = np.nonzero(zm[:, 34])[0]
    z = 51 / 30
    centre = (11.5 + 0.5) * z - 0.5  # pixel-centred mapping of the vessel's centre row
    assert abs(rows.mean() - centre) < 0.5 and abs(len(rows) - 4 * z) <= 1
    dark = 1.0 - zi[:, 34]
    assert abs((dark * np.arange(51)).sum() / dark.sum() - centre) < 0.1  # the image's vessel is where the mask is
    assert zm.sum() == pytest.approx(mask.sum() * z * (68 / 40), rel=0.1)


def test_arcade_json_is_scored_against_its_filled_polygons_and_leaves_no_masks(tmp_path: Path) -> None:
    import json
    import tempfile

    split = tmp_path / "syntax" / "test"
    (split / "images").mkdir(parents=True)
    (split / "annotations").mkdir()
    img = np.full((32, 40), 0.8, np.float32)
    img[8:12, 4:36] = 0.2
    write_png_image(split / "images" / "7.png", img, bit_depth=8)
    coco = {
        "images": [{"id": 70, "file_name": "7.png", "height": 32, "width": 40}],
        "annotations": [  # two SYNTAX segments covering the dark band: x 4..20 and 20..36, y 8..12
            {"id": 1, "image_id": 70, "category_id": 1, "segmentation": [[4, 8, 20, 8, 20, 12, 4, 12]]},
            {"id": 2, "image_id": 70, "category_id": 2, "segmentation": [[20, 8, 36, 8, 36, 12, 20, 12]]},
        ],
    }
    ann = split / "annotations" / "test.json"
    ann.write_text(json.dumps(coco))

    class Dark:
        name, weights, min_component_size = "dark", None, 0

        def predict(self, frames):
            return (frames < frames.mean()).astype(np.uint8)  # the dark band

    before = set(Path(tempfile.gettempdir()).glob("monai_angio_arcade_*"))
    res = evaluate_real(ann, tmp_path / "out", model=Dark(), layout="arcade", log=None)
    row = res["rows"][0]
    assert row["case"] == "7" and row["gt_px"] == 4 * 32 and row["model_dice"] == pytest.approx(1.0)
    assert res["summary"]["config"]["layout"] == "arcade"
    assert set(Path(tempfile.gettempdir()).glob("monai_angio_arcade_*")) == before  # temporary masks removed
    assert sorted(p.name for p in split.rglob("*")) == ["7.png", "annotations", "images", "test.json"]
    with pytest.raises(Exception, match="layout must be one of"):
        evaluate_real(ann, tmp_path / "o2", model=Dark(), layout="coco", log=None)


def test_appearance_shift_reaches_the_model_and_is_recorded(tmp_path: Path) -> None:
    from monai_angio.data import read_gray
    from monai_angio.errors import AngioInputError
    from monai_angio.transforms import AcquisitionShift

    _folder(tmp_path / "data")
    seen = []

    class _Recorder:
        name, weights, min_component_size = "recorder", None, 0

        def predict(self, frames: np.ndarray) -> np.ndarray:
            seen.append(frames[0].copy())
            return np.zeros(frames.shape, np.uint8)

    res = evaluate_real(tmp_path / "data", tmp_path / "o", model=_Recorder(), ids=["2"], appearance="gamma=2",
                        log=None)
    expected = AcquisitionShift(gamma=2.0)(read_gray(tmp_path / "data" / "2.png"))
    np.testing.assert_allclose(seen[0], expected, rtol=1e-6)
    assert res["summary"]["config"]["appearance"] == "gamma=2" and "appearance gamma=2" in res["table"]
    res = evaluate_real(tmp_path / "data", tmp_path / "o2", model=_Recorder(), ids=["2"], log=None)
    np.testing.assert_array_equal(seen[1], read_gray(tmp_path / "data" / "2.png"))
    assert res["summary"]["config"]["appearance"] == "none"
    with pytest.raises(AngioInputError, match="unknown parameter 'gama'"):
        evaluate_real(tmp_path / "data", tmp_path / "o3", model=_Recorder(), appearance="gama=2", log=None)


def test_rows_carry_what_the_preprocessing_measured(tmp_path: Path) -> None:
    """``noise_sigma`` (largest) and ``vessel_polarity`` (lowest) of the model's diagnostics reach every row; a model
    that measures nothing leaves them empty."""
    from monai_angio.data import read_gray

    pairs = _folder(tmp_path / "data")
    preds = [(read_gray(tmp_path / "data" / f"{n}.png"), m) for n, m in pairs]

    class Measuring(_Oracle):
        def predict(self, frames):
            self.diagnostics = {"noise_sigma": [0.01, 0.03], "vessel_polarity": [0.8, -0.2, float("nan")]}
            return super().predict(frames)

    rows = evaluate_real(tmp_path / "data", tmp_path / "o", model=Measuring(preds), log=None)["rows"]
    assert all(r["noise_sigma"] == 0.03 and r["vessel_polarity"] == -0.2 for r in rows)
    rows = evaluate_real(tmp_path / "data", tmp_path / "o2", model=_Oracle(preds), log=None)["rows"]
    assert all(r["noise_sigma"] is None and r["vessel_polarity"] is None for r in rows)
