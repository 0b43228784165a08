"""Inferers the bundle configs name: MONAI's, narrowed where a MONAI caller passes more than the image.

- :class:`ImageOnlyInferer`: ``network(image)``, whatever else the caller hands over;
- :class:`MultiScaleInferer`: the same, plus a second pass at the scale the network learned real images at, for
  frames much larger than its real training images; the class probabilities of both passes are averaged.
"""

from __future__ import annotations

from typing import Any, Callable, List, Sequence

import torch
import torch.nn.functional as F
from monai.inferers import SimpleInferer

__all__ = ["ImageOnlyInferer", "MultiScaleInferer", "main_output"]

#: probabilities are clamped to this before the inverse activation (log / logit), so that they stay finite
PROB_EPS = 1e-6


class ImageOnlyInferer(SimpleInferer):
    """MONAI's ``SimpleInferer`` that runs the network on the image alone.

    MONAI Deploy's ``MonaiBundleInferenceOperator`` passes every other tensor of the preprocessed dictionary as a
    keyword argument to the bundle's inferer, and ``SimpleInferer`` hands those on to ``network(x, **kwargs)``. Our
    preprocessing keeps the field-of-view mask (``fov``) beside the image for the post-processing, which no network
    takes: this inferer drops such extras, so the bundle runs unchanged under MONAI Deploy, MONAI Label, MONAI's
    bundle workflows and :class:`~monai_angio.bundle.BundleRunner` alike.
    """

    def __call__(self, inputs: torch.Tensor, network: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``network(inputs)``; other positional and keyword arguments are ignored."""
        return network(inputs)


def main_output(y: Any) -> torch.Tensor:
    """The main output of a network or inferer that may return a list / tuple (deep supervision) or a dict of
    heads, as a tensor."""
    if isinstance(y, (list, tuple)):
        y = y[0]
    elif isinstance(y, dict):
        y = next(iter(y.values()))
    return torch.as_tensor(y)


def _resize_hw(x: torch.Tensor, size: Sequence[int], antialias: bool) -> torch.Tensor:
    """Bilinear resize of the last two axes of a ``(B, C, [T,] H, W)`` tensor to ``size`` (other axes kept)."""
    lead = x.shape[:-2]
    flat = x.float().reshape(lead[0], -1, *x.shape[-2:])
    out = F.interpolate(flat, size=tuple(int(s) for s in size), mode="bilinear", align_corners=False,
                        antialias=antialias)
    return out.reshape(*lead, *out.shape[-2:])


class MultiScaleInferer(ImageOnlyInferer):
    """Run the network at the input's size and, for large inputs, also at the size it learned real images at.

    A network fine-tuned on real angiograms of one size (the flagship's: 300 px frames, sampled at zoom 0.7-1.5)
    meets vessels wider in pixels than any real vessel it saw when a system shows the heart larger, e.g. 512 px
    frames of a typical 0.2-0.3 mm/px system. Frames whose larger side exceeds ``reference_size * max_zoom`` are
    therefore also resized (bilinear, antialiased) so that their larger side is ``reference_size``, run again,
    and the class probabilities of both passes are averaged on the input grid. Smaller frames take a single pass
    and get exactly :class:`ImageOnlyInferer`'s output.

    The averaged probabilities come back through the inverse of ``activation`` (log for softmax, logit for
    sigmoid), so the bundle's postprocessing (``Activationsd`` with the same activation, then arg-max or a
    threshold) is unchanged and recovers the averaged probabilities. The sizes are those of the network input, after
    the preprocessing's padding to a multiple of ``divisor``; the second pass is padded (edge values) to a multiple
    of ``divisor`` as well and cropped back before it is resized. Any runtime that takes several frame sizes works
    (eager torch, ONNX Runtime, OpenVINO: it compiles the second size once).

    Args:
        reference_size: larger side, in pixels, of the real frames the network was trained on.
        max_zoom: largest zoom of those frames in training; inputs up to ``reference_size * max_zoom`` take one
            pass.
        activation: ``"softmax"`` (multi-class arg-max bundles) or ``"sigmoid"`` (binary / thresholded bundles),
            the activation of the bundle's postprocessing.
        divisor: the network's size divisor (encoder stride).
    """

    def __init__(
        self, reference_size: int = 300, max_zoom: float = 1.5, activation: str = "softmax", divisor: int = 32
    ) -> None:
        super().__init__()
        if reference_size < divisor:
            raise ValueError(f"reference_size must be at least the divisor {divisor}, got {reference_size}")
        if max_zoom < 1:
            raise ValueError(f"max_zoom must be >= 1, got {max_zoom}")
        if activation not in ("softmax", "sigmoid"):
            raise ValueError(f"activation must be 'softmax' or 'sigmoid', got {activation!r}")
        self.reference_size = int(reference_size)
        self.max_zoom = float(max_zoom)
        self.activation = activation
        self.divisor = int(divisor)

    def scales(self, size: int) -> List[float]:
        """The zoom factors run for an input whose larger side is ``size`` pixels (1.0 first)."""
        if size <= self.reference_size * self.max_zoom:
            return [1.0]
        return [1.0, self.reference_size / float(size)]

    def _probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.softmax(logits.float(), dim=1) if self.activation == "softmax" else torch.sigmoid(logits.float())

    def _inverse(self, probs: torch.Tensor) -> torch.Tensor:
        p = probs.clamp(PROB_EPS, 1.0 - PROB_EPS) if self.activation == "sigmoid" else probs.clamp_min(PROB_EPS)
        return torch.log(p) if self.activation == "softmax" else torch.log(p) - torch.log1p(-p)

    def _at_scale(self, inputs: torch.Tensor, scale: float, network: Callable[..., Any]) -> torch.Tensor:
        """Probabilities of the network run on ``inputs`` zoomed by ``scale``, back on the input grid."""
        h, w = inputs.shape[-2:]
        hs, ws = max(1, round(h * scale)), max(1, round(w * scale))
        small = _resize_hw(inputs, (hs, ws), antialias=True)
        pad_h, pad_w = (-hs) % self.divisor, (-ws) % self.divisor
        if pad_h or pad_w:
            lead = small.shape[:-2]
            flat = small.reshape(lead[0], -1, hs, ws)
            small = F.pad(flat, (0, pad_w, 0, pad_h), mode="replicate").reshape(*lead, hs + pad_h, ws + pad_w)
        logits = main_output(network(small.to(inputs.dtype)))[..., :hs, :ws]
        return _resize_hw(self._probabilities(logits), (h, w), antialias=False)

    def __call__(self, inputs: torch.Tensor, network: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``network(inputs)`` for frames up to ``reference_size * max_zoom``; else the two-scale average."""
        scales = self.scales(max(inputs.shape[-2:]))
        if len(scales) == 1:
            return network(inputs)
        full = self._probabilities(main_output(network(inputs)))
        probs = (full + self._at_scale(inputs, scales[1], network)) / 2.0
        return self._inverse(probs)
