"""Tests of ``monai-angio evaluate`` (:mod:`monai_angio.apps.evaluate`) on three tiny phantoms written as PNG + mask."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_angio.data import PhantomConfig, generate_phantom, read_gray, read_mask, write_png_image
from monai_angio.errors import AngioInputError
from monai_angio.metrics import cldice, dice, width_excess_px
from monai_angio.transforms import frangi_segment
from monai_angio.apps import evaluate as ev
from monai_angio.apps.cli import main as cli_main
from monai_angio.bundle.evaluation import CSV_COLUMNS, DEFAULT_BUNDLE, REPO_ROOT


class StubModel:
    """Labels the darkest pixels as artery (1) and a fixed square as catheter (2) on the second call."""

    name = "stub_bundle"
    weights = None
    min_component_size = 0

    def __init__(self) -> None:
        self.calls = 0
        self.shapes = []

    def predict(self, frames: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.shapes.append(frames.shape)
        x = np.asarray(frames, np.float32)
        lab = (x < np.quantile(x, 0.1)).astype(np.uint8)
        if self.calls == 2:
            lab[:, :4, :4] = 2
        return lab


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("phantoms")
    for n in (1, 2, 3):
        ph = generate_phantom(n, PhantomConfig(size=64))
        write_png_image(d / f"{n}.png", ph.image, bit_depth=8)
        Image.fromarray(((ph.label == 1) * 255).astype(np.uint8)).save(d / f"{n}_gt.png")
    return d


def test_evaluate_stub_outputs_are_consistent(data_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    stub = StubModel()
    res = ev.evaluate_real(data_dir, out, model=stub)
    assert stub.calls == 3 and all(s == (1, 64, 64) for s in stub.shapes)
    printed = capsys.readouterr().out
    assert "[1/3] 1.png" in printed and "[3/3] 3.png" in printed and "| dice |" in printed
    assert "| width_excess_px |" in printed

    with open(out / "per_image.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [r["case"] for r in rows] == ["1", "2", "3"]
    for r in rows:
        img, truth = read_gray(r["image"]), read_mask(r["label"])
        fr = frangi_segment(img).astype(bool)
        assert float(r["frangi_dice"]) == pytest.approx(dice(fr, truth), abs=1e-6)
        assert float(r["frangi_cldice"]) == pytest.approx(cldice(fr, truth), abs=1e-6)
        assert float(r["frangi_width_excess_px"]) == pytest.approx(width_excess_px(fr, truth), abs=1e-6)
        assert int(r["frangi_px"]) == fr.sum() and int(r["gt_px"]) == truth.sum()
        model_art = img < np.quantile(img, 0.1)
        if r["case"] == "2":
            model_art[:4, :4] = False  # the stub's catheter square
        assert float(r["model_dice"]) == pytest.approx(dice(model_art, truth), abs=1e-6)
        assert float(r["model_width_excess_px"]) == pytest.approx(width_excess_px(model_art, truth), abs=1e-6)
        assert float(r["dice_model_minus_frangi"]) == pytest.approx(
            float(r["model_dice"]) - float(r["frangi_dice"]), abs=1e-5
        )
    assert [r["model_catheter_found"] for r in rows] == ["False", "True", "False"]
    assert int(rows[1]["model_catheter_px"]) == 16

    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_images"] == 3 and summary["cases"] == ["1", "2", "3"]
    md = [float(r["model_dice"]) for r in rows]
    fd = [float(r["frangi_dice"]) for r in rows]
    m = summary["metrics"]
    assert m["model_dice"]["mean"] == pytest.approx(np.mean(md), abs=1e-5)
    assert m["model_dice"]["median"] == pytest.approx(np.median(md), abs=1e-5)
    assert m["frangi_dice"]["min"] == pytest.approx(min(fd), abs=1e-5)
    assert m["frangi_dice"]["max"] == pytest.approx(max(fd), abs=1e-5)
    assert summary["model_minus_frangi_mean_dice"] == pytest.approx(np.mean(md) - np.mean(fd), abs=1e-5)
    assert summary["counts"]["model_dice_lt_0.4"] == sum(v < 0.4 for v in md)
    assert summary["counts"]["frangi_dice_lt_0.3"] == sum(v < 0.3 for v in fd)
    assert summary["counts"]["model_catheter_found"] == 1
    bmw = summary["best_median_worst"]
    assert bmw["best"]["model_dice"] == pytest.approx(max(md)) and bmw["worst"]["model_dice"] == pytest.approx(min(md))
    assert summary["config"]["bundle"] == "stub_bundle"
    sheet = Image.open(out / "contact_sheet.png")
    assert sheet.size[0] > 600 and sheet.size[1] > 600
    assert res["outputs"]["csv"] == out / "per_image.csv" and "model minus Frangi" in res["table"]

    with pytest.raises(FileExistsError):
        ev.evaluate_real(data_dir, out, model=StubModel(), log=None)


def test_selection_and_guards(data_dir, tmp_path):
    res = ev.evaluate_real(data_dir, tmp_path / "ids", model=StubModel(), ids=["3", "1"], contact_sheet=False, log=None)
    assert [r["case"] for r in res["rows"]] == ["1", "3"]
    assert not (tmp_path / "ids" / "contact_sheet.png").exists()
    from monai_angio.data import folder_datalist, split_datalist

    _, hold = split_datalist(folder_datalist(data_dir), n_holdout=2, seed=4)
    res = ev.evaluate_real(data_dir, tmp_path / "ho", model=StubModel(), n_holdout=2, holdout_seed=4, log=None)
    assert [r["case"] for r in res["rows"]] == [h["case"] for h in hold]
    assert res["summary"]["config"]["n_holdout"] == 2 and res["summary"]["config"]["holdout_seed"] == 4
    with pytest.raises(AngioInputError, match="unknown case"):
        ev.evaluate_real(data_dir, tmp_path / "x", model=StubModel(), ids=["9"], log=None)
    with pytest.raises(AngioInputError, match="data folder"):
        ev.evaluate_real(data_dir, data_dir, model=StubModel(), log=None)
    with pytest.raises(AngioInputError, match="inside the repository"):
        ev.evaluate_real(data_dir, REPO_ROOT / "benchmarks" / "should_not_exist", model=StubModel(), log=None)
    assert not (REPO_ROOT / "benchmarks" / "should_not_exist").exists()


def test_zoom_runs_the_model_on_resized_cases(data_dir, tmp_path):
    stub = StubModel()
    res = ev.evaluate_real(data_dir, tmp_path / "z", model=stub, zoom=2.0, contact_sheet=False, log=None)
    assert all(s == (1, 128, 128) for s in stub.shapes)
    assert [r["height"] for r in res["rows"]] == [128] * 3 and res["summary"]["config"]["zoom"] == 2.0
    assert all(r["gt_px"] > 3 * read_mask(r["label"]).sum() for r in res["rows"])
    for bad in (0.0, float("nan"), 20.0):
        with pytest.raises(AngioInputError, match="zoom"):
            ev.evaluate_real(data_dir, tmp_path / "bad", model=StubModel(), zoom=bad, log=None)


def test_cli_with_the_shipped_bundle(data_dir, tmp_path, capsys):
    out = tmp_path / "cli"
    rc = cli_main(["evaluate", str(data_dir), "--out", str(out), "--ids", "2", "--no-contact-sheet"])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["bundle"] == DEFAULT_BUNDLE and summary["config"]["weights"].endswith("model.pt")
    assert summary["n_images"] == 1 and 0.0 <= summary["metrics"]["model_dice"]["mean"] <= 1.0
    assert cli_main(["evaluate", str(data_dir), "--out", str(out), "--ids", "2"]) == 2  # outputs exist
    assert "exists" in capsys.readouterr().err


def test_bad_cases_are_skipped_and_named(data_dir, tmp_path, capsys):
    import shutil

    d = tmp_path / "mixed"
    shutil.copytree(data_dir, d)
    (d / "2.png").write_bytes(b"not a png")  # corrupt image
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(d / "3_gt.png")  # mask of another shape
    res = ev.evaluate_real(d, tmp_path / "o", model=StubModel(), contact_sheet=False, log=None)
    assert [r["case"] for r in res["rows"]] == ["1"]
    skipped = {x["case"]: x["error"] for x in res["summary"]["skipped"]}
    assert set(skipped) == {"2", "3"} and "2.png" in skipped["2"] and "cannot read" in skipped["2"]
    assert "3_gt.png" in skipped["3"] and "(10, 12)" in skipped["3"]
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["skipped"] == res["summary"]["skipped"]
    assert "skipped 2 case(s)" in res["table"]
    assert cli_main(["evaluate", str(d), "--out", str(tmp_path / "cli"), "--ids", "1,2", "--no-contact-sheet"]) == 1
    assert "skipped case 2" in capsys.readouterr().err

    bad = tmp_path / "all_bad"
    bad.mkdir()
    (bad / "1.png").write_bytes(b"junk")
    shutil.copy(d / "1_gt.png", bad / "1_gt.png")
    with pytest.raises(AngioInputError, match="no case could be evaluated"):
        ev.evaluate_real(bad, tmp_path / "o2", model=StubModel(), log=None)
    assert not (tmp_path / "o2").exists()  # nothing written
