"""Quantitative coronary angiography (QCA) with catheter calibration.

- :mod:`.calibration`: :class:`Calibration`, :func:`calibrate_from_catheter`, :func:`calibrate_from_dicom`,
  :func:`calibrate` (catheter first, then DICOM geometry; the source is always stated);
  :func:`calibrate_from_artery_width` (a population prior, for size criteria; :func:`calibrate` only when asked).
- :mod:`.catheter_profile`: where a catheter can calibrate (:func:`clear_background`) and its width with a
  guidewire inside it (:func:`median_catheter_profile`, :func:`fit_catheter_profile`).
- :mod:`.centerline`: skeleton -> :mod:`networkx` graph, branches, spur pruning, shortest paths
  (:func:`vessel_graph`, :class:`VesselGraph`).
- :mod:`.diameter`: diameter profiles along a path (sub-pixel perpendicular profiles, bias-corrected EDT)
  (:func:`diameter_profile`).
- :mod:`.stenosis`: interpolated reference, MLD, %DS, %AS, lesion length of one profile
  (:func:`analyze_profile`, :class:`StenosisReport`).
- :mod:`.lesions`: automatic lesion search per vessel segment (:func:`find_lesions`).
- :mod:`.pipeline`: the whole analysis of a label map / image (:func:`analyze_stenosis`); the only module that
  needs both :mod:`.stenosis` and :mod:`.lesions` (lower modules never import higher ones).
- :mod:`.branches`: clinical relevance filter (:func:`filter_major_branches`, origin >= 2 mm; with an image the
  mask's width bias is corrected, :func:`mask_width_bias_px`).
- :mod:`.report`: JSON + PNG report files (:func:`write_report`).
"""

from .branches import branch_origin_diameters, filter_major_branches, find_root, mask_width_bias_px
from .catheter_profile import (
    GUIDEWIRE_DIAMETER_MM,
    CatheterProfileFit,
    catheter_profile_model,
    clear_background,
    fit_catheter_profile,
    fit_catheter_with_and_without_wire,
    fitted_profile,
    median_catheter_profile,
)
from .calibration import (
    CALIBRATION_SOURCES,
    WIDEST_ARTERY_MM,
    Calibration,
    calibrate,
    calibrate_from_artery_width,
    calibrate_from_catheter,
    calibrate_from_dicom,
    catheter_width_px,
    parse_french,
)
from .centerline import (
    Branch,
    VesselGraph,
    as_binary_mask,
    fill_small_holes,
    prune_spurs,
    skeleton_to_graph,
    trace_branches,
    vessel_graph,
)
from .diameter import (
    EDT_CENTRELINE_BIAS_PX,
    EDT_SKELETON_BIAS_PX,
    DiameterProfile,
    diameter_profile,
    edt_diameter,
    image_edge_widths,
    smooth_path,
)
from .gaps import BRIDGE_WARNING, GapBridge, apply_bridge_diameters, bridge_mask_gaps, find_gap_bridges
from .lesions import analyze_segment, find_lesions, healthy_sides, lesion_summary, segment_crop, segment_lesions
from .report import plot_report, report_paths, write_report
from .pipeline import analyze_stenosis
from .stenosis import (
    ReferenceFit,
    StenosisReport,
    analyze_profile,
    crop_profile,
    interpolated_reference,
    obstruction_boundaries,
)

__all__ = [
    "analyze_segment",
    "segment_lesions",
    "find_lesions",
    "healthy_sides",
    "lesion_summary",
    "segment_crop",
    "Calibration",
    "CALIBRATION_SOURCES",
    "calibrate",
    "calibrate_from_catheter",
    "calibrate_from_dicom",
    "calibrate_from_artery_width",
    "WIDEST_ARTERY_MM",
    "catheter_width_px",
    "parse_french",
    "GUIDEWIRE_DIAMETER_MM",
    "CatheterProfileFit",
    "catheter_profile_model",
    "clear_background",
    "fit_catheter_profile",
    "fit_catheter_with_and_without_wire",
    "fitted_profile",
    "median_catheter_profile",
    "Branch",
    "VesselGraph",
    "as_binary_mask",
    "fill_small_holes",
    "prune_spurs",
    "skeleton_to_graph",
    "trace_branches",
    "vessel_graph",
    "EDT_SKELETON_BIAS_PX",
    "EDT_CENTRELINE_BIAS_PX",
    "DiameterProfile",
    "diameter_profile",
    "edt_diameter",
    "smooth_path",
    "image_edge_widths",
    "BRIDGE_WARNING",
    "GapBridge",
    "find_gap_bridges",
    "bridge_mask_gaps",
    "apply_bridge_diameters",
    "ReferenceFit",
    "StenosisReport",
    "analyze_profile",
    "analyze_stenosis",
    "crop_profile",
    "interpolated_reference",
    "obstruction_boundaries",
    "branch_origin_diameters",
    "filter_major_branches",
    "mask_width_bias_px",
    "find_root",
    "plot_report",
    "report_paths",
    "write_report",
]
