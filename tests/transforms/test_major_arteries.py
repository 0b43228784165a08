"""The major-artery map: lumen region, scale from the catheter (or DICOM), the 2 mm criterion at the origin."""

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from monai_angio.errors import AngioInputError
from monai_angio.networks import MajorArteryRefiner
from monai_angio.networks.major_refiner import REFINER_IMAGE_CLIP, REFINER_MM_PER_PX
from monai_angio.transforms import MajorArteryMap, MajorArteryMapd, major_artery_region, major_refiner_inputs
from tests.qca.analytic import segment_tube

SP = 0.1  # mm / px: a 6F catheter (2 mm) is 20 px wide, a 3 mm trunk 30 px


def _scene():
    """Label map (catheter 2 entering from the left, trunk, 1.5 mm and 2.5 mm side branches) and the parts."""
    shape = (170, 460)
    catheter = segment_tube(shape, (85.3, -5), (85.3, 230), 2.0 / SP)
    trunk = segment_tube(shape, (85.3, 230), (85.3, 465), 3.0 / SP)
    thin = segment_tube(shape, (85.3, 290), (2, 255), 1.5 / SP)
    major = segment_tube(shape, (85.3, 360), (167, 395), 2.5 / SP)
    lab = np.zeros(shape, np.uint8)
    lab[trunk | thin | major] = 1
    lab[catheter & ~trunk] = 2
    return lab, trunk, thin, major


def _probability(lab):
    """Artery probability: 0.9 on the label map's artery, 0.3 on the pixel ring just outside it, 0.1 beyond."""
    art = lab == 1
    ring1 = ndimage.binary_dilation(art) & ~art
    ring2 = ndimage.binary_dilation(art, iterations=3) & ~art & ~ring1
    p = np.zeros(lab.shape, np.float32)
    p[art], p[ring1], p[ring2] = 0.9, 0.3, 0.1
    return p, ring1, ring2


def test_region_takes_the_lumen_ring_but_not_the_catheter_or_beyond():
    lab, *_ = _scene()
    p, ring1, ring2 = _probability(lab)
    region = major_artery_region(lab, p, region_threshold=0.25, region_px=3)
    assert region[lab == 1].all()
    assert region[ring1 & (lab == 0)].all()  # the one-pixel lumen ring (p 0.3 > 0.25)
    assert not region[ring2].any()  # p 0.1: not lumen
    assert not region[lab == 2].any()
    assert not major_artery_region(lab, p, region_threshold=0.5)[ring1].any()  # the arg-max edge only
    fov = np.ones_like(lab, bool)
    fov[:, 360:] = False
    assert not major_artery_region(lab, p, fov=fov)[:, 360:].any()


def test_thin_branch_dropped_at_the_catheter_scale():
    lab, trunk, thin, major = _scene()
    p, ring1, _ = _probability(lab)
    out, mm, source = MajorArteryMap(catheter_french=6)(lab[None], p[None])
    m = out[0] > 0
    assert source == "catheter" and mm == pytest.approx(SP, rel=0.06)
    assert m[trunk].mean() > 0.97 and m[major & ~trunk].mean() > 0.95
    far_thin = thin & ~trunk
    far_thin[60:, :] = False  # away from the trunk's lumen
    assert m[far_thin].mean() < 0.05
    assert m[ring1 & ndimage.binary_dilation(trunk) & ~thin].mean() > 0.9  # drawn to the lumen edge
    assert not m[lab == 2].any()
    # the scale follows the stated catheter size: a 4F catheter as wide in pixels means 1.5x smaller pixels
    _, mm4, _ = MajorArteryMap(catheter_french=4)(lab[None], p[None])
    assert mm4 == pytest.approx(mm * 4 / 6, rel=1e-6)


