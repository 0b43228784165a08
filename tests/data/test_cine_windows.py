"""Tests of the temporal bundle's training samples (synthetic cine windows and real static windows)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_angio.data.cine_windows import CineSet, CineWindowDataset, build_cine_set, window_iou
from monai_angio.data.synthetic import PhantomConfig
from monai_angio.losses.partial import UNKNOWN


@pytest.fixture(scope="module")
def cines() -> CineSet:
    return build_cine_set([11, 12], lambda s: PhantomConfig.cathlab(size=96), frames=6, min_contrast=0.25)


def test_cine_set_is_normalised_coded_and_keeps_contrast_frames(cines: CineSet) -> None:
    assert cines.images.shape == (2, 6, 96, 96) and cines.images.dtype == np.float32
    assert cines.targets.shape == (2, 6, 96, 96) and cines.targets.dtype == np.uint8
    assert 0.0 <= cines.images.min() and cines.images.max() <= 1.0
    assert set(np.unique(cines.targets)) <= {0, 1, 2, UNKNOWN} and (cines.targets == 1).any()
    assert cines.target_frames and all(0 <= k < 2 and 0 <= t < 6 for k, t in cines.target_frames)
    assert cines.seeds == [11, 12]


def test_windows_are_frames_around_the_target_with_its_label(cines: CineSet) -> None:
    ds = CineWindowDataset(cines, num_neighbors=2, length=4, crop=96, seed=3)
    item = ds[0]
    assert item["image"].shape == (1, 5, 96, 96) and item["label"].shape == (1, 96, 96)
    assert item["label"].dtype == torch.uint8
    # deterministic per (seed, epoch, index); a new epoch draws new samples
    assert torch.equal(ds[0]["image"], item["image"])
    ds.set_epoch(1)
    assert not torch.equal(ds[0]["image"], item["image"]) or not torch.equal(ds[1]["image"], item["image"])


def test_window_without_augmentation_matches_the_cine(cines: CineSet, monkeypatch) -> None:
    ds = CineWindowDataset(cines, num_neighbors=1, length=1, crop=96)
    k, t = cines.target_frames[0]
    monkeypatch.setattr(ds.cines, "target_frames", [(k, t)])

    class _NoAug:
        def integers(self, *a, **kw):
            return 0

        def random(self):
            return 0.99  # no flip, no gamma

    img, tgt = ds._cine_sample(_NoAug())
    idx = [max(t - 1, 0), t, min(t + 1, 5)]
    np.testing.assert_array_equal(img, cines.images[k, idx])
    np.testing.assert_array_equal(tgt, cines.targets[k, t])


def test_real_samples_become_static_windows(cines: CineSet) -> None:
    real = [{"image": torch.rand(1, 96, 96), "label": torch.ones(1, 96, 96, dtype=torch.uint8)}]
    ds = CineWindowDataset(cines, num_neighbors=2, length=2, crop=96, real=real, real_fraction=1.0)
    item = ds[0]
    assert item["image"].shape == (1, 5, 96, 96)
    for j in range(1, 5):
        assert torch.equal(item["image"][0, j], item["image"][0, 0])
    assert torch.equal(item["label"], real[0]["label"])


def test_bad_sets_are_refused(cines: CineSet) -> None:
    with pytest.raises(ValueError, match="smaller than the crop"):
        CineWindowDataset(cines, 1, 2, crop=128)
    empty = CineSet(cines.images, cines.targets, [], cines.seeds)
    with pytest.raises(ValueError, match="no target frames"):
        CineWindowDataset(empty, 1, 2, crop=96)


def test_window_iou_is_one_for_a_perfect_network_and_ignores_unknown(cines: CineSet) -> None:
    class Oracle(torch.nn.Module):
        """Looks up the target of the window's centre frame (by identity of the window's centre image)."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            centre = x[0, 0, x.shape[2] // 2, :96, :96].numpy()
            for k, t in cines.target_frames:
                if np.array_equal(centre, cines.images[k, t]):
                    art = torch.from_numpy((cines.targets[k, t] == 1).astype(np.float32))
                    logits = torch.stack([1 - art, art])[None]
                    return torch.nn.functional.pad(logits, (0, x.shape[-1] - 96, 0, x.shape[-2] - 96))
            raise AssertionError("centre frame not found")

    iou = window_iou(Oracle(), cines, num_neighbors=1)
    assert iou.shape == (len(cines.target_frames),)
    np.testing.assert_allclose(iou[np.isfinite(iou)], 1.0)

    class Nothing(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.zeros(1, 2, *x.shape[-2:])  # ties -> argmax 0: no artery

    assert np.all(window_iou(Nothing(), cines, num_neighbors=0)[np.isfinite(iou)] == 0.0)
