"""Synthetic X-ray coronary angiograms (stills and cines) with exact ground truth.

A phantom is a 3D coronary tree (LCA- or RCA-like, see :mod:`monai_angio.data.coronary_tree`) plus a contrast-filled
catheter of known French size, projected with a known cone-beam geometry and imaged with Beer-Lambert
attenuation, an anatomical background, detector blur, vignetting and quantum noise
(:mod:`monai_angio.data.render`). Cines add gamma-variate contrast wash-in/out and cardiac/respiratory motion.

Ground truth (design.md "Synthetic phantom ground truth"):

- ``label``: 0 background, 1 artery, 2 catheter. An artery segment is labelled 1 (over its whole length) only if
  its reference diameter at its origin is >= ``major_min_diameter_mm`` (2 mm); thinner branches are drawn in the
  image but stay 0. Origin diameters are kept out of the ambiguous band 1.85-2.15 mm.
  A pixel belongs to a tube when its **pixel centre** lies inside the projected lumen (exact capsule test, no
  area threshold). Where the catheter overlaps an artery, the **catheter wins** (label 2).
- ``vessel_mask``: every drawn artery (major and thin), catheter excluded (pixels covered by the catheter are
  still True where an artery lies underneath).
- ``label_vessel`` in the datalist (binary vessel bundles) is ``vessel_mask & (label != 2)``: all drawn arteries
  = 1, catheter ignored as 0.
- ``spacing_mm``: true mm per pixel in the isocentre plane (``imager_spacing * SOD / SID``). The catheter lies in
  that plane (``z = 0``), so its projected width is ``french / 3 / spacing_mm`` pixels; arteries wander
  out of plane by a few mm (``depth_mm``), their exact projected width is ``VesselSegment.diameter_px``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from monai_angio.data.coronary_tree import (
    LesionSpec,
    Tube3D,
    apply_stenosis,
    build_catheter,
    build_lca,
    build_rca,
    cardiac_displacement,
    place_stenoses,
)
import monai_angio.data.cathlab as _cl
from monai_angio.data.render import (
    ProjectionGeometry,
    anatomical_background,
    combine_tubes,
    detector_response,
    rasterize_tube,
)
from monai_angio.errors import AngioInputError
from monai_angio.utils.jsonable import jsonable

__all__ = [
    "LABELS",
    "PhantomConfig",
    "VesselSegment",
    "Stenosis",
    "Phantom",
    "Cine",
    "generate_phantom",
    "generate_cine",
    "straight_tube_phantom",
    "gamma_variate",
    "render_overview",
]

LABELS: Dict[str, int] = {"background": 0, "artery": 1, "catheter": 2}

Range = Tuple[float, float]

_PROB_FIELDS = (
    "collimator_prob", "shutter_prob", "border_grey_prob", "spine_prob", "diaphragm_prob", "heart_border_prob",
    "lung_texture_prob", "soft_tissue_prob", "sharp_ribs_prob", "guidewire_prob", "sternal_wires_prob", "clips_prob",
    "ecg_leads_prob", "pacemaker_prob", "filling_prob", "exposure_prob", "edge_enhance_prob", "jpeg_prob", "text_prob",
)
_RANGE_FIELDS = ("dose", "blur_sigma_px", "vignetting", "background_strength", "concentration")


@dataclass
class PhantomConfig:
    """Parameters of the synthetic angiogram generator (ranges are sampled uniformly per case).

    Attributes:
        size: image height and width in pixels.
        tree: ``"lca"``, ``"rca"`` or ``"random"`` (either, 50/50).
        n_stenoses: number of lesions, or an inclusive ``(min, max)`` range.
        stenosis_percent: range of % diameter stenosis.
        stenosis_length_mm: range of lesion lengths (mm).
        catheter_french: French sizes to choose from (1 F = 1/3 mm outer diameter).
        sid_mm: source-to-detector distance range (mm).
        sod_mm: source-to-isocentre distance range (mm).
        fov_mm: field of view at the isocentre (mm); tree lengths scale with it, diameters do not.
        imager_spacing_mm: detector pixel size; if set it overrides ``fov_mm`` (FOV = size x spacing).
        depth_mm: typical out-of-plane excursion of the arteries (mm); 0 gives a planar tree.
        contrast_mu_per_mm: attenuation (1/mm) of undiluted contrast in the lumen.
        catheter_density: catheter attenuation relative to undiluted contrast (denser, always filled).
        concentration: contrast concentration of a still frame (0..1).
        dose: photons per pixel of an unattenuated ray (Poisson noise); ``None`` disables noise.
        blur_sigma_px: Gaussian detector PSF sigma (pixels); 0 disables.
        background_strength: scale of the anatomical background attenuation (0 = flat).
        ribs: draw faint rib bands.
        vignetting: relative intensity loss at the corners.
        motion_mm: peak cardiac contraction displacement (mm) in cines.
        breathing_mm: respiratory translation amplitude (mm) in cines.
        heart_period_ms: cardiac cycle length range (ms).
        frames: default number of frames of :func:`generate_cine`.
        frame_time_ms: time between frames (ms); 66.7 ms = 15 frames/s.
        major_min_diameter_mm: clinical criterion for labelled arteries (diameter at origin).
        supersample: odd sub-pixel factor of the image formation (1, 3, 5); ``None`` = 3 up to 256 px, else 1.
            Labels always use the pixel-centre test.

    Cath-lab realism (:mod:`monai_angio.data.cathlab`; all off by default, :meth:`cathlab` switches them on).
    Every ``*_prob`` is the probability that a case shows the element (0 = never, 1 = always); ``dose``,
    ``blur_sigma_px``, ``vignetting``, ``background_strength`` and ``concentration`` also accept a ``(lo, hi)``
    range drawn per case (``dose`` log-uniformly). Each element has its own random stream (seeded by the case
    seed), so switching one on or off changes nothing else of the case.

    Attributes:
        spacing_mm: isocentre mm / pixel range (log-uniform), overriding ``fov_mm`` / ``imager_spacing_mm``; the
            range is narrowed so that the field ``size x spacing`` stays within ``field_mm``. The tree is built
            for a heart of ``fov_mm`` (clipped to the field), so small fields show a zoomed-in tree.
        field_mm: bounds (mm) of the isocentre field when ``spacing_mm`` is used.
        collimator_prob: probability of a collimator (otherwise the anatomy reaches the image border).
        collimator_shapes: shapes to choose from, ``"circle"`` and/or ``"rect"``.
        collimator_radius: circle radius, fraction of the image size (> 0.5 cuts the corners only).
        collimator_rect: half side of a rectangular field, fraction of the size (drawn per axis).
        collimator_square_prob: probability that a rectangular field is square.
        collimator_offset: maximum shift of the field centre, fraction of the size.
        collimator_softness: Gaussian edge width, fraction of the size.
        shutter_prob: probability of straight shutters from one or two sides.
        shutter_depth: shutter depth from its side, fraction of the size.
        border_grey_prob: probability that the border outside the field is dim grey rather than black.
        border_grey: grey level range of a dim border.
        spine_prob: vertebral bodies (cortical end plates, pedicles, paraspinal band).
        diaphragm_prob: sharp diaphragm dome (bright lung above, dark abdomen below).
        heart_border_prob: sharp heart border.
        lung_texture_prob: lung markings (worm-like band-pass texture, weaker over the heart).
        soft_tissue_prob: overlapping soft-tissue shadows (curved or straight bands).
        sharp_ribs_prob: ribs with cortical edges.
        guidewire_prob: 0.014" guidewire through the catheter into a major artery (dark, label unchanged).
        sternal_wires_prob: sternotomy wire loops with twisted knots along the sternum.
        clips_prob: surgical clips (small dark V shapes) along a graft-like path.
        ecg_leads_prob: ECG leads crossing the image, some ending in an electrode.
        pacemaker_prob: pacemaker leads from the top of the image to the apex.
        catheter_exit_deg: range of catheter directions (degrees, from the tip towards the image edge, 0 = +col,
            -90 = up); ``(-180, 180)`` lets it enter from any side and cross the arteries.
        catheter_straight_fraction: the exit direction is drawn among those whose straight part is at least this
            fraction of the longest.
        filling_prob: partial contrast filling (global under-filling, distal fading, under-filled branches).
        readout_noise: Gaussian electronic noise sigma (image units), scalar or range.
        noise_blur_px: blur after the noise (correlated noise, as behind a scintillator), scalar or range.
        exposure_prob: probability of an exposure / windowing change.
        exposure_gain: gain range (> 1 saturates bright areas).
        exposure_gamma: gamma range.
        exposure_offset: offset range.
        edge_enhance_prob: unsharp-mask edge enhancement (as cath-lab image processing).
        jpeg_prob: JPEG compression.
        jpeg_quality: JPEG quality range (inclusive).
        text_prob: burned-in annotation text in the corners (labels are 0 under the glyphs).
    """

    size: int = 512
    tree: str = "random"
    n_stenoses: Union[int, Tuple[int, int]] = (0, 2)
    stenosis_percent: Range = (20.0, 90.0)
    stenosis_length_mm: Range = (4.0, 15.0)
    catheter_french: Sequence[int] = (5, 6, 7)
    sid_mm: Range = (1000.0, 1200.0)
    sod_mm: Range = (700.0, 800.0)
    fov_mm: Range = (110.0, 150.0)
    imager_spacing_mm: Optional[float] = None
    depth_mm: float = 10.0
    contrast_mu_per_mm: Range = (0.14, 0.24)
    catheter_density: float = 1.5
    concentration: Union[float, Range] = 1.0
    dose: Union[None, float, Range] = 3000.0
    blur_sigma_px: Union[float, Range] = 0.7
    background_strength: Union[float, Range] = 1.0
    ribs: bool = True
    vignetting: Union[float, Range] = 0.15
    motion_mm: float = 3.0
    breathing_mm: float = 1.0
    heart_period_ms: Range = (750.0, 1000.0)
    frames: int = 1
    frame_time_ms: float = 66.7
    major_min_diameter_mm: float = 2.0
    supersample: Optional[int] = None
    # cath-lab realism (off by default)
    spacing_mm: Optional[Range] = None
    field_mm: Range = (64.0, 232.0)
    collimator_prob: float = 0.0
    collimator_shapes: Sequence[str] = ("circle", "rect")
    collimator_radius: Range = (0.42, 0.68)
    collimator_rect: Range = (0.34, 0.5)
    collimator_square_prob: float = 0.5
    collimator_offset: float = 0.0
    collimator_softness: Range = (0.002, 0.008)
    shutter_prob: float = 0.0
    shutter_depth: Range = (0.04, 0.2)
    border_grey_prob: float = 0.0
    border_grey: Range = (0.1, 0.4)
    spine_prob: float = 0.0
    diaphragm_prob: float = 0.0
    heart_border_prob: float = 0.0
    lung_texture_prob: float = 0.0
    soft_tissue_prob: float = 0.0
    sharp_ribs_prob: float = 0.0
    guidewire_prob: float = 0.0
    sternal_wires_prob: float = 0.0
    clips_prob: float = 0.0
    ecg_leads_prob: float = 0.0
    pacemaker_prob: float = 0.0
    catheter_exit_deg: Range = (-160.0, -20.0)
    catheter_straight_fraction: float = 0.8
    filling_prob: float = 0.0
    readout_noise: Union[float, Range] = 0.0
    noise_blur_px: Union[float, Range] = 0.0
    exposure_prob: float = 0.0
    exposure_gain: Range = (0.75, 1.6)
    exposure_gamma: Range = (0.7, 1.5)
    exposure_offset: Range = (-0.08, 0.06)
    edge_enhance_prob: float = 0.0
    jpeg_prob: float = 0.0
    jpeg_quality: Tuple[int, int] = (30, 90)
    text_prob: float = 0.0

    @classmethod
    def cathlab(cls, **overrides: Any) -> "PhantomConfig":
        """Preset randomising every cath-lab feature with sensible probabilities.

        About 3 cases in 4 have a collimator (circle or rounded rectangle, centre shifted by up to 8 % of the size,
        40 % with a dim grey border, the rest black), 30 % shutters; sharp anatomy, devices, partial filling,
        exposure changes, edge enhancement, JPEG and text appear with the probabilities below; spacing
        0.15-0.45 mm/px (narrowed per size to a 64-232 mm field), undiluted contrast 0.16-0.32 / mm, 0-3 lesions,
        catheters entering from the top or the sides. See docs/synthetic.md for the full table.
        ``generate_phantom(seed, PhantomConfig.cathlab(size=512))`` gives a different realistic case per seed.

        Args:
            overrides: any :class:`PhantomConfig` field (e.g. ``size=256``, ``collimator_prob=0``).
        """
        preset: Dict[str, Any] = dict(
            spacing_mm=(0.15, 0.45), n_stenoses=(0, 3), contrast_mu_per_mm=(0.16, 0.32),
            catheter_exit_deg=(-195.0, 15.0),
            catheter_straight_fraction=0.7,
            collimator_prob=0.75, collimator_offset=0.08, shutter_prob=0.3, border_grey_prob=0.4,
            spine_prob=0.6, diaphragm_prob=0.5, heart_border_prob=0.7, lung_texture_prob=0.9, soft_tissue_prob=0.5,
            sharp_ribs_prob=0.6,
            guidewire_prob=0.3, sternal_wires_prob=0.12, clips_prob=0.12, ecg_leads_prob=0.35, pacemaker_prob=0.08,
            filling_prob=0.5, concentration=(0.75, 1.0), background_strength=(0.7, 1.4),
            dose=(400.0, 6000.0), readout_noise=(0.0, 0.012), noise_blur_px=(0.0, 0.7), blur_sigma_px=(0.5, 1.4),
            vignetting=(0.0, 0.35),
            exposure_prob=0.6, edge_enhance_prob=0.4, jpeg_prob=0.4, text_prob=0.6,
        )
        preset.update(overrides)
        return cls(**preset)

    def validate(self) -> None:
        """Raise ``AngioInputError`` for inconsistent settings."""
        if int(self.size) < 16:
            raise AngioInputError(f"PhantomConfig.size must be >= 16, got {self.size}")
        if self.tree not in ("lca", "rca", "random"):
            raise AngioInputError(f"PhantomConfig.tree must be 'lca', 'rca' or 'random', got {self.tree!r}")
        lo, hi = self.stenosis_percent
        if not 0 <= lo <= hi < 100:
            raise AngioInputError(f"PhantomConfig.stenosis_percent must lie in [0, 100), got {self.stenosis_percent}")
        if not self.catheter_french or any(int(f) <= 0 for f in self.catheter_french):
            raise AngioInputError(f"PhantomConfig.catheter_french must be positive sizes, got {self.catheter_french}")
        if self.supersample is not None and (int(self.supersample) < 1 or int(self.supersample) % 2 == 0):
            raise AngioInputError(f"PhantomConfig.supersample must be an odd integer >= 1, got {self.supersample}")
        if self.frame_time_ms <= 0:
            raise AngioInputError(f"PhantomConfig.frame_time_ms must be > 0, got {self.frame_time_ms}")
        for name in _PROB_FIELDS + ("collimator_square_prob",):
            v = getattr(self, name)
            if not 0.0 <= float(v) <= 1.0:
                raise AngioInputError(f"PhantomConfig.{name} must be a probability in [0, 1], got {v}")
        if any(s not in ("circle", "rect") for s in self.collimator_shapes) or not self.collimator_shapes:
            raise AngioInputError(f"PhantomConfig.collimator_shapes must be 'circle' / 'rect', got "
                                  f"{self.collimator_shapes}")
        if self.spacing_mm is not None and not 0 < float(self.spacing_mm[0]) <= float(self.spacing_mm[1]):
            raise AngioInputError(f"PhantomConfig.spacing_mm must be a positive (lo, hi) range, got {self.spacing_mm}")
        for name in ("dose", "blur_sigma_px", "vignetting", "background_strength", "concentration", "readout_noise",
                     "noise_blur_px"):
            v = getattr(self, name)
            if isinstance(v, (tuple, list)) and not (len(v) == 2 and float(v[0]) <= float(v[1])):
                raise AngioInputError(f"PhantomConfig.{name} range must be (lo, hi) with lo <= hi, got {v}")

    @property
    def cathlab_active(self) -> bool:
        """Whether any cath-lab realism feature (or a per-case range) is switched on."""
        fields = PhantomConfig.__dataclass_fields__
        if any(float(getattr(self, n)) > 0 for n in _PROB_FIELDS) or self.spacing_mm is not None:
            return True
        for n in _RANGE_FIELDS + ("readout_noise", "noise_blur_px"):
            v = getattr(self, n)
            if isinstance(v, (tuple, list)) or (n in ("readout_noise", "noise_blur_px") and float(v) > 0):
                return True
        return (tuple(self.catheter_exit_deg) != fields["catheter_exit_deg"].default
                or self.catheter_straight_fraction != fields["catheter_straight_fraction"].default)


@dataclass
class VesselSegment:
    """Projected ground truth of one tube (artery segment or catheter) in one frame.

    Attributes:
        name: segment name (``"LM"``, ``"LAD"``, ``"D1"``, ``"RCA"``, ``"catheter"``...).
        parent: parent segment name (``None`` for a root artery and the catheter).
        centerline_rc: ``(N, 2)`` projected centreline (row, col) in pixels, proximal -> distal (the catheter runs
            from the image edge to its tip at the ostium). Points may fall outside the image.
        diameter_mm: ``(N,)`` true lumen diameter (mm), stenoses included.
        is_major: origin diameter >= 2 mm (labelled 1).
        is_catheter: the catheter.
        reference_diameter_mm: ``(N,)`` un-narrowed tapering diameter (mm).
        diameter_px: ``(N,)`` exact projected lumen diameter in pixels (includes out-of-plane magnification).
        parent_index: index on the parent's centreline where this segment originates.
        spacing_mm: mm per pixel of the isocentre plane (same for all segments of a frame).
    """

    name: str
    parent: Optional[str]
    centerline_rc: np.ndarray
    diameter_mm: np.ndarray
    is_major: bool
    is_catheter: bool = False
    reference_diameter_mm: Optional[np.ndarray] = None
    diameter_px: Optional[np.ndarray] = None
    parent_index: Optional[int] = None
    spacing_mm: Optional[float] = None

    def to_dict(self, decimals: int = 4) -> Dict[str, Any]:
        """JSON-ready dict (arrays as nested lists)."""
        out: Dict[str, Any] = {}
        for k, v in asdict(self).items():
            out[k] = np.round(np.asarray(v, float), decimals).tolist() if isinstance(v, np.ndarray) else v
        return out

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "VesselSegment":
        """Inverse of :meth:`to_dict`."""
        kw = dict(d)
        for k in ("centerline_rc", "diameter_mm", "reference_diameter_mm", "diameter_px"):
            if kw.get(k) is not None:
                kw[k] = np.asarray(kw[k], float)
        return cls(**{k: v for k, v in kw.items() if k in cls.__dataclass_fields__})


@dataclass
class Stenosis:
    """Ground truth of one lesion (concentric, cosine-shaped narrowing).

    Attributes:
        segment: name of the segment carrying the lesion.
        center_index: index of the narrowest point on that segment's centreline.
        center_rc: ``(row, col)`` of the narrowest point in pixels.
        percent_diameter: % diameter stenosis (e.g. 55.0 means 55 %).
        mld_mm: minimal lumen diameter = reference x (1 - percent / 100).
        reference_diameter_mm: un-narrowed (tapering) diameter at the lesion centre.
        length_mm: lesion length along the centreline (full width of the cosine narrowing).
        percent_area: % area stenosis = 100 x (1 - (1 - %DS/100)**2).
        start_index: first centreline index inside the lesion.
        end_index: last centreline index inside the lesion.
    """

    segment: str
    center_index: int
    center_rc: Tuple[float, float]
    percent_diameter: float
    mld_mm: float
    reference_diameter_mm: float
    length_mm: float
    percent_area: float = 0.0
    start_index: int = 0
    end_index: int = 0

    def to_dict(self, decimals: int = 4) -> Dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d["center_rc"] = [round(float(v), decimals) for v in self.center_rc]
        for k in ("percent_diameter", "mld_mm", "reference_diameter_mm", "length_mm", "percent_area"):
            d[k] = round(float(d[k]), 6)
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Stenosis":
        """Inverse of :meth:`to_dict`."""
        kw = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        kw["center_rc"] = tuple(float(v) for v in kw["center_rc"])
        return cls(**kw)


@dataclass
class Phantom:
    """One synthetic frame with its ground truth (see module docstring for the label rules).

    ``fov_mask`` is the exposed field of view (bool, all True without collimator / shutters; ``label`` and
    ``vessel_mask`` are 0 outside it), ``device_mask`` the pixels covered by dark non-artery devices (guidewire,
    sternal wires, clips, ECG / pacemaker leads; never labelled, all False without them).
    """

    image: np.ndarray
    label: np.ndarray
    vessel_mask: np.ndarray
    spacing_mm: float
    catheter_french: int
    catheter_diameter_mm: float
    segments: List[VesselSegment]
    stenoses: List[Stenosis]
    meta: Dict[str, Any] = field(default_factory=dict)
    fov_mask: Optional[np.ndarray] = None
    device_mask: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        if self.fov_mask is None:
            self.fov_mask = np.ones(self.image.shape, bool)
        if self.device_mask is None:
            self.device_mask = np.zeros(self.image.shape, bool)

    def segment(self, name: str) -> VesselSegment:
        """The segment called ``name`` (``KeyError`` if absent)."""
        for s in self.segments:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def catheter(self) -> Optional[VesselSegment]:
        """The catheter segment, if any."""
        return next((s for s in self.segments if s.is_catheter), None)

    @property
    def label_vessel(self) -> np.ndarray:
        """Binary vessel map for the vessel-only bundles: every drawn artery = 1, catheter pixels = 0."""
        return (self.vessel_mask & (self.label != LABELS["catheter"])).astype(np.uint8)

    def ground_truth(self, decimals: int = 4) -> Dict[str, Any]:
        """JSON-ready ground truth (no image arrays)."""
        return {
            "spacing_mm": float(self.spacing_mm),
            "catheter_french": int(self.catheter_french),
            "catheter_diameter_mm": float(self.catheter_diameter_mm),
            "shape": list(self.image.shape),
            "labels": dict(LABELS),
            "segments": [s.to_dict(decimals) for s in self.segments],
            "stenoses": [s.to_dict(decimals) for s in self.stenoses],
            "meta": jsonable(self.meta),
        }


@dataclass
class Cine:
    """A synthetic cine run: ``images``/``labels`` are ``(T, H, W)``; ``frames[t]`` holds frame ``t``'s ground truth."""

    images: np.ndarray
    labels: np.ndarray
    frames: List[Phantom]
    frame_time_ms: float
    concentration: Optional[np.ndarray] = None
    meta: Dict[str, Any] = field(default_factory=dict)

    @property
    def spacing_mm(self) -> float:
        """Isocentre mm per pixel (constant over the run)."""
        return self.frames[0].spacing_mm

    @property
    def catheter_french(self) -> int:
        """Catheter French size."""
        return self.frames[0].catheter_french

    @property
    def fov_mask(self) -> np.ndarray:
        """``(H, W)`` bool exposed field of view (static over the run)."""
        return self.frames[0].fov_mask

    @property
    def vessel_masks(self) -> np.ndarray:
        """``(T, H, W)`` bool, every drawn artery per frame."""
        return np.stack([f.vessel_mask for f in self.frames])

    @property
    def key_frame(self) -> int:
        """Index of the frame with the highest contrast concentration."""
        return int(np.argmax(self.concentration)) if self.concentration is not None else 0

    def ground_truth(self, decimals: int = 4) -> Dict[str, Any]:
        """JSON-ready ground truth: full segments/stenoses of the key frame + per-frame concentration and lesion
        centres."""
        k = self.key_frame
        gt = self.frames[k].ground_truth(decimals)
        gt["num_frames"] = int(self.images.shape[0])
        gt["frame_time_ms"] = float(self.frame_time_ms)
        gt["key_frame"] = k
        gt["frames"] = [
            {
                "frame": t,
                "concentration": round(float(self.concentration[t]), 6) if self.concentration is not None else 1.0,
                "stenoses_rc": [[round(float(v), decimals) for v in s.center_rc] for s in f.stenoses],
            }
            for t, f in enumerate(self.frames)
        ]
        gt["meta"] = jsonable(self.meta)
        return gt


