"""Tests of ``benchmarks/evaluate_appearance.py``: one evaluation per acquisition shift, on a tiny made-up folder."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_angio.data import write_png_image
from monai_angio.errors import AngioInputError
from tests.benchmarks import load_script

ev = load_script("evaluate_appearance")


class _Threshold:
    """Labels as artery every pixel darker than 0.45 of the image's range: exact on the clean images, fooled by
    a gamma that brightens the vessel past the threshold."""

    name, weights, min_component_size = "threshold", None, 0

    def predict(self, frames: np.ndarray) -> np.ndarray:
        f = frames[0]
        x = (f - f.min()) / max(float(f.max() - f.min()), 1e-6)
        return (x < 0.45).astype(np.uint8)[None]


def _folder(root: Path) -> None:
    root.mkdir(parents=True)
    for n in (1, 2):
        img = np.full((40, 40), 0.9, np.float32)
        mask = np.zeros((40, 40), bool)
        mask[18:22, 3:37] = True  # 136 px
        img[mask] = 0.3  # 1/3 of the range: below 0.45, above it after gamma 0.5 (0.577)
        img[18, 3] = 0.0  # the range starts at black, on the vessel (dark under any gamma)
        write_png_image(root / f"{n}.png", img, bit_depth=16)
        Image.fromarray((mask * 255).astype(np.uint8)).save(root / f"{n}_gt.png")


def test_rows_per_shift_with_the_change_against_none(tmp_path: Path) -> None:
    _folder(tmp_path / "data")
    res = ev.evaluate_appearance(str(tmp_path / "data"), str(tmp_path / "out"), ["gamma=0.5", "none", "gamma=2"],
                                 model=_Threshold(), allow_inside_repo=True, log=lambda m: None)
    rows = {r["shift"]: r for r in res["rows"]}
    assert [r["shift"] for r in res["rows"]] == ["none", "gamma=0.5", "gamma=2"]  # the reference first
    assert rows["none"]["model_dice_mean"] == pytest.approx(1.0)
    dice_one_px = 2 / (1 + 136)  # only the black vessel pixel is still found
    assert rows["gamma=0.5"]["model_dice_mean"] == pytest.approx(dice_one_px)
    assert rows["gamma=0.5"]["model_dice_lt_0.4"] == 2
    assert rows["gamma=0.5"]["model_dice_change"] == pytest.approx(dice_one_px - 1.0)
    assert rows["gamma=2"]["model_dice_mean"] == pytest.approx(1.0)  # 0.11 of the range: still dark
    with open(tmp_path / "out" / "appearance.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["shift"] for r in table] == ["none", "gamma=0.5", "gamma=2"] and list(table[0]) == list(ev.COLUMNS)
    assert (tmp_path / "out" / "shift_gamma0p5" / "per_image.csv").is_file()
    assert "| gamma=0.5 | 0.015 / 0.015 / 0.015 | -0.985 | 2 of 2 |" in ev.format_rows(res["rows"])
    with pytest.raises(AngioInputError, match="unknown parameter 'gama'"):
        ev.evaluate_appearance(str(tmp_path / "data"), str(tmp_path / "o2"), ["gama=1"], model=_Threshold(),
                               allow_inside_repo=True, log=lambda m: None)


def test_shift_sheet_draws_a_tile_per_shift(tmp_path: Path) -> None:
    out = ev.shift_sheet(str(tmp_path / "sheet.png"), ["none", "noise=0.05"], size=128)
    with Image.open(out) as im:
        assert im.size[0] > 200 and im.size[1] > 100
