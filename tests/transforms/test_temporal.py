"""TemporalWindow(d): edge padding by repetition, label centre frame, errors, per-frame datalist expansion."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_angio.errors import AngioInputError
from monai_angio.transforms import TemporalWindow, TemporalWindowd, expand_cine_items, window_indices


def _cine(t: int = 5, h: int = 8, w: int = 6) -> MetaTensor:
    """Frame k is filled with the value k, so a window's content tells which frames it holds."""
    data = torch.arange(t, dtype=torch.float32)[:, None, None].expand(t, h, w).clone()
    return MetaTensor(data, affine=torch.diag(torch.tensor([0.2, 0.3, 1.0], dtype=torch.float64)),
                      meta={"filename_or_obj": "cine.nii.gz"})


@pytest.mark.parametrize(
    "n, frame, expected",
    [
        (1, 0, [0, 0, 1]),
        (1, 4, [3, 4, 4]),
        (1, 2, [1, 2, 3]),
        (2, 0, [0, 0, 0, 1, 2]),
        (2, 1, [0, 0, 1, 2, 3]),
        (2, 3, [1, 2, 3, 4, 4]),
        (2, 4, [2, 3, 4, 4, 4]),
        (0, 3, [3]),
    ],
)
def test_window_edges(n, frame, expected):
    assert window_indices(5, frame, n) == expected
    out = TemporalWindow(num_neighbors=n)(_cine(), frame)
    assert tuple(out.shape) == (1, 2 * n + 1, 8, 6)
    assert out[0, :, 0, 0].tolist() == expected
    assert torch.all(out[0] == out[0, :, :1, :1])  # whole frames copied, not single pixels
    assert out.meta["frame_index"] == frame and out.meta["window_frames"] == expected
    # spatial spacing kept behind a unit frame axis
    np.testing.assert_allclose(torch.diagonal(out.affine).numpy(), [1.0, 0.2, 0.3, 1.0])


def test_window_short_sequences_and_numpy():
    one = np.full((1, 4, 4), 7.0, np.float32)
    out = TemporalWindow(2)(one, 0)
    assert isinstance(out, np.ndarray) and out.shape == (1, 5, 4, 4) and np.all(out == 7)
    two = np.stack([np.zeros((4, 4)), np.ones((4, 4))])
    assert TemporalWindow(2)(two, 1)[0, :, 0, 0].tolist() == [0, 0, 1, 1, 1]


def test_window_errors_name_file():
    w = TemporalWindow(1)
    with pytest.raises(AngioInputError, match=r"cine.nii.gz: target frame 5 is outside the sequence of 5 frames"):
        w(_cine(), 5)
    with pytest.raises(AngioInputError, match="outside"):
        w(_cine(), -1)
    with pytest.raises(AngioInputError, match="empty sequence"):
        w(MetaTensor(torch.zeros(0, 4, 4), meta={"filename_or_obj": "e.dcm"}), 0)
    with pytest.raises(AngioInputError, match=r"\(T, H, W\)"):
        w(torch.zeros(1, 1, 4, 4), 0)
    with pytest.raises(AngioInputError, match="integer"):
        w(_cine(), 1.5)
    with pytest.raises(ValueError):
        TemporalWindow(-1)


def test_window_dict_with_labels():
    lab = torch.zeros(5, 8, 6, dtype=torch.uint8)
    for k in range(5):
        lab[k, k, :] = 1 + (k % 2)  # row k marks frame k
    d = TemporalWindowd("image", num_neighbors=2, label_keys="label")(
        {"image": _cine(), "label": lab, "frame": torch.tensor(4)}
    )
    assert d["image"].shape == (1, 5, 8, 6) and d["image"][0, :, 0, 0].tolist() == [2, 3, 4, 4, 4]
    assert d["label"].shape == (1, 8, 6) and d["label"].dtype == torch.uint8
    assert torch.nonzero(d["label"][0])[:, 0].unique().tolist() == [4]
    # a still label (1, H, W) is the label of the target frame
    still = torch.ones(1, 8, 6)
    d = TemporalWindowd("image", 1, label_keys=["label"])({"image": _cine(), "label": still, "frame": 3})
    assert torch.equal(d["label"], still)
    # no frame key: only allowed for single-frame input
    d = TemporalWindowd("image", 1)({"image": _cine(t=1)})
    assert d["image"].shape == (1, 3, 8, 6)
    with pytest.raises(AngioInputError, match="no target frame index"):
        TemporalWindowd("image", 1)({"image": _cine()})


def test_expand_cine_items(tmp_path):
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 4), np.uint8), np.eye(4)), tmp_path / "c0.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((8, 8), np.uint8), np.eye(4)), tmp_path / "still.nii.gz")
    items = [
        {"image": "c0.nii.gz", "label": "c0.nii.gz"},
        {"image": "still.nii.gz"},
        {"image": "c0.nii.gz", "frame": 2},
    ]
    out = expand_cine_items(items, base_dir=tmp_path)
    assert [(o["image"], o["frame"]) for o in out] == [
        ("c0.nii.gz", 0), ("c0.nii.gz", 1), ("c0.nii.gz", 2), ("c0.nii.gz", 3), ("still.nii.gz", 0), ("c0.nii.gz", 2)
    ]
    assert out[0]["label"] == "c0.nii.gz" and items[0] == {"image": "c0.nii.gz", "label": "c0.nii.gz"}
    inner = expand_cine_items(items[:1], base_dir=tmp_path, frames=slice(1, -1))
    assert [o["frame"] for o in inner] == [1, 2]
    with pytest.raises(AngioInputError, match="missing.nii.gz"):
        expand_cine_items([{"image": "missing.nii.gz"}], base_dir=tmp_path)


def test_monai_pipeline_cine_to_batch(tmp_path):
    """Load -> normalise -> augment -> window on a NIfTI cine + label cine, then batch with a MONAI DataLoader."""
    from monai.data import DataLoader, Dataset
    from monai.transforms import Compose

    from monai_angio.transforms import LoadAngiogramd, MinMaxNormalized, RandAngioAugmentd

    t, h, w = 6, 32, 32
    img = np.random.default_rng(0).uniform(100, 200, (h, w, t)).astype(np.float32)
    lab = np.zeros((h, w, t), np.uint8)
    lab[8:24, 14:18, :] = 1
    lab[:, 2:4, :] = 2
    nib.save(nib.Nifti1Image(img, np.eye(4)), tmp_path / "img.nii.gz")
    nib.save(nib.Nifti1Image(lab, np.eye(4)), tmp_path / "lab.nii.gz")
    items = expand_cine_items([{"image": "img.nii.gz", "label": "lab.nii.gz"}], base_dir=tmp_path)
    items = [{**i, "image": str(tmp_path / i["image"]), "label": str(tmp_path / i["label"])} for i in items]
    pipeline = Compose(
        [
            LoadAngiogramd(["image", "label"]),
            MinMaxNormalized("image"),
            RandAngioAugmentd("image", label_keys="label", prob=1.0),
            TemporalWindowd("image", num_neighbors=2, label_keys="label"),
        ]
    )
    pipeline.set_random_state(0)
    batch = next(iter(DataLoader(Dataset(items, pipeline), batch_size=3, num_workers=0)))
    assert batch["image"].shape == (3, 1, 5, h, w)
    assert batch["label"].shape == (3, 1, h, w)
    assert batch["frame"].tolist() == [0, 1, 2]
    assert set(torch.unique(batch["label"]).tolist()) <= {0.0, 1.0, 2.0}
    assert float(batch["image"].min()) >= 0.0 and float(batch["image"].max()) <= 1.4 + 1e-5
