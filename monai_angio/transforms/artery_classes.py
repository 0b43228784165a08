"""Label maps of networks that keep major arteries and smaller branches apart.

A 4-class network predicts background, major artery (at least 2 mm wide at its origin, the clinical class of
Silva et al.), catheter and branch (a vessel below that criterion); see :mod:`monai_angio.losses.partial` and
:class:`~monai_angio.networks.ArterySplitNetwork` (an experimental flagship variant, not shipped: the flagship's
bundle README, "Major arteries apart from branches"). Users and real expert masks know one artery class, every contrast-filled
vessel, so the label map merges the two artery classes; the major arteries come as a second binary map:

- :class:`ArteryBranchLabel` / :class:`ArteryBranchLabeld`: probabilities ``(C, ...)`` -> the label map of the
  merged classes (``(1, ...)``, values ``0 .. C - 2``), and (dictionary version) the major-artery map under
  ``major_key``: the label-map artery pixels whose major-artery probability is at least their branch probability;
- :class:`MaskByLabel` / :class:`MaskByLabeld`: keep a binary map only where a label map holds one value (e.g. the
  major map inside the label map's artery after its field-of-view masking and small-component cleanup).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.transforms import MapTransform, Transform
from monai.utils import convert_to_dst_type

from monai_angio.transforms.postprocess import ArgmaxLabel

__all__ = [
    "ArteryBranchLabel",
    "ArteryBranchLabeld",
    "MaskByLabel",
    "MaskByLabeld",
    "merge_branch_channel",
]


def _as_tensor(img: NdarrayOrTensor) -> torch.Tensor:
    t = img if isinstance(img, torch.Tensor) else torch.as_tensor(np.asarray(img))
    return t.as_subclass(torch.Tensor) if isinstance(t, torch.Tensor) else t


def merge_branch_channel(prob: torch.Tensor, artery: int = 1, branch: int = -1) -> torch.Tensor:
    """``(C, ...)`` probabilities -> ``(C - 1, ...)``: the branch channel added to the artery channel and dropped.

    Args:
        prob: class probabilities (softmax output), at least 3 channels.
        artery: the artery channel that takes the branch's probability.
        branch: the branch channel (default the last).
    """
    c = prob.shape[0]
    branch = branch % c
    if c < 3 or artery % c == branch:
        raise ValueError(f"need >= 3 channels and distinct artery / branch channels, got {c}, {artery}, {branch}")
    merged = prob.clone()
    merged[artery] = merged[artery] + merged[branch]
    keep = [i for i in range(c) if i != branch]
    return merged[keep]


class ArteryBranchLabel(Transform):
    """Label map of a major-artery / branch network: branch merged into artery, then the channel of the maximum.

    ``(C, *spatial)`` probabilities -> ``(1, *spatial)`` labels ``0 .. C - 2`` (ties go to the lower label, as in
    :class:`~monai_angio.transforms.ArgmaxLabel`). Metadata of a ``MetaTensor`` is kept.

    Args:
        artery: the major-artery channel (also the merged label's value).
        branch: the branch channel (default the last).
        dtype: output dtype.
    """

    def __init__(self, artery: int = 1, branch: int = -1, dtype: torch.dtype = torch.float32) -> None:
        self.artery, self.branch, self.dtype = int(artery), int(branch), dtype
        self.argmax = ArgmaxLabel(dtype)

    def __call__(self, img: NdarrayOrTensor) -> NdarrayOrTensor:
        """Return the ``(1, *spatial)`` merged label map of ``img``."""
        lab = self.argmax(merge_branch_channel(_as_tensor(img), self.artery, self.branch))
        out, *_ = convert_to_dst_type(lab, img, dtype=self.dtype)
        return out

    def major(self, img: NdarrayOrTensor, label: NdarrayOrTensor) -> NdarrayOrTensor:
        """``(1, *spatial)`` binary map: ``label`` is artery and the major probability >= the branch probability."""
        p = _as_tensor(img)
        lab = _as_tensor(label)
        c = p.shape[0]
        major = (lab == self.artery) & (p[self.artery % c] >= p[self.branch % c])[None]
        out, *_ = convert_to_dst_type(major.to(self.dtype), img, dtype=self.dtype)
        return out


class ArteryBranchLabeld(MapTransform):
    """Dictionary version of :class:`ArteryBranchLabel`: ``keys`` become label maps, ``major_key`` the major map.

    Args:
        keys: prediction keys (probabilities).
        major_key: where the major-artery map of the (first) key is stored; None: not stored.
        artery: the major-artery channel.
        branch: the branch channel (default the last).
        dtype: output dtype.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        major_key: str | None = "major",
        artery: int = 1,
        branch: int = -1,
        dtype: torch.dtype = torch.float32,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.op = ArteryBranchLabel(artery, branch, dtype)
        self.major_key = major_key

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for i, key in enumerate(self.key_iterator(d)):
            prob = d[key]
            d[key] = self.op(prob)
            if i == 0 and self.major_key is not None:
                d[self.major_key] = self.op.major(prob, d[key])
        return d


class MaskByLabel(Transform):
    """Zero a map wherever a label map does not hold ``label``: ``img * (label_map == label)``.

    Args:
        label: the label value to keep.
    """

    def __init__(self, label: int = 1) -> None:
        self.label = int(label)

    def __call__(self, img: NdarrayOrTensor, label_map: NdarrayOrTensor) -> NdarrayOrTensor:
        """Return ``img`` with every pixel outside ``label_map == label`` set to 0 (same type and shape)."""
        t = _as_tensor(img)
        keep = (_as_tensor(label_map).to(t.device) == self.label).reshape(t.shape)
        out, *_ = convert_to_dst_type(torch.where(keep, t, torch.zeros_like(t)), img)
        return out


class MaskByLabeld(MapTransform):
    """Dictionary version of :class:`MaskByLabel`: ``keys`` masked by ``d[label_key] == label``.

    Args:
        keys: maps to mask (e.g. ``"major"``).
        label_key: the label map (e.g. ``"pred"``).
        label: the label value to keep.
        allow_missing_keys: don't raise if a key is missing (a 3-class bundle has no major map).
    """

    def __init__(self, keys: KeysCollection, label_key: str = "pred", label: int = 1, allow_missing_keys: bool = False):
        super().__init__(keys, allow_missing_keys)
        self.op = MaskByLabel(label)
        self.label_key = label_key

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.op(d[key], d[self.label_key])
        return d

