"""monai-angio: a MONAI extension for X-ray coronary angiography (XCA).

Subpackages:
    networks: EfficientUNet++, UNet 3+, temporal 3D-2D stem, CE-Net, major-vessel U-Nets.
    losses: penalised generalised Dice, focal combinations, hybrid BCE + Dice.
    metrics: overlap, distance (mm) and local metrics for vessel masks.
    transforms: angiogram loading (DICOM XA, images, video, NIfTI), temporal windows, augmentation,
        post-processing.
    data: synthetic angiogram phantoms with exact ground truth, datalists.
    qca: catheter calibration and quantitative coronary angiography.
    apps: the ``monai-angio`` command line.
"""

__version__ = "0.2.0"

__all__ = ["__version__"]
