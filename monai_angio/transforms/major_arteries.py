"""The flagship's clinical class as a second map: the major arteries (at least 2 mm wide at their origin).

The flagship's label map follows real expert masks: every contrast-filled vessel is artery, drawn to its visible
edge. The clinical class of the EfficientUNet++ study is narrower: an artery whose diameter at its origin is at
least 2 mm, drawn to its lumen edge, which is the class the synthetic phantoms label. :class:`MajorArteryMap` derives
it from a 3-class network's output without retraining, in three steps:

1. **Lumen region.** Pixels whose artery probability exceeds ``region_threshold`` (0.25: the phantoms' lumen edge
   lies about one pixel outside the arg-max edge), within ``region_px`` of the label map's artery and not catheter
   (nor, with a field of view, outside it).
2. **Scale.** A pixel size the user knows (``mm_per_px``), else mm/px from the label map's catheter at ``catheter_french``
   (:func:`~monai_angio.qca.calibration.calibrate_from_catheter`; source ``"catheter"``); a catheter without a
   straight segment long enough for QCA still gives a rough scale from its width anywhere away from its ends
   (:data:`ROUGH_CATHETER_WIDTH`; ``"catheter-rough"``); without a catheter, from the image's DICOM geometry
   (:func:`~monai_angio.qca.calibration.calibrate_from_dicom`); with neither, from the lumen region's widest artery
   taken to be ``widest_artery_mm`` (4.2 mm: left main / proximal RCA;
   :func:`~monai_angio.qca.calibration.calibrate_from_artery_width`; ``"artery-width"``), a population value good
   to about 10-15 %, enough for a 2 mm criterion. With ``widest_artery_mm=None`` or too little artery the map is
   empty and the scale NaN.
3. **Criterion.** :func:`~monai_angio.qca.branches.filter_major_branches` walks each centreline tree from the ostium
   next to the catheter and drops branches below ``min_origin_diameter_mm`` at their origin, with everything
   downstream of them.
4. **Learned second opinion (optional, experimental).** Given a ``refiner``
   (:class:`~monai_angio.networks.MajorArteryRefiner` weights), the map keeps the lumen region where the refiner,
   fed the image, the artery and catheter probabilities, the geometric map of step 3 and the scale
   (:func:`major_refiner_inputs`), gives a major-artery probability above 0.5. Step 3's walk cannot tell a thin
   side branch from the parent's continuation when both leave a junction about as wide; the refiner, trained on
   phantoms whose major arteries are known, sees the whole tree at once. No refiner weights ship: the one trained
   on a CPU did not earn its place (flagship bundle README, "A learned refiner, tried").

:class:`MajorArteryMapd` runs it in a bundle's postprocessing (after the label map is final) and stores the map
under ``major_key`` (collected by :class:`~monai_angio.bundle.BundleRunner` into ``extra_maps["major"]``; ``monai-angio
segment`` writes it as ``<stem>_major.nii.gz``) and the scale under ``scale_key``. It costs about 0.27 s per
512 px frame on a 2-core CPU (the centreline graph; the flagship's whole frame 0.33 -> 0.59 s), a refiner
0.06-0.10 s more, so the flagship runs it only when its config says ``major_map: true``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from monai.config import KeysCollection, NdarrayOrTensor
from monai.transforms import MapTransform, Transform
from monai.utils import convert_to_dst_type
from scipy import ndimage

from monai_angio.errors import AngioInputError
from monai_angio.utils.arrays import squeeze_leading

if TYPE_CHECKING:
    from monai_angio.qca.centerline import VesselGraph

__all__ = [
    "MajorArteryMap",
    "MajorArteryMapd",
    "major_artery_region",
    "major_refiner_inputs",
    "refined_region",
    "ROUGH_CATHETER_WIDTH",
]

#: :func:`~monai_angio.qca.calibration.catheter_width_px` settings of the rough scale, tried when the catheter has no
#: straight segment long enough for QCA's calibration (curved all along, or short): its width anywhere away from its
#: ends, which is good to several per cent, enough for a 2 mm criterion though not for QCA
ROUGH_CATHETER_WIDTH = {"max_curvature": math.inf, "border_margin": 2.0, "min_straight_px": 8.0}


def _plane(x: Any) -> np.ndarray:
    """A ``(H, W)`` numpy view of a ``(1, H, W)`` / ``(H, W)`` array or tensor."""
    arr = squeeze_leading(x)
    if arr.ndim != 2:
        raise ValueError(f"expected one (H, W) plane, got shape {arr.shape}")
    return arr


def major_artery_region(
    label: np.ndarray,
    artery_prob: np.ndarray,
    region_threshold: float = 0.25,
    region_px: int = 3,
    artery: int = 1,
    catheter: int = 2,
    fov: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Lumen region of the label map's arteries: ``artery_prob > region_threshold`` within ``region_px`` of them.

    Args:
        label: ``(H, W)`` label map.
        artery_prob: ``(H, W)`` artery probability on the same grid.
        region_threshold: probability above which a pixel may belong to an artery's lumen.
        region_px: how far (px) the region may reach beyond the label map's artery.
        artery: artery label value.
        catheter: catheter label value (never in the region).
        fov: optional field-of-view mask (the region stays inside it).
    """
    lab = np.rint(label).astype(np.int64)
    art = lab == artery
    if region_px > 0:
        near = ndimage.binary_dilation(art, iterations=int(region_px))
    else:
        near = art
    region = art | ((np.asarray(artery_prob, np.float32) > region_threshold) & near)
    region &= lab != catheter
    if fov is not None:
        region &= np.asarray(fov, bool)
    return region


