"""The parts of ``benchmarks/check_monai_label.py`` that need no MONAI Label: studies and the label-name check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_angio.bundle import BUNDLE_NAMES, resolve_bundle
from tests.benchmarks import load_script


@pytest.fixture(scope="module")
def check():
    return load_script("check_monai_label")


def test_studies_are_phantoms_square_then_not(check, tmp_path):
    truth = check.make_studies(tmp_path, n=3, size=64, labels=True)
    assert list(truth) == ["xca_00", "xca_01", "xca_02"]
    shapes = [truth[k].shape for k in truth]
    assert shapes[0] == (64, 64) and all(s[0] < s[1] == 64 for s in shapes[1:])  # non-square: no transposed pass
    for name, lab in truth.items():
        img = np.asarray(Image.open(tmp_path / f"{name}.png"))
        assert img.shape == lab.shape and img.dtype == np.uint16
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "labels" / "final" / f"{name}.png")), lab)
        assert set(np.unique(lab)) <= {0, 1, 2} and (lab == 1).any()


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_label_names_as_monai_label_lists_them(check, name):
    meta = json.loads((resolve_bundle(name) / "configs" / "metadata.json").read_text(encoding="utf-8"))
    listed = {v: int(k) for k, v in meta["network_data_format"]["outputs"]["pred"]["channel_def"].items()
              if v.lower() != "background"}  # MONAI Label's BundleInferTask rule
    assert check.label_names_ok(listed, name)
    assert not check.label_names_ok({k: v - 1 for k, v in listed.items()}, name)  # "vessel => 0" is refused
