"""Each bundle's ``inference.json`` run the way MONAI Deploy's ``MonaiBundleInferenceOperator`` runs it.

That operator reads the bundle folder (``models/model.pt`` + ``configs/inference.json``), keeps the config's
``preprocessing`` and ``postprocessing`` minus every transform whose name contains ``LoadImage`` or ``SaveImage``,
and hands the preprocessing an image *already in memory* (from its loader operators) as a ``MetaTensor`` in
MONAI's order. Our ``LoadAngiogramd`` stays in the chain (its name has neither) and takes the in-memory image.

The first test replays those calls without MONAI Deploy (its Holoscan wheels are GBs and pin CUDA packages, so it
is not a dependency); the second runs the real operator inside a MONAI Deploy application when
``monai-deploy-app-sdk`` is installed (``docs/deploy.md``), and is skipped otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose
from PIL import Image

from monai_angio.bundle import BUNDLE_NAMES, load_bundle, load_bundle_config
from tests.apps.test_segment import write_png
from tests.bundle.test_runner import SMALL, _bundle_with_weights

DISALLOWED = ("LoadImage", "SaveImage")  # what MONAI Deploy's operator removes from a bundle's transforms


def _operator_compose(parser, name: str) -> Compose:
    return Compose([t for t in parser.get_parsed_content(name).transforms
                    if not any(d in type(t).__name__ for d in DISALLOWED)])


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_bundle_runs_as_monai_deploy_operator_runs_it(name: str, tmp_path: Path) -> None:
    root = _bundle_with_weights(name, tmp_path)
    override = {} if name == "xca_artery_catheter_efficientunetpp" else SMALL
    png = tmp_path / "still.png"
    rows = write_png(png, 64)[:, :48]  # a non-square still: a transposed answer cannot pass
    Image.fromarray(rows).save(png)
    parser = load_bundle_config(root, "inference", device="$torch.device('cpu')", **override)
    pre = _operator_compose(parser, "preprocessing")
    post, post_cf = (_operator_compose(parser, k) for k in ("postprocessing", "postprocessing_channel_first"))
    net = parser.get_parsed_content("network").eval()
    net.load_state_dict(torch.load(root / "models" / "model.pt", map_location="cpu", weights_only=True))
    inferer = parser.get_parsed_content("inferer")

    # the operator: the loaded image (MONAI's (x, y) order, no channel) -> MetaTensor -> preprocessing
    image = MetaTensor.ensure_torch_and_prune_meta(
        torch.as_tensor(rows.T.astype(np.float32)), {"original_channel_dim": "no_channel", "spacing": [0.3, 0.3]}
    )
    data = pre({"image": image})
    with torch.no_grad():
        data["pred"] = inferer(data["image"][None], net)[0]
    pred, pred_cf = post(dict(data))["pred"], post_cf(dict(data))["pred"]
    assert tuple(pred.shape) == (48, 64) and pred.dtype == torch.uint8  # (x, y), uint8, as MONAI Label gets it
    assert tuple(pred_cf.shape) == (1, 48, 64)  # what MONAI Deploy's Image output squeezes itself
    np.testing.assert_array_equal(np.asarray(pred_cf)[0], np.asarray(pred))
    runner = load_bundle(root, **override)
    np.testing.assert_array_equal(np.asarray(pred).T, runner.predict(runner.load(png))[0])


def test_real_monai_deploy_operator(tmp_path: Path) -> None:
    """The stock ``MonaiBundleInferenceOperator`` in a MONAI Deploy app returns ``monai-angio segment``'s labels."""
    pytest.importorskip("monai.deploy.operators", reason="monai-deploy-app-sdk is not installed (docs/deploy.md)")
    from monai.deploy.core import AppContext, Application, Image as DeployImage, IOType, Operator, OperatorSpec
    from monai.deploy.operators import BundleConfigNames, IOMapping, MonaiBundleInferenceOperator

    from monai_angio.data.synthetic import PhantomConfig, generate_phantom
    from monai_angio.data.writers import write_png_image

    name = "xca_artery_catheter_efficientunetpp"
    ph = generate_phantom(8200, PhantomConfig(size=256))
    png = tmp_path / "phantom.png"
    write_png_image(png, ph.image[:, 32:224])  # 256 x 192: non-square
    runner = load_bundle(name, device="cpu", runtime="torch")
    expected = runner.predict(runner.load(png))[0]
    got = {}

    class Source(Operator):  # the app's loader: MONAI's (x, y) order, as its image loaders give
        def setup(self, spec: OperatorSpec) -> None:
            spec.output("image")

        def compute(self, op_input, op_output, context) -> None:
            from monai.transforms import LoadImage

            img = LoadImage(image_only=True)(str(png))
            op_output.emit(DeployImage(np.asarray(img, dtype=np.float32), metadata={}), "image")

    class Sink(Operator):
        def setup(self, spec: OperatorSpec) -> None:
            spec.input("pred")

        def compute(self, op_input, op_output, context) -> None:
            got["pred"] = np.asarray(op_input.receive("pred").asnumpy())

    class App(Application):
        def compose(self) -> None:
            from holoscan.conditions import CountCondition

            from monai_angio.bundle import resolve_bundle

            src = Source(self, CountCondition(self, 1), name="source")
            infer = MonaiBundleInferenceOperator(
                self, app_context=AppContext({}), bundle_path=resolve_bundle(name), name="bundle",
                bundle_config_names=BundleConfigNames(postproc_name="postprocessing_channel_first"),
                input_mapping=[IOMapping("image", DeployImage, IOType.IN_MEMORY)],
                output_mapping=[IOMapping("pred", DeployImage, IOType.IN_MEMORY)],
            )
            sink = Sink(self, name="sink")
            self.add_flow(src, infer, {("image", "image")})
            self.add_flow(infer, sink, {("pred", "pred")})

    App().run()
    pred = got["pred"]
    assert pred.shape == expected.T.shape  # MONAI's (x, y) order, like the image it was given
    assert (pred.T == expected).mean() > 0.999
