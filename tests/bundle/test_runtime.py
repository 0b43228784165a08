"""The fast CPU runtimes: ONNX exports of every bundle, run by OpenVINO or ONNX Runtime, agree with eager torch, are
cached by weights, and fall back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from monai_angio.bundle import BUNDLE_NAMES, load_bundle, load_bundle_config, resolve_bundle
from monai_angio.bundle import runtime as rt
from monai_angio.data import PhantomConfig, generate_cine, generate_phantom

pytest.importorskip("onnxruntime")
pytest.importorskip("openvino")

FLAGSHIP = "xca_artery_catheter_efficientunetpp"
ENGINES = {"onnx": rt.onnx_network, "openvino": rt.openvino_network}


def _phantom(size: int, seed: int = 5) -> np.ndarray:
    return np.asarray(generate_phantom(seed, PhantomConfig(size=size)).image, np.float32)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_flagship_export_matches_torch_on_phantoms(engine: str, tmp_path: Path) -> None:
    """Shipped weights, phantoms of two sizes (dynamic shape): argmax agreement >= 99.99 %, logits within 1e-3."""
    runner = load_bundle(FLAGSHIP, runtime="torch")
    net = runner.network
    onnx = ENGINES[engine](net, runner.weights, runner.parser.get("network_def"), (1, 256, 256), cache_dir=tmp_path)
    for size, seed in ((256, 1), (320, 2)):
        img = _phantom(size, seed)
        x = torch.as_tensor((img - img.mean()) / img.std())[None, None]
        with torch.no_grad():
            ref = net(x)
        out = onnx(x)
        assert out.shape == ref.shape
        assert float((out - ref).abs().max()) < 1e-3
        agree = float((out.argmax(1) == ref.argmax(1)).float().mean())
        assert agree >= 0.9999, agree


def test_flagship_runtimes_give_the_same_labels() -> None:
    """The whole bundle path (FOV, normalisation, post-processing) gives the same label map in both runtimes."""
    cine = np.asarray(generate_cine(3, PhantomConfig(size=256), frames=3).images, np.float32)
    fast = load_bundle(FLAGSHIP)  # auto: OpenVINO on a CPU with trained weights
    assert fast.runtime == "openvino"
    a = fast.predict(cine, batch_size=2)
    assert isinstance(fast.engine, rt.OpenVinoNetwork) and fast.engine.source.startswith("cache")
    onnx = load_bundle(FLAGSHIP, runtime="onnx")
    c = onnx.predict(cine, batch_size=2)
    assert isinstance(onnx.engine, rt.OnnxNetwork)
    b = load_bundle(FLAGSHIP, runtime="torch").predict(cine, batch_size=2)
    assert float((a == b).mean()) >= 0.9999 and float((c == b).mean()) >= 0.9999
    assert set(np.unique(a)) >= {0, 1}


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", [n for n in BUNDLE_NAMES if n != FLAGSHIP])
def test_every_bundle_network_exports(name: str, engine: str, tmp_path: Path) -> None:
    """Each bundle's network (UNet 3+ deep supervision, temporal Conv3d stem, DenseNet U-Net) exports and agrees."""
    torch.manual_seed(0)
    parser = load_bundle_config(resolve_bundle(name), "inference", image_size=64)
    net = parser.get_parsed_content("network_def").eval()
    weights = tmp_path / "w.pt"
    torch.save(net.state_dict(), weights)
    temporal = "temporal" in name
    shape = (1, 2 * int(parser.get("num_neighbors", 1)) + 1, 64, 64) if temporal else (1, 64, 64)
    x = torch.rand(2, *shape)
    onnx = ENGINES[engine](net, weights, parser.get("network_def"), shape, cache_dir=tmp_path)
    with torch.no_grad():
        ref = net(x)
    ref = ref[0] if isinstance(ref, (list, tuple)) else ref
    out = onnx(x)
    out = out[0] if isinstance(out, tuple) else out
    assert out.shape == ref.shape
    assert float((out - ref).abs().max()) < 1e-3


def test_cache_is_keyed_by_the_weights(tmp_path: Path) -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1))
    w = tmp_path / "a.pt"
    torch.save(net.state_dict(), w)
    first = rt.onnx_network(net, w, {"net": "conv"}, (1, 16, 16), cache_dir=tmp_path / "c")
    again = rt.onnx_network(net, w, {"net": "conv"}, (1, 16, 16), cache_dir=tmp_path / "c")
    assert first.source == again.source and again.source.startswith("cache")
    assert len(list((tmp_path / "c").glob("*.onnx"))) == 1
    with torch.no_grad():
        net[0].weight.add_(1.0)
    torch.save(net.state_dict(), w)
    other = rt.onnx_network(net, w, {"net": "conv"}, (1, 16, 16), cache_dir=tmp_path / "c")
    assert other.source != first.source and len(list((tmp_path / "c").glob("*.onnx"))) == 2
    x = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        np.testing.assert_allclose(other(x).numpy(), net(x).numpy(), atol=1e-5)


