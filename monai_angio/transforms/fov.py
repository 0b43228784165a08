"""Field of view of an angiogram: the exposed area inside the collimator, and normalisation inside it.

X-ray angiograms are framed by a circular or rectangular collimator (and sometimes shutters) whose shadow is
black or dim grey, with soft, vignetted edges. A network that has never seen such borders paints them as artery
or catheter, and a per-image min/max scaling is dominated by them. This module finds the field of view (FOV)
and normalises intensities from the pixels inside it only:

- :func:`field_of_view_mask` / :class:`FieldOfViewd`: bool mask, True inside the exposed field;
- :class:`FOVNormalize` / :class:`FOVNormalized`: robust percentile scaling inside the FOV to ``[0, 1]``;
  outside the FOV the image is filled with the FOV's median, so the collimator edge disappears;
- :class:`MaskOutsideFOVd`: sets a label map to background outside the FOV (post-processing).

The detection is training-free: the shadow is a flat, dark region connected to the image border. It is found
on a smoothed copy (thin dark vessels vanish at that scale), thresholded between the darkest percentile and the
median of the central area, kept only where it touches the border and covers a noticeable area, and the FOV is
the largest remaining component with its holes filled, shrunk by a small margin to drop the penumbra. The
``"robust"`` method (the bundles' choice) also finds the shadows this misses on cath-lab images: burned-in text in
the shadow, a black shadow touching dark anatomy, a dim grey border, thin frame strips (:func:`field_of_view_mask`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.data import MetaTensor
from monai.transforms import MapTransform, Transform
from monai.utils import convert_to_numpy
from scipy import ndimage as ndi

from monai_angio.transforms.denoise import estimate_noise_sigma, gaussian_noise_gain
from monai_angio.transforms.layout import LAYOUT_KEY, layout_of, match_layout
from monai_angio.transforms.tensors import float32_like
from monai_angio.transforms.validation import check_finite

__all__ = [
    "field_of_view_mask",
    "FieldOfView",
    "FieldOfViewd",
    "fov_normalize",
    "FOVNormalize",
    "FOVNormalized",
    "MaskOutsideFOVd",
    "FOV_METHODS",
]

FOV_METHODS = ("basic", "robust")


def _check_method(method: str) -> None:
    if method not in FOV_METHODS:
        raise ValueError(f"field-of-view method must be one of {FOV_METHODS}, got {method!r}")


def _border_ring(a: np.ndarray) -> np.ndarray:
    """The outermost pixels of a 2D array, each once."""
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


def field_of_view_mask(
    image: NdarrayOrTensor,
    dark_fraction: float = 0.35,
    min_area_fraction: float = 0.002,
    margin_fraction: float = 0.015,
    flat_fraction: float = 0.06,
    border_reference: bool = False,
    method: str = "basic",
) -> np.ndarray:
    """Detect the exposed field of view of one angiogram frame.

    Args:
        image: ``(H, W)`` frame (any intensity range; vessels dark). A leading singleton axis is accepted.
        dark_fraction: a pixel of the smoothed image is "shadow" when it is darker than
            ``p1 + dark_fraction * (median_centre - p1)``, ``p1`` the 1st percentile of the image and
            ``median_centre`` the median of its central half.
        min_area_fraction: border-connected shadow regions smaller than this fraction of the image are ignored
            (dark vessels or a catheter leaving the image are no collimator).
        margin_fraction: the FOV is eroded by this fraction of the shorter side (at least 1 px when there is a
            collimator), to drop the soft penumbra of the collimator edge.
        flat_fraction: a shadow region must be flat: the spread of its (lightly smoothed) intensity below this
            fraction of ``median_centre - p1`` (``"basic"``: the standard deviation, and its mean within 15 % of that
            span above ``p1``; ``"robust"``: the 10th-90th percentile range, and its median within 15 % of ``p1``, or
            within 5 % of a grey border's level).
        border_reference: take ``p1`` as the darker of the image's and its border ring's 1st percentile. The
            corners left by a round collimator a little wider than the frame can cover well under 1 % of the image
            (so the image's percentile misses them) but not of its border. The bundles keep the image's percentile
            for the mask their normalisation uses (their networks were trained with it) and may add this mask as a
            second :class:`MaskOutsideFOVd` (labels outside either mask become background).
        method: ``"basic"``: one dark level, flatness as standard deviation (what the shipped networks were
            trained with). ``"robust"`` adds what cath-lab images need: flatness as a percentile range (burned-in
            text in the shadow no longer hides it), a second, darker level (a black shadow merged with dark
            anatomy at the first level comes apart), a dim grey border at the level a quarter of the border ring
            shares, shadows kept up to the image border by the opening, and thin dark strips along the sides (a
            frame border, a collimator cutting just inside the frame). On 150 cath-lab phantoms (seeds 700000-
            700149, 256-1024 px) it misses 10 % of the shadow instead of 51 %.

    Returns:
        ``(H, W)`` bool array, True inside the field of view; all True when no collimator shadow is found.
    """
    return _field_of_view_masks(
        image, (border_reference,), dark_fraction, min_area_fraction, margin_fraction, flat_fraction, method
    )[0]


def _field_of_view_masks(
    image: NdarrayOrTensor,
    references: Sequence[bool],
    dark_fraction: float = 0.35,
    min_area_fraction: float = 0.002,
    margin_fraction: float = 0.015,
    flat_fraction: float = 0.06,
    method: str = "basic",
) -> List[np.ndarray]:
    """:func:`field_of_view_mask` for each ``border_reference`` in ``references``, smoothing the frame once (a
    reference that gives the same dark level as an earlier one reuses its mask)."""
    _check_method(method)
    img = convert_to_numpy(image).astype(np.float32)
    if img.ndim == 3 and img.shape[0] == 1:
        img = img[0]
    if img.ndim != 2:
        raise ValueError(f"field_of_view_mask expects a 2D frame, got shape {img.shape}")
    h, w = img.shape
    if h < 16 or w < 16 or not np.isfinite(img).all():
        return [np.ones((h, w), dtype=bool) for _ in references]
    sigma = max(1.5, min(h, w) / 100.0)
    smooth = ndi.gaussian_filter(img, sigma)
    p1_image = float(np.percentile(smooth, 1))
    centre = smooth[h // 4 : h - h // 4, w // 4 : w - w // 4]
    med = float(np.median(centre))
    fine: List[np.ndarray] = []  # the lightly smoothed frame, computed once when a shadow candidate needs it
    done: Dict[float, np.ndarray] = {}  # mask per dark level: references giving the same level share one array
    noise_spread: Optional[float] = None
    out = []
    for border_reference in references:
        p1 = p1_image
        if border_reference:
            p1 = min(p1, float(np.percentile(_border_ring(smooth), 1)))
        if p1 not in done:
            if noise_spread is None:  # measured once per frame, whatever the number of dark references
                noise_spread = _noise_spread(img) if method == "robust" else 0.0
            done[p1] = _mask_below(img, smooth, fine, p1, med, dark_fraction, min_area_fraction, margin_fraction,
                                   flat_fraction, method, noise_spread)
        out.append(done[p1])
    return out


def _mask_below(
    img: np.ndarray,
    smooth: np.ndarray,
    fine: List[np.ndarray],
    p1: float,
    med: float,
    dark_fraction: float,
    min_area_fraction: float,
    margin_fraction: float,
    flat_fraction: float,
    method: str = "basic",
    noise_spread: float = 0.0,
) -> np.ndarray:
    """The field of view of ``img`` (smoothed: ``smooth``) with dark reference ``p1`` and centre median ``med``;
    ``noise_spread``: the frame's :func:`_noise_spread` (robust only)."""
    h, w = img.shape
    full = np.ones((h, w), dtype=bool)
    if med - p1 <= 1e-6 * max(1.0, abs(med)):
        return full
    span = med - p1
    if not fine:
        fine.append(ndi.gaussian_filter(img, 1.0))  # quantum noise down, edges kept
    robust = method == "robust"
    allowance = _noise_allowance(noise_spread, span, flat_fraction) if robust else 0.0
    # shadow candidates: (pixels, the level a shadow must sit at, tolerance on its median as a fraction of span)
    levels = (1.0, 0.4) if robust else (1.0,)
    candidates = [(smooth < p1 + f * dark_fraction * span, p1, 0.15) for f in levels]
    if robust:
        grey = _ring_level(smooth, 0.5 * flat_fraction * span)
        if grey is not None and grey < med:
            candidates.append((np.abs(smooth - grey) < 0.5 * flat_fraction * span, grey, 0.05))
    # an opening wider than a vessel cuts dark vessels and catheters off the shadow they touch
    r = max(2, int(round(min(h, w) / 75)))
    disk = np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) <= r
    outside = np.zeros((h, w), dtype=bool)
    refused = False  # a large border region at the first dark level was not flat
    for i, (shadow, level, tolerance) in enumerate(candidates):
        if 0 < i < len(levels) and not refused:
            continue  # a darker level finds parts of the regions already taken: nothing new
        if robust:
            shadow = _open_to_border(shadow, r)
        else:
            shadow = ndi.binary_opening(shadow, structure=disk)
        lab, n = ndi.label(shadow)
        if n == 0:
            continue
        border = np.unique(_border_ring(lab))
        border = border[border > 0]
        if border.size == 0:
            continue
        idx = border.tolist()
        areas = np.asarray(ndi.sum(np.ones_like(lab), lab, index=idx))
        for label, area in zip(idx, areas):
            if area < min_area_fraction * h * w:
                continue
            region = lab == label
            if _is_flat(fine[0][region], level, span, flat_fraction, tolerance, robust, allowance):
                outside |= region
            elif i == 0:
                refused = True
    if robust:
        max_depth = max(2 * r + 1, round(0.03 * min(h, w)))
        outside |= _border_strips(fine[0], p1, span, dark_fraction, flat_fraction, max_depth, allowance)
    if not outside.any():
        return full
    inside = ~outside
    lab_in, n_in = ndi.label(inside)
    if n_in == 0:
        return full
    sizes = ndi.sum(np.ones_like(lab_in), lab_in, index=np.arange(1, n_in + 1))
    fov = lab_in == (int(np.argmax(sizes)) + 1)
    fov = ndi.binary_fill_holes(fov)
    margin = max(1, int(round(margin_fraction * min(h, w))))
    fov = ndi.binary_erosion(fov, iterations=margin, border_value=1)
    if fov.sum() < 0.05 * h * w:  # implausibly small: detection failed, do not blank the image
        return full
    return fov


def _noise_spread(img: np.ndarray) -> float:
    """The 10th-90th percentile range (2.56 standard deviations) of a frame's noise
    (:func:`~monai_angio.transforms.denoise.estimate_noise_sigma`) after the 1 px filter the flatness test reads."""
    return 2.56 * estimate_noise_sigma(img) * gaussian_noise_gain(1.0)


def _noise_allowance(spread: float, span: float, flat_fraction: float) -> float:
    """Spread of a very noisy frame's noise, which the robust flatness test adds to its budget in quadrature.

    ``spread`` is the frame's :func:`_noise_spread`. It is returned only when it alone takes three quarters of the
    budget ``flat_fraction * span`` or more (hardly any shadow of such a frame could pass); otherwise 0, so frames
    the test can judge keep the masks they always had. The trigger lies between the noisiest cases seen on each
    side: a development cath-lab phantom whose dark diaphragm must stay in the field (noise spread 0.57 of the
    budget; two of 128 phantoms lost part of one at a trigger of a sixth) and a real training image with noise of
    4 % of its range whose black border must leave it (0.99). Without it, collimator shadows with noise of 5 % of
    the image range stayed inside the field of view, the normalisation then squeezed the vessels' contrast, and
    three real training images fell below 0.1 artery Dice.
    """
    return spread if spread >= 0.75 * flat_fraction * span else 0.0


def _open_to_border(mask: np.ndarray, r: int) -> np.ndarray:
    """Opening of ``mask`` by a disk of radius ``r`` that does not erode from the image border: a shadow touching
    the border keeps its pixels there. Computed with distance transforms (the disk is the Euclidean one), so its
    cost does not grow with ``r``."""
    p = r + 1
    padded = np.pad(mask, p, mode="edge")
    core = ndi.distance_transform_edt(padded) > r  # no False pixel within r
    return (ndi.distance_transform_edt(~core) <= r)[p:-p, p:-p]


def _is_flat(values: np.ndarray, level: float, span: float, flat_fraction: float, tolerance: float,
             robust: bool, allowance: float = 0.0) -> bool:
    """Whether a region's (lightly smoothed) intensities are those of a collimator shadow: flat, and at ``level``.

    A collimator shadow is flat; dark anatomy (diaphragm, heart) or a dark vessel leaving the image is textured.
    ``robust``: spread as the 10th-90th percentile range and level as the median, so that burned-in text in the
    shadow (a few per cent of its pixels) does not hide it; otherwise the standard deviation and the mean.
    ``allowance``: the spread of the frame's noise (robust only, :func:`_noise_allowance`), added to the budget in
    quadrature (independent spreads add as variances).
    """
    if robust:
        lo, mid, hi = (float(v) for v in np.percentile(values, (10, 50, 90)))
        return hi - lo < float(np.hypot(flat_fraction * span, allowance)) and abs(mid - level) < tolerance * span
    v = values.astype(np.float64)
    return float(v.std()) < flat_fraction * span and float(v.mean()) < level + tolerance * span


def _ring_level(smooth: np.ndarray, width: float) -> Optional[float]:
    """The grey level a quarter or more of the image's outermost pixel ring shares (within ``width``), or None.

    A dim grey collimator border covers much of the ring at one level; anatomy crossing the ring does not.
    """
    ring = np.sort(_border_ring(smooth))
    count = np.searchsorted(ring, ring + width, side="right") - np.arange(ring.size)
    j = int(np.argmax(count))
    if count[j] < 0.25 * ring.size:
        return None
    return float(np.median(ring[j : j + count[j]]))


def _border_strips(fine: np.ndarray, p1: float, span: float, dark_fraction: float, flat_fraction: float,
                   max_depth: int, allowance: float = 0.0) -> np.ndarray:
    """Dark, flat strips along the image sides, up to ``max_depth`` lines deep (a frame border or a collimator
    that cuts the field just inside the frame: too thin for the opening that separates shadows from vessels);
    ``allowance``: extra spread for the frame's noise (:func:`_noise_allowance`)."""
    dark = fine < p1 + dark_fraction * span
    out = np.zeros(fine.shape, dtype=bool)
    for side in range(4):  # rotated so that the side is row 0; the rotated views write through to ``out``
        d = np.rot90(dark, side)
        depth = 0
        while depth < min(max_depth, d.shape[0] // 2) and d[depth].mean() >= 0.9:
            depth += 1
        if not depth:
            continue
        # flatness without the two innermost lines, which the light smoothing mixes with the field
        inner = np.rot90(fine, side)[: max(1, depth - 2)].ravel()
        if _is_flat(inner, p1, span, flat_fraction, 0.15, True, allowance):
            np.rot90(out, side)[:depth] = True
    return out


def _frames_masks(img: np.ndarray, references: Sequence[bool], **kwargs: Any) -> List[np.ndarray]:
    """FOV masks of a ``(C, H, W)`` or ``(C, T, H, W)`` array from its mean frame, each broadcast to ``(1, H, W)``."""
    # float64 accumulation in numpy's buffers: no float copy of an integer cine
    mean = img.reshape(-1, *img.shape[-2:]).mean(axis=0, dtype=np.float64).astype(np.float32)
    return [m[None] for m in _field_of_view_masks(mean, references, **kwargs)]


class FieldOfView(Transform):
    """Array transform: ``(C, [T,] H, W)`` image -> ``(1, H, W)`` bool FOV mask (from the mean of all frames).

    Args:
        dark_fraction, min_area_fraction, margin_fraction, border_reference, method: see
            :func:`field_of_view_mask`.
    """

    def __init__(
        self,
        dark_fraction: float = 0.35,
        min_area_fraction: float = 0.002,
        margin_fraction: float = 0.015,
        border_reference: bool = False,
        method: str = "basic",
    ) -> None:
        _check_method(method)
        self.border_reference = border_reference
        self.kwargs = {
            "dark_fraction": dark_fraction,
            "min_area_fraction": min_area_fraction,
            "margin_fraction": margin_fraction,
            "method": method,
        }

    def masks(self, img: NdarrayOrTensor, references: Sequence[bool]) -> List[np.ndarray]:
        """The ``(1, H, W)`` masks of ``img`` for each ``border_reference`` in ``references``, from one mean frame
        and one smoothing."""
        check_finite(img)
        # no copy of the cine (a 300-frame 512 x 512 run is 315 MB in float32): the mean frame is computed in place
        return _frames_masks(np.asarray(convert_to_numpy(img)), references, **self.kwargs)

    def __call__(self, img: NdarrayOrTensor) -> np.ndarray:
        """Return the ``(1, H, W)`` bool mask of ``img``'s field of view."""
        return self.masks(img, (self.border_reference,))[0]


class FieldOfViewd(MapTransform):
    """Dictionary version of :class:`FieldOfView`: stores the mask under ``fov_key`` (the image is unchanged).

    Run it before any spatial transform of the image: the mask stays in the input's own pixel grid, which is where
    :class:`MaskOutsideFOVd` applies it after the prediction has been inverted back to that grid. The mask of a
    ``MetaTensor`` image is a ``MetaTensor`` recording the image's in-plane layout (``meta["spatial_layout"]``),
    so that a prediction inverted back to MONAI's axis order is masked the right way round.

    Args:
        keys: the image key (one).
        fov_key: where the ``(1, H, W)`` bool mask is stored (the image's 1st percentile as the dark reference).
        allow_missing_keys: don't raise if the key is missing.
        dark_fraction, min_area_fraction, margin_fraction, method: see :func:`field_of_view_mask` (``method``
            applies to both masks).
        border_fov_key: also store the mask with ``border_reference=True`` under this key (corner shadows under
            1 % of the image found too), from the same mean frame and smoothing; None: not computed.
    """

    def __init__(
        self,
        keys: KeysCollection,
        fov_key: str = "fov",
        allow_missing_keys: bool = False,
        dark_fraction: float = 0.35,
        min_area_fraction: float = 0.002,
        margin_fraction: float = 0.015,
        border_fov_key: Optional[str] = None,
        method: str = "basic",
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.fov_key = fov_key
        self.border_fov_key = border_fov_key
        self.op = FieldOfView(dark_fraction, min_area_fraction, margin_fraction, method=method)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        wanted = {self.fov_key: False}
        if self.border_fov_key:
            wanted[self.border_fov_key] = True
        for key in self.key_iterator(d):
            for out_key, fov in zip(wanted, self.op.masks(d[key], list(wanted.values()))):
                if isinstance(d[key], MetaTensor):
                    fov = MetaTensor(torch.as_tensor(fov), meta={LAYOUT_KEY: layout_of(d[key])})
                d[out_key] = fov
        return d


def fov_normalize(
    image: np.ndarray,
    fov: Optional[np.ndarray] = None,
    lower: float = 0.5,
    upper: float = 99.5,
    fill_outside: bool = True,
) -> np.ndarray:
    """Scale ``image`` to ``[0, 1]`` by percentiles of its pixels inside ``fov``; fill outside with the median.

    Args:
        image: ``(..., H, W)`` array.
        fov: bool mask broadcastable to ``image`` (None: the whole image).
        lower, upper: percentiles mapped to 0 and 1 (values beyond are clipped).
        fill_outside: replace pixels outside the FOV with the normalised median inside it, so the collimator
            shadow carries no edge the network could mistake for a vessel.

    Returns:
        float32 array of the same shape.
    """
    x = np.asarray(image, dtype=np.float32)
    m = np.ones(x.shape, dtype=bool) if fov is None else np.broadcast_to(np.asarray(fov, dtype=bool), x.shape)
    any_inside = bool(m.any())
    vals = x[m] if any_inside else x.ravel()
    # one selection pass for the three order statistics; the clipped linear map is monotone, so the median of
    # the normalised FOV is the normalised median
    lo, med, hi = (float(v) for v in np.percentile(vals, [lower, 50.0, upper]))
    if hi - lo <= 1e-6 * max(1.0, abs(hi)):
        out = np.zeros_like(x)
        fill = 0.0
    else:
        scale = np.float32(1.0 / (hi - lo))
        out = np.clip((x - np.float32(lo)) * scale, 0.0, 1.0)
        fill = min(1.0, max(0.0, (med - lo) / (hi - lo)))
    if fill_outside and fov is not None and not m.all():
        out = np.where(m, out, np.float32(fill if any_inside else 0.0))
    return out.astype(np.float32, copy=False)


class FOVNormalize(Transform):
    """Array transform: robust normalisation of a ``(C, [T,] H, W)`` image inside its field of view.

    The FOV is detected on the image (mean of the frames) unless given. See :func:`fov_normalize`.

    Args:
        lower, upper: percentiles mapped to 0 and 1.
        fill_outside: fill the collimator shadow with the FOV's median.
    """

    def __init__(self, lower: float = 0.5, upper: float = 99.5, fill_outside: bool = True) -> None:
        self.lower, self.upper, self.fill_outside = lower, upper, fill_outside

    def __call__(self, img: NdarrayOrTensor, fov: Optional[NdarrayOrTensor] = None) -> NdarrayOrTensor:
        """Normalise ``img`` (MetaTensor metadata is kept)."""
        check_finite(img)
        arr = convert_to_numpy(img).astype(np.float32)
        mask = _frames_masks(arr, (False,))[0] if fov is None else convert_to_numpy(fov).astype(bool)
        mask = mask.reshape((1,) * (arr.ndim - 2) + mask.shape[-2:])
        return float32_like(fov_normalize(arr, mask, self.lower, self.upper, self.fill_outside), img)


class FOVNormalized(MapTransform):
    """Dictionary version of :class:`FOVNormalize`, using the mask stored by :class:`FieldOfViewd` if present.

    Args:
        keys: image keys.
        fov_key: key of the FOV mask (detected on the fly when absent).
        lower, upper, fill_outside: see :class:`FOVNormalize`.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        fov_key: str = "fov",
        lower: float = 0.5,
        upper: float = 99.5,
        fill_outside: bool = True,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.fov_key = fov_key
        self.op = FOVNormalize(lower, upper, fill_outside)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.op(d[key], d.get(self.fov_key))
        return d


class MaskOutsideFOVd(MapTransform):
    """Set label maps to background (0) outside the field of view stored under ``fov_key``.

    Use it in post-processing after the prediction is back in the input's pixel grid (after ``Invertd``) and
    after ``AsDiscreted``. Without a stored mask the data pass unchanged. A mask and a label map whose recorded
    in-plane layouts differ (:func:`~monai_angio.transforms.layout.match_layout`, e.g. a row-major mask and a
    prediction ``Invertd`` gave back in MONAI's order) are aligned first.

    Args:
        keys: label keys (``(C, H, W)`` with the mask ``(1, H, W)``).
        fov_key: key of the FOV mask.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(self, keys: KeysCollection, fov_key: str = "fov", allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.fov_key = fov_key

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        fov = d.get(self.fov_key)
        if fov is None:
            return d
        for key in self.key_iterator(d):
            lab = d[key]
            m = convert_to_numpy(match_layout(fov, lab)).astype(bool)
            if tuple(m.shape[-2:]) != tuple(lab.shape[-2:]):
                raise ValueError(f"FOV mask {tuple(m.shape)} does not match label map {tuple(lab.shape)}")
            if isinstance(lab, torch.Tensor):
                d[key] = lab * torch.as_tensor(m, device=lab.device).to(lab.dtype)
            else:
                d[key] = np.asarray(lab) * m.astype(np.asarray(lab).dtype)
        return d
