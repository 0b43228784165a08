"""Each bundle's ``inference.json`` used the way a MONAI Label bundle app (or a MONAI Deploy operator) uses it.

Such a caller reads the config keys ``preprocessing``, ``network_def``, ``inferer`` and ``postprocessing`` itself,
passes one request dict (the image path plus its own keys) through them, drops the writers, and expects a squeezed
uint8 label map at the input's size. No datalist, no evaluator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from monai_angio.bundle import BUNDLE_NAMES, load_bundle, load_bundle_config
from tests.apps.test_segment import write_png
from tests.bundle.test_runner import SMALL, _bundle_with_weights


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_inference_config_as_monai_label_uses_it(name: str, tmp_path: Path) -> None:
    root = _bundle_with_weights(name, tmp_path)
    override = {} if name == "xca_artery_catheter_efficientunetpp" else SMALL
    png = tmp_path / "request.png"
    write_png(png, 64)
    parser = load_bundle_config(root, "inference", device="$torch.device('cpu')", **override)
    pre = parser.get_parsed_content("preprocessing")
    post = parser.get_parsed_content("postprocessing")
    net = parser.get_parsed_content("network_def").eval()
    net.load_state_dict(torch.load(root / "models" / "model.pt", map_location="cpu", weights_only=True))
    inferer = parser.get_parsed_content("inferer")

    request = {"image": str(png), "model": name, "device": "cpu", "label_info": [1, 2]}  # caller's own keys
    data = pre(dict(request))
    assert {"model", "device", "label_info"} <= set(data)  # no key filtering drops the caller's keys
    with torch.no_grad():
        data["pred"] = inferer(data["image"][None], net)[0]
    for t in post.transforms:
        if not type(t).__name__.startswith("Save"):
            data = t(data)
    pred = data["pred"]
    assert tuple(pred.shape) == (64, 64) and pred.dtype == torch.uint8
    runner = load_bundle(root, **override)
    np.testing.assert_array_equal(np.asarray(pred), runner.predict(runner.load(png))[0])
