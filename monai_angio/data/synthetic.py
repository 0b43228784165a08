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
from monai_angio.data.render import (
    ProjectionGeometry,
    anatomical_background,
    combine_tubes,
    detector_response,
    rasterize_tube,
)
from monai_angio.errors import AngioInputError

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
    concentration: float = 1.0
    dose: Optional[float] = 3000.0
    blur_sigma_px: float = 0.7
    background_strength: float = 1.0
    ribs: bool = True
    vignetting: float = 0.15
    motion_mm: float = 3.0
    breathing_mm: float = 1.0
    heart_period_ms: Range = (750.0, 1000.0)
    frames: int = 1
    frame_time_ms: float = 66.7
    major_min_diameter_mm: float = 2.0
    supersample: Optional[int] = None

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
    """One synthetic frame with its ground truth (see module docstring for the label rules)."""

    image: np.ndarray
    label: np.ndarray
    vessel_mask: np.ndarray
    spacing_mm: float
    catheter_french: int
    catheter_diameter_mm: float
    segments: List[VesselSegment]
    stenoses: List[Stenosis]
    meta: Dict[str, Any] = field(default_factory=dict)

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
            "meta": _jsonable(self.meta),
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
        gt["meta"] = _jsonable(self.meta)
        return gt


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    return obj


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


def _pick_n(rng: np.random.Generator, n: Union[int, Tuple[int, int]]) -> int:
    if isinstance(n, (tuple, list)):
        return int(rng.integers(int(n[0]), int(n[1]) + 1))
    return int(n)


def _auto_supersample(cfg: PhantomConfig) -> int:
    if cfg.supersample is not None:
        return int(cfg.supersample)
    return 3 if cfg.size <= 256 else 1


def _build_scene(seed: int, cfg: PhantomConfig) -> Tuple[_Scene, np.random.Generator]:
    cfg.validate()
    rng = np.random.default_rng(seed)
    size = int(cfg.size)
    sid, sod = float(rng.uniform(*cfg.sid_mm)), float(rng.uniform(*cfg.sod_mm))
    if cfg.imager_spacing_mm is not None:
        imager = float(cfg.imager_spacing_mm)
        fov = imager * sod / sid * size
    else:
        fov = float(rng.uniform(*cfg.fov_mm))
        imager = fov / size * sid / sod
    geom = ProjectionGeometry(sid, sod, imager, (size, size))
    ds = float(np.clip(geom.spacing_mm, 0.1, 1.0))
    tree = cfg.tree if cfg.tree != "random" else ("lca" if rng.random() < 0.5 else "rca")
    tubes = (build_lca if tree == "lca" else build_rca)(rng, fov, ds, depth_mm=cfg.depth_mm)
    french = int(rng.choice(np.asarray(cfg.catheter_french, int)))
    cath = build_catheter(rng, tubes[0], french, fov, ds)
    lesions = place_stenoses(
        rng, tubes, _pick_n(rng, cfg.n_stenoses), tuple(cfg.stenosis_percent), tuple(cfg.stenosis_length_mm),
        fov / 2, cfg.major_min_diameter_mm,
    )
    mu = float(rng.uniform(*cfg.contrast_mu_per_mm))
    bg = anatomical_background(rng, (size, size), cfg.background_strength, cfg.ribs)
    meta = {
        "tree": tree,
        "geometry": geom.to_dict(),
        "fov_mm": fov,
        "contrast_mu_per_mm": mu,
        "catheter_density": cfg.catheter_density,
        "positioner_primary_angle_deg": float(rng.uniform(-40, 40)),
        "positioner_secondary_angle_deg": float(rng.uniform(-30, 30)),
    }
    scene = _Scene(tubes + [cath], lesions, geom, french, mu, bg, _auto_supersample(cfg), fov, tree, meta)
    return scene, rng


def _render(
    scene: _Scene,
    points: List[np.ndarray],
    concentration: float,
    cfg: PhantomConfig,
    rng: np.random.Generator,
    meta: Dict[str, Any],
) -> Phantom:
    """Project and image the scene's tubes at the given (possibly displaced) 3D positions."""
    geom = scene.geometry
    H, W = geom.size
    ss = scene.supersample
    names = [t.name for t in scene.tubes]
    idx = {n: i for i, n in enumerate(names)}
    proj = [geom.project(p) for p in points]
    maps = []
    for t, (rc, scale) in zip(scene.tubes, proj):
        rc_ss = (rc + 0.5) * ss - 0.5
        rpx = t.diameter / 2 * scale * ss
        maps.append(rasterize_tube(rc_ss, rpx, t.diameter / 2, (H * ss, W * ss)))
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
    trans = np.exp(-att)
    if ss > 1:
        trans = trans.reshape(H, ss, W, ss).mean(axis=(1, 3))
    inten = np.exp(-scene.background) * trans
    image = detector_response(inten, rng, cfg.dose, cfg.blur_sigma_px, cfg.vignetting)

    # labels: pixel-centre test (the centre sub-pixel of each ss x ss block)
    major = np.zeros((H, W), bool)
    vessel = np.zeros((H, W), bool)
    cath = np.zeros((H, W), bool)
    c = ss // 2
    for t, m in zip(scene.tubes, maps):
        if m is None:
            continue
        (rs, cs), inside, _ = m
        i0 = -(-(rs.start - c) // ss)
        j0 = -(-(cs.start - c) // ss)
        sub = inside[i0 * ss + c - rs.start :: ss, j0 * ss + c - cs.start :: ss]
        region = (slice(i0, i0 + sub.shape[0]), slice(j0, j0 + sub.shape[1]))
        if t.is_catheter:
            cath[region] |= sub
        else:
            vessel[region] |= sub
            if t.origin_diameter >= cfg.major_min_diameter_mm:
                major[region] |= sub
    label = np.zeros((H, W), np.uint8)
    label[major] = LABELS["artery"]
    label[cath] = LABELS["catheter"]

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
    )


def _base_meta(seed: int, cfg: PhantomConfig, scene: _Scene) -> Dict[str, Any]:
    meta = {"seed": int(seed), "config": _jsonable(asdict(cfg)), "supersample": scene.supersample,
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
    meta["contrast_concentration"] = float(cfg.concentration)
    ph = _render(scene, [t.points for t in scene.tubes], float(cfg.concentration), cfg, rng, meta)
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
    conc = gamma_variate(t_ms, arrival, peak, alpha) if T > 1 else np.array([cfg.concentration], float)
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
        meta = dict(base, frame=k, cardiac_phase=ph, contrast_concentration=float(conc[k]))
        out.append(_render(scene, pts, float(conc[k]), cfg, rng, meta))
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
