"""Acquisition shifts: the image chain of another cath lab, applied to an angiogram on purpose.

Angiograms from another hospital differ less in anatomy than in how the image was made and exported: the display
curve (gamma), quantum and read-out noise, detector blur, the edge enhancement most X-ray systems apply, a fall-off
of exposure across the field, the bit depth and lossy JPEG. :class:`AcquisitionShift` applies such a chain with
fixed, named parameters (deterministic: the noise has its own seed), so a model's accuracy can be measured under
each change separately (``monai-angio evaluate --appearance gamma=1.6``, ``benchmarks/evaluate_appearance.py``):
every parameter is given, none is drawn. :class:`RandAcquisitionShiftd` draws them, for training.

The chain runs in detector order on the image scaled to ``[0, 1]`` by its own finite minimum and maximum and is
scaled back to that range afterwards, so 8-bit, 16-bit and float inputs are treated alike:

1. ``ramp``: exposure falling off across the field, a multiplicative linear gradient ``1 + ramp * (u - 0.5)``
   along the image diagonal (``u`` from 0 at the top-left to 1 at the bottom-right corner);
2. ``noise``: additive Gaussian noise of this standard deviation (in units of the image range);
3. ``blur``: Gaussian blur of this sigma (px);
4. ``gamma``: display curve ``x ** gamma`` (< 1 brightens dark vessels, > 1 darkens the background);
5. ``sharpen``: edge enhancement (unsharp masking) ``x + sharpen * (x - blur(x, sharpen_sigma))``;
6. ``bits``: quantisation to this many bits;
7. ``jpeg``: an 8-bit JPEG round trip at this quality (1-95).

Values leaving ``[0, 1]`` are clipped after every step, as a detector or display would.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Dict, Optional

import numpy as np
from monai.config import KeysCollection
from monai.transforms import MapTransform, RandomizableTransform, Transform
from monai.utils import convert_to_dst_type
from scipy.ndimage import gaussian_filter

from monai_angio.errors import AngioInputError
from monai_angio.utils.codecs import jpeg_roundtrip

__all__ = ["AcquisitionShift", "AcquisitionShiftd", "RandAcquisitionShiftd", "parse_acquisition_shift",
           "SHIFT_PARAMETERS"]

#: parameter name -> (type, default, valid range as (low, high), both inclusive); the default changes nothing
SHIFT_PARAMETERS: Dict[str, tuple] = {
    "ramp": (float, 0.0, (0.0, 1.5)),
    "noise": (float, 0.0, (0.0, 0.5)),
    "blur": (float, 0.0, (0.0, 20.0)),
    "gamma": (float, 1.0, (0.1, 10.0)),
    "sharpen": (float, 0.0, (0.0, 10.0)),
    "sharpen_sigma": (float, 2.0, (0.3, 50.0)),
    "bits": (int, 0, (0, 16)),
    "jpeg": (int, 0, (0, 95)),
    "seed": (int, 0, (0, 2**31 - 1)),
}

_KIND = {int: "an integer", float: "a number"}


class AcquisitionShift(Transform):
    """Apply a fixed acquisition / display chain to an angiogram (module docstring for the steps and their order).

    Works on ``(H, W)`` stills and on any leading axes (``(C, H, W)``, ``(T, H, W)``): every 2D frame gets the same
    chain and its own noise draw; numpy arrays and tensors come back as their input type and dtype (float32
    values for integer inputs would be rounded, so pass float data). All parameters at their defaults return the
    input unchanged.

    Args:
        ramp: exposure fall-off across the diagonal, ``0`` = none, ``0.4`` = +-20 % at the corners.
        noise: standard deviation of additive Gaussian noise, in units of the image range.
        blur: Gaussian blur sigma in pixels.
        gamma: display curve exponent.
        sharpen: unsharp-masking amount (``0`` = none; X-ray systems use about 0.5-2).
        sharpen_sigma: unsharp-masking radius (Gaussian sigma, px).
        bits: quantise to this many bits (``0`` = keep).
        jpeg: JPEG quality of an 8-bit round trip (``0`` = none).
        seed: seed of the noise.

    Raises:
        ValueError: a parameter outside its range (:data:`SHIFT_PARAMETERS`).
    """

    def __init__(
        self,
        ramp: float = 0.0,
        noise: float = 0.0,
        blur: float = 0.0,
        gamma: float = 1.0,
        sharpen: float = 0.0,
        sharpen_sigma: float = 2.0,
        bits: int = 0,
        jpeg: int = 0,
        seed: int = 0,
    ) -> None:
        given = dict(ramp=ramp, noise=noise, blur=blur, gamma=gamma, sharpen=sharpen, sharpen_sigma=sharpen_sigma,
                     bits=bits, jpeg=jpeg, seed=seed)
        self.params: Dict[str, Any] = {}
        for name, value in given.items():
            kind, _default, (lo, hi) = SHIFT_PARAMETERS[name]
            v = kind(value)
            if not (np.isfinite(v) and lo <= v <= hi) or (kind is int and v != value):
                raise ValueError(f"acquisition shift {name} must be {_KIND[kind]} in [{lo}, {hi}], got {value!r}")
            self.params[name] = v
        if 0 < self.params["bits"] < 2:
            raise ValueError(f"acquisition shift bits must be 0 (keep) or 2..16, got {bits!r}")

    @property
    def is_identity(self) -> bool:
        """True when every parameter is at its default (the seed aside): the shift changes nothing."""
        return all(self.params[k] == SHIFT_PARAMETERS[k][1] for k in SHIFT_PARAMETERS if k != "seed")

    def describe(self) -> str:
        """The changed parameters as ``name=value,...`` in chain order (``"none"`` for the identity); parsed back
        by :func:`parse_acquisition_shift`."""
        parts = [f"{k}={self.params[k]:g}" for k in SHIFT_PARAMETERS
                 if k != "seed" and self.params[k] != SHIFT_PARAMETERS[k][1]]
        if parts and self.params["noise"] > 0 and self.params["seed"] != 0:
            parts.append(f"seed={self.params['seed']}")
        return ",".join(parts) or "none"

    def _frame(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        p = self.params
        if p["ramp"] > 0:
            h, w = x.shape
            u = (np.arange(h, dtype=np.float32)[:, None] / max(h - 1, 1)
                 + np.arange(w, dtype=np.float32)[None, :] / max(w - 1, 1)) / 2
            x = np.clip(x * (1.0 + np.float32(p["ramp"]) * (u - 0.5)), 0.0, 1.0)
        if p["noise"] > 0:
            x = np.clip(x + rng.normal(0.0, p["noise"], x.shape).astype(np.float32), 0.0, 1.0)
        if p["blur"] > 0:
            x = gaussian_filter(x, p["blur"], mode="nearest")
        if p["gamma"] != 1.0:
            x = x ** np.float32(p["gamma"])
        if p["sharpen"] > 0:
            x = np.clip(x + np.float32(p["sharpen"]) * (x - gaussian_filter(x, p["sharpen_sigma"], mode="nearest")),
                        0.0, 1.0)
        if p["bits"] > 0:
            levels = np.float32(2 ** p["bits"] - 1)
            x = np.round(x * levels) / levels
        if p["jpeg"] > 0:
            x = jpeg_roundtrip(x, p["jpeg"])
        return x.astype(np.float32)

    def __call__(self, img: Any) -> Any:
        """Shift ``img`` (``(..., H, W)``); see the class docstring."""
        arr = np.asarray(img.detach().cpu() if hasattr(img, "detach") else img, dtype=np.float32)
        if arr.ndim < 2:
            raise AngioInputError(f"an acquisition shift needs a 2D image or a stack of them, got shape {arr.shape}")
        if self.is_identity:
            return img
        finite = arr[np.isfinite(arr)]
        if finite.size == 0:
            raise AngioInputError("image has no finite value")
        lo, hi = float(finite.min()), float(finite.max())
        span = hi - lo if hi > lo else 1.0
        x = np.clip((arr - lo) / span, 0.0, 1.0).reshape((-1,) + arr.shape[-2:])
        rng = np.random.default_rng(self.params["seed"])
        out = np.stack([self._frame(f, rng) for f in x]).reshape(arr.shape) * np.float32(span) + np.float32(lo)
        return convert_to_dst_type(out.astype(np.float32), img, dtype=getattr(img, "dtype", None))[0]


class AcquisitionShiftd(MapTransform):
    """Dictionary version of :class:`AcquisitionShift` (the same chain and noise draw for every key).

    Args:
        keys: image keys (never labels).
        allow_missing_keys: don't raise if a key is missing.
        kwargs: the parameters of :class:`AcquisitionShift`.
    """

    def __init__(self, keys: KeysCollection, allow_missing_keys: bool = False, **kwargs: Any) -> None:
        super().__init__(keys, allow_missing_keys)
        self.shift = AcquisitionShift(**kwargs)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.shift(d[key])
        return d


def parse_acquisition_shift(spec: Optional[str]) -> AcquisitionShift:
    """An :class:`AcquisitionShift` from ``"name=value,name=value"`` (e.g. ``"gamma=1.6,noise=0.02"``).

    ``None``, ``""`` and ``"none"`` give the identity. Names are those of :data:`SHIFT_PARAMETERS`.

    Raises:
        ValueError: an unknown name, a missing ``=``, a repeated name or a bad value (the message names it).
    """
    if spec is None or spec.strip().lower() in ("", "none"):
        return AcquisitionShift()
    kwargs: Dict[str, Any] = {}
    for part in spec.split(","):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not name or not value:
            raise ValueError(f"acquisition shift {spec!r}: expected name=value, got {part.strip()!r}")
        if name not in SHIFT_PARAMETERS:
            raise ValueError(f"acquisition shift {spec!r}: unknown parameter {name!r} (known: "
                             f"{', '.join(SHIFT_PARAMETERS)})")
        if name in kwargs:
            raise ValueError(f"acquisition shift {spec!r}: {name!r} given twice")
        kind = SHIFT_PARAMETERS[name][0]
        try:
            kwargs[name] = kind(float(value)) if kind is float else int(value)
        except ValueError:
            raise ValueError(f"acquisition shift {spec!r}: {name} must be {_KIND[kind]}, got {value!r}") from None
    return AcquisitionShift(**kwargs)


class RandAcquisitionShiftd(RandomizableTransform, MapTransform):
    """Random acquisition shifts for training: each step of :class:`AcquisitionShift` switched on by its own
    probability, with its parameter drawn from a range (the same draw for every key).

    The steps and defaults cover what :data:`SHIFT_PARAMETERS` measures and the usual intensity augmentations of
    the training sampler leave out: edge enhancement (``sharpen`` 0.5-2 at radius 1-4 px), noise up to 0.06 of the
    image range, JPEG at quality 20-60, an exposure ramp up to 0.5. Ranges are ``(low, high)``, drawn uniformly.

    Args:
        keys: image keys (never labels).
        prob: probability that any step runs at all.
        sharpen_prob, noise_prob, jpeg_prob, ramp_prob: probability of each step (given ``prob``).
        sharpen, sharpen_sigma, noise, jpeg, ramp: parameter ranges.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        prob: float = 1.0,
        sharpen_prob: float = 0.3,
        noise_prob: float = 0.2,
        jpeg_prob: float = 0.2,
        ramp_prob: float = 0.2,
        sharpen: tuple = (0.5, 2.0),
        sharpen_sigma: tuple = (1.0, 4.0),
        noise: tuple = (0.0, 0.06),
        jpeg: tuple = (20, 60),
        ramp: tuple = (0.0, 0.5),
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        self.probs = {"sharpen": sharpen_prob, "noise": noise_prob, "jpeg": jpeg_prob, "ramp": ramp_prob}
        self.ranges = {"sharpen": sharpen, "sharpen_sigma": sharpen_sigma, "noise": noise, "jpeg": jpeg, "ramp": ramp}
        self.shift = AcquisitionShift()

    def randomize(self, data: Any = None) -> None:
        """Draw the steps and their parameters (always the same number of draws)."""
        super().randomize(None)
        kwargs: Dict[str, Any] = {"seed": int(self.R.randint(0, 2**31 - 1))}
        for name in ("sharpen", "noise", "jpeg", "ramp"):
            on = self.R.rand() < self.probs[name]
            lo, hi = self.ranges[name]
            value = self.R.uniform(lo, hi)
            if name == "sharpen":
                sigma = self.R.uniform(*self.ranges["sharpen_sigma"])
                if on:
                    kwargs.update(sharpen=float(value), sharpen_sigma=float(sigma))
            elif on:
                kwargs[name] = int(round(value)) if name == "jpeg" else float(value)
        self.shift = AcquisitionShift(**kwargs)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        self.randomize()
        if not self._do_transform:
            return d
        for key in self.key_iterator(d):
            d[key] = self.shift(d[key])
        return d