def test_no_catheter_falls_back_to_dicom_geometry_then_the_widest_artery_else_empty():
    lab, trunk, thin, _ = _scene()
    lab[lab == 2] = 0
    p, *_ = _probability(lab)
    far_thin = thin & ~trunk
    far_thin[60:, :] = False
    out, mm, source = MajorArteryMap()(lab[None], p[None], meta={"pixel_spacing": [SP, SP]})
    assert mm == pytest.approx(SP) and source.startswith("dicom")
    assert (out[0] > 0)[trunk].mean() > 0.95 and (out[0] > 0)[far_thin].mean() < 0.05
    # no catheter, no DICOM geometry: the widest artery of the lumen region (the 3 mm trunk and its ring) is taken
    # to be widest_artery_mm wide; told the trunk's true width, the scale comes out within 15 % (the region holds
    # the one-pixel lumen ring on both sides, 32 px for 30, and the junctions widen the upper percentiles)
    out, mm, source = MajorArteryMap(widest_artery_mm=3.0)(lab[None], p[None])
    assert source == "artery-width" and mm == pytest.approx(SP, rel=0.15)
    assert (out[0] > 0)[trunk].mean() > 0.95 and (out[0] > 0)[far_thin].mean() < 0.05
    # the default assumes 4.2 mm (a left main): this 3 mm trunk then reads 4.2 mm and the 1.5 mm branch 2.1 mm
    _, mm_default, source = MajorArteryMap()(lab[None], p[None])
    assert source == "artery-width" and mm_default == pytest.approx(mm * 4.2 / 3.0, rel=1e-6)
    out, mm, source = MajorArteryMap(widest_artery_mm=None)(lab[None], p[None])
    assert math.isnan(mm) and source == "none" and not out.any()
    tiny = np.zeros_like(lab)
    tiny[80:90, 100:130] = 1  # too little artery to tell its widest part
    out, mm, source = MajorArteryMap()(tiny[None], (tiny * 0.9)[None].astype(np.float32))
    assert math.isnan(mm) and source == "none" and not out.any()


def test_widest_artery_default_is_the_calibration_constant():
    import inspect

    from monai_angio.qca import WIDEST_ARTERY_MM

    default = inspect.signature(MajorArteryMap).parameters["widest_artery_mm"].default
    assert default == WIDEST_ARTERY_MM
    with pytest.raises(ValueError, match="widest_artery_mm"):
        MajorArteryMap(widest_artery_mm=0)


def test_a_known_pixel_size_wins():
    lab, trunk, thin, _ = _scene()
    p, *_ = _probability(lab)
    out, mm, source = MajorArteryMap(mm_per_px=SP)(lab[None], p[None], meta={"pixel_spacing": [0.3, 0.3]})
    assert (mm, source) == (SP, "user")
    # at a third of the pixel size every vessel is a third as wide in mm (trunk 1 mm, side branches 0.8 and 0.5 mm):
    # only the first stretch of the trunk, anchored at the catheter, stays
    half, _, _ = MajorArteryMap(mm_per_px=SP / 3)(lab[None], p[None])
    far = (lab == 1) & ~ndimage.binary_dilation(trunk, iterations=25)
    assert (out[0] > 0)[trunk].mean() > 0.97 and (half[0] > 0)[trunk].any()
    assert (half[0] > 0)[far].mean() < 0.05 < (out[0] > 0)[far].mean()


def test_a_short_or_curved_catheter_still_gives_a_rough_scale():
    lab, *_ = _scene()
    short = lab.copy()
    short[:, 120:230][short[:, 120:230] == 2] = 0  # 100 px of catheter left: too short for QCA's calibration
    p, *_ = _probability(short)
    _, mm, source = MajorArteryMap()(short[None], p[None])
    assert source == "catheter-rough" and mm == pytest.approx(SP, rel=0.06)


def test_shape_and_argument_checks():
    lab, *_ = _scene()
    with pytest.raises(ValueError, match="differ in shape"):
        MajorArteryMap()(lab[None], np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError, match="region_threshold"):
        MajorArteryMap(region_threshold=1.0)
    with pytest.raises(ValueError, match="min_origin_diameter_mm"):
        MajorArteryMap(min_origin_diameter_mm=0)
    with pytest.raises(ValueError, match="mm_per_px"):
        MajorArteryMap(mm_per_px=-1)


