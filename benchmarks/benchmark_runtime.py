"""CPU runtime benchmark: the flagship in eager torch, OpenVINO and ONNX Runtime beside its peers, and whole commands.

Run ``python3 benchmarks/benchmark_runtime.py [--peers /tmp/peers] [--rounds 5] [--out bench.json]``.

Part 1, one process, models interleaved round by round (every round times each model on the same input, so a
busy machine slows all of them alike): the flagship EfficientUNet++-B0 with its shipped weights in eager torch,
in OpenVINO (float32, compiled for the frame shape: the shipped default), the bundle's whole inferer in OpenVINO
where it runs more than one scale at this size (the flagship's :class:`~monai_angio.bundle.MultiScaleInferer`), and
in ONNX Runtime (``extended``; ``all``: NCHWc kernels), MONAI's FlexibleUNet-B0 and segmentation_models_pytorch's
UnetPlusPlus-B0 (random weights; through :mod:`benchmarks.peer_shim` when ``--peers`` names a folder with smp
installed without dependencies) in the same runtimes. Printed: parameters,
GFLOPs (``FlopCounterMode``: 2 per multiply-accumulate), min/median/max ms per 1x1xSxS frame, frames/s at the
median, and for the flagship the agreement of each runtime with eager torch on a phantom.

Part 2, whole processes (``--skip-commands`` to leave out): ``monai-angio --help``, ``monai-angio segment`` on a
generated 100-frame 512x512 DICOM cine (labels, overlay PNG and GIF, DICOM SEG, summary), the same on 300 frames,
and ``monai-angio qca`` on one 512x512 frame; wall time min/median/max and the peak resident memory of each
process (``ru_maxrss`` of a child measured alone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.peer_shim import import_smp  # noqa: E402
from monai_angio.bundle import load_bundle, load_bundle_config  # noqa: E402
from monai_angio.bundle.runtime import OnnxNetwork, OpenVinoNetwork, export_onnx, openvino_available  # noqa: E402

FLAGSHIP = "xca_artery_catheter_efficientunetpp"


def _stats(values: Sequence[float]) -> Dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def _fmt(s: Dict[str, float], unit: str = "", digits: int = 0) -> str:
    return f"{s['min']:.{digits}f} / {s['median']:.{digits}f} / {s['max']:.{digits}f}{unit}"


def _gflops(net: torch.nn.Module, x: torch.Tensor) -> float:
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        net(x)
    return fc.get_total_flops() / 1e9


def build_models(size: int, threads: int, peers: Optional[str]) -> List[Dict[str, Any]]:
    """(name, callable, params, GFLOPs, runtime) of every contestant."""
    from monai.networks.nets import FlexibleUNet

    x = torch.zeros(1, 1, size, size)
    flagship = load_bundle(FLAGSHIP, runtime="torch").network.eval()
    nets: List[Tuple[str, torch.nn.Module]] = [
        ("EfficientUNet++ B0 (ours, shipped weights)", flagship),
        ("MONAI FlexibleUNet B0", FlexibleUNet(1, 3, "efficientnet-b0", pretrained=False).eval()),
    ]
    smp = import_smp(peers)
    if smp is not None:
        nets.append(
            (
                "segmentation_models_pytorch UnetPlusPlus B0",
                smp.UnetPlusPlus("efficientnet-b0", encoder_weights=None, in_channels=1, classes=3).eval(),
            )
        )
    out: List[Dict[str, Any]] = []
    inferer = load_bundle_config(FLAGSHIP, "inference").get_parsed_content("inferer")
    for name, net in nets:
        params = sum(p.numel() for p in net.parameters()) / 1e6
        gflops = _gflops(net, x)
        data = export_onnx(net, (1, size, size))
        levels = ("extended", "all") if net is flagship else ("extended",)
        out.append({"name": name, "runtime": "eager torch", "call": _torch_call(net), "params_M": params,
                    "gflops": gflops, "net": net})
        if openvino_available():
            ov = OpenVinoNetwork(data, threads=threads, source="benchmark").prepare((1, 1, size, size))
            out.append({"name": name, "runtime": "OpenVINO (f32)", "call": ov, "params_M": params,
                        "gflops": gflops, "net": net})
            if net is flagship and len(inferer.scales(size)) > 1:  # what the bundle runs per frame at this size
                out.append({"name": f"{name}, bundle inferer (scales {_scales(inferer, size)})",
                            "runtime": "OpenVINO (f32)", "call": _inferer_call(inferer, ov), "params_M": params,
                            "gflops": gflops, "net": net, "agreement": False})
        for level in levels:
            onnx = OnnxNetwork(data, threads=threads, optimization=level, source="benchmark")
            out.append({"name": name, "runtime": f"ONNX Runtime ({level})", "call": onnx, "params_M": params,
                        "gflops": gflops, "net": net})
    return out


def _scales(inferer: Any, size: int) -> str:
    return " + ".join(f"{round(size * z)} px" for z in inferer.scales(size))


def _inferer_call(inferer: Any, engine: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], Any]:
    """The bundle's inferer (e.g. the flagship's two-scale :class:`MultiScaleInferer`) around an engine."""

    def call(x: torch.Tensor) -> Any:
        with torch.inference_mode():
            return inferer(x, engine)

    return call


def _torch_call(net: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    def call(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return net(x)

    return call


def agreement(models: List[Dict[str, Any]], size: int) -> Dict[str, Dict[str, float]]:
    """Flagship runtimes against eager torch on a phantom: max |logit difference| and argmax agreement."""
    from monai_angio.data import PhantomConfig, generate_phantom

    img = np.asarray(generate_phantom(11, PhantomConfig(size=size)).image, np.float32)
    x = torch.as_tensor((img - img.mean()) / img.std())[None, None]
    ref = None
    res: Dict[str, Dict[str, float]] = {}
    for m in models:
        if not m["name"].startswith("EfficientUNet++") or not m.get("agreement", True):
            continue
        y = m["call"](x)
        if ref is None:
            ref = y
            continue
        res[m["runtime"]] = {
            "max_abs_logit_diff": float((y - ref).abs().max()),
            "argmax_agreement": float((y.argmax(1) == ref.argmax(1)).float().mean()),
        }
    return res


def time_networks(models: List[Dict[str, Any]], size: int, rounds: int, per_round: int) -> None:
    """Interleaved timing; stores ``ms`` (per-frame times) in each model dict."""
    x = torch.rand(1, 1, size, size)
    for m in models:
        m["call"](x)  # warm-up (ORT allocates its arenas, torch its kernels)
        m["ms"] = []
    for r in range(rounds):
        for m in models:
            for _ in range(per_round):
                t0 = time.perf_counter()
                m["call"](x)
                m["ms"].append((time.perf_counter() - t0) * 1000.0)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ whole commands


def _measure(cmd: List[str], env: Dict[str, str]) -> Tuple[float, float, int]:
    """Wall seconds and peak RSS (MB) of one command, measured by a fresh wrapper process."""
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env, check=True)
    wall, rss_kb, rc = out.stdout.split()
    return float(wall), float(rss_kb) / 1024.0, int(rc)


def _write_inputs(folder: Path, frames: Sequence[int]) -> Dict[str, Path]:
    import imageio.v3 as iio

    from monai_angio.data import PhantomConfig, generate_cine, generate_phantom
    from monai_angio.data.dicom import write_dicom_xa

    cine = generate_cine(7, PhantomConfig(size=512), frames=20)
    imgs = np.asarray(cine.images, np.float32)
    paths: Dict[str, Path] = {}
    for n in frames:
        p = folder / f"cine{n}.dcm"
        write_dicom_xa(p, imgs[np.arange(n) % len(imgs)], imager_pixel_spacing_mm=0.3, sid_mm=1000.0, sod_mm=750.0,
                       frame_time_ms=66.7, overwrite=True)
        paths[f"cine{n}"] = p
    ph = generate_phantom(3, PhantomConfig(size=512))
    iio.imwrite(folder / "still.png", np.clip(np.asarray(ph.image) * 255, 0, 255).astype(np.uint8))
    iio.imwrite(folder / "still_label.png", np.asarray(ph.label).astype(np.uint8))
    paths["still"], paths["still_label"] = folder / "still.png", folder / "still_label.png"
    return paths


def time_commands(repeats: int, frames: Sequence[int]) -> Dict[str, Dict[str, Any]]:
    """Whole-process wall time and peak RSS of the CLI commands users run."""
    exe = [sys.executable, "-m", "monai_angio.apps.cli"]
    env = dict(os.environ)
    res: Dict[str, Dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as tmp:
        d = Path(tmp)
        paths = _write_inputs(d, frames)
        _measure(exe + ["segment", str(paths[f"cine{frames[0]}"]), "--out", str(d / "warm"), "--frames", "0"], env)
        jobs: Dict[str, Callable[[int], List[str]]] = {"--help": lambda i: exe + ["--help"]}
        for n in frames:
            jobs[f"segment, {n}-frame 512x512 DICOM cine"] = lambda i, n=n: exe + [
                "segment", str(paths[f"cine{n}"]), "--out", str(d / f"seg{n}_{i}")]
        jobs["qca, one 512x512 frame"] = lambda i: exe + [
            "qca", str(paths["still"]), "--mask", str(paths["still_label"]), "--catheter", "6F",
            "--out", str(d / f"qca_{i}")]
        for name, make in jobs.items():
            walls, rss, rcs = [], [], []
            reps = 1 if "300" in name else repeats
            for i in range(reps):
                w, m, rc = _measure(make(i), env)
                walls.append(w)
                rss.append(m)
                rcs.append(rc)
            res[name] = {"wall_s": _stats(walls), "peak_rss_MB": _stats(rss), "exit_codes": rcs}
            print(f"{name}: {_fmt(res[name]['wall_s'], ' s', 2)}", file=sys.stderr, flush=True)
    return res


def _openvino_version() -> str:
    if not openvino_available():
        return "not installed"
    import openvino

    return str(openvino.__version__)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--per-round", type=int, default=2, help="timed frames per model per round")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch, OpenVINO and ONNX Runtime threads")
    p.add_argument("--peers", default=None, help="folder with segmentation_models_pytorch + timm (no deps)")
    p.add_argument("--repeats", type=int, default=3, help="runs of each whole command")
    p.add_argument("--frames", default="100,300", help="cine lengths for the whole-command timings")
    p.add_argument("--skip-commands", action="store_true")
    p.add_argument("--out", default=None, help="also write the numbers as JSON here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    import onnxruntime

    models = build_models(args.size, args.threads, args.peers)
    agree = agreement(models, args.size)
    time_networks(models, args.size, args.rounds, args.per_round)
    header = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {args.threads} threads; torch "
        f"{torch.__version__}, ONNX Runtime {onnxruntime.__version__}, OpenVINO {_openvino_version()}; "
        f"1x1x{args.size}x{args.size}, batch 1; "
        f"{args.rounds} interleaved rounds x {args.per_round} frames"
    )
    print(header + "\n")
    print("| network | runtime | params (M) | GFLOPs | ms/frame min / median / max | frames/s (median) |")
    print("|---|---|---:|---:|---:|---:|")
    rows = []
    for m in models:
        s = _stats(m["ms"])
        rows.append({"network": m["name"], "runtime": m["runtime"], "params_M": m["params_M"], "gflops": m["gflops"],
                     "ms": s})
        print(f"| {m['name']} | {m['runtime']} | {m['params_M']:.2f} | {m['gflops']:.1f} | {_fmt(s)} | "
              f"{1000.0 / s['median']:.1f} |")
    print("\nflagship vs eager torch on a phantom:", json.dumps(agree))
    result: Dict[str, Any] = {"header": header, "networks": rows, "agreement": agree}
    if not args.skip_commands:
        frames = [int(f) for f in args.frames.split(",") if f]
        cmds = time_commands(args.repeats, frames)
        print("\n| command | wall s min / median / max | peak RSS MB (max) |")
        print("|---|---:|---:|")
        for name, r in cmds.items():
            print(f"| `{name}` | {_fmt(r['wall_s'], '', 2)} | {r['peak_rss_MB']['max']:.0f} |")
        result["commands"] = cmds
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
