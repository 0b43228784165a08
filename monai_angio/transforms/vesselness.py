"""Training-free vessel segmentation baseline: Frangi vesselness of dark vessels + Otsu threshold in the FOV.

For every frame:

1. the field of view (FOV, inside the collimator) is detected with
   :func:`monai_angio.transforms.fov.field_of_view_mask` (or given);
2. the frame is scaled to ``[0, 1]`` by robust percentiles of its FOV pixels, with the collimator shadow filled by
   the FOV's median (:func:`~monai_angio.transforms.fov.fov_normalize`), so the collimator edge gives no ridge;
3. Frangi's multi-scale vesselness for dark ridges (:func:`skimage.filters.frangi`, ``black_ridges=True``) is
   computed over sigmas of about 1..6 px scaled with the image size (:func:`default_sigmas`);
4. the vessel mask is ``log(v + mean_FOV(v)) > Otsu(log(v + mean_FOV(v)) inside the FOV)``: Otsu on the log of
   the vesselness separates the long-tailed vessel responses from the background; the offset (the FOV's mean
   vesselness, scale-free) keeps the many zero/near-zero background pixels from forming their own ``-inf`` mode;
5. labels are 0 outside the FOV.

Output labels: ``0`` background, ``1`` vessel (binary; no catheter class, though a contrast-filled catheter is a
dark tube and is usually found as vessel).

- :func:`frangi_vesselness` (float map), :func:`frangi_segment` (binary label map): plain functions on ``(H, W)``.
- :class:`FrangiVesselness` / :class:`FrangiVesselnessd`: MONAI array / dictionary transforms on ``(C, H, W)``
  (every channel/frame separately).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Optional, Union

import numpy as np
import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.transforms import MapTransform, Transform
from monai.utils import convert_to_dst_type, ensure_tuple_rep
from skimage.filters import frangi, threshold_otsu

from monai_angio.errors import AngioInputError
from monai_angio.transforms.fov import field_of_view_mask, fov_normalize
from monai_angio.transforms.validation import check_finite, get_filename
from monai_angio.utils.arrays import as_numpy, squeeze_leading

__all__ = [
    "DEFAULT_SIGMA_RANGE",
    "DEFAULT_REFERENCE_SIZE",
    "default_sigmas",
    "frangi_vesselness",
    "frangi_segment",
    "FrangiVesselness",
    "FrangiVesselnessd",
]

#: smallest and largest Frangi scale (px) at :data:`DEFAULT_REFERENCE_SIZE`.
DEFAULT_SIGMA_RANGE = (1.0, 6.0)
#: image side (px) at which the sigmas are :data:`DEFAULT_SIGMA_RANGE`; they scale with ``min(H, W)`` / this.
DEFAULT_REFERENCE_SIZE = 256
#: no scale below this (px): finer Hessians only see pixel noise.
MIN_SIGMA = 1.0


def default_sigmas(
    shape: Sequence[int],
    sigma_range: Sequence[float] = DEFAULT_SIGMA_RANGE,
    num_sigmas: int = 6,
    reference_size: float = DEFAULT_REFERENCE_SIZE,
) -> np.ndarray:
    """Frangi scales for an image: ``linspace(*sigma_range, num_sigmas) * min(H, W) / reference_size``.

    Scales below 1 px are raised to 1 px (duplicates dropped). A 300 x 300 angiogram gets 1.17 .. 7.0 px,
    a 512 x 512 one 2 .. 12 px.

    Args:
        shape: image shape; the last two entries are ``(H, W)``.
        sigma_range: ``(smallest, largest)`` sigma at ``reference_size``.
        num_sigmas: number of scales.
        reference_size: image side at which ``sigma_range`` applies.

    Returns:
        Increasing float array of sigmas (px).
    """
    lo, hi = (float(s) for s in sigma_range)
    if not 0 < lo <= hi or num_sigmas < 1 or reference_size <= 0:
        raise AngioInputError(f"invalid sigma range {sigma_range} / num_sigmas {num_sigmas} / size {reference_size}")
    scale = min(int(shape[-2]), int(shape[-1])) / float(reference_size)
    sig = np.maximum(np.linspace(lo, hi, int(num_sigmas)) * scale, MIN_SIGMA)
    return np.unique(np.round(sig, 4))


def _frame(image: Any, name: str = "image") -> np.ndarray:
    arr = squeeze_leading(image)
    if arr.ndim != 2 or 0 in arr.shape:
        raise AngioInputError(f"{name} must be one 2D frame (H, W), got shape {arr.shape}")
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise AngioInputError(f"{name} contains NaN or infinite values")
    return arr


def _fov(img: np.ndarray, fov: Any) -> np.ndarray:
    if fov is None:
        return np.asarray(field_of_view_mask(img), dtype=bool)
    m = squeeze_leading(fov)
    if m.shape != img.shape:
        raise AngioInputError(f"field-of-view mask {m.shape} does not match the image {img.shape}")
    return m.astype(bool)


def frangi_vesselness(
    image: NdarrayOrTensor,
    fov: Optional[NdarrayOrTensor] = None,
    sigmas: Optional[Sequence[float]] = None,
    beta: float = 0.5,
    gamma: Optional[float] = None,
) -> np.ndarray:
    """Frangi vesselness of the dark vessels of one frame, 0 outside the field of view.

    Args:
        image: ``(H, W)`` frame (a leading singleton axis is accepted), raw intensities, vessels dark.
        fov: bool field-of-view mask ``(H, W)``; detected with :func:`field_of_view_mask` when None.
        sigmas: Frangi scales (px); default :func:`default_sigmas` of the frame.
        beta: Frangi's blob-vs-line sensitivity.
        gamma: Frangi's structureness sensitivity (None: skimage's default, half the largest Hessian norm).

    Returns:
        float32 ``(H, W)`` vesselness in ``[0, 1]``-ish, 0 outside the FOV.

    Raises:
        AngioInputError: not a 2D frame, NaN/Inf, or a FOV mask of another shape.
    """
    img = _frame(image)
    m = _fov(img, fov)
    if not m.any():
        return np.zeros(img.shape, np.float32)
    x = fov_normalize(img, m, fill_outside=True)
    sig = default_sigmas(img.shape) if sigmas is None else np.asarray(sigmas, dtype=np.float64)
    v = frangi(x, sigmas=sig, black_ridges=True, beta=beta, gamma=gamma, mode="reflect")
    v = np.nan_to_num(np.asarray(v, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    v[~m] = 0.0
    return v.astype(np.float32)


def frangi_segment(
    image: NdarrayOrTensor,
    fov: Optional[NdarrayOrTensor] = None,
    sigmas: Optional[Sequence[float]] = None,
    beta: float = 0.5,
    gamma: Optional[float] = None,
    return_vesselness: bool = False,
) -> Union[np.ndarray, tuple]:
    """Binary vessel mask of one frame: Otsu on ``log(vesselness + mean)`` inside the FOV (module docstring).

    Args:
        image: ``(H, W)`` frame, raw intensities, vessels dark.
        fov: bool field-of-view mask (detected when None).
        sigmas: Frangi scales (px), default :func:`default_sigmas`.
        beta: Frangi's ``beta``.
        gamma: Frangi's ``gamma``.
        return_vesselness: also return the vesselness map and the threshold (on the log scale).

    Returns:
        ``(H, W)`` uint8 labels (1 vessel, 0 background and everything outside the FOV); with
        ``return_vesselness``: ``(labels, vesselness, log_threshold)``.

    Raises:
        AngioInputError: not a 2D frame, NaN/Inf, or a FOV mask of another shape.
    """
    img = _frame(image)
    m = _fov(img, fov)
    v = frangi_vesselness(img, m, sigmas=sigmas, beta=beta, gamma=gamma)
    lab = np.zeros(img.shape, np.uint8)
    t = float("nan")
    vals = v[m]
    if vals.size and vals.max() > 0:
        offset = max(float(vals.mean()), 1e-12)
        lv = np.log(v.astype(np.float64) + offset)
        inside = lv[m]
        if inside.max() > inside.min():
            t = float(threshold_otsu(inside, nbins=256))
            lab[(lv > t) & m] = 1
    return (lab, v, t) if return_vesselness else lab


class FrangiVesselness(Transform):
    """Array transform: ``(C, H, W)`` image -> ``(C, H, W)`` binary vessel labels (Frangi + Otsu in the FOV).

    Every channel (or frame of a ``(T, H, W)`` cine) is segmented on its own by :func:`frangi_segment`; a 2D
    ``(H, W)`` input gives ``(H, W)``. The output has the input's type (``MetaTensor`` metadata kept).

    Args:
        sigmas: Frangi scales (px); None: :func:`default_sigmas` per image size.
        beta: Frangi's ``beta``.
        gamma: Frangi's ``gamma``.
        return_vesselness: return the float vesselness maps instead of the labels.
        dtype: output dtype of the labels.

    Raises:
        AngioInputError: NaN/Inf values (naming the file when the input carries one) or fewer than 2 dimensions.
    """

    backend = ["numpy", "torch"]

    def __init__(
        self,
        sigmas: Optional[Sequence[float]] = None,
        beta: float = 0.5,
        gamma: Optional[float] = None,
        return_vesselness: bool = False,
        dtype: Union[np.dtype, torch.dtype, type] = np.uint8,
    ) -> None:
        self.sigmas = None if sigmas is None else [float(s) for s in sigmas]
        self.beta = beta
        self.gamma = gamma
        self.return_vesselness = return_vesselness
        self.dtype = dtype

    def __call__(self, img: NdarrayOrTensor, fov: Optional[NdarrayOrTensor] = None) -> NdarrayOrTensor:
        """Segment every channel of ``img``; ``fov`` (``(H, W)`` or ``(1, H, W)``) replaces the FOV detection."""
        check_finite(img)
        arr = as_numpy(img)
        if arr.ndim < 2:
            raise AngioInputError(f"expected (C, H, W) or (H, W), got shape {arr.shape}", get_filename(img))
        frames = arr.reshape(-1, *arr.shape[-2:])
        outs = []
        for f in frames:
            lab, v, _ = frangi_segment(f, fov, self.sigmas, self.beta, self.gamma, return_vesselness=True)
            outs.append(v if self.return_vesselness else lab)
        out = np.stack(outs).reshape(arr.shape)
        dtype = np.float32 if self.return_vesselness else self.dtype
        res, *_ = convert_to_dst_type(out, img, dtype=dtype)
        return res


class FrangiVesselnessd(MapTransform):
    """Dictionary version of :class:`FrangiVesselness`.

    Args:
        keys: image keys.
        output_keys: where the labels go (one per key); None overwrites the images, as MONAI's transforms do.
        fov_key: key of a FOV mask (e.g. from ``FieldOfViewd``) used instead of detecting it, when present.
        sigmas, beta, gamma, return_vesselness: see :class:`FrangiVesselness`.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        output_keys: Optional[KeysCollection] = None,
        fov_key: Optional[str] = "fov",
        sigmas: Optional[Sequence[float]] = None,
        beta: float = 0.5,
        gamma: Optional[float] = None,
        return_vesselness: bool = False,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.output_keys = ensure_tuple_rep(output_keys, len(self.keys)) if output_keys is not None else self.keys
        if len(self.output_keys) != len(self.keys):
            raise AngioInputError(f"got {len(self.output_keys)} output keys for {len(self.keys)} keys")
        self.fov_key = fov_key
        self.op = FrangiVesselness(sigmas=sigmas, beta=beta, gamma=gamma, return_vesselness=return_vesselness)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        fov = d.get(self.fov_key) if self.fov_key is not None else None
        for key, out_key in self.key_iterator(d, self.output_keys):
            d[out_key] = self.op(d[key], fov)
        return d
