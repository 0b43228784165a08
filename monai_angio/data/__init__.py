"""Synthetic X-ray coronary angiograms with exact ground truth, writers and datalists.

- :mod:`~monai_angio.data.synthetic`: ``PhantomConfig``, ``generate_phantom``, ``generate_cine``,
  ``straight_tube_phantom``, ground-truth dataclasses and ``render_overview``.
- :mod:`~monai_angio.data.coronary_tree`: 3D coronary tree / catheter / stenosis geometry.
- :mod:`~monai_angio.data.render`: projection geometry and X-ray image formation.
- :mod:`~monai_angio.data.cathlab`: cath-lab realism (collimator / field-of-view mask, sharp anatomy, devices,
  partial filling, exposure, JPEG, burned-in text), enabled by ``PhantomConfig.cathlab()``.
- :mod:`~monai_angio.data.writers`: PNG, NIfTI and JSON ground-truth writers.
- :mod:`~monai_angio.data.dicom`: multi-frame DICOM XA writer with calibration tags.
- :mod:`~monai_angio.data.dicom_seg`: DICOM SEG writer for label maps of XA stills and cines.
- :mod:`~monai_angio.data.datalist`: MONAI decathlon-style datalists.
- :mod:`~monai_angio.data.real`: datalists of public XCA data set layouts (image/mask folders, DCA1/CIMAT, ARCADE
  COCO) and seeded hold-out / k-fold splits.
- :mod:`~monai_angio.data.inputs`: input discovery for batch jobs (``segment``, bundle hooks, benchmarks).

Names are imported from their submodule on first use (:func:`monai_angio.utils.lazy.lazy_exports`), so that e.g.
the command line's input discovery does not pay for the phantom generator's imports.
"""

from monai_angio.utils.lazy import lazy_exports

__all__ = [
    "LABELS",
    "synthetic",
    "cathlab",
    "PhantomConfig",
    "Phantom",
    "Cine",
    "VesselSegment",
    "Stenosis",
    "ProjectionGeometry",
    "generate_phantom",
    "generate_cine",
    "straight_tube_phantom",
    "render_overview",
    "write_png_image",
    "write_png_label",
    "write_nifti_cine",
    "write_ground_truth",
    "read_ground_truth",
    "write_dicom_xa",
    "write_dicom_seg",
    "DicomSegResult",
    "make_datalist",
    "split_cases",
    "folder_datalist",
    "dca1_datalist",
    "arcade_datalist",
    "rasterize_polygons",
    "split_datalist",
    "kfold_datalist",
    "holdout_ids",
    "read_gray",
    "read_mask",
]

# where each name lives: imported on first use (PEP 562), so that importing the package stays cheap
_EXPORTS = {
    "datalist": ["make_datalist", "split_cases"],
    "dicom": ["write_dicom_xa"],
    "dicom_seg": ["DicomSegResult", "write_dicom_seg"],
    "real": [
        "arcade_datalist", "dca1_datalist", "folder_datalist", "holdout_ids", "kfold_datalist", "rasterize_polygons",
        "read_gray", "read_mask", "split_datalist",
    ],
    "render": ["ProjectionGeometry"],
    "synthetic": [
        "LABELS", "Cine", "Phantom", "PhantomConfig", "Stenosis", "VesselSegment", "generate_cine", "generate_phantom",
        "render_overview", "straight_tube_phantom",
    ],
    "writers": ["read_ground_truth", "write_ground_truth", "write_nifti_cine", "write_png_image", "write_png_label"],
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, submodules=("cathlab", "synthetic"))
