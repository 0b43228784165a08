"""Each bundle's ``inference.json`` used the way a MONAI Label bundle app (or a MONAI Deploy operator) uses it.

Such a caller reads the config keys ``preprocessing``, ``network_def``, ``inferer`` and ``postprocessing`` itself,
passes one request dict (the image path plus its own keys) through them, drops the writers, and expects a squeezed
uint8 label map at the input's size. No datalist, no evaluator.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from monai_angio.bundle import BUNDLE_NAMES, load_bundle, load_bundle_config, resolve_bundle
from monai_angio.bundle.runner import class_names_from_metadata
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
    # MONAI's (x, y) order for the MONAI caller, row-major from the runner: the same labels
    np.testing.assert_array_equal(np.asarray(pred).T, runner.predict(runner.load(png))[0])


def test_png_round_trip_through_monai_writer_lands_on_the_vessels(tmp_path: Path) -> None:
    """A non-square PNG phantom, segmented through the config as MONAI Label does and written by MONAI's
    ``SaveImage`` (PNG), overlays the image: its artery Dice against the truth is that of ``monai-angio segment``."""
    from monai.transforms import SaveImage
    from PIL import Image

    from monai_angio.apps.segment import segment_files
    from monai_angio.bundle import resolve_bundle
    from monai_angio.data import PhantomConfig, generate_phantom

    name = "xca_artery_catheter_efficientunetpp"
    root = resolve_bundle(name)
    if not (root / "models" / "model.pt").is_file():
        pytest.skip("shipped weights missing")
    ph = generate_phantom(0, PhantomConfig(size=256))
    img = np.asarray(ph.image, np.float32)[:, 40:232]  # 256 rows x 192 columns: a transpose cannot fit
    truth = np.asarray(ph.label)[:, 40:232]
    png = tmp_path / "case.png"
    Image.fromarray(np.round(255 * (img - img.min()) / (img.max() - img.min())).astype(np.uint8)).save(png)

    parser = load_bundle_config(root, "inference", device="$torch.device('cpu')")
    pre, post = parser.get_parsed_content("preprocessing"), parser.get_parsed_content("postprocessing")
    net = parser.get_parsed_content("network_def").eval()
    net.load_state_dict(torch.load(root / "models" / "model.pt", map_location="cpu", weights_only=True))
    data = pre({"image": str(png)})
    with torch.no_grad():
        data["pred"] = parser.get_parsed_content("inferer")(data["image"][None], net)[0]
    for t in post.transforms:
        if not type(t).__name__.startswith("Save"):
            data = t(data)
    pred = data["pred"]
    assert tuple(pred.shape) == (192, 256)  # MONAI's (x, y) order, as LoadImage gives this PNG
    SaveImage(output_dir=str(tmp_path / "monai"), output_ext=".png", output_postfix="seg", separate_folder=False,
              output_dtype=np.uint8, scale=None, print_log=False)(pred[None], meta_data=pred.meta)  # fmt: skip
    written = np.asarray(Image.open(tmp_path / "monai" / "case_seg.png"))
    assert written.shape == truth.shape

    def dice(a: np.ndarray, b: np.ndarray) -> float:
        return float(2 * (a & b).sum() / max(a.sum() + b.sum(), 1))

    ours = segment_files([png], name, tmp_path / "cli", progress=False, write_seg=False, write_gif=False)[0]
    assert ours.ok, ours.error
    d_monai, d_cli = dice(written == 1, truth == 1), dice(ours.labels[0] == 1, truth == 1)
    assert d_monai > 0.7 and abs(d_monai - d_cli) <= 0.01, (d_monai, d_cli)


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_monai_label_label_names_match_the_returned_values(name: str) -> None:
    """MONAI Label names labels from ``channel_def`` as value -> name (skipping "background"); the names must
    sit on the values the bundle's label map holds (UNet 3+'s one sigmoid channel once read "vessel => 0")."""
    meta = json.loads((resolve_bundle(name) / "configs" / "metadata.json").read_text(encoding="utf-8"))
    cdef = meta["network_data_format"]["outputs"]["pred"]["channel_def"]
    monai_label = {v.lower(): int(k) for k, v in cdef.items() if v.lower() != "background"}  # its BundleInferTask
    ours = {v.lower(): k for k, v in class_names_from_metadata(meta).items() if k > 0}  # what segment reports
    assert monai_label == ours and 0 not in monai_label.values()
