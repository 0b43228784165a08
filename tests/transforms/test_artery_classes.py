"""Label maps of major-artery / branch networks (:mod:`monai_angio.transforms.artery_classes`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_angio.transforms import (
    ArteryBranchLabel,
    ArteryBranchLabeld,
    MaskByLabel,
    MaskByLabeld,
    merge_branch_channel,
)


def _probs() -> torch.Tensor:
    """(4, 1, 5) probabilities (background, major, catheter, branch) of five pixels with known answers."""
    p = [
        [0.7, 0.1, 0.1, 0.1],  # background
        [0.4, 0.3, 0.0, 0.3],  # artery by the merged sum (0.6 > 0.4); a tie of major and branch -> major
        [0.4, 0.1, 0.2, 0.3],  # background: merged artery 0.4 ties background 0.4 -> the lower label
        [0.1, 0.1, 0.6, 0.2],  # catheter
        [0.35, 0.1, 0.2, 0.35],  # artery (0.45 > 0.35) though no single artery class beats background: a branch
    ]
    return torch.tensor(p).T[:, None, :]


def test_merged_label_map_and_major_map_by_hand() -> None:
    p = _probs()
    merged = merge_branch_channel(p)
    assert merged.shape == (3, 1, 5)
    assert torch.allclose(merged[1, 0], p[1, 0] + p[3, 0]) and torch.equal(merged[2], p[2])
    op = ArteryBranchLabel()
    lab = op(p)
    assert lab.shape == (1, 1, 5) and lab.flatten().tolist() == [0, 1, 0, 2, 1]
    assert op.major(p, lab).flatten().tolist() == [0, 1, 0, 0, 0]


def test_dict_version_keeps_metadata_and_stores_the_major_map() -> None:
    p = MetaTensor(_probs(), meta={"filename_or_obj": "a.png"})
    d = ArteryBranchLabeld("pred")({"pred": p})
    assert isinstance(d["pred"], MetaTensor) and d["pred"].meta["filename_or_obj"] == "a.png"
    assert d["major"].flatten().tolist() == [0, 1, 0, 0, 0]
    assert "major" not in ArteryBranchLabeld("pred", major_key=None)({"pred": p})


def test_three_class_probabilities_are_refused() -> None:
    with pytest.raises(ValueError, match=">= 3 channels"):
        merge_branch_channel(torch.rand(2, 4, 4))
    with pytest.raises(ValueError, match="distinct"):
        merge_branch_channel(torch.rand(3, 4, 4), artery=2, branch=-1)


def test_mask_by_label() -> None:
    major = np.array([[1, 1, 0, 1]], np.float32)
    labels = np.array([[1, 0, 1, 2]], np.float32)
    assert MaskByLabel(1)(major, labels).tolist() == [[1, 0, 0, 0]]
    d = MaskByLabeld("major", label_key="pred")({"major": torch.as_tensor(major), "pred": torch.as_tensor(labels)})
    assert d["major"].tolist() == [[1, 0, 0, 0]]
    assert MaskByLabeld("major", allow_missing_keys=True)({"pred": labels}) == {"pred": labels}

