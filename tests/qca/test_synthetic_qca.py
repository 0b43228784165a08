"""QCA against the ground truth of the synthetic phantom generator (``monai_angio.data.synthetic``)."""

import numpy as np
import pytest

from monai_angio.data import synthetic
from monai_angio.qca import analyze_stenosis, calibrate_from_catheter, filter_major_branches


def _inside(c, shape, margin=6):
    return (c[:, 0] > margin) & (c[:, 0] < shape[0] - margin) & (c[:, 1] > margin) & (c[:, 1] < shape[1] - margin)


@pytest.mark.parametrize("angle,french", [(20.0, 6), (-35.0, 7)])
def test_straight_tube_phantom(angle, french):
    ph = synthetic.straight_tube_phantom(
        3.0, 0.2, size=128, stenosis_percent=50, stenosis_length_mm=6.0, catheter_french=french, angle_deg=angle
    )
    cal = calibrate_from_catheter(ph.label, french=french, filename="tube.png")
    assert abs(cal.mm_per_px - ph.spacing_mm) / ph.spacing_mm < 0.03
    c = ph.segment("vessel").centerline_rc
    idx = np.nonzero(_inside(c, ph.label.shape))[0]
    rep = analyze_stenosis(ph.label, calibration=cal, start_rc=c[idx[0]], end_rc=c[idx[-1]])
    st = ph.stenoses[0]
    assert abs(rep.percent_diameter_stenosis - st.percent_diameter) < 5
    assert abs(rep.mld_mm - st.mld_mm) < 0.15
    assert abs(rep.reference_diameter_mm - st.reference_diameter_mm) < 0.15
    assert np.hypot(*(np.array(rep.mld_rc) - st.center_rc)) * ph.spacing_mm < 1.0


def test_generated_phantom_calibration_and_clinical_filter():
    ph = synthetic.generate_phantom(5, synthetic.PhantomConfig(size=256, n_stenoses=1, dose=None))
    cal = calibrate_from_catheter(ph.label, french=ph.catheter_french)
    assert abs(cal.mm_per_px - ph.spacing_mm) / ph.spacing_mm < 0.03
    # the label already obeys the 2 mm criterion: filtering the labelled arteries keeps (nearly) all of them
    art = ph.label == 1
    kept = filter_major_branches(ph.label, cal)
    assert kept.sum() > 0.9 * art.sum()
    # while the full vessel mask (thin branches drawn but unlabelled) loses the thin branches
    full = ph.vessel_mask & (ph.label != 2)
    filt = filter_major_branches(full, cal, catheter_mask=ph.label == 2)
    thin = full & ~art
    assert (filt & thin).sum() < 0.5 * thin.sum()
