"""Training samples that mix real, partially labelled angiograms with synthetic phantoms.

Each sample is a random crop of either a real image with a binary vessel mask (catheter unlabelled) or a freshly
generated synthetic phantom (full 3-class ground truth), preprocessed exactly as at inference
(:func:`~monai_angio.transforms.fov.field_of_view_mask` + :func:`~monai_angio.transforms.fov.fov_normalize`), then
augmented with MONAI transforms (rotation, scale, crop, gamma, noise, blur). Targets use the coding of
:mod:`monai_angio.losses.partial`:

- real masks: vessel -> 1 (artery), everything else -> 3 (not artery: background *or* catheter);
- synthetic: 0 / 1 / 2 as generated; thin drawn branches below the 2 mm major-artery criterion -> 4 (unknown), so
  synthetic data never teach "thin branch = background" while real experts label such branches;
- with ``branch_class`` (4-class networks): phantom thin branches -> 5 (branch) and real vessels -> 6 (major
  artery *or* branch), so phantoms teach which vessels meet the criterion and real masks teach only "vessel";
- optionally (``phantom_edge_ignore``) the inner one-pixel ring of phantom arteries at least ~4 px wide -> 4
  (unknown): the phantom labels the geometric vessel edge, real experts trace the visible edge about a pixel
  inside it, so the real masks alone then set where the artery boundary is drawn;
- optionally (``device_code``) phantom background pixels under a dark device (guidewire, sternal wire, clip, ECG or
  pacemaker lead: :attr:`~monai_angio.data.synthetic.Phantom.device_mask`) -> 7 (device: background, weighted on its
  own by the loss's ``code_weights``);
- pixels brought in by padding or rotation -> 4 (unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from monai.transforms import (
    Compose,
    RandAdjustContrastd,
    RandAffined,
    RandFlipd,
    RandGaussianNoised,
    RandGaussianSmoothd,
    RandScaleIntensityd,
    RandSpatialCropd,
    SpatialPadd,
)
from scipy import ndimage

from monai_angio.data.real import read_gray, read_mask
from monai_angio.errors import AngioInputError
from monai_angio.losses.partial import BRANCH, DEVICE, NOT_ARTERY, UNKNOWN, VESSEL
from monai_angio.transforms.acquisition import RandAcquisitionShiftd
from monai_angio.transforms.fov import field_of_view_mask, fov_normalize

__all__ = ["MixedSampleConfig", "MixedAngioDataset", "encode_real_mask", "encode_phantom", "zoom_image_and_label"]


def encode_real_mask(mask: np.ndarray, branch_class: bool = False) -> np.ndarray:
    """Binary vessel mask (any nonzero = vessel) -> coded target: 1 artery (6, vessel, with ``branch_class``),
    3 not artery."""
    vessel = VESSEL if branch_class else 1
    return np.where(np.asarray(mask) > 0, vessel, NOT_ARTERY).astype(np.uint8)


def encode_phantom(
    label: np.ndarray,
    vessel_mask: np.ndarray,
    edge_ignore: bool = False,
    branch_class: bool = False,
    device_mask: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Phantom label (0/1/2) + all-vessel mask -> coded target with thin branches as unknown (4), or as branch (5).

    Args:
        label: phantom label map (0 background, 1 artery, 2 catheter).
        vessel_mask: every drawn vessel, thin branches included.
        branch_class: code thin branches 5 (branch: taught as a class of its own by a 4-class network) instead of
            4 (unknown).
        edge_ignore: also code as unknown the artery pixels that touch a non-artery pixel (8-neighbourhood)
            wherever the artery is at least ~4 px wide (a pixel at distance >= 2 from its edge within 5 x 5), so
            the boundary's exact position is learnt from other (real) labels; narrower arteries stay known.
        device_mask: pixels covered by dark non-artery devices; those that are background (not artery, catheter or
            thin branch) get code 7 (device), background that the loss can weight on its own. None: no code 7.
    """
    t = np.asarray(label).astype(np.uint8).copy()
    t[(np.asarray(vessel_mask) > 0) & (t == 0)] = BRANCH if branch_class else UNKNOWN
    if device_mask is not None:
        t[(np.asarray(device_mask) > 0) & (t == 0)] = DEVICE
    if edge_ignore:
        art = t == 1
        depth = ndimage.distance_transform_edt(art)
        wide = ndimage.maximum_filter(depth, size=5) >= 2.0
        t[art & (depth < 1.5) & wide] = UNKNOWN
    return t


