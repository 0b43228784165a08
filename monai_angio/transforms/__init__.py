"""Angiography transforms in MONAI style (array transforms and dictionary ``...d`` versions).

- :mod:`.io`: :class:`LoadAngiogram` / :class:`LoadAngiogramd` for DICOM XA, PNG/JPEG/TIFF, MP4/AVI and NIfTI.
- :mod:`.temporal`: :class:`TemporalWindow` / :class:`TemporalWindowd`, :func:`expand_cine_items`.
- :mod:`.intensity`: :class:`MinMaxNormalize` / :class:`MinMaxNormalized`.
- :mod:`.augment`: :class:`RandAngioAugmentd` (rotation, shift, zoom, brightness; no flip).
- :mod:`.postprocess`: :class:`OtsuThreshold`, :class:`RemoveSmallComponents` (+ ``d`` versions).
- :mod:`.validation`: :class:`CheckFinite`, :class:`EnsureAngioShape` (+ ``d`` versions).
"""

from monai_angio.transforms.augment import RandAngioAugmentd
from monai_angio.transforms.intensity import MinMaxNormalize, MinMaxNormalized
from monai_angio.transforms.io import (
    SUPPORTED_EXTENSIONS,
    LoadAngiogram,
    LoadAngiogramd,
    count_frames,
    read_angiogram,
    read_dicom,
    read_image,
    read_nifti,
    read_video,
    rgb_to_luminance,
)
from monai_angio.transforms.postprocess import (
    OtsuThreshold,
    OtsuThresholdd,
    RemoveSmallComponents,
    RemoveSmallComponentsd,
    otsu_threshold,
    remove_small_components,
)
from monai_angio.transforms.temporal import TemporalWindow, TemporalWindowd, expand_cine_items, window_indices
from monai_angio.transforms.validation import (
    CheckFinite,
    CheckFinited,
    EnsureAngioShape,
    EnsureAngioShaped,
    check_finite,
    get_filename,
)

__all__ = [
    "LoadAngiogram",
    "LoadAngiogramd",
    "read_angiogram",
    "read_dicom",
    "read_image",
    "read_video",
    "read_nifti",
    "count_frames",
    "rgb_to_luminance",
    "SUPPORTED_EXTENSIONS",
    "TemporalWindow",
    "TemporalWindowd",
    "window_indices",
    "expand_cine_items",
    "MinMaxNormalize",
    "MinMaxNormalized",
    "RandAngioAugmentd",
    "OtsuThreshold",
    "OtsuThresholdd",
    "otsu_threshold",
    "RemoveSmallComponents",
    "RemoveSmallComponentsd",
    "remove_small_components",
    "CheckFinite",
    "CheckFinited",
    "EnsureAngioShape",
    "EnsureAngioShaped",
    "check_finite",
    "get_filename",
]