def major_refiner_inputs(
    image: np.ndarray, artery_prob: np.ndarray, catheter_prob: np.ndarray, geometric: np.ndarray, mm_per_px: float
) -> torch.Tensor:
    """The :class:`~monai_angio.networks.MajorArteryRefiner` input of one frame: ``(1, 5, h, w)`` float32.

    The image is standardised robustly (minus its median, over its 5-95 % range / 3.29, clipped to
    +-:data:`~monai_angio.networks.major_refiner.REFINER_IMAGE_CLIP`: a frame whose collimator shadow fills much of
    it would otherwise reach hundreds and upset the refiner's batch statistics), then the four
    ``(H, W)`` planes (:data:`~monai_angio.networks.major_refiner.REFINER_CHANNELS`) are averaged down to a grid whose
    longer side is :data:`~monai_angio.networks.major_refiner.REFINER_GRID` px (kept when smaller); the ``scale``
    channel is that grid's pixel size in mm over :data:`~monai_angio.networks.major_refiner.REFINER_MM_PER_PX` (0
    without a finite scale).

    Args:
        image: the frame (vessels dark), on the same grid.
        artery_prob: artery probability.
        catheter_prob: catheter probability.
        geometric: the geometric major-artery map (step 3 of the module docstring).
        mm_per_px: the frame's pixel size (mm).
    """
    from monai_angio.networks.major_refiner import REFINER_GRID, REFINER_IMAGE_CLIP, REFINER_MM_PER_PX

    img = np.asarray(image, np.float32)
    q05, q50, q95 = np.percentile(img, [5, 50, 95])
    spread = max(float(q95 - q05) / 3.29, 1e-3 * (abs(float(q50)) + 1.0))
    img = np.clip((img - q50) / spread, -REFINER_IMAGE_CLIP, REFINER_IMAGE_CLIP).astype(np.float32)
    planes = [img] + [np.asarray(a, np.float32) for a in (artery_prob, catheter_prob, geometric)]
    h, w = planes[0].shape
    if any(a.shape != (h, w) for a in planes):
        raise ValueError(f"refiner inputs differ in shape: {[a.shape for a in planes]}")
    factor = max(1.0, max(h, w) / REFINER_GRID)
    size = (max(1, int(round(h / factor))), max(1, int(round(w / factor))))
    x = torch.as_tensor(np.stack(planes))[None]
    if size != (h, w):
        x = F.interpolate(x, size=size, mode="area")
    scale = float(mm_per_px) * h / size[0] / REFINER_MM_PER_PX if math.isfinite(float(mm_per_px)) else 0.0
    return torch.cat([x, torch.full((1, 1) + size, scale, dtype=torch.float32)], dim=1)