def gamma_variate(t_ms: np.ndarray, arrival_ms: float, peak_ms: float, alpha: float = 3.0) -> np.ndarray:
    """Contrast concentration curve normalised to a peak of 1 at ``peak_ms`` (0 before ``arrival_ms``)."""
    t = np.asarray(t_ms, float)
    tp = max(peak_ms - arrival_ms, 1e-6)
    x = np.clip((t - arrival_ms) / tp, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(x > 0, x**alpha * np.exp(alpha * (1.0 - x)), 0.0)
    return c


# ----------------------------------------------------------------------------------------------------------------
# scene construction


@dataclass
class _Scene:
    tubes: List[Tube3D]
    lesions: List[LesionSpec]
    geometry: ProjectionGeometry
    french: int
    mu: float
    background: np.ndarray
    supersample: int
    fov_mm: float
    tree: str
    meta: Dict[str, Any]
    cathlab: Optional["_CathlabScene"] = None


@dataclass
class _CathlabScene:
    """Per-case cath-lab elements (drawn once, static over a cine except the guidewire and the noise)."""

    fov: Optional[_cl.FieldOfView]
    static_att: Optional[np.ndarray]  # device attenuation on the supersampled grid
    device_mask: np.ndarray
    wire: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]]  # guidewire points (N, 3) mm, radius mm, mu 1/mm
    fill: Optional[List[np.ndarray]]  # per artery tube (scene order, catheter excluded)
    text: Optional[Tuple[np.ndarray, float]]
    hidden: Optional[np.ndarray]  # pixels hidden by text
    params: Dict[str, Any]
    dose: Optional[float]
    blur_sigma_px: float
    vignetting: float
    concentration: float
    rng: np.random.Generator
    info: Dict[str, Any]


