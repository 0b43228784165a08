"""Tests of ``benchmarks/evaluate_polarity.py``: the image sets, and the polarity read from a bundle's preprocessing."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.benchmarks import load_script

ep = load_script("evaluate_polarity")


def test_image_sets_real_then_phantoms_cycling_sizes(tmp_path) -> None:
    for n in (2, 10, 1):
        Image.fromarray(np.full((40, 48), 100 + n, np.uint8)).save(tmp_path / f"{n}.png")
    Image.fromarray(np.zeros((40, 48), np.uint8)).save(tmp_path / "1_gt.png")  # a mask is not an image
    items = list(ep.image_sets(str(tmp_path), n=2, seed=5))
    assert [(g, name) for g, name, _ in items[:3]] == [("real", "1.png"), ("real", "2.png"), ("real", "10.png")]
    assert items[0][2].shape == (40, 48) and items[0][2].dtype == np.float32
    phantoms = items[3:]
    assert [g for g, _, _ in phantoms] == ["plain phantoms", "cath-lab phantoms"] * 2
    assert [img.shape[0] for _, _, img in phantoms] == [256, 256, 512, 512]  # sizes cycle 256, 512, ...


def test_polarity_rows_come_from_the_models_preprocessing() -> None:
    class Stub:  # a bundle runner whose preprocessing reads "dark" when the image mean is below its midrange
        diagnostics: dict = {}

        def predict(self, x):
            self.diagnostics = {"vessel_polarity": [1.0 if x.mean() < 0.5 * (x.min() + x.max()) else -1.0]}

    img = np.full((8, 8), 0.2, np.float32)
    img[0, 0] = 1.0
    rows = ep.evaluate_polarity(Stub(), iter([("real", "a.png", img)]))
    assert rows == {"real": [{"name": "a.png", "normal": 1.0, "inverted": -1.0}]}
