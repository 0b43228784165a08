"""TorchScript export of every bundle's ``network_def`` with ``monai.bundle.ckpt_export`` (random weights)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from monai.bundle import ConfigParser, ckpt_export

from monai_angio.bundle import BUNDLE_NAMES, bundle_path

LIGHT = {"xca_vessel_unet3plus": {"filters": [8, 16, 32, 64, 128], "cat_channels": 8}}


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_ckpt_export_matches_eager(name: str, tmp_path: Path) -> None:
    root = bundle_path(name)
    config, meta = str(root / "configs" / "inference.json"), str(root / "configs" / "metadata.json")
    override = LIGHT.get(name, {})
    parser = ConfigParser()
    parser.read_config(config)
    parser.update(override)
    net = parser.get_parsed_content("network_def")
    # non-trivial BatchNorm statistics, so that eval-mode export is really checked
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    ckpt = tmp_path / "model.pt"
    torch.save(net.state_dict(), ckpt)
    ts_file = tmp_path / "model.ts"

    ckpt_export(net_id="network_def", filepath=str(ts_file), ckpt_file=str(ckpt), meta_file=meta,
                config_file=config, **override)

    assert ts_file.is_file()
    scripted = torch.jit.load(str(ts_file))
    net.eval()
    n = parser.get("num_neighbors")  # a temporal bundle takes 2N + 1 frames
    x = torch.rand((1, 1, 2 * n + 1, 64, 64) if n is not None else (1, 1, 64, 64))
    with torch.no_grad():
        expected, got = net(x), scripted(x)
    assert got.shape == expected.shape
    assert got.shape[-2:] == (64, 64)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    # the exported file carries the bundle metadata and the config, like model-zoo TorchScript files
    extra = {"metadata.json": "", "inference.json": ""}
    torch.jit.load(str(ts_file), _extra_files=extra)
    meta_text, config_text = (v.decode() if isinstance(v, bytes) else v for v in extra.values())
    assert '"network_data_format"' in meta_text
    assert "network_def" in config_text


def test_shipped_weights_are_cpu_and_export_on_cpu(tmp_path: Path) -> None:
    """The README's ``ckpt_export`` of the *shipped* weights, verbatim on a CPU-only machine: the checkpoint holds
    CPU tensors (``torch.load`` without ``map_location`` works) and exports."""
    for name in BUNDLE_NAMES:
        ckpt = bundle_path(name) / "models" / "model.pt"
        if not ckpt.is_file():
            continue
        state = torch.load(str(ckpt), weights_only=True)  # no map_location: fails on CUDA tensors without CUDA
        assert all(v.device.type == "cpu" for v in state.values())
        root = bundle_path(name)
        ts_file = tmp_path / f"{name}.ts"
        ckpt_export(net_id="network_def", filepath=str(ts_file), ckpt_file=str(ckpt),
                    meta_file=str(root / "configs" / "metadata.json"),
                    config_file=str(root / "configs" / "inference.json"), bundle_root=str(root))
        assert ts_file.is_file()