def _pick_n(rng: np.random.Generator, n: Union[int, Tuple[int, int]]) -> int:
    if isinstance(n, (tuple, list)):
        return int(rng.integers(int(n[0]), int(n[1]) + 1))
    return int(n)


def _auto_supersample(cfg: PhantomConfig) -> int:
    if cfg.supersample is not None:
        return int(cfg.supersample)
    return 3 if cfg.size <= 256 else 1


def _spacing_range(cfg: PhantomConfig) -> Tuple[float, float]:
    lo, hi = float(cfg.spacing_mm[0]), float(cfg.spacing_mm[1])
    flo, fhi = float(cfg.field_mm[0]) / cfg.size, float(cfg.field_mm[1]) / cfg.size
    a, b = max(lo, flo), min(hi, fhi)
    if a > b:  # the field bounds cannot be met inside the spacing range: take the nearest spacing
        a = b = hi if flo > hi else lo
    return a, b


def _build_scene(seed: int, cfg: PhantomConfig) -> Tuple[_Scene, np.random.Generator]:
    cfg.validate()
    rng = np.random.default_rng(seed)
    size = int(cfg.size)
    sid, sod = float(rng.uniform(*cfg.sid_mm)), float(rng.uniform(*cfg.sod_mm))
    if cfg.spacing_mm is not None:
        spacing = float(_cl.draw(_spacing_range(cfg), _cl.feature_rng(seed, "spacing"), log=True))
        imager = spacing * sid / sod
        fov = spacing * size
        tree_fov = float(np.clip(fov, *cfg.fov_mm))
        tree_fov = min(tree_fov, fov / 0.72)  # keep the ostium (<= 0.3 x tree FOV off-centre) inside the image
    elif cfg.imager_spacing_mm is not None:
        imager = float(cfg.imager_spacing_mm)
        fov = tree_fov = imager * sod / sid * size
    else:
        fov = tree_fov = float(rng.uniform(*cfg.fov_mm))
        imager = fov / size * sid / sod
    geom = ProjectionGeometry(sid, sod, imager, (size, size))
    ds = float(np.clip(geom.spacing_mm, 0.1, 1.0))
    tree = cfg.tree if cfg.tree != "random" else ("lca" if rng.random() < 0.5 else "rca")
    tubes = (build_lca if tree == "lca" else build_rca)(rng, tree_fov, ds, depth_mm=cfg.depth_mm)
    french = int(rng.choice(np.asarray(cfg.catheter_french, int)))
    cath = build_catheter(rng, tubes[0], french, fov, ds, exit_range_deg=tuple(cfg.catheter_exit_deg),
                          min_fraction=float(cfg.catheter_straight_fraction))
    lesions = place_stenoses(
        rng, tubes, _pick_n(rng, cfg.n_stenoses), tuple(cfg.stenosis_percent), tuple(cfg.stenosis_length_mm),
        min(fov, tree_fov) / 2, cfg.major_min_diameter_mm,
    )
    mu = float(rng.uniform(*cfg.contrast_mu_per_mm))
    active = cfg.cathlab_active
    g_img = _cl.feature_rng(seed, "imaging")
    strength = float(_cl.draw(cfg.background_strength, g_img)) if active else cfg.background_strength
    bg = anatomical_background(rng, (size, size), strength, cfg.ribs)
    meta = {
        "tree": tree,
        "geometry": geom.to_dict(),
        "fov_mm": fov,
        "contrast_mu_per_mm": mu,
        "catheter_density": cfg.catheter_density,
        "positioner_primary_angle_deg": float(rng.uniform(-40, 40)),
        "positioner_secondary_angle_deg": float(rng.uniform(-30, 30)),
    }
    if cfg.spacing_mm is not None:
        meta["tree_fov_mm"] = tree_fov
    scene = _Scene(tubes + [cath], lesions, geom, french, mu, bg, _auto_supersample(cfg), tree_fov, tree, meta)
    if active:
        scene.cathlab = _build_cathlab(int(seed), cfg, scene, g_img, strength)
        scene.meta["cathlab"] = scene.cathlab.info
    return scene, rng