def test_dictionary_version_switch_and_keys():
    lab, trunk, *_ = _scene()
    p, *_ = _probability(lab)
    prob = torch.as_tensor(np.stack([1 - p, p, (lab == 2).astype(np.float32)]))
    item = {"pred": torch.as_tensor(lab[None].astype(np.float32)), "pred_prob": prob, "fov": np.ones((1,) + lab.shape)}
    off = MajorArteryMapd("pred", enabled=False)(item)
    assert "major" not in off and "pred_prob" not in off and "major_mm_per_px" not in off
    on = MajorArteryMapd("pred", fov_key="fov", catheter_french=6)(item)
    assert isinstance(on["major"], torch.Tensor) and on["major"].shape == (1,) + lab.shape
    assert on["major_mm_per_px"] == pytest.approx(SP, rel=0.06) and on["major_scale_prior"] == 0.0
    no_cath = {**item, "pred": torch.as_tensor(np.where(lab == 2, 0, lab)[None].astype(np.float32))}
    assert MajorArteryMapd("pred")(no_cath)["major_scale_prior"] == 1.0  # scaled by the widest artery
    assert "major_scale_prior" not in MajorArteryMapd("pred", prior_key=None)(no_cath)
    assert (on["major"][0].numpy() > 0)[trunk].mean() > 0.97
    assert torch.equal(on["pred"], item["pred"]) and "pred_prob" not in on
    kept = MajorArteryMapd("pred", drop_prob=False)(item)
    assert kept["pred_prob"] is prob
    # several field-of-view masks: the map stays inside each of them
    border = np.ones((1,) + lab.shape)
    border[..., :, 400:] = 0
    both = MajorArteryMapd("pred", fov_key=["fov", "label_fov"])({**item, "label_fov": border})
    assert not both["major"][0, :, 400:].any() and both["major"][0, :, :380].any()


def test_dicom_geometry_reaches_the_flagship_major_map(tmp_path, monkeypatch):
    """In the flagship's own postprocessing, a frame whose catheter cannot calibrate is scaled by its DICOM geometry
    (here the isocentre pixel size the phantom was written with)."""
    import monai_angio.qca.calibration as calibration
    from monai_angio.bundle import load_bundle
    from monai_angio.data.dicom import write_dicom_xa
    from monai_angio.data.synthetic import PhantomConfig, generate_phantom
    from monai_angio.errors import CalibrationError

    ph = generate_phantom(3, PhantomConfig(size=256))
    write_dicom_xa(tmp_path / "x.dcm", ph)

    def no_catheter(*args, **kwargs):
        raise CalibrationError("no catheter in this test")

    monkeypatch.setattr(calibration, "calibrate_from_catheter", no_catheter)
    runner = load_bundle("xca_artery_catheter_efficientunetpp", runtime="torch", major_map=True)
    runner.predict(runner.load(tmp_path / "x.dcm"))
    assert runner.diagnostics["major_mm_per_px"] == [pytest.approx(ph.spacing_mm, rel=1e-6)]
    assert runner.diagnostics["major_scale_prior"] == [0.0]
    assert runner.extra_maps["major"].any()

    # without DICOM geometry either, the widest artery (the phantom's left main or RCA, 3.6-4.6 mm) sets the scale
    def no_geometry(*args, **kwargs):
        raise CalibrationError("no DICOM geometry in this test")

    monkeypatch.setattr(calibration, "calibrate_from_dicom", no_geometry)
    runner.predict(runner.load(tmp_path / "x.dcm"))
    assert runner.diagnostics["major_scale_prior"] == [1.0]
    assert runner.diagnostics["major_mm_per_px"] == [pytest.approx(ph.spacing_mm, rel=0.25)]
    assert runner.extra_maps["major"].any()


