"""Tests of the shared real-data training recipe (:mod:`monai_angio.bundle.training`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from monai_angio.bundle.training import compact_state_dict, recipe_parser, run_recipe, split_real_cases
from monai_angio.losses import CodedBinaryLoss


def _real_folder(root: Path, n: int = 4, size: int = 48) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(1, n + 1):
        img = np.full((size, size), 200, np.uint8)
        img[size // 2 - 2 : size // 2 + 2, :] = 60  # a dark horizontal vessel
        img = np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)
        mask = np.zeros((size, size), np.uint8)
        mask[size // 2 - 2 : size // 2 + 2, :] = 255
        Image.fromarray(img).save(root / f"{i}.png")
        Image.fromarray(mask).save(root / f"{i}_gt.png")
    return root


def test_compact_state_dict_halves_large_tensors_only() -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(8, 64, 3), torch.nn.BatchNorm2d(64))
    net[1].running_var.fill_(1e-6)  # below float16's normal range: must stay float32
    sd = compact_state_dict(net.state_dict())
    assert sd["0.weight"].dtype == torch.float16  # 4608 elements
    assert sd["0.bias"].dtype == torch.float32 and sd["1.running_var"].dtype == torch.float32
    assert sd["1.num_batches_tracked"].dtype == torch.int64
    other = torch.nn.Sequential(torch.nn.Conv2d(8, 64, 3), torch.nn.BatchNorm2d(64)).eval()
    other.load_state_dict(sd)  # casts back to the float32 parameters
    assert other[0].weight.dtype == torch.float32
    np.testing.assert_allclose(other[0].weight.detach(), net[0].weight.detach(), rtol=1e-3, atol=1e-4)
    assert float(other[1].running_var[0]) == pytest.approx(1e-6)
    x = torch.rand(1, 8, 16, 16)
    assert torch.allclose(other[0](x), net[0](x), rtol=1e-2, atol=1e-3)


def test_split_is_explicit_or_seeded(tmp_path: Path) -> None:
    folder = _real_folder(tmp_path / "real", n=5)
    train, held = split_real_cases(str(folder), holdout="2, 4")
    assert sorted(c["case"] for c in held) == ["2", "4"] and len(train) == 3
    train2, held2 = split_real_cases(str(folder), n_holdout=2, holdout_seed=1)
    assert len(held2) == 2 and not {c["case"] for c in held2} & {c["case"] for c in train2}


def test_parser_can_make_real_optional() -> None:
    with pytest.raises(SystemExit):
        recipe_parser("x").parse_args(["--out", "o"])
    assert recipe_parser("x", real_required=False).parse_args(["--out", "o"]).real == ""


def test_parser_phantom_edge_ignore_is_off_unless_asked() -> None:
    p = recipe_parser("x", real_required=False)
    assert p.parse_args(["--out", "o"]).phantom_edge_ignore is False
    assert p.parse_args(["--out", "o", "--phantom-edge-ignore"]).phantom_edge_ignore is True


def test_parser_scale_range_defaults_to_the_sampler_and_checks_its_bounds() -> None:
    from monai_angio.data.mixed import MixedSampleConfig

    p = recipe_parser("x", real_required=False)
    assert p.parse_args(["--out", "o"]).scale_range == tuple(MixedSampleConfig().scale_range)
    assert p.parse_args(["--out", "o", "--scale-range", "0.7,2.2"]).scale_range == (0.7, 2.2)
    for bad in ("2.2,0.7", "0,1", "1.5", "a,b"):
        with pytest.raises(SystemExit):
            p.parse_args(["--out", "o", "--scale-range", bad])


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def test_recipe_trains_on_a_given_dataset_and_writes_split_and_half_weights(tmp_path: Path) -> None:
    folder = _real_folder(tmp_path / "real", n=3)
    out = tmp_path / "run"
    args = recipe_parser("x").parse_args(
        ["--real", str(folder), "--holdout", "3", "--out", str(out), "--epochs", "2", "--iters", "3", "--batch", "2",
         "--threads", "1", "--workers", "0", "--half-weights", "--lr", "0.05"]
    )

    class Samples(torch.utils.data.Dataset):
        epochs: list = []

        def set_epoch(self, e: int) -> None:
            self.epochs.append(e)

        def __len__(self) -> int:
            return 6

        def __getitem__(self, i: int) -> dict:
            img = torch.zeros(1, 16, 16)
            img[:, 6:10] = 1.0
            return {"image": img, "label": (img > 0.5).to(torch.uint8)}

    ds = Samples()
    net = _Tiny()
    before = net.conv.weight.detach().clone()
    class Squeeze(torch.nn.Module):  # CrossEntropyLoss wants (B, H, W) class indices
        def forward(self, x, t):
            return torch.nn.functional.cross_entropy(x, t[:, 0].long())

    loss = CodedBinaryLoss(Squeeze())
    path = run_recipe(args, net, loss, dataset=ds)
    assert path == out / "model.pt" and path.is_file()
    assert json.loads((out / "split.json").read_text()) == {"train": ["1", "2"], "holdout": ["3"]}
    assert ds.epochs == [1, 2]
    sd = torch.load(path, weights_only=True)
    assert sd["conv.weight"].dtype == torch.float32  # 54 elements: too small to halve
    assert not torch.equal(sd["conv.weight"], before)  # it trained
    assert len(list((out / "ckpt").glob("*.pt"))) >= 1


def test_cpu_autocast_runs_bfloat16_and_returns_float32() -> None:
    """``--bf16``: the wrapped network runs under CPU bfloat16 autocast (its convolution outputs are bfloat16), gives
    float32 logits within bfloat16 precision of the float32 network, and its float32 weights receive gradients."""
    from monai_angio.bundle.training import CPUAutocast

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 2, 1))
    x = torch.randn(2, 1, 16, 16)
    ref = net(x)
    seen = []
    hook = net[0].register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    wrapped = CPUAutocast(net)
    y = wrapped(x)
    hook.remove()
    assert seen == [torch.bfloat16] and y.dtype == torch.float32 and y.shape == ref.shape
    assert torch.allclose(y, ref, atol=0.05 * float(ref.abs().max()))
    y.square().mean().backward()
    assert net[0].weight.dtype == torch.float32 and net[0].weight.grad is not None
    assert float(net[0].weight.grad.abs().sum()) > 0


def test_average_state_dicts_is_the_elementwise_mean_of_fine_tunes():
    from monai_angio.bundle.training import average_state_dicts

    torch.manual_seed(0)
    nets = [torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2)) for _ in range(3)]
    for k, n in enumerate(nets):
        n[1].num_batches_tracked.fill_(10 + k)
    states = [n.state_dict() for n in nets]
    avg = average_state_dicts(states)
    assert set(avg) == set(states[0])
    for key in ("0.weight", "0.bias", "1.running_mean", "1.running_var"):
        expected = (states[0][key] + states[1][key] + states[2][key]) / 3
        assert torch.allclose(avg[key], expected, atol=1e-7) and avg[key].dtype == torch.float32
        assert avg[key].device.type == "cpu"
    assert int(avg["1.num_batches_tracked"]) == 12  # integers are not averaged
    assert torch.equal(average_state_dicts(states[:1])["0.weight"], states[0]["0.weight"])
    # the average loads into the network and is a model: inputs give finite outputs
    nets[0].load_state_dict(avg)
    assert torch.isfinite(nets[0].eval()(torch.randn(1, 1, 8, 8))).all()
    with pytest.raises(ValueError, match="other keys"):
        average_state_dicts([states[0], {"0.weight": states[0]["0.weight"]}])
    other = dict(states[1])
    other["0.weight"] = torch.zeros(3, 1, 3, 3)
    with pytest.raises(ValueError, match="shape of 0.weight"):
        average_state_dicts([states[0], other])
    with pytest.raises(ValueError, match="at least one"):
        average_state_dicts([])


def test_average_weights_script_writes_the_average_and_never_overwrites(tmp_path):
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "bundles" / "xca_artery_catheter_efficientunetpp" / "scripts"
    spec = importlib.util.spec_from_file_location("average_weights", script / "average_weights.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    paths = []
    for k in range(2):
        p = tmp_path / f"m{k}.pt"
        torch.save({"w": torch.full((2, 2), float(k)), "n": torch.tensor(k)}, str(p))
        paths.append(str(p))
    out = tmp_path / "soup" / "model.pt"
    assert mod.main(paths + ["--out", str(out)]) == 0
    avg = torch.load(str(out), weights_only=True)
    assert torch.allclose(avg["w"], torch.full((2, 2), 0.5)) and int(avg["n"]) == 1
    before = out.read_bytes()
    assert mod.main(paths[:1] + ["--out", str(out)]) == 1  # exists: refused, file untouched
    assert out.read_bytes() == before
    assert mod.main(paths + ["--out", paths[0], "--overwrite"]) == 1  # never over one of its inputs
    assert torch.equal(torch.load(paths[0], weights_only=True)["w"], torch.zeros(2, 2))
