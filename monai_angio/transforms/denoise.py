"""Noise-adaptive smoothing: bring a noisy angiogram down to the noise level the network was trained on.

Cath labs differ widely in image noise (fluoroscopy-dose frames, small patients' settings, no temporal filtering),
while public data sets are often denoised. A network that never saw strong noise can switch off on it (on the real
training images, Gaussian noise of 5 % of the image range took stage 16 of the flagship from 0.80 to 0.64 artery
Dice, four of thirty images below 0.1; ``benchmarks/evaluate_appearance.py``). :class:`NoiseAdaptiveSmooth`
measures the noise of each frame inside its field of view and, only when it is above ``target_sigma``, smooths the
frame with the Gaussian that brings white noise of that level down to ``target_sigma``; cleaner frames pass
unchanged, bit for bit. The trigger (``threshold_sigma``) and the level smoothed to (``target_sigma``) are separate:
smoothing leaves correlated, blob-like noise, which confuses a network more than white noise of the same standard
deviation, so a frame that must be smoothed is smoothed well below the level that triggers it.

The noise is estimated with Immerkaer's Laplacian-difference mask (the 3x3 kernel ``[[1,-2,1],[-2,4,-2],[1,-2,1]]``
removes flat areas and linear ramps and keeps 6 x the noise's standard deviation), made robust to vessel and
collimator edges by using the median absolute response (``sigma = 1.4826 * median(|I * K|) / 6``), on the field of
view eroded by two pixels. The smoothing sigma is solved on the discrete kernel that is applied
(``scipy.ndimage.gaussian_filter``), whose white-noise gain is ``sum(k_i ** 2)`` for the separable 2D filter.

``method="tv"`` replaces the Gaussian by total-variation denoising (Chambolle's, :func:`tv_denoise_to`), its weight
bisected until the frame's measured noise is at ``target_sigma``. It keeps thin high-contrast lines thin: a Gaussian
turns a noisy ECG lead or sternal wire into a wider, fainter tube that a network with a catheter class may call
catheter (the flagship uses "tv" since bundle 0.12.0; the vessel-only bundles use the Gaussian).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Optional

import numpy as np
from monai.config import KeysCollection, NdarrayOrTensor
from monai.transforms import MapTransform, Transform
from monai.utils import convert_to_dst_type, convert_to_numpy
from scipy.ndimage import binary_erosion, convolve, gaussian_filter

__all__ = [
    "estimate_noise_sigma",
    "frame_noise",
    "gaussian_noise_gain",
    "smoothing_sigma_for",
    "NoiseAdaptiveSmooth",
    "NoiseAdaptiveSmoothd",
    "NOISY_FRAME_SIGMA",
    "SMOOTHING_METHODS",
    "tv_denoise_to",
]

#: noise (of the field-of-view normalised frame) above every training frame of the flagship: plain phantoms reach
#: 0.034, its real training images 0.024; ``monai-angio segment`` warns about inputs noisier than this
NOISY_FRAME_SIGMA = 0.04

#: how :class:`NoiseAdaptiveSmooth` smooths a noisy frame
SMOOTHING_METHODS = ("gaussian", "tv")

_LAPLACE_DIFF = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def estimate_noise_sigma(image: np.ndarray, mask: Optional[np.ndarray] = None) -> float:
    """Standard deviation of the white noise of a 2D image (module docstring), inside ``mask`` if given.

    Args:
        image: ``(H, W)`` float image.
        mask: ``(H, W)`` bool region to measure in (eroded by two pixels first); None: the whole image.

    Returns:
        The estimate, in the image's units; 0 for an image smaller than 3 x 3 or an empty region.
    """
    img = np.asarray(image, np.float32)
    if img.ndim != 2:
        raise ValueError(f"estimate_noise_sigma needs a 2D image, got shape {img.shape}")
    if min(img.shape) < 3:
        return 0.0
    inner = np.ones(img.shape, bool) if mask is None else np.asarray(mask, bool)
    inner = binary_erosion(inner, iterations=2, border_value=0)
    if not inner.any():
        return 0.0
    response = np.abs(convolve(img, _LAPLACE_DIFF, mode="nearest"))[inner]
    return float(1.4826 * np.median(response) / 6.0)


def gaussian_noise_gain(sigma: float, truncate: float = 4.0) -> float:
    """Factor by which ``gaussian_filter(x, sigma)`` (2D, separable) scales the standard deviation of white noise."""
    if sigma <= 0:
        return 1.0
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    k /= k.sum()
    return float((k**2).sum())


def smoothing_sigma_for(noise: float, target: float, max_sigma: float = 2.0) -> float:
    """Gaussian sigma (px) that brings white noise of std ``noise`` down to ``target``; 0 if it is not above it.

    Solved by bisection on :func:`gaussian_noise_gain` and capped at ``max_sigma`` (thin vessels would vanish).
    """
    if not (noise > target > 0):
        return 0.0
    want = target / noise
    if gaussian_noise_gain(max_sigma) >= want:
        return float(max_sigma)
    lo, hi = 0.0, float(max_sigma)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if gaussian_noise_gain(mid) > want:
            lo = mid
        else:
            hi = mid
    return float(hi)


def tv_denoise_to(
    frame: np.ndarray, mask: Optional[np.ndarray], target: float, noise: float, steps: int = 8
) -> tuple[float, np.ndarray]:
    """Total-variation denoising (``skimage.restoration.denoise_tv_chambolle``) of one frame down to a noise level.

    The weight is bisected in ``[0, 2 x noise]`` until :func:`estimate_noise_sigma` of the result (inside ``mask``)
    is at most ``target``; the smallest such weight found is used.

    Args:
        frame: ``(H, W)`` float frame.
        mask: where the noise is measured (None: everywhere).
        target: noise level to reach.
        noise: the frame's measured noise (above ``target``).
        steps: bisection steps.

    Returns:
        ``(weight, denoised frame)`` (float32).
    """
    from skimage.restoration import denoise_tv_chambolle

    lo, hi = 0.0, 2.0 * float(noise)
    best = None
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        cand = denoise_tv_chambolle(frame, weight=mid)
        if estimate_noise_sigma(cand, mask) <= target:
            hi, best = mid, cand
        else:
            lo = mid
    if best is None:  # no bisection weight reached the target: the strongest one
        best = denoise_tv_chambolle(frame, weight=hi)
    return float(hi), best.astype(np.float32)


class NoiseAdaptiveSmooth(Transform):
    """Smooth only the frames that are noisier than ``threshold_sigma`` (module docstring).

    Works on ``(H, W)`` and ``(C, [T,] H, W)`` arrays or tensors (MetaTensor metadata is kept); every 2D frame is
    measured and smoothed on its own. ``last_sigmas`` holds the ``(noise, smoothing sigma)`` of each frame of the
    last call, for reports.

    Args:
        threshold_sigma: noise level (in the image's units, e.g. of the field-of-view normalised ``[0, 1]`` image)
            at and below which a frame is left alone; None: the transform is off (returns its input, measures
            nothing). 0.04 lies above the noise of the flagship's synthetic training images (at most 0.034 on
            plain phantoms) and of its real training images (at most 0.024).
        target_sigma: level a frame above the threshold is smoothed down to (at most ``threshold_sigma``).
        max_sigma_px: largest smoothing sigma in pixels (``"gaussian"``).
        method: ``"gaussian"`` (the sigma that brings white noise of the measured level down to ``target_sigma``) or
            ``"tv"`` (edge-preserving total-variation denoising, Chambolle's, with the weight found by bisection that
            brings the frame's measured noise down to ``target_sigma``: thin high-contrast lines such as wires stay
            thin instead of being blurred into wider, fainter tubes). ``last_sigmas`` then holds the weight.
    """

    def __init__(
        self,
        threshold_sigma: Optional[float] = 0.04,
        target_sigma: float = 0.015,
        max_sigma_px: float = 2.0,
        method: str = "gaussian",
    ) -> None:
        if method not in SMOOTHING_METHODS:
            raise ValueError(f"method must be one of {SMOOTHING_METHODS}, got {method!r}")
        self.method = method
        limit = target_sigma if threshold_sigma is None else threshold_sigma
        if not (0 < target_sigma <= limit and max_sigma_px >= 0):
            raise ValueError(
                "need 0 < target_sigma <= threshold_sigma and max_sigma_px >= 0, got "
                f"{target_sigma}, {threshold_sigma}, {max_sigma_px}"
            )
        self.threshold_sigma = None if threshold_sigma is None else float(threshold_sigma)
        self.target_sigma = float(target_sigma)
        self.max_sigma_px = float(max_sigma_px)
        self.last_sigmas: list[tuple[float, float]] = []

    def __call__(self, img: NdarrayOrTensor, fov: Optional[NdarrayOrTensor] = None) -> NdarrayOrTensor:
        """Smooth the noisy frames of ``img``; ``fov``: ``(H, W)`` (or broadcastable) mask to measure in."""
        self.last_sigmas = []
        if self.threshold_sigma is None:
            return img
        arr, frames, mask = _frames_and_mask(img, fov)
        out = frames.copy()
        for i, frame in enumerate(frames):
            noise = estimate_noise_sigma(frame, mask)
            sigma = 0.0
            if noise > self.threshold_sigma and self.method == "tv":
                sigma, out[i] = tv_denoise_to(frame, mask, self.target_sigma, noise)
            elif noise > self.threshold_sigma:
                sigma = smoothing_sigma_for(noise, self.target_sigma, self.max_sigma_px)
                if sigma > 0:
                    out[i] = gaussian_filter(frame, sigma, mode="nearest")
            self.last_sigmas.append((noise, sigma))
        if not any(s > 0 for _n, s in self.last_sigmas):
            return img
        return convert_to_dst_type(out.reshape(arr.shape), img, dtype=np.float32)[0]  # MetaTensor: meta kept


class NoiseAdaptiveSmoothd(MapTransform):
    """Dictionary version of :class:`NoiseAdaptiveSmooth`, measuring inside the mask stored under ``fov_key``.

    Args:
        keys: image keys.
        fov_key: key of the field-of-view mask (:class:`~monai_angio.transforms.FieldOfViewd`); measured on the
            whole frame when absent.
        threshold_sigma, target_sigma, max_sigma_px, method: see :class:`NoiseAdaptiveSmooth`.
        noise_key: if given, the measured noise of the (first) key's frames is stored under this key as a float (the
            largest over its frames), also while the smoothing is off: a caller can then say that an input is noisier
            than the network's training data (``monai-angio segment`` does).
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        fov_key: str = "fov",
        threshold_sigma: Optional[float] = 0.04,
        target_sigma: float = 0.015,
        max_sigma_px: float = 2.0,
        noise_key: Optional[str] = None,
        allow_missing_keys: bool = False,
        method: str = "gaussian",
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.fov_key = fov_key
        self.noise_key = noise_key
        self.op = NoiseAdaptiveSmooth(threshold_sigma, target_sigma, max_sigma_px, method)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for i, key in enumerate(self.key_iterator(d)):
            fov = d.get(self.fov_key)
            img = d[key]
            d[key] = self.op(img, fov)
            if i == 0 and self.noise_key is not None:  # the op's own measurement when it ran, else measured here
                measured = [noise for noise, _sigma in self.op.last_sigmas]
                d[self.noise_key] = max(measured) if measured else frame_noise(img, fov)
        return d


def frame_noise(img: NdarrayOrTensor, fov: Optional[NdarrayOrTensor] = None) -> float:
    """The largest :func:`estimate_noise_sigma` over the 2D frames of ``img`` (``(..., H, W)``), inside ``fov``."""
    _arr, frames, mask = _frames_and_mask(img, fov)
    return max(estimate_noise_sigma(f, mask) for f in frames)


def _frames_and_mask(
    img: NdarrayOrTensor, fov: Optional[NdarrayOrTensor]
) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """``img`` as float32, its ``(N, H, W)`` frames, and the ``(H, W)`` bool mask of ``fov`` (None without one)."""
    arr = convert_to_numpy(img).astype(np.float32)
    if arr.ndim < 2:
        raise ValueError(f"noise measurement needs a 2D image or a stack of them, got shape {arr.shape}")
    mask = None
    if fov is not None:
        m = convert_to_numpy(fov).astype(bool)
        mask = m.reshape((-1,) + m.shape[-2:])[0] if m.ndim > 2 else m
    return arr, arr.reshape((-1,) + arr.shape[-2:]), mask
