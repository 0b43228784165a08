"""Tests of ``benchmarks/evaluate_synthetic.py`` with a stub bundle that returns a known labelling of each phantom."""

from __future__ import annotations

import numpy as np
import pytest

from monai_angio.data.synthetic import PhantomConfig, generate_phantom
from tests.benchmarks import load_script

ev = load_script("evaluate_synthetic")


class AllVesselsRunner:
    """Labels every drawn vessel as artery (1) and the catheter as catheter (2): what a model taught by real masks,
    which draw thin branches, would ideally output."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed, self.calls = size, seed, 0

    def predict(self, image: np.ndarray) -> np.ndarray:
        ph = generate_phantom(self.seed + self.calls, PhantomConfig(size=self.size))
        self.calls += 1
        assert np.array_equal(np.asarray(image)[0], ph.image)  # the benchmark feeds the phantom's own image
        lab = np.where(np.asarray(ph.vessel_mask) > 0, 1, 0)
        return np.where(ph.label == 2, 2, lab)[None].astype(np.uint8)


def test_thin_branches_are_left_out_of_the_thin_ignored_artery_dice(monkeypatch):
    size, seed, n = 192, 900_000, 2
    monkeypatch.setattr(ev, "load_bundle", lambda bundle, weights=None: AllVesselsRunner(size, seed))
    res = ev.evaluate_synthetic(n=n, size=size, seed=seed, log=lambda m: None)
    assert len(res["rows"]) == n
    thin = []
    for i, row in enumerate(res["rows"]):
        ph = generate_phantom(seed + i, PhantomConfig(size=size))
        thin.append(int(((np.asarray(ph.vessel_mask) > 0) & (ph.label == 0)).sum()))
        assert row["vessel_dice"] == pytest.approx(1.0)
        assert row["catheter_dice"] == pytest.approx(1.0)
        assert row["artery_dice_thin_ignored"] == pytest.approx(1.0)  # only the thin branches differ from the truth
        if thin[-1]:
            major = int((ph.label == 1).sum())
            assert row["artery_dice"] == pytest.approx(2 * major / (2 * major + thin[-1]))
    assert any(thin), "the test phantoms should draw some thin branches"
    assert res["summary"]["artery_dice_thin_ignored"]["mean"] == pytest.approx(1.0)


class WiresToo(AllVesselsRunner):
    """Cath-lab phantoms: every drawn vessel as artery, plus (``wires``) every device pixel as artery."""

    def __init__(self, size: int, seed: int, wires: bool) -> None:
        super().__init__(size, seed)
        self.wires = wires

    def predict(self, image: np.ndarray) -> np.ndarray:
        ph = generate_phantom(self.seed + self.calls, PhantomConfig.cathlab(size=self.size))
        self.calls += 1
        lab = (np.asarray(ph.vessel_mask) > 0) | (self.wires & np.asarray(ph.device_mask, bool))
        return np.where(ph.label == 2, 2, lab.astype(np.uint8))[None].astype(np.uint8)


def test_device_pixels_labelled_artery_are_counted(monkeypatch):
    """Wires labelled artery are counted where they are more than 2 px (city block) from every drawn vessel and the
    catheter; a model that labels only the vessels scores 0."""
    from scipy import ndimage

    size, seed, n = 192, 900_000, 6
    counts = {}
    for wires in (False, True):
        monkeypatch.setattr(ev, "load_bundle", lambda bundle, weights=None, w=wires: WiresToo(size, seed, w))
        res = ev.evaluate_synthetic(n=n, size=size, seed=seed, cathlab=True, log=lambda m: None)
        counts[wires] = [r["device_as_artery_px"] for r in res["rows"]]
    assert counts[False] == [0.0] * n
    expected = []
    for i in range(n):
        ph = generate_phantom(seed + i, PhantomConfig.cathlab(size=size))
        far = ndimage.distance_transform_cdt(~((np.asarray(ph.vessel_mask) > 0) | (ph.label > 0)), metric="taxicab") > 2
        expected.append(float((np.asarray(ph.device_mask, bool) & far).sum()))
    assert sum(expected) > 0, "the test phantoms should draw some devices away from the vessels"
    assert counts[True] == expected


def test_worst_rows_and_the_error_sheet(monkeypatch, tmp_path):
    """The sheet draws the phantoms with the most device pixels called artery (cath-lab) or the lowest artery Dice."""
    rows = [{"seed": 1, "artery_dice": 0.9, "device_as_artery_px": 5.0},
            {"seed": 2, "artery_dice": 0.5, "device_as_artery_px": 0.0},
            {"seed": 3, "artery_dice": 0.7, "device_as_artery_px": 50.0}]
    assert [r["seed"] for r in ev.worst_rows(rows, "device_as_artery_px", 2)] == [3, 1]
    assert [r["seed"] for r in ev.worst_rows(rows, "artery_dice", 2)] == [2, 3]
    size, seed, n = 128, 900_000, 3
    monkeypatch.setattr(ev, "load_bundle", lambda bundle, weights=None: WiresToo(size, seed, True))
    sheet = tmp_path / "worst.png"
    res = ev.evaluate_synthetic(n=n, size=size, seed=seed, cathlab=True, log=lambda m: None, sheet=str(sheet),
                                sheet_tiles=2)
    from PIL import Image

    assert Image.open(sheet).size[1] > Image.open(sheet).size[0] * 0.5  # two rows of three tiles and a legend
    assert "labels" not in res and len(res["rows"]) == n  # the result stays JSON-ready
