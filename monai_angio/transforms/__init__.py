"""Angiography transforms in MONAI style (array transforms and dictionary ``...d`` versions).

- :mod:`.io`: :class:`LoadAngiogram` / :class:`LoadAngiogramd` for DICOM XA, PNG/JPEG/TIFF, MP4/AVI and NIfTI.
- :mod:`.layout`: :class:`ToRowMajor` / :class:`ToRowMajord` (MONAI's ``(x, y)`` in-plane order -> row-major, invertible).
- :mod:`.readers`: the numpy-only file readers underneath (:func:`read_angiogram`, ...; no torch / MONAI).
- :mod:`.temporal`: :class:`TemporalWindow` / :class:`TemporalWindowd`, :func:`expand_cine_items`.
- :mod:`.fov`: field of view (collimator) detection, normalisation inside it, masking outside it.
- :mod:`.spatial`: :class:`LimitSize` (downscale only huge inputs; invertible).
- :mod:`.acquisition`: :class:`AcquisitionShift` / :class:`AcquisitionShiftd` (a fixed image chain of another cath
  lab: gamma, noise, blur, edge enhancement, bit depth, JPEG, exposure ramp; for robustness measurements) and
  :class:`RandAcquisitionShiftd` (the same steps drawn at random, for training).
- :mod:`.denoise`: :class:`NoiseAdaptiveSmooth` / :class:`NoiseAdaptiveSmoothd` (smooth only frames noisier than the
  network's training level, with a Gaussian or by total variation), :func:`estimate_noise_sigma`.
- :mod:`.intensity`: :class:`MinMaxNormalize` / :class:`MinMaxNormalized`.
- :mod:`.polarity`: :func:`vessel_polarity` (are the vessels darker than their surroundings, as in an X-ray
  angiogram, or is the image inverted?), :class:`VesselPolarity` / :class:`VesselPolarityd` (measure, optionally
  invert).
- :mod:`.augment`: :class:`RandAngioAugmentd` (rotation, shift, zoom, brightness; no flip).
- :mod:`.postprocess`: :class:`OtsuThreshold`, :class:`RemoveSmallComponents` (+ ``d`` versions).
- :mod:`.artery_classes`: :class:`ArteryBranchLabeld` (a major-artery / branch network's merged label map and its
  major-artery map), :class:`MaskByLabeld`.
- :mod:`.major_arteries`: :class:`MajorArteryMapd` (the flagship's clinical class, arteries at least 2 mm wide at
  their origin, as a second map from a 3-class network's label map and artery probability).
- :mod:`.validation`: :class:`CheckFinite`, :class:`EnsureAngioShape` (+ ``d`` versions).
- :mod:`.vesselness`: :class:`FrangiVesselness` / :class:`FrangiVesselnessd`, :func:`frangi_segment` (training-free
  Frangi + Otsu vessel baseline inside the field of view).

Names are imported from their submodule on first use (:func:`monai_angio.utils.lazy.lazy_exports`): importing
this package, or using a reader, does not import torch or MONAI.
"""

from monai_angio.utils.lazy import lazy_exports

__all__ = [
    "LoadAngiogram",
    "LoadAngiogramd",
    "READ_FRAMES_KEY",
    "ToRowMajor",
    "ToRowMajord",
    "read_angiogram",
    "read_dicom",
    "read_image",
    "read_video",
    "read_nifti",
    "count_frames",
    "check_frame_indices",
    "rgb_to_luminance",
    "SUPPORTED_EXTENSIONS",
    "TemporalWindow",
    "TemporalWindowd",
    "SelectFrame",
    "SelectFramed",
    "FieldOfView",
    "FieldOfViewd",
    "field_of_view_mask",
    "FOVNormalize",
    "FOVNormalized",
    "fov_normalize",
    "MaskOutsideFOVd",
    "LimitSize",
    "LimitSized",
    "window_indices",
    "expand_cine_items",
    "MinMaxNormalize",
    "MinMaxNormalized",
    "vessel_polarity",
    "VesselPolarity",
    "VesselPolarityd",
    "INVERT_CHOICES",
    "AcquisitionShift",
    "AcquisitionShiftd",
    "RandAcquisitionShiftd",
    "NoiseAdaptiveSmooth",
    "NoiseAdaptiveSmoothd",
    "estimate_noise_sigma",
    "frame_noise",
    "NOISY_FRAME_SIGMA",
    "gaussian_noise_gain",
    "smoothing_sigma_for",
    "tv_denoise_to",
    "SMOOTHING_METHODS",
    "parse_acquisition_shift",
    "SHIFT_PARAMETERS",
    "RandAngioAugmentd",
    "ArgmaxLabel",
    "ArgmaxLabeld",
    "ArteryBranchLabel",
    "ArteryBranchLabeld",
    "MaskByLabel",
    "MaskByLabeld",
    "merge_branch_channel",
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
    "FrangiVesselness",
    "FrangiVesselnessd",
    "frangi_segment",
    "frangi_vesselness",
    "default_sigmas",
]

# where each name lives: imported on first use (PEP 562), so that importing the package stays cheap
_EXPORTS = {
    "augment": ["RandAngioAugmentd"],
    "denoise": ["NoiseAdaptiveSmooth", "NoiseAdaptiveSmoothd", "estimate_noise_sigma", "frame_noise",
                "NOISY_FRAME_SIGMA", "SMOOTHING_METHODS", "gaussian_noise_gain", "smoothing_sigma_for",
                "tv_denoise_to"],
    "acquisition": ["AcquisitionShift", "AcquisitionShiftd", "RandAcquisitionShiftd", "parse_acquisition_shift",
                    "SHIFT_PARAMETERS"],
    "intensity": ["MinMaxNormalize", "MinMaxNormalized"],
    "polarity": ["vessel_polarity", "VesselPolarity", "VesselPolarityd", "INVERT_CHOICES"],
    "readers": [
        "SUPPORTED_EXTENSIONS", "check_frame_indices", "count_frames", "read_angiogram", "read_dicom", "read_image",
        "read_nifti", "read_video", "rgb_to_luminance",
    ],
    "io": ["LoadAngiogram", "LoadAngiogramd", "READ_FRAMES_KEY"],
    "layout": ["ToRowMajor", "ToRowMajord"],
    "postprocess": [
        "ArgmaxLabel", "ArgmaxLabeld", "OtsuThreshold", "OtsuThresholdd", "RemoveSmallComponents",
        "RemoveSmallComponentsd", "otsu_threshold", "remove_small_components",
    ],
    "artery_classes": [
        "ArteryBranchLabel", "ArteryBranchLabeld", "MaskByLabel", "MaskByLabeld",
        "merge_branch_channel",
    ],
    "major_arteries": [
        "MajorArteryMap", "MajorArteryMapd", "major_artery_region", "major_refiner_inputs", "refined_region",
        "ROUGH_CATHETER_WIDTH",
    ],
    "fov": [
        "FieldOfView", "FieldOfViewd", "FOVNormalize", "FOVNormalized", "MaskOutsideFOVd", "field_of_view_mask",
        "fov_normalize",
    ],
    "spatial": ["LimitSize", "LimitSized"],
    "temporal": [
        "SelectFrame", "SelectFramed", "TemporalWindow", "TemporalWindowd", "expand_cine_items", "window_indices",
    ],
    "validation": [
        "CheckFinite", "CheckFinited", "EnsureAngioShape", "EnsureAngioShaped", "check_finite", "get_filename",
    ],
    "vesselness": ["FrangiVesselness", "FrangiVesselnessd", "default_sigmas", "frangi_segment", "frangi_vesselness"],
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