def zoom_image_and_label(image: np.ndarray, target: np.ndarray, zoom: float) -> Tuple[np.ndarray, np.ndarray]:
    """Resize a 2D image (bilinear) and its coded target (nearest) by ``zoom``, keeping them aligned.

    Both use the pixel-centre convention (``align_corners=False``; the target's ``"nearest-exact"``). Plain
    ``"nearest"`` indexes ``floor(i / zoom)`` and shifts the target by about half an output pixel against the
    bilinear image at any zoom other than 1 (0.48 px on average over zooms 0.7-1.5): until stage 14 every zoomed
    training sample carried that shift, which random flips turn into boundary uncertainty (too-wide vessels).

    Args:
        image: ``(H, W)`` float image.
        target: ``(H, W)`` integer codes.
        zoom: scale factor; within 2 % of 1 the inputs are returned unchanged.

    Returns:
        ``(image, target)`` of size ``round(H * zoom), round(W * zoom)`` (at least 8 px), float32 / uint8.
    """
    if abs(zoom - 1.0) <= 0.02:
        return image, target
    size = [max(8, int(round(s * zoom))) for s in image.shape]
    t = torch.as_tensor(np.asarray(image, np.float32))[None, None]
    img = torch.nn.functional.interpolate(t, size=size, mode="bilinear", align_corners=False)[0, 0].numpy()
    tt = torch.as_tensor(np.asarray(target).astype(np.float32))[None, None]
    tgt = torch.nn.functional.interpolate(tt, size=size, mode="nearest-exact")[0, 0].numpy().astype(np.uint8)
    return img, tgt


@dataclass
class MixedSampleConfig:
    """How :class:`MixedAngioDataset` draws samples.

    Attributes:
        crop: square crop size (pixels) fed to the network.
        real_fraction: probability that a sample is real (when real items exist).
        synthetic_sizes: image sizes drawn for phantoms.
        synthetic_config: callable ``(rng, size) -> PhantomConfig`` (default: the plain generator config).
        scale_range: isotropic zoom range (log-uniform), so vessel widths in pixels vary.
        rotate_deg: rotation range (+-) in degrees.
        flip_prob: probability of a left-right flip, and independently of an up-down flip, of every sample (0: the
            projection's orientation is kept, as in the shipped stages 1-9).
        phantom_edge_ignore: code the inner boundary ring of wide phantom arteries as unknown
            (:func:`encode_phantom`).
        acquisition_aug: also draw random acquisition shifts (:class:`~monai_angio.transforms.RandAcquisitionShiftd`:
            edge enhancement, strong noise, JPEG, exposure ramp) for every sample, after the other intensity steps
            (False: the samples of earlier recipes, unchanged).
        branch_class: code phantom thin branches as branch (5) and real vessels as vessel (6), for a 4-class network
            that keeps major arteries and branches apart (:mod:`monai_angio.losses.partial`); False: 4 and 1.
        device_code: code the background pixels under a phantom's dark devices as 7 (device) instead of 0, so the
            loss can weight them (:func:`encode_phantom`); False: 0, the samples of earlier recipes.
        fov_method: field-of-view detection for real images (:func:`~monai_angio.transforms.fov.field_of_view_mask`;
            phantoms use their true field of view). ``"robust"``, what the bundles' ``inference.json`` runs; the
            flagship's stages 1-16 were trained with ``"basic"``.
    """

    crop: int = 256
    real_fraction: float = 0.5
    synthetic_sizes: Sequence[int] = (256, 384, 512, 640)
    synthetic_config: Optional[Callable[[np.random.Generator, int], object]] = None
    scale_range: Tuple[float, float] = (0.7, 1.5)
    rotate_deg: float = 25.0
    flip_prob: float = 0.0
    seed: int = 0
    extra: Dict[str, float] = field(default_factory=dict)
    phantom_edge_ignore: bool = False
    fov_method: str = "robust"
    acquisition_aug: bool = False
    branch_class: bool = False
    device_code: bool = False