def _on(seed: int, name: str, prob: float) -> Optional[np.random.Generator]:
    """The feature's generator if the case shows it (drawn with probability ``prob``), else ``None``."""
    if prob <= 0:
        return None
    g = _cl.feature_rng(seed, name)
    return g if (prob >= 1 or g.random() < prob) else None


def _raster_shapes(shapes: List[Tuple[np.ndarray, np.ndarray, np.ndarray]], ss: int, H: int, W: int,
                   min_radius: float = 0.8) -> Tuple[np.ndarray, np.ndarray]:
    """Attenuation (supersampled grid) and pixel-centre mask (native grid) of thin dark tubes.

    ``shapes`` holds ``(rc native px, radius native px, mu x radius_mm)``; radii below ``min_radius`` pixels of
    the rendering grid are widened with the same line-integral area, so that sub-pixel wires do not alias.
    """
    att = np.zeros((H * ss, W * ss), np.float32)
    mask = np.zeros((H, W), bool)
    for rc, rpx, rho in shapes:
        r_ss = np.asarray(rpx, float) * ss
        r_eff = np.maximum(r_ss, min_radius)
        m = rasterize_tube((np.asarray(rc, float) + 0.5) * ss - 0.5, r_eff, np.asarray(rho, float) * r_ss / r_eff,
                           (H * ss, W * ss))
        if m is None:
            continue
        att[m[0]] += m[2]
        region, sub = _centre_samples(m, ss)
        mask[region] |= sub
    return att, mask