class _ConstantLogit(torch.nn.Module):
    """A stand-in refiner: the same logit everywhere."""

    def __init__(self, logit: float) -> None:
        super().__init__()
        self.logit = torch.nn.Parameter(torch.tensor(float(logit)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logit.expand(x.shape[0], 1, *x.shape[2:])


class _CopyChannel(torch.nn.Module):
    """A stand-in refiner that answers with one of its input channels (as a +-10 logit)."""

    def __init__(self, channel: int) -> None:
        super().__init__()
        self.channel = channel
        self.seen = []
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.clone())
        return 20.0 * (x[:, self.channel : self.channel + 1] - 0.5) + 0.0 * self.dummy


def test_refiner_inputs_grid_channels_and_scale():
    h, w = 512, 384
    art = np.full((h, w), 0.25, np.float32)
    cath = np.zeros((h, w), np.float32)
    cath[:, :8] = 1.0
    geo = np.zeros((h, w), bool)
    geo[100:140, :] = True
    rng = np.random.default_rng(0)
    image = 0.6 + 0.1 * rng.standard_normal((h, w)).astype(np.float32)
    x = major_refiner_inputs(image, art, cath, geo, 0.2)
    assert x.shape == (1, 5, 256, 192) and x.dtype == torch.float32
    z = (image - np.median(image)) / (np.subtract(*np.percentile(image, [95, 5])) / 3.29)
    np.testing.assert_allclose(x[0, 0, 10, 10].item(), z[20:22, 20:22].mean(), rtol=1e-4)  # standardised, 2x2 mean
    assert 0.98 < x[0, 0].std().item() * 2 < 1.02  # unit spread (Gaussian noise), halved by the 2 x 2 mean
    # a frame mostly collimator shadow: its spread is tiny, and the standardised image is clipped
    shadow = np.zeros((h, w), np.float32)
    shadow[200:260, 150:230] = image[200:260, 150:230]
    xs = major_refiner_inputs(shadow, art, cath, geo, 0.2)
    assert xs[0, 0].abs().max().item() == pytest.approx(REFINER_IMAGE_CLIP)
    np.testing.assert_allclose(x[0, 1].numpy(), 0.25, atol=1e-6)  # averaged down: a constant stays constant
    assert x[0, 2, :, :4].min() == 1.0 and x[0, 2, :, 4:].max() == 0.0
    assert x[0, 3].sum().item() == pytest.approx(geo.sum() / 4)  # area average: pixel counts scale by 1/4
    # the scale channel: the refiner grid's pixel size (0.2 mm x 2) over REFINER_MM_PER_PX (0.5 mm)
    np.testing.assert_allclose(x[0, 4].numpy(), 0.2 * 2 / REFINER_MM_PER_PX, rtol=1e-6)
    small = major_refiner_inputs(image[:200, :100], art[:200, :100], cath[:200, :100], geo[:200, :100], math.nan)
    assert small.shape == (1, 5, 200, 100) and not small[0, 4].any()  # kept when small; no scale -> 0
    with pytest.raises(ValueError, match="differ in shape"):
        major_refiner_inputs(image[:10], art, cath, geo, 0.2)


def test_refiner_decides_inside_the_lumen_region():
    lab, trunk, thin, major = _scene()
    p, *_ = _probability(lab)
    image = 1.0 - 0.5 * (lab > 0)  # vessels dark
    region = major_artery_region(lab, p)
    geometric, mm, _ = MajorArteryMap()(lab[None], p[None])
    everything, mm2, _ = MajorArteryMap(refiner=_ConstantLogit(10.0))(lab[None], p[None], image=image)
    assert mm2 == mm
    np.testing.assert_array_equal(everything[0] > 0, region)  # the thin branch too: only the region bounds it
    nothing, _, _ = MajorArteryMap(refiner=_ConstantLogit(-10.0))(lab[None], p[None], image=image)
    assert not nothing.any()
    with pytest.raises(ValueError, match="needs the image"):
        MajorArteryMap(refiner=_ConstantLogit(1.0))(lab[None], p[None])
    # a refiner that repeats the geometric map reproduces it up to the refiner grid's resampling at its edges
    copy = _CopyChannel(channel=3)
    same, _, _ = MajorArteryMap(refiner=copy)(lab[None], p[None], image=image)
    g, s = geometric[0] > 0, same[0] > 0
    assert 2 * (g & s).sum() / (g.sum() + s.sum()) > 0.97 and not (s & ~region).any()
    # without catheter probabilities the label map's catheter is the refiner's catheter channel
    seen = copy.seen[-1]
    assert seen.shape == (1, 5, 95, 256) and seen[0, 2, 47, :40].min() > 0.9 and seen[0, 2, :20].max() == 0.0
    np.testing.assert_allclose(seen[0, 4].numpy(), mm * 460 / 256 / REFINER_MM_PER_PX, rtol=0.02)
    assert seen[0, 0, 47, 200] < seen[0, 0, 5, 200]  # the image channel: the trunk darker than the background
    # an image on another grid (a preprocessed frame that was resized) is brought to the label map's
    half = image[::2, ::2]
    again, _, _ = MajorArteryMap(refiner=copy)(lab[None], p[None], image=half)
    assert copy.seen[-1].shape == (1, 5, 95, 256) and (again[0] > 0).sum() == pytest.approx(s.sum(), rel=0.02)
    with pytest.raises(ValueError, match="catheter probability"):
        MajorArteryMap(refiner=copy)(lab[None], p[None], catheter_prob=np.zeros((3, 3), np.float32), image=image)


def test_refiner_weights_file_loaded_at_first_use(tmp_path):
    lab, *_ = _scene()
    p, *_ = _probability(lab)
    missing = MajorArteryMap(refiner=tmp_path / "none.pt")  # nothing read yet
    with pytest.raises(AngioInputError, match="none.pt.*geometric map alone"):
        missing(lab[None], p[None], image=lab.astype(np.float32))
    net = MajorArteryRefiner()
    torch.save(net.state_dict(), tmp_path / "refiner.pt")
    op = MajorArteryMap(refiner=tmp_path / "refiner.pt")
    out, _, _ = op(lab[None], p[None], image=1.0 - 0.5 * (lab > 0))
    assert isinstance(op.refiner, MajorArteryRefiner) and not op.refiner.training
    assert not (np.asarray(out[0]) > 0)[~major_artery_region(lab, p)].any()


FLAGSHIP = "xca_artery_catheter_efficientunetpp"


def test_a_refiner_file_reaches_the_flagship_major_map(tmp_path):
    """``--set major_refiner=PATH`` in the flagship's own postprocessing: the refiner gets the preprocessed image and
    the probabilities; one that calls everything major gives the whole lumen region, a superset of the geometric map
    (which drops the thin branches)."""
    from monai_angio.bundle import load_bundle
    from monai_angio.data.synthetic import PhantomConfig, generate_phantom

    net = MajorArteryRefiner()
    with torch.no_grad():
        net.final_conv.weight.zero_()
        net.final_conv.bias.fill_(10.0)
    torch.save(net.state_dict(), tmp_path / "all_major.pt")
    image = generate_phantom(3, PhantomConfig(size=256)).image[None]
    geometric = load_bundle(FLAGSHIP, runtime="torch", major_map=True)
    labels = geometric.predict(image)[0]
    refiner = str(tmp_path / "all_major.pt")
    everything = load_bundle(FLAGSHIP, runtime="torch", major_map=True, major_refiner=refiner)
    np.testing.assert_array_equal(everything.predict(image)[0], labels)
    g, e = geometric.extra_maps["major"][0] > 0, everything.extra_maps["major"][0] > 0
    assert g.any() and not (g & ~e).any() and e.sum() > g.sum()
    assert not (e & ~ndimage.binary_dilation(labels == 1, iterations=3)).any()


def test_refine_receives_its_inputs_without_a_refiner():
    """The refiner's training script records what ``refine`` receives from a map with no refiner: the image and the
    catheter probability must reach it there too."""
    lab, *_ = _scene()
    p, *_ = _probability(lab)
    op = MajorArteryMap()
    seen = {}
    original = op.refine

    def recording(region, geometric, image, artery_prob, catheter_prob, mm_per_px):
        seen.update(image=image, catheter_prob=catheter_prob)
        return original(region, geometric, image, artery_prob, catheter_prob, mm_per_px)

    op.refine = recording
    image = 1.0 - 0.5 * (lab > 0)
    op(lab[None], p[None], image=image)
    np.testing.assert_array_equal(seen["image"], image)
    np.testing.assert_array_equal(seen["catheter_prob"], lab == 2)