class MixedAngioDataset(torch.utils.data.Dataset):
    """An epoch of ``length`` random crops, real or synthetic (module docstring).

    Items are dicts ``{"image": (1, crop, crop) float32 in [0, 1], "label": (1, crop, crop) uint8 coded}``. Item
    ``i`` of epoch ``e`` is deterministic given ``seed``; call :meth:`set_epoch` between epochs for new samples.

    Args:
        real_items: ``[{"image": path, "label": path}, ...]`` real images with binary vessel masks (e.g. from
            :func:`monai_angio.data.real.folder_datalist`).
        length: samples per epoch.
        config: sampling settings.
    """

    def __init__(self, real_items: Sequence[Dict[str, str]], length: int, config: Optional[MixedSampleConfig] = None):
        self.cfg = config or MixedSampleConfig()
        self.length = int(length)
        self.epoch = 0
        self.real = [self._load_real(it, self.cfg.fov_method, self.cfg.branch_class) for it in real_items]
        c = self.cfg.crop
        p = float(self.cfg.flip_prob)  # no flip transforms at 0, so earlier recipes draw the same samples
        flips = [RandFlipd(keys=["image", "label"], prob=p, spatial_axis=a) for a in (0, 1)] if p > 0 else []
        self.aug = Compose(
            [
                RandAffined(
                    keys=["image", "label"],
                    prob=0.9,
                    rotate_range=np.deg2rad(self.cfg.rotate_deg),
                    mode=["bilinear", "nearest"],
                    padding_mode="zeros",
                ),
                *flips,
                SpatialPadd(keys=["image", "label"], spatial_size=(c, c)),
                RandSpatialCropd(keys=["image", "label"], roi_size=(c, c), random_size=False),
                RandAdjustContrastd(keys="image", prob=0.5, gamma=(0.6, 1.6)),
                RandScaleIntensityd(keys="image", prob=0.3, factors=0.15),
                RandGaussianSmoothd(keys="image", prob=0.2, sigma_x=(0.3, 1.2), sigma_y=(0.3, 1.2)),
                RandGaussianNoised(keys="image", prob=0.4, std=0.03),
                *([RandAcquisitionShiftd(keys="image")] if self.cfg.acquisition_aug else []),
            ]
        )

    @staticmethod
    def _load_real(item: Dict[str, str], fov_method: str, branch_class: bool = False) -> Tuple[np.ndarray, np.ndarray]:
        img, mask = read_gray(item["image"]), read_mask(item["label"])
        if img.shape != mask.shape:
            raise AngioInputError(f"mask shape {mask.shape} != image shape {img.shape}", item["label"])
        fov = field_of_view_mask(img, method=fov_method)
        return fov_normalize(img, fov), encode_real_mask(mask, branch_class)

    def set_epoch(self, epoch: int) -> None:
        """Draw new samples for ``epoch``."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.length

    def _synthetic(self, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        from monai_angio.data.synthetic import PhantomConfig, generate_phantom

        size = int(rng.choice(list(self.cfg.synthetic_sizes)))
        make = self.cfg.synthetic_config
        cfg = make(rng, size) if make is not None else PhantomConfig(size=size)
        ph = generate_phantom(int(rng.integers(0, 2**31 - 1)), cfg)
        fov = getattr(ph, "fov_mask", None)
        if fov is None:
            fov = field_of_view_mask(ph.image)
        devices = getattr(ph, "device_mask", None) if self.cfg.device_code else None
        return fov_normalize(ph.image, fov), encode_phantom(
            ph.label, ph.vessel_mask, self.cfg.phantom_edge_ignore, self.cfg.branch_class, devices
        )

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.cfg.seed, self.epoch, int(index)])
        if self.real and rng.random() < self.cfg.real_fraction:
            img, tgt = self.real[int(rng.integers(len(self.real)))]
        else:
            img, tgt = self._synthetic(rng)
        lo, hi = self.cfg.scale_range
        img, tgt = zoom_image_and_label(img, tgt, float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
        # shift so that padding / rotation fill (zeros) lands on "unknown" and on the image's median grey
        med = float(np.median(img))
        d = {"image": (img - med)[None].astype(np.float32), "label": (tgt.astype(np.float32) + 1.0)[None]}
        self.aug.set_random_state(seed=int(rng.integers(0, 2**31 - 1)))
        d = self.aug(d)
        image = torch.as_tensor(np.asarray(d["image"]), dtype=torch.float32) + med
        lab = torch.as_tensor(np.asarray(d["label"])).round().long() - 1
        lab[lab < 0] = UNKNOWN
        return {"image": image.clamp(0.0, 1.0).as_subclass(torch.Tensor), "label": lab.to(torch.uint8).as_subclass(torch.Tensor)}