def _centre_samples(m: Tuple[Tuple[slice, slice], np.ndarray, np.ndarray], ss: int
                    ) -> Tuple[Tuple[slice, slice], np.ndarray]:
    """Pixel-centre inside test of a rasterised tube: the centre sub-pixel of each ss x ss block."""
    (rs, cs), inside, _ = m
    c = ss // 2
    i0 = -(-(rs.start - c) // ss)
    j0 = -(-(cs.start - c) // ss)
    sub = inside[i0 * ss + c - rs.start :: ss, j0 * ss + c - cs.start :: ss]
    return (slice(i0, i0 + sub.shape[0]), slice(j0, j0 + sub.shape[1])), sub


def _build_cathlab(seed: int, cfg: PhantomConfig, scene: _Scene, g_img: np.random.Generator,
                   strength: float) -> _CathlabScene:
    H, W = scene.geometry.size
    sp = scene.geometry.spacing_mm
    ss = scene.supersample
    info: Dict[str, Any] = {}
    # field of view
    fov = _cl.field_of_view(
        (H, W), _on(seed, "collimator", cfg.collimator_prob), _on(seed, "shutter", cfg.shutter_prob),
        _cl.feature_rng(seed, "border"), tuple(cfg.collimator_shapes), tuple(cfg.collimator_radius),
        tuple(cfg.collimator_rect), float(cfg.collimator_offset), tuple(cfg.collimator_softness),
        tuple(cfg.shutter_depth), float(cfg.border_grey_prob), tuple(cfg.border_grey),
        float(cfg.collimator_square_prob),
    )
    info["field_of_view"] = fov.info if fov is not None else {"collimator": None}
    # sharp anatomy
    names = ("spine", "diaphragm", "heart_border", "lung_texture", "soft_tissue", "sharp_ribs")
    rngs = {n: _on(seed, n, float(getattr(cfg, f"{n}_prob"))) for n in names}
    if any(g is not None for g in rngs.values()):
        extra, used = _cl.sharp_anatomy((H, W), sp, rngs)
        scene.background = (scene.background + strength * extra).astype(np.float32)
        info["anatomy"] = used
    # static devices
    dnames = ("sternal_wires", "clips", "ecg_leads", "pacemaker")
    drngs = {n: _on(seed, n, float(getattr(cfg, f"{n}_prob"))) for n in dnames}
    static_att, dmask = None, np.zeros((H, W), bool)
    if any(g is not None for g in drngs.values()):
        shapes, used = _cl.device_shapes((H, W), sp, drngs)
        static_att, dmask = _raster_shapes([(d.rc, d.radius_px, d.mu_radius) for d in shapes], ss, H, W)
        info["devices"] = used
    # guidewire (3D, moves with the heart)
    arteries = [t for t in scene.tubes if not t.is_catheter]
    cath = next(t for t in scene.tubes if t.is_catheter)
    g = _on(seed, "guidewire", cfg.guidewire_prob)
    wire = _cl.guidewire_tube(g, arteries, cath) if g is not None else None
    if wire is not None:
        info.setdefault("devices", []).append("guidewire")
    # contrast filling
    g = _on(seed, "filling", cfg.filling_prob)
    fill = None
    if g is not None:
        fill, info["filling"] = _cl.filling_factors(g, arteries)
    # image chain
    params: Dict[str, Any] = {
        "readout_noise": float(_cl.draw(cfg.readout_noise, g_img)),
        "noise_blur_px": float(_cl.draw(cfg.noise_blur_px, g_img)),
    }
    dose = _cl.draw(cfg.dose, g_img, log=True)
    blur = float(_cl.draw(cfg.blur_sigma_px, g_img))
    vig = float(_cl.draw(cfg.vignetting, g_img))
    conc = float(_cl.draw(cfg.concentration, g_img))
    g = _on(seed, "exposure", cfg.exposure_prob)
    if g is not None:
        params["exposure"] = {"gain": float(g.uniform(*cfg.exposure_gain)),
                              "gamma": float(g.uniform(*cfg.exposure_gamma)),
                              "offset": float(g.uniform(*cfg.exposure_offset))}
    g = _on(seed, "edge_enhance", cfg.edge_enhance_prob)
    if g is not None:
        params["edge_enhance"] = {"amount": float(g.uniform(0.3, 1.2)),
                                  "sigma_px": float(g.uniform(1.5, 4.0) * max(H, W) / 512)}
    g = _on(seed, "jpeg", cfg.jpeg_prob)
    if g is not None:
        params["jpeg_quality"] = int(g.integers(int(cfg.jpeg_quality[0]), int(cfg.jpeg_quality[1]) + 1))
    g = _on(seed, "text", cfg.text_prob)
    text, hidden = None, None
    if g is not None:
        alpha, value, lines = _cl.text_overlay(g, (H, W), scene.meta)
        text, hidden = (alpha, value), _cl.text_mask(alpha)
        info["text"] = lines
    info.update(params)
    info.update(dose=dose, blur_sigma_px=blur, vignetting=vig, concentration=conc)
    return _CathlabScene(fov, static_att, dmask, wire, fill, text, hidden, params, dose, blur, vig, conc,
                         _cl.feature_rng(seed, "frame_noise"), info)


def _render(
    scene: _Scene,
    points: List[np.ndarray],
    concentration: float,
    cfg: PhantomConfig,
    rng: np.random.Generator,
    meta: Dict[str, Any],
    wire_points: Optional[np.ndarray] = None,
) -> Phantom:
    """Project and image the scene's tubes at the given (possibly displaced) 3D positions."""
    geom = scene.geometry
    H, W = geom.size
    ss = scene.supersample
    cl = scene.cathlab
    names = [t.name for t in scene.tubes]
    idx = {n: i for i, n in enumerate(names)}
    proj = [geom.project(p) for p in points]
    maps = []
    k_art = 0
    for t, (rc, scale) in zip(scene.tubes, proj):
        rc_ss = (rc + 0.5) * ss - 0.5
        rpx = t.diameter / 2 * scale * ss
        rmm = t.diameter / 2
        if cl is not None and cl.fill is not None and not t.is_catheter:
            rmm = rmm * cl.fill[k_art]  # partial filling scales the contrast path length, not the lumen
        k_art += 0 if t.is_catheter else 1
        maps.append(rasterize_tube(rc_ss, rpx, rmm, (H * ss, W * ss)))
    art = [i for i, t in enumerate(scene.tubes) if not t.is_catheter]
    art_maps = [maps[i] for i in art]
    pos = {i: k for k, i in enumerate(art)}
    parents = [pos.get(idx.get(scene.tubes[i].parent, -1)) if scene.tubes[i].parent else None for i in art]
    origins = []
    orad = []
    for i in art:
        t = scene.tubes[i]
        rc, scale = proj[i]
        origins.append((rc[0] + 0.5) * ss - 0.5)
        par = t.parent
        if par is not None:
            pt = scene.tubes[idx[par]]
            orad.append(float(pt.diameter[t.parent_index] / 2 * proj[idx[par]][1][t.parent_index] * ss))
        else:
            orad.append(0.0)
    L_art = combine_tubes(art_maps, parents, origins, orad, (H * ss, W * ss))
    cat_i = [i for i, t in enumerate(scene.tubes) if t.is_catheter]
    L_cat = combine_tubes([maps[i] for i in cat_i], [None] * len(cat_i), [None] * len(cat_i), [0.0] * len(cat_i),
                          (H * ss, W * ss))
    att = scene.mu * (concentration * L_art + cfg.catheter_density * L_cat)
    device = None
    if cl is not None:
        if cl.static_att is not None:
            att += cl.static_att
        device = cl.device_mask.copy()
        if cl.wire is not None:
            wp, wr, wmu = cl.wire
            rc, scale = geom.project(wp if wire_points is None else wire_points)
            watt, wmask = _raster_shapes([(rc, wr * scale, wmu * wr)], ss, H, W)
            att += watt
            device |= wmask
    trans = np.exp(-att)
    if ss > 1:
        trans = trans.reshape(H, ss, W, ss).mean(axis=(1, 3))
    inten = np.exp(-scene.background) * trans
    if cl is None:
        image = detector_response(inten, rng, cfg.dose, cfg.blur_sigma_px, cfg.vignetting)
    else:
        image = detector_response(inten, rng, cl.dose, cl.blur_sigma_px, cl.vignetting)
        image = _cl.post_process(image, cl.params, cl.fov, cl.text, cl.rng)

    # labels: pixel-centre test (the centre sub-pixel of each ss x ss block)
    major = np.zeros((H, W), bool)
    vessel = np.zeros((H, W), bool)
    cath = np.zeros((H, W), bool)
    for t, m in zip(scene.tubes, maps):
        if m is None:
            continue
        region, sub = _centre_samples(m, ss)
        if t.is_catheter:
            cath[region] |= sub
        else:
            vessel[region] |= sub
            if t.origin_diameter >= cfg.major_min_diameter_mm:
                major[region] |= sub
    label = np.zeros((H, W), np.uint8)
    label[major] = LABELS["artery"]
    label[cath] = LABELS["catheter"]
    fov_mask = None
    if cl is not None:
        hide = np.zeros((H, W), bool)
        if cl.fov is not None:
            fov_mask = cl.fov.mask
            hide |= ~fov_mask
        if cl.hidden is not None:
            hide |= cl.hidden
        label[hide] = 0
        vessel[hide] = False
        if device is not None and cl.fov is not None:
            device &= fov_mask

    sp = geom.spacing_mm
    segments = []
    for t, (rc, scale) in zip(scene.tubes, proj):
        segments.append(
            VesselSegment(
                name=t.name,
                parent=t.parent,
                centerline_rc=rc,
                diameter_mm=t.diameter.copy(),
                is_major=bool(not t.is_catheter and t.origin_diameter >= cfg.major_min_diameter_mm),
                is_catheter=t.is_catheter,
                reference_diameter_mm=t.reference.copy(),
                diameter_px=t.diameter * scale,
                parent_index=t.parent_index,
                spacing_mm=sp,
            )
        )
    stenoses = []
    for les in scene.lesions:
        t = scene.tubes[idx[les.segment]]
        rc = proj[idx[les.segment]][0]
        half = int(round(les.length_mm / 2 / t.ds))
        stenoses.append(
            Stenosis(
                segment=les.segment,
                center_index=int(les.center_index),
                center_rc=(float(rc[les.center_index, 0]), float(rc[les.center_index, 1])),
                percent_diameter=float(les.percent_diameter),
                mld_mm=float(les.mld_mm),
                reference_diameter_mm=float(les.reference_diameter_mm),
                length_mm=float(les.length_mm),
                percent_area=float(100.0 * (1.0 - (1.0 - les.percent_diameter / 100.0) ** 2)),
                start_index=max(int(les.center_index) - half, 0),
                end_index=min(int(les.center_index) + half, len(t.points) - 1),
            )
        )
    return Phantom(
        image=image,
        label=label,
        vessel_mask=vessel,
        spacing_mm=float(sp),
        catheter_french=int(scene.french),
        catheter_diameter_mm=float(scene.french) / 3.0,
        segments=segments,
        stenoses=stenoses,
        meta=meta,
        fov_mask=None if fov_mask is None else fov_mask.copy(),
        device_mask=device,
    )


def _base_meta(seed: int, cfg: PhantomConfig, scene: _Scene) -> Dict[str, Any]:
    meta = {"seed": int(seed), "config": jsonable(asdict(cfg)), "supersample": scene.supersample,
            "label_rule": "pixel centre inside the projected lumen; catheter (2) over artery (1)",
            "major_min_diameter_mm": cfg.major_min_diameter_mm}
    meta.update(scene.meta)
    return meta


def generate_phantom(seed: int = 0, config: Optional[PhantomConfig] = None) -> Phantom:
    """Generate one still synthetic angiogram with exact ground truth.

    Args:
        seed: seed of the ``numpy.random.Generator``; the same seed and config give identical arrays.
        config: generator settings (defaults: 512 px, random LCA/RCA tree, 0-2 stenoses).

    Returns:
        a :class:`Phantom`.
    """
    cfg = config or PhantomConfig()
    t0 = time.perf_counter()
    scene, rng = _build_scene(int(seed), cfg)
    meta = _base_meta(seed, cfg, scene)
    conc = float(scene.cathlab.concentration) if scene.cathlab is not None else float(cfg.concentration)
    meta["contrast_concentration"] = conc
    ph = _render(scene, [t.points for t in scene.tubes], conc, cfg, rng, meta)
    ph.meta["generation_s"] = round(time.perf_counter() - t0, 4)
    return ph


def generate_cine(seed: int = 0, config: Optional[PhantomConfig] = None, frames: Optional[int] = None) -> Cine:
    """Generate a cine run: one tree, contrast wash-in/out (gamma variate), cardiac and respiratory motion.

    The catheter is always filled with contrast; the arteries follow the gamma-variate concentration, so early
    frames may show no arteries although their (geometric) labels are present -- see ``Cine.concentration``.

    Args:
        seed: random seed.
        config: generator settings.
        frames: number of frames (default ``config.frames``).

    Returns:
        a :class:`Cine` with ``(T, H, W)`` images and labels.
    """
    cfg = config or PhantomConfig()
    T = int(frames if frames is not None else cfg.frames)
    if T < 1:
        raise AngioInputError(f"a cine needs at least one frame, got frames={T}")
    scene, rng = _build_scene(int(seed), cfg)
    ft = float(cfg.frame_time_ms)
    dur = T * ft
    t_ms = np.arange(T) * ft
    arrival = float(rng.uniform(0.0, 0.2)) * dur
    peak = arrival + float(rng.uniform(0.3, 0.5)) * dur
    alpha = float(rng.uniform(2.0, 4.0))
    cl = scene.cathlab
    c_peak = float(cl.concentration) if cl is not None else float(cfg.concentration)
    conc = gamma_variate(t_ms, arrival, peak, alpha) if T > 1 else np.array([c_peak], float)
    if cl is not None and T > 1:
        conc = conc * c_peak  # under-dosed injection: the peak concentration is drawn per case
    period = float(rng.uniform(*cfg.heart_period_ms))
    phase0 = float(rng.uniform(0, 2 * np.pi))
    resp_period, resp_phase = float(rng.uniform(3000, 5000)), float(rng.uniform(0, 2 * np.pi))
    arteries = np.concatenate([t.points for t in scene.tubes if not t.is_catheter])
    center = arteries.mean(0)
    center[2] = 0.0
    radius = 0.35 * scene.fov_mm
    twist = 0.01 * cfg.motion_mm
    base = _base_meta(seed, cfg, scene)
    base.update({"frame_time_ms": ft, "num_frames": T, "heart_period_ms": period,
                 "gamma_variate": {"arrival_ms": arrival, "peak_ms": peak, "alpha": alpha}})
    out: List[Phantom] = []
    for k in range(T):
        ph = 0.5 * (1.0 - math.cos(2 * math.pi * t_ms[k] / period + phase0)) if T > 1 else 0.0
        shift = np.array([0.3 * cfg.breathing_mm * math.sin(2 * math.pi * t_ms[k] / resp_period + resp_phase),
                          cfg.breathing_mm * math.sin(2 * math.pi * t_ms[k] / resp_period + resp_phase), 0.0])
        if T == 1:
            shift[:] = 0.0
        pts = [cardiac_displacement(t.points, ph, center, cfg.motion_mm, radius, twist, shift) for t in scene.tubes]
        wpts = None
        if cl is not None and cl.wire is not None:
            wpts = cardiac_displacement(cl.wire[0], ph, center, cfg.motion_mm, radius, twist, shift)
        meta = dict(base, frame=k, cardiac_phase=ph, contrast_concentration=float(conc[k]))
        out.append(_render(scene, pts, float(conc[k]), cfg, rng, meta, wire_points=wpts))
    return Cine(
        images=np.stack([f.image for f in out]),
        labels=np.stack([f.label for f in out]),
        frames=out,
        frame_time_ms=ft,
        concentration=np.asarray(conc, float),
        meta=base,
    )


def straight_tube_phantom(
    diameter_mm: float,
    spacing_mm: float,
    size: int = 128,
    stenosis_percent: Optional[float] = None,
    stenosis_length_mm: float = 10.0,
    catheter_french: Optional[int] = None,
    angle_deg: float = 0.0,
    noise: bool = False,
    dose: float = 3000.0,
    blur_sigma_px: float = 0.5,
    background: bool = False,
    contrast_mu_per_mm: float = 0.15,
    supersample: int = 3,
    sid_mm: float = 1000.0,
    sod_mm: float = 750.0,
    seed: int = 0,
) -> Phantom:
    """A single straight vessel (and optionally a parallel catheter) with analytic ground truth, for QCA tests.

    The vessel crosses the whole image through its centre at ``angle_deg`` (0 = horizontal, along columns), in the
    isocentre plane, so its projected width is exactly ``diameter / spacing_mm`` pixels. A stenosis, if requested,
    is centred in the image (cosine-shaped, ``stenosis_length_mm`` long). The catheter, if requested, runs
    parallel to the vessel at a quarter of the image size from it. The vessel is labelled artery (1) when
    ``diameter_mm >= 2`` (clinical criterion), the catheter 2.

    Args:
        diameter_mm: vessel (reference) diameter.
        spacing_mm: mm per pixel in the vessel plane.
        size: image size (square).
        stenosis_percent: % diameter stenosis at the centre, or ``None``.
        stenosis_length_mm: lesion length.
        catheter_french: add a catheter of this French size.
        angle_deg: vessel direction in degrees (rows increase with positive angles).
        noise: add Poisson noise at ``dose`` photons per pixel.
        dose: photons per pixel.
        blur_sigma_px: detector blur (pixels).
        background: add the anatomical background.
        contrast_mu_per_mm: contrast attenuation (1/mm).
        supersample: odd sub-pixel factor for the image.
        sid_mm: source-to-detector distance (only recorded; magnification is consistent with ``spacing_mm``).
        sod_mm: source-to-isocentre distance.
        seed: random seed (noise, background).
    """
    if not (diameter_mm > 0 and spacing_mm > 0):
        raise AngioInputError(f"diameter_mm and spacing_mm must be > 0, got {diameter_mm}, {spacing_mm}")
    if stenosis_percent is not None and not 0 <= stenosis_percent < 100:
        raise AngioInputError(f"stenosis_percent must lie in [0, 100), got {stenosis_percent}")
    cfg = PhantomConfig(
        size=int(size), n_stenoses=0, catheter_french=(int(catheter_french or 6),), dose=dose if noise else None,
        blur_sigma_px=blur_sigma_px, background_strength=1.0 if background else 0.0, vignetting=0.0,
        supersample=supersample, contrast_mu_per_mm=(contrast_mu_per_mm, contrast_mu_per_mm), tree="lca",
    )
    cfg.validate()
    rng = np.random.default_rng(seed)
    geom = ProjectionGeometry(sid_mm, sod_mm, spacing_mm * sid_mm / sod_mm, (size, size))
    ds = float(np.clip(spacing_mm / 2, 0.05, 0.5))
    half = size * spacing_mm * 0.75  # beyond the image border
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a), 0.0])
    s = np.arange(-half, half + ds / 2, ds)
    pts = s[:, None] * u[None, :]
    ref = np.full(len(s), float(diameter_mm))
    vessel = Tube3D("vessel", None, None, pts, ref, ref.copy(), ds)
    lesions = []
    if stenosis_percent is not None:
        ci = int(np.argmin(np.abs(s)))
        les = LesionSpec("vessel", ci, float(stenosis_percent), float(stenosis_length_mm), float(diameter_mm))
        apply_stenosis(vessel, les)
        lesions.append(les)
    tubes = [vessel]
    if catheter_french is not None:
        nrm = np.array([-math.sin(a), math.cos(a), 0.0])
        off = size * spacing_mm / 4
        cd = np.full(len(s), catheter_french / 3.0)
        tubes.append(Tube3D("catheter", None, None, pts + off * nrm, cd, cd.copy(), ds, is_catheter=True))
    bg = (anatomical_background(rng, (size, size), 1.0, True) if background else np.zeros((size, size), np.float32))
    scene = _Scene(tubes, lesions, geom, int(catheter_french or 0), contrast_mu_per_mm, bg, int(supersample),
                   size * spacing_mm, "straight", {"tree": "straight", "geometry": geom.to_dict()})
    meta = _base_meta(seed, cfg, scene)
    meta["contrast_concentration"] = 1.0
    ph = _render(scene, [t.points for t in tubes], 1.0, cfg, rng, meta)
    if catheter_french is None:
        ph.catheter_french = 0
        ph.catheter_diameter_mm = 0.0
    return ph