def refined_region(net: torch.nn.Module, x: torch.Tensor, region: np.ndarray) -> np.ndarray:
    """``region`` where the refiner ``net``, given its input ``x`` (:func:`major_refiner_inputs`), says major.

    The refiner's probability is brought back from its grid to ``region``'s (bilinear) and thresholded at 0.5.
    """
    dev = next(net.parameters()).device
    with torch.no_grad():
        prob = torch.sigmoid(net(x.to(dev)).float())
        prob = F.interpolate(prob, size=region.shape, mode="bilinear", align_corners=False)
    return region & (prob[0, 0].cpu().numpy() > 0.5)


class MajorArteryMap(Transform):
    """Label map + artery probability -> binary map of the major arteries (module docstring).

    Args:
        catheter_french: catheter size used as the scale (1 F = 1/3 mm).
        min_origin_diameter_mm: the clinical criterion.
        mm_per_px: a known pixel size (mm at the vessels): used instead of the catheter and the DICOM geometry.
        widest_artery_mm: the last-resort scale, without a catheter or DICOM geometry: the widest artery of the
            lumen region is taken to be this wide (mm); None: no such fallback (the map is then empty).
        region_threshold: artery probability of the lumen region.
        region_px: reach of the lumen region beyond the label map's artery.
        artery: artery label value.
        catheter: catheter label value.
        refiner: :class:`~monai_angio.networks.MajorArteryRefiner` weights (a local file, loaded at first use) or
            the network itself; None: the geometric map alone.
    """

    def __init__(
        self,
        catheter_french: float = 6,
        min_origin_diameter_mm: float = 2.0,
        region_threshold: float = 0.25,
        region_px: int = 3,
        artery: int = 1,
        catheter: int = 2,
        mm_per_px: Optional[float] = None,
        refiner: Union[None, str, "os.PathLike[str]", torch.nn.Module] = None,
        widest_artery_mm: Optional[float] = 4.2,  # qca.calibration.WIDEST_ARTERY_MM (a test keeps them equal)
    ) -> None:
        if widest_artery_mm is not None and not (
            math.isfinite(float(widest_artery_mm)) and float(widest_artery_mm) > 0
        ):
            raise ValueError(f"widest_artery_mm must be a positive number or None, got {widest_artery_mm}")
        if mm_per_px is not None and not (math.isfinite(float(mm_per_px)) and float(mm_per_px) > 0):
            raise ValueError(f"mm_per_px must be a positive number or None, got {mm_per_px}")
        if not 0.0 < region_threshold < 1.0:
            raise ValueError(f"region_threshold must lie in (0, 1), got {region_threshold}")
        if min_origin_diameter_mm <= 0:
            raise ValueError(f"min_origin_diameter_mm must be positive, got {min_origin_diameter_mm}")
        self.catheter_french = catheter_french
        self.min_origin_diameter_mm = float(min_origin_diameter_mm)
        self.region_threshold = float(region_threshold)
        self.region_px = int(region_px)
        self.artery, self.catheter = int(artery), int(catheter)
        self.mm_per_px = None if mm_per_px is None else float(mm_per_px)
        self.refiner = refiner
        self.widest_artery_mm = None if widest_artery_mm is None else float(widest_artery_mm)

    def _refiner_network(self) -> Optional[torch.nn.Module]:
        """The refiner in eval mode (a weights file is read once, onto the CPU), or None."""
        if self.refiner is None or isinstance(self.refiner, torch.nn.Module):
            net = self.refiner
        else:
            from monai_angio.networks import MajorArteryRefiner, load_local_state_dict

            try:
                net = load_local_state_dict(MajorArteryRefiner(), self.refiner)
            except AngioInputError as e:
                raise AngioInputError(
                    f"major-artery refiner: {e.problem} (set major_refiner to null for the geometric map alone)",
                    self.refiner,
                ) from None
            self.refiner = net
        return None if net is None else net.eval()

    def refine(
        self, region: np.ndarray, geometric: np.ndarray, image: Optional[np.ndarray], artery_prob: np.ndarray,
        catheter_prob: np.ndarray, mm_per_px: float,
    ) -> np.ndarray:
        """The lumen region where the refiner's major-artery probability exceeds 0.5 (``geometric`` without one).

        Raises:
            ValueError: a refiner is set but ``image`` is None.
        """
        net = self._refiner_network()
        if net is None:
            return geometric
        if image is None:
            raise ValueError("the major-artery refiner needs the image (set major_refiner to null without one)")
        x = major_refiner_inputs(image, artery_prob, catheter_prob, geometric, mm_per_px)
        return refined_region(net, x, region)

    def scale(
        self, label: np.ndarray, meta: Optional[Mapping] = None, graph: Optional["VesselGraph"] = None
    ) -> Tuple[float, str]:
        """``(mm_per_px, source)``: the given pixel size, else the catheter, else the DICOM geometry in ``meta``,
        else the widest artery of ``graph`` (the lumen region's :func:`~monai_angio.qca.centerline.vessel_graph`) at
        ``widest_artery_mm``; else ``(nan, "none")``."""
        from monai_angio.qca.calibration import (
            calibrate_from_artery_width,
            calibrate_from_catheter,
            calibrate_from_dicom,
        )

        if self.mm_per_px is not None:
            return self.mm_per_px, "user"

        for source, kwargs in (("catheter", {}), ("catheter-rough", ROUGH_CATHETER_WIDTH)):
            try:
                cal = calibrate_from_catheter(label, self.catheter_french, catheter_label=self.catheter, **kwargs)
                return float(cal.mm_per_px), source
            except (AngioInputError, ValueError):
                pass
        if meta:
            try:
                cal = calibrate_from_dicom(meta)
                return float(cal.mm_per_px), str(cal.source)
            except (AngioInputError, ValueError, TypeError):
                pass
        if graph is not None and self.widest_artery_mm is not None:
            try:
                cal = calibrate_from_artery_width(graph.mask, self.widest_artery_mm, graph=graph)
                return float(cal.mm_per_px), str(cal.source)
            except (AngioInputError, ValueError):
                pass
        return math.nan, "none"

    def __call__(
        self,
        label: NdarrayOrTensor,
        artery_prob: NdarrayOrTensor,
        fov: Optional[NdarrayOrTensor] = None,
        meta: Optional[Mapping] = None,
        catheter_prob: Optional[NdarrayOrTensor] = None,
        image: Optional[NdarrayOrTensor] = None,
    ) -> Tuple[NdarrayOrTensor, float, str]:
        """Return ``(major, mm_per_px, source)``: the ``(1, H, W)`` map (``label``'s type) and the scale used.

        ``image`` (on the label map's grid; another grid is resampled to it) and ``catheter_prob`` feed the refiner
        (the label map's catheter stands in for the probability when it is not given)."""
        lab = _plane(label)
        prob = _plane(artery_prob)
        if prob.shape != lab.shape:
            raise ValueError(f"artery probability {prob.shape} and label map {lab.shape} differ in shape")
        # built even without a refiner: refine() receives them either way (the refiner's training script records them)
        cath_prob = (np.rint(lab) == self.catheter) if catheter_prob is None else _plane(catheter_prob)
        if cath_prob.shape != lab.shape:
            raise ValueError(f"catheter probability {cath_prob.shape} and label map {lab.shape} differ in shape")
        region = major_artery_region(
            lab, prob, self.region_threshold, self.region_px, self.artery, self.catheter,
            None if fov is None else _plane(fov) > 0,
        )  # fmt: skip
        graph = None
        if region.any():  # one centreline graph for the widest-artery scale and the criterion
            from monai_angio.qca.centerline import vessel_graph

            graph = vessel_graph(region)
        mm, source = self.scale(lab, meta, graph)
        major = np.zeros_like(region)
        if graph is not None and math.isfinite(mm):
            from monai_angio.qca.branches import filter_major_branches

            catheter = np.rint(lab) == self.catheter  # locates the ostium
            major = filter_major_branches(
                region, mm, self.min_origin_diameter_mm, catheter_mask=catheter, graph=graph
            )
            img = None
            if image is not None:
                img = _plane(image).astype(np.float32)
                if img.shape != lab.shape:
                    t = torch.as_tensor(img)[None, None]
                    img = F.interpolate(t, size=lab.shape, mode="bilinear", align_corners=False)[0, 0].numpy()
            major = self.refine(region, major, img, prob, cath_prob, mm)
        out, *_ = convert_to_dst_type(torch.as_tensor(major[None].astype(np.float32)), label, dtype=torch.float32)
        return out, mm, source


