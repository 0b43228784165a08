"""Benchmark of the monai_angio networks: parameters, FLOPs and CPU latency at 1x1x512x512.

Run ``python3 benchmarks/benchmark_networks.py [--size 512] [--runs 5] [--threads N] [--device cpu|cuda]``.
Prints a markdown table.

FLOP convention: ``torch.utils.flop_counter.FlopCounterMode`` counts 2 FLOPs per multiply-accumulate (MAC) of
convolutions / matmuls (element-wise ops such as BN, activations, interpolation are not counted). The table gives
GFLOPs (FlopCounterMode) and GMACs (= GFLOPs / 2). Literature "GFLOPs" figures (e.g. 25.9 for the authors'
EfficientUNet++-B0 and 44.1 for segmentation_models_pytorch's UnetPlusPlus-B0 at 1x3x512x512) are usually MACs.
"""

import argparse
import statistics
import time
from typing import Callable, List, Tuple

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from monai.networks.nets import FlexibleUNet

from monai_angio.networks import EfficientUNetPlusPlus, MajorVesselUNet, UNet3Plus, CENet, temporal_cenet


def models() -> List[Tuple[str, Callable[[], nn.Module], Tuple[int, ...]]]:
    """(name, constructor, input shape without batch) for every benchmarked network."""
    return [
        ("EfficientUNet++ B0 (3 classes)", lambda: EfficientUNetPlusPlus(in_channels=1, out_channels=3), (1,)),
        ("UNet3+ full (64..1024, cat 64)", lambda: UNet3Plus(in_channels=1, out_channels=1), (1,)),
        ("UNet3+ lite (16..256, cat 16)", lambda: UNet3Plus.lite(in_channels=1, out_channels=1), (1,)),
        ("CE-Net (ResNet-34)", lambda: CENet(in_channels=1, out_channels=2), (1,)),
        ("temporal CE-Net N=1 (T=3)", lambda: temporal_cenet(1, out_channels=2), (1, 3)),
        ("temporal CE-Net N=2 (T=5)", lambda: temporal_cenet(2, out_channels=2), (1, 5)),
        ("MajorVesselUNet DenseNet-121", lambda: MajorVesselUNet("densenet121"), (1,)),
        ("MajorVesselUNet ResNet-101", lambda: MajorVesselUNet("resnet101"), (1,)),
        ("MONAI FlexibleUNet B0", lambda: FlexibleUNet(1, 3, "efficientnet-b0", pretrained=False), (1,)),
    ]


def count_flops(net: nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one forward pass (FlopCounterMode convention: 2 per MAC)."""
    with FlopCounterMode(display=False) as fc:
        net(x)
    return int(fc.get_total_flops())


def time_ms(net: nn.Module, x: torch.Tensor, warmup: int, runs: int) -> float:
    """Median wall time in ms of ``runs`` forward passes after ``warmup`` passes."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    for _ in range(warmup):
        net(x)
    sync()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        net(x)
        sync()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: keep torch's default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(
        f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
        f"input 1x1x{args.size}x{args.size} (temporal: 1x1xTx{args.size}x{args.size}), batch 1, inference_mode, "
        f"{args.warmup} warm-ups, median of {args.runs}\n"
    )
    print("| network | params (M) | GMACs | GFLOPs (FlopCounterMode) | ms/frame |")
    print("|---|---:|---:|---:|---:|")
    for name, build, shape in models():
        torch.manual_seed(0)
        net = build().eval().to(device)
        params = sum(p.numel() for p in net.parameters()) / 1e6
        x = torch.rand((1,) + shape + (args.size, args.size), device=device)
        with torch.inference_mode():
            flops = count_flops(net, x)
            ms = time_ms(net, x, args.warmup, args.runs)
        print(f"| {name} | {params:.2f} | {flops / 2e9:.2f} | {flops / 1e9:.2f} | {ms:.1f} |", flush=True)
        del net


if __name__ == "__main__":
    main()