def test_shipped_export_is_used_only_for_its_weights(tmp_path: Path) -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1))
    w = tmp_path / "model.pt"
    torch.save(net.state_dict(), w)
    rt.export_onnx(net, (1, 8, 8), tmp_path / "model.onnx")
    (tmp_path / "model.onnx.json").write_text(json.dumps({"weights_sha256": rt.file_sha256(w)}))
    assert rt.onnx_network(net, w, "n", (1, 8, 8), cache_dir=tmp_path / "c").source.startswith("bundle")
    (tmp_path / "model.onnx.json").write_text(json.dumps({"weights_sha256": "0" * 64}))
    assert rt.onnx_network(net, w, "n", (1, 8, 8), cache_dir=tmp_path / "c").source.startswith("cache")


def test_runtime_choice_and_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_bundle(FLAGSHIP, runtime="torch").runtime == "torch"
    random = load_bundle("xca_temporal_cenet", allow_random_weights=True) if not (
        resolve_bundle("xca_temporal_cenet") / "models" / "model.pt"
    ).is_file() else None
    if random is not None:  # auto never exports random weights; demanding ONNX for them is an error
        assert random.runtime == "torch"
        with pytest.raises(RuntimeError, match="needs trained weights"):
            load_bundle("xca_temporal_cenet", allow_random_weights=True, runtime="onnx")
    with pytest.raises(ValueError, match="runtime must be one of"):
        load_bundle(FLAGSHIP, runtime="tensorrt")

    def broken(*args, **kwargs):
        raise RuntimeError("ONNX export failed: simulated")

    monkeypatch.setattr(rt, "export_onnx", broken)
    monkeypatch.setenv("MONAI_ANGIO_CACHE", str(tmp_path / "empty"))
    img = _phantom(64)[None]
    auto = load_bundle(FLAGSHIP)
    with pytest.warns(UserWarning, match="running eager torch"):
        lab = auto.predict(img)
    assert auto.runtime == "torch" and lab.shape == (1, 64, 64)
    for demanded, label in (("onnx", "ONNX Runtime"), ("openvino", "OpenVINO")):
        model = load_bundle(FLAGSHIP, runtime=demanded)
        with pytest.raises(RuntimeError, match=f"{label} unusable.*simulated"):
            model.predict(img)


def test_missing_runtimes_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """auto takes OpenVINO, else ONNX Runtime, else torch; a demanded runtime that is not installed is an error."""
    monkeypatch.setattr("monai_angio.bundle.runner.openvino_available", lambda: False)
    assert load_bundle(FLAGSHIP).runtime == "onnx"
    with pytest.raises(RuntimeError, match="pip install openvino"):
        load_bundle(FLAGSHIP, runtime="openvino")
    monkeypatch.setattr("monai_angio.bundle.runner.onnx_available", lambda: False)
    assert load_bundle(FLAGSHIP).runtime == "torch"
    with pytest.raises(RuntimeError, match="pip install onnxruntime"):
        load_bundle(FLAGSHIP, runtime="onnx")
    with pytest.raises(RuntimeError, match="CPU only"):
        load_bundle(FLAGSHIP, runtime="openvino", device="meta")


def test_openvino_compiles_each_shape_once_and_slices_batches(tmp_path: Path) -> None:
    """One compiled model per input shape (the least recently used dropped beyond ``max_shapes``); a batch runs
    frame by frame and comes back whole, equal to torch."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU()).eval()
    data = rt.export_onnx(net, (1, 16, 16))
    ov = rt.OpenVinoNetwork(data, threads=1, source="memory", max_shapes=2)
    for size in (16, 24, 16, 32):
        x = torch.rand(3, 1, size, size)
        with torch.no_grad():
            np.testing.assert_allclose(ov(x).numpy(), net(x).numpy(), atol=1e-5)
    assert list(ov._compiled) == [(1, 1, 16, 16), (1, 1, 32, 32)]
    assert rt.describe_runtime(ov) == {"runtime": "openvino", "threads": 1, "precision": "f32"}


def test_segment_ort_optimization_all(tmp_path: Path) -> None:
    """``segment --ort-optimization all``: the faster graph level is used, recorded, and gives the same labels."""
    import nibabel as nib
    from PIL import Image

    from monai_angio.apps.cli import main

    png = tmp_path / "phantom.png"
    Image.fromarray((_phantom(256, 3) * 255).astype(np.uint8)).save(png)
    labels = {}
    for level in ("extended", "all"):
        out = tmp_path / level
        assert main(["segment", str(png), "--bundle", FLAGSHIP, "--out", str(out), "--no-overlays",
                     "--ort-optimization", level]) == 0
        summary = json.loads((out / "phantom_summary.json").read_text())
        assert summary["runtime"] == "onnx" and summary["ort_optimization"] == level
        labels[level] = np.asarray(nib.load(out / "phantom_labels.nii.gz").dataobj)
    assert float((labels["all"] == labels["extended"]).mean()) >= 0.9999
    assert (labels["all"] == 1).sum() > 100


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_a_damaged_cache_entry_is_rebuilt(engine: str, tmp_path: Path) -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1)).eval()
    w = tmp_path / "w.pt"
    torch.save(net.state_dict(), w)
    ENGINES[engine](net, w, "n", (1, 16, 16), cache_dir=tmp_path / "c")
    entry = next((tmp_path / "c").glob("*.onnx"))
    entry.write_bytes(b"not an onnx model")
    again = ENGINES[engine](net, w, "n", (1, 16, 16), cache_dir=tmp_path / "c")
    assert again.source == f"cache {entry}" and entry.stat().st_size > 100
    x = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        np.testing.assert_allclose(again(x).numpy(), net(x).numpy(), atol=1e-5)