def render_overview(phantom: Phantom, title: Optional[str] = None):
    """Matplotlib figure: the angiogram, and the label overlay with centrelines and annotated stenoses.

    Args:
        phantom: a :class:`Phantom` (e.g. ``cine.frames[cine.key_frame]``).
        title: optional figure title.

    Returns:
        ``matplotlib.figure.Figure`` (not shown; save it with ``fig.savefig``).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5), dpi=100)
    ax0, ax1 = fig.subplots(1, 2)
    ax0.imshow(phantom.image, cmap="gray", vmin=0, vmax=1)
    ax0.set_title(f"synthetic angiogram ({phantom.spacing_mm:.3f} mm/px)")
    rgb = np.repeat(phantom.image[..., None], 3, axis=2) * 0.6
    rgb[phantom.vessel_mask & (phantom.label == 0)] = (0.9, 0.8, 0.2)
    rgb[phantom.label == LABELS["artery"]] = (0.9, 0.15, 0.15)
    rgb[phantom.label == LABELS["catheter"]] = (0.1, 0.6, 1.0)
    ax1.imshow(np.clip(rgb, 0, 1))
    for s in phantom.segments:
        c = s.centerline_rc
        ax1.plot(c[:, 1], c[:, 0], "-" if (s.is_major or s.is_catheter) else ":", color="w", lw=0.6)
        m = c[len(c) // 2]
        if 0 <= m[0] < phantom.image.shape[0] and 0 <= m[1] < phantom.image.shape[1]:
            ax1.text(m[1], m[0], s.name, color="w", fontsize=7)
    for st in phantom.stenoses:
        r, c = st.center_rc
        ax1.plot([c], [r], "o", mfc="none", mec="lime", ms=12)
        ax1.annotate(f"{st.percent_diameter:.0f}% (MLD {st.mld_mm:.2f} mm)", (c, r), xytext=(6, -6),
                     textcoords="offset points", color="lime", fontsize=8)
    ax1.set_title(f"red artery >= 2 mm, yellow thin, blue {phantom.catheter_french}F catheter")
    h, w = phantom.image.shape
    for ax in (ax0, ax1):
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
