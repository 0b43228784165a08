"""The bundle inferers: :class:`ImageOnlyInferer` and the two-scale :class:`MultiScaleInferer`."""

from __future__ import annotations

from typing import List, Tuple

import numpy as np
import pytest
import torch

from monai_angio.bundle import ImageOnlyInferer, MultiScaleInferer, load_bundle_config
from monai_angio.transforms import FieldOfViewd, LimitSized, MaskOutsideFOVd


class _SizeSwitch(torch.nn.Module):
    """Class 1 wins (logit +10) on inputs wider than 400 px, class 0 on smaller ones; records the input shapes."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: List[Tuple[int, ...]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.shapes.append(tuple(x.shape))
        z = torch.full_like(x[:, :1], 10.0 if x.shape[-1] > 400 else -10.0)
        return torch.cat([torch.zeros_like(z), z], dim=1)


def _pointwise(x: torch.Tensor) -> torch.Tensor:
    """Two-class logits (-x, x): class 1 wherever the pixel is bright, at any scale."""
    return torch.cat([-x, x], dim=1)


def test_image_only_inferer_drops_extra_arguments() -> None:
    x = torch.rand(1, 1, 8, 8)
    out = ImageOnlyInferer()(x, _pointwise, "extra", fov=torch.ones(1, 1, 8, 8))
    assert torch.equal(out, _pointwise(x))


def test_small_frames_take_one_pass_with_the_plain_output() -> None:
    net = _SizeSwitch()
    x = torch.rand(1, 1, 448, 320)  # 448 <= 300 * 1.5
    out = MultiScaleInferer(reference_size=300, max_zoom=1.5)(x, net)
    assert net.shapes == [(1, 1, 448, 320)]
    assert torch.equal(out, net(x))  # logits untouched, bit for bit


def test_large_frames_average_the_probabilities_of_both_scales() -> None:
    net = _SizeSwitch()
    inf = MultiScaleInferer(reference_size=300, max_zoom=1.5)
    assert inf.scales(512) == [1.0, pytest.approx(300 / 512)]
    out = inf(torch.rand(2, 1, 512, 512), net)
    # the second pass is the reference size, padded to the divisor 32
    assert net.shapes == [(2, 1, 512, 512), (2, 1, 320, 320)]
    assert out.shape == (2, 2, 512, 512)
    # full size says class 1 (p ~ 1), reference size says class 0 (p ~ 0): the average is one half each
    np.testing.assert_allclose(torch.softmax(out, 1).numpy(), 0.5, atol=1e-4)


def test_sigmoid_bundles_get_the_logit_of_the_averaged_probability() -> None:
    def one_channel(x: torch.Tensor) -> torch.Tensor:
        return torch.full_like(x[:, :1], 10.0 if x.shape[-1] > 400 else 0.0)

    out = MultiScaleInferer(activation="sigmoid")(torch.rand(1, 1, 640, 640), one_channel)
    expected = (torch.sigmoid(torch.tensor(10.0)) + 0.5) / 2
    np.testing.assert_allclose(torch.sigmoid(out).numpy(), float(expected), atol=1e-5)


def test_the_second_pass_stays_on_its_structures() -> None:
    """A bright disk on a non-square frame (both sides padded in the second pass) is labelled where it is."""
    h, w = 600, 488
    rr, cc = np.mgrid[:h, :w]
    disk = (rr - 211.0) ** 2 + (cc - 333.0) ** 2 <= 60.0**2
    x = torch.as_tensor(np.where(disk, 1.0, -1.0), dtype=torch.float32)[None, None]
    out = MultiScaleInferer()(x, _pointwise)
    lab = out.argmax(1)[0].numpy().astype(bool)
    assert lab.shape == (h, w)
    assert (lab ^ disk).sum() <= 2 * np.pi * 60  # at most about one boundary ring differs
    assert np.abs(np.argwhere(lab).mean(0) - (211.0, 333.0)).max() < 0.5


def test_temporal_windows_are_resized_in_plane_only() -> None:
    seen: List[Tuple[int, ...]] = []

    def temporal(x: torch.Tensor) -> torch.Tensor:  # (B, C, T, H, W) -> (B, 2, H, W), mean over frames
        seen.append(tuple(x.shape))
        return _pointwise(x.mean(2))

    out = MultiScaleInferer()(torch.rand(1, 1, 5, 512, 480), temporal)
    assert seen == [(1, 1, 5, 512, 480), (1, 1, 5, 320, 288)]  # 300 x 281 padded to 32
    assert out.shape == (1, 2, 512, 480)


@pytest.mark.parametrize(
    "kwargs", [{"reference_size": 16}, {"max_zoom": 0.9}, {"activation": "relu"}]
)
def test_bad_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        MultiScaleInferer(**kwargs)


def test_flagship_declares_the_scale_policy_in_its_inference_config() -> None:
    parser = load_bundle_config("xca_artery_catheter_efficientunetpp", "inference")
    inf = parser.get_parsed_content("inferer")
    assert isinstance(inf, MultiScaleInferer)
    assert inf.scales(320) == [1.0]  # a 300 px frame, padded: one pass, as trained
    assert inf.scales(512) == [1.0, pytest.approx(300 / 512)]
    # no pass above the largest training frame: a 1024 px frame runs at 640 + 300 px
    limit = next(t for t in parser.get_parsed_content("preprocessing").transforms if isinstance(t, LimitSized))
    assert limit.op.size_for(torch.zeros(1, 1024, 1024)) == (640, 640)
    assert limit.op.size_for(torch.zeros(1, 512, 512)) == (512, 512)
    assert inf.scales(640) == [1.0, pytest.approx(300 / 640)]
    # labels are also masked with the corner-aware field of view; the normalisation keeps the trained one
    pre = [(t.fov_key, t.border_fov_key) for t in parser.get_parsed_content("preprocessing").transforms
           if isinstance(t, FieldOfViewd)]
    assert pre == [("fov", "label_fov")]
    post = [t for t in parser.get_parsed_content("postprocessing").transforms if isinstance(t, MaskOutsideFOVd)]
    assert [t.fov_key for t in post] == ["fov", "label_fov"]  # outside either: background
