"""A small learned second opinion on which arteries are major (at least 2 mm wide at their origin).

The geometric major-artery map (:class:`~monai_angio.transforms.MajorArteryMap`) decides branch by branch from
widths measured on the segmentation and the direction at each junction. Where a thin side branch and the parent's
continuation leave a junction nearly as wide as each other, those measurements cannot tell them apart.
:class:`MajorArteryRefiner` looks at the whole tree at once: a MONAI :class:`~monai.networks.nets.BasicUNet` on a
coarse grid (the longer side :data:`REFINER_GRID` px) that reads five channels (:data:`REFINER_CHANNELS`: the image,
whose contrast grows with a vessel's diameter whatever the segmentation's edge, the artery and catheter
probabilities, the geometric map and the scale) and returns the probability that a pixel belongs to a major artery.
The map keeps the geometric map's lumen region where that probability exceeds 0.5. Experimental: no weights ship
(the flagship bundle README, "A learned refiner, tried"; its training script records the inputs through the
bundle).
"""

from __future__ import annotations

from typing import Sequence, Tuple

from monai.networks.nets import BasicUNet

__all__ = [
    "MajorArteryRefiner",
    "REFINER_CHANNELS",
    "REFINER_FEATURES",
    "REFINER_GRID",
    "REFINER_IMAGE_CLIP",
    "REFINER_MM_PER_PX",
]

#: the refiner's input channels, in order
REFINER_CHANNELS: Tuple[str, ...] = ("image", "artery_prob", "catheter_prob", "geometric_major", "scale")

#: BasicUNet feature widths (0.51 M parameters)
REFINER_FEATURES: Tuple[int, ...] = (16, 24, 32, 64, 128, 16)

#: the longer side (px) of the grid the refiner runs on
REFINER_GRID = 256

#: the standardised image channel is clipped to +- this
REFINER_IMAGE_CLIP = 6.0

#: the ``scale`` channel is the refiner grid's pixel size (mm) divided by this
REFINER_MM_PER_PX = 0.5


class MajorArteryRefiner(BasicUNet):
    """BasicUNet with the refiner's fixed layout: :data:`REFINER_CHANNELS` in, one major-artery logit out.

    Batch normalisation (not instance normalisation) keeps the constant ``scale`` channel visible to the network.

    Args:
        features: the six BasicUNet feature widths.
    """

    def __init__(self, features: Sequence[int] = REFINER_FEATURES) -> None:
        super().__init__(
            spatial_dims=2,
            in_channels=len(REFINER_CHANNELS),
            out_channels=1,
            features=tuple(features),
            norm=("batch", {"momentum": 0.05}),
        )