class MajorArteryMapd(MapTransform):
    """Dictionary version of :class:`MajorArteryMap`: the map of ``keys``' label map goes to ``major_key``.

    Args:
        keys: the label-map key (its first key is used), e.g. ``"pred"`` after the arg-max.
        prob_key: the class probabilities saved before the arg-max (``(C, H, W)``; ``prob_channel`` is the artery).
        major_key: where the map goes.
        scale_key: where the mm/px used goes (NaN without a scale).
        fov_key: optional field-of-view mask key, or several (the region stays inside all of them).
        enabled: False: do nothing (the bundle's switch, so that the cost is paid only when asked for).
        image_key: the image (the refiner's input; None: no refiner input image).
        prob_channel: the artery channel of ``prob_key``.
        catheter_channel: the catheter channel of ``prob_key`` (the refiner's input; None: the label map's catheter).
        drop_prob: remove ``prob_key`` from the item afterwards (it is a full copy of the probabilities).
        prior_key: where 1.0 goes when the scale came from the widest-artery prior (``"artery-width"``), else 0.0;
            None: not stored.
        allow_missing_keys: don't raise if a key is missing.
        kwargs: :class:`MajorArteryMap` arguments.
    """

    def __init__(
        self,
        keys: KeysCollection,
        prob_key: str = "pred_prob",
        major_key: str = "major",
        scale_key: str = "major_mm_per_px",
        fov_key: Union[str, Sequence[str], None] = None,
        enabled: bool = True,
        image_key: Optional[str] = "image",
        prob_channel: int = 1,
        catheter_channel: Optional[int] = 2,
        drop_prob: bool = True,
        prior_key: Optional[str] = "major_scale_prior",
        allow_missing_keys: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.op = MajorArteryMap(**kwargs)
        self.prob_key, self.major_key, self.scale_key, self.prior_key = prob_key, major_key, scale_key, prior_key
        self.fov_keys = [fov_key] if isinstance(fov_key, str) else list(fov_key or [])
        self.enabled = bool(enabled)
        self.image_key = image_key
        self.prob_channel = int(prob_channel)
        self.catheter_channel = None if catheter_channel is None else int(catheter_channel)
        self.drop_prob = bool(drop_prob)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        if self.enabled and (key := self.first_key(d)) != []:  # first_key: [] when an allowed key is missing
            fovs = [_plane(d[k]) > 0 for k in self.fov_keys if d.get(k) is not None]
            fov = np.logical_and.reduce(fovs) if fovs else None
            probs = d[self.prob_key]
            cath = None
            if self.catheter_channel is not None and self.catheter_channel < len(probs):
                cath = probs[self.catheter_channel]
            image = d.get(self.image_key) if self.image_key is not None else None
            d[self.major_key], d[self.scale_key], source = self.op(
                d[key], probs[self.prob_channel], fov, getattr(d[key], "meta", None), cath, image
            )
            if self.prior_key is not None:
                d[self.prior_key] = float(source == "artery-width")
        if self.drop_prob:
            d.pop(self.prob_key, None)
        return d
