"""The inference scale policy (:mod:`monai_angio.transforms.spatial`): native grid, shrink only huge inputs."""

from __future__ import annotations

import torch
from monai.data import MetaTensor
from monai.transforms import Compose, DivisiblePadd, Invertd

from monai_angio.transforms import LimitSize, LimitSized
from monai_angio.transforms.spatial import target_size


def test_target_size() -> None:
    assert target_size((300, 300)) == (300, 300)
    assert target_size((1, 2048, 1536)) == (1024, 768)
    assert target_size((512, 512), spacing_mm=0.1, min_spacing_mm=0.2) == (256, 256)
    assert target_size((512, 512), spacing_mm=0.3, min_spacing_mm=0.2) == (512, 512)


def test_native_and_large_inputs_round_trip() -> None:
    for shape, inner in (((300, 300), (320, 320)), ((1500, 1200), (1024, 832))):
        pre = Compose([LimitSized(keys="image", max_size=1024), DivisiblePadd(keys="image", k=32)])
        d = pre({"image": MetaTensor(torch.rand(1, *shape))})
        assert tuple(d["image"].shape[-2:]) == inner
        d["pred"] = MetaTensor(torch.rand(3, *inner))
        back = Invertd(keys="pred", transform=pre, orig_keys="image", nearest_interp=False)(d)["pred"]
        assert tuple(back.shape) == (3, *shape)
    x = torch.rand(1, 40, 30)
    assert LimitSize(1024)(x) is x
    assert tuple(LimitSize(20)(x).shape) == (1, 20, 15)
