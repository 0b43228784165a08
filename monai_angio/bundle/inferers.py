"""Inferers the bundle configs name: MONAI's, narrowed where a MONAI caller passes more than the image."""

from __future__ import annotations

from typing import Any, Callable

import torch
from monai.inferers import SimpleInferer

__all__ = ["ImageOnlyInferer"]


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
