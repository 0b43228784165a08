"""Input checks shared by the networks (kept TorchScript-compatible)."""

from __future__ import annotations

import torch

__all__ = ["check_spatial_divisible"]


def check_spatial_divisible(x: torch.Tensor, divisor: int, spatial_dims: int, name: str) -> None:
    """Raise ``ValueError`` unless ``x`` is ``(B, C, *spatial)`` with every spatial size a multiple of ``divisor``.

    Args:
        x: network input.
        divisor: required divisor of each spatial size (32 for five 2x down-samplings).
        spatial_dims: expected number of spatial dimensions.
        name: network name used in the message.
    """
    if x.dim() != spatial_dims + 2:
        raise ValueError(
            name + " expects input of shape (B, C, " + str(spatial_dims) + " spatial dims), got " + str(list(x.shape))
        )
    for s in x.shape[2:]:
        if s % divisor != 0:
            raise ValueError(
                name
                + ": input spatial size "
                + str(list(x.shape[2:]))
                + " must be a multiple of "
                + str(divisor)
                + " (pad or resize the image, e.g. with monai.transforms.DivisiblePad(k="
                + str(divisor)
                + "))"
            )
