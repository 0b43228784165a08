"""Training and evaluation samples for temporal networks: ``2N+1``-frame windows of synthetic cines.

Real angiograms with labelled cines are not available, so the temporal bundle learns motion and noise from
:func:`~monai_angio.data.synthetic.generate_cine` runs (cardiac and respiratory motion, contrast wash-in / out,
fresh quantum noise in every frame) and, optionally, real appearance from labelled real *stills* shown as static
windows (the frame repeated ``2N+1`` times, as :class:`~monai_angio.transforms.TemporalWindowd` pads a still).

- :func:`build_cine_set`: cines generated for a list of seeds, each normalised as the bundle's ``inference.json``
  normalises a cine (one field of view from the mean frame, percentiles over the whole run), with coded targets
  (:func:`~monai_angio.data.mixed.encode_phantom`: thin branches unknown) and the frames usable as targets (those
  whose contrast concentration is at least ``min_contrast`` of the run's peak: early frames carry geometric labels
  but no visible arteries).
- :class:`CineWindowDataset`: an epoch of random windows (same flips / rotation / crop / gamma for every frame),
  mixed with real static windows.
- :func:`window_iou`: per-target-frame IoU of a network on a cine set, unknown pixels left out -- the metric of the
  temporal bundle's README (same held-out cines for every ``N``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from monai_angio.losses.partial import UNKNOWN

__all__ = ["CineSet", "build_cine_set", "CineWindowDataset", "window_iou"]


@dataclass
class CineSet:
    """Normalised synthetic cines with coded targets.

    Attributes:
        images: ``(K, T, H, W)`` float32 in ``[0, 1]``.
        targets: ``(K, T, H, W)`` uint8 coded targets (0 background, 1 artery, 2 catheter, 4 unknown).
        target_frames: ``(cine, frame)`` pairs usable as target frames.
        seeds: generator seed of each cine.
    """

    images: np.ndarray
    targets: np.ndarray
    target_frames: List[Tuple[int, int]] = field(default_factory=list)
    seeds: List[int] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.images.shape[0])


def build_cine_set(
    seeds: Sequence[int],
    config: Callable[[int], object],
    frames: int = 16,
    min_contrast: float = 0.25,
    progress: Optional[Callable[[int, int], None]] = None,
) -> CineSet:
    """Generate, normalise and code one cine per seed.

    Args:
        seeds: generator seeds (one cine each; keep training and held-out seeds disjoint).
        config: ``seed -> PhantomConfig`` (all cines must share the image size).
        frames: frames per cine.
        min_contrast: target frames need a concentration >= this fraction of the run's peak.
        progress: optional ``(done, total)`` callback.
    """
    from monai_angio.data.mixed import encode_phantom
    from monai_angio.data.synthetic import generate_cine
    from monai_angio.transforms.fov import field_of_view_mask, fov_normalize

    images, targets, pairs = [], [], []
    for i, seed in enumerate(seeds):
        cine = generate_cine(int(seed), config(int(seed)), frames=frames)
        fov = cine.frames[0].fov_mask if getattr(cine.frames[0], "fov_mask", None) is not None else None
        if fov is None:
            fov = field_of_view_mask(cine.images.mean(0))
        images.append(fov_normalize(cine.images, np.asarray(fov, bool)[None]))
        targets.append(np.stack([encode_phantom(f.label, f.vessel_mask) for f in cine.frames]))
        conc = np.asarray(cine.concentration, float)
        peak = float(conc.max()) if conc.size else 0.0
        pairs += [(i, t) for t in range(len(conc)) if peak > 0 and conc[t] >= min_contrast * peak]
        if progress is not None:
            progress(i + 1, len(seeds))
    return CineSet(np.stack(images), np.stack(targets), pairs, [int(s) for s in seeds])


def _window(n: int, t: int, num_neighbors: int) -> List[int]:
    from monai_angio.transforms.temporal import window_indices

    return window_indices(n, t, num_neighbors)


class CineWindowDataset(torch.utils.data.Dataset):
    """An epoch of ``length`` windows: synthetic cine windows, or real stills repeated as static windows.

    Items are ``{"image": (1, 2N+1, crop, crop) float32, "label": (1, crop, crop) uint8 coded}``; item ``i`` of
    epoch ``e`` is deterministic given ``seed`` (call :meth:`set_epoch` between epochs).

    Args:
        cines: the synthetic cines.
        num_neighbors: ``N`` (0 gives single frames: the 2-D baseline on the same data).
        length: samples per epoch.
        crop: square crop (cines smaller than it are not allowed).
        real: optional dataset of real 2-D samples (e.g. ``MixedAngioDataset`` with ``real_fraction=1``) whose
            items are ``{"image": (1, crop, crop), "label": (1, crop, crop)}``.
        real_fraction: probability that a sample is a real static window (when ``real`` is given).
        seed: sampling seed.
    """

    def __init__(
        self,
        cines: CineSet,
        num_neighbors: int,
        length: int,
        crop: int = 256,
        real: Optional[torch.utils.data.Dataset] = None,
        real_fraction: float = 0.0,
        seed: int = 0,
    ) -> None:
        if not cines.target_frames:
            raise ValueError("the cine set has no target frames (all below the contrast threshold?)")
        if min(cines.images.shape[-2:]) < crop:
            raise ValueError(f"cines of {list(cines.images.shape[-2:])} px are smaller than the crop {crop}")
        self.cines, self.n, self.length, self.crop = cines, int(num_neighbors), int(length), int(crop)
        self.real, self.real_fraction, self.seed = real, float(real_fraction), int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw new samples for ``epoch`` (also for the real samples)."""
        self.epoch = int(epoch)
        if self.real is not None and hasattr(self.real, "set_epoch"):
            self.real.set_epoch(epoch)

    def __len__(self) -> int:
        return self.length

    def _cine_sample(self, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        k, t = self.cines.target_frames[int(rng.integers(len(self.cines.target_frames)))]
        idx = _window(self.cines.images.shape[1], t, self.n)
        img = self.cines.images[k, idx]  # (2N+1, H, W)
        tgt = self.cines.targets[k, t]
        H, W = tgt.shape
        r, c = int(rng.integers(H - self.crop + 1)), int(rng.integers(W - self.crop + 1))
        img = img[:, r : r + self.crop, c : c + self.crop]
        tgt = tgt[r : r + self.crop, c : c + self.crop]
        rot = int(rng.integers(4))
        img, tgt = np.rot90(img, rot, axes=(1, 2)), np.rot90(tgt, rot)
        if rng.random() < 0.5:
            img, tgt = img[:, :, ::-1], tgt[:, ::-1]
        if rng.random() < 0.5:
            img = np.clip(img, 0.0, 1.0) ** float(np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
        return np.ascontiguousarray(img, np.float32), np.ascontiguousarray(tgt, np.uint8)

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        if self.real is not None and rng.random() < self.real_fraction:
            d = self.real[int(rng.integers(len(self.real)))]
            img2d = torch.as_tensor(d["image"], dtype=torch.float32)[0]
            image = img2d[None].expand(2 * self.n + 1, -1, -1)[None].contiguous()
            return {"image": image, "label": torch.as_tensor(d["label"]).to(torch.uint8)}
        img, tgt = self._cine_sample(rng)
        return {"image": torch.from_numpy(img)[None], "label": torch.from_numpy(tgt)[None]}


def window_iou(
    network: torch.nn.Module,
    cines: CineSet,
    num_neighbors: int,
    artery_channel: int = 1,
    pad_to: int = 32,
) -> np.ndarray:
    """IoU of the predicted artery (argmax) against the artery target of every target frame of ``cines``.

    Pixels coded unknown (thin branches) are left out of both; the catheter counts as background. Frames are
    padded by edge repetition to a multiple of ``pad_to``.

    Returns:
        float array, one IoU per ``cines.target_frames`` entry (NaN where neither target nor prediction has artery).
    """
    network.eval()
    out = []
    T, H, W = cines.images.shape[1:]
    ph, pw = (-H) % pad_to, (-W) % pad_to
    with torch.no_grad():
        for k, t in cines.target_frames:
            x = torch.from_numpy(np.ascontiguousarray(cines.images[k, _window(T, t, num_neighbors)]))[None, None]
            if ph or pw:
                x = torch.nn.functional.pad(x[0], (0, pw, 0, ph), mode="replicate")[None]
            logits = network(x)
            logits = logits[0] if isinstance(logits, (list, tuple)) else logits
            pred = logits[0].argmax(0)[:H, :W].numpy() == artery_channel
            tgt = cines.targets[k, t]
            known = tgt != UNKNOWN
            a, b = pred & known, (tgt == 1) & known
            union = int((a | b).sum())
            out.append(float((a & b).sum()) / union if union else float("nan"))
    return np.asarray(out, float)
