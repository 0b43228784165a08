"""Contact sheet of cath-lab-realistic synthetic angiograms (``PhantomConfig.cathlab``), with the artery label outlined.

Usage::

    python benchmarks/make_synthetic_contact_sheet.py --out docs/images/cathlab_contact_sheet.png

Renders 3 x 4 cases at ``--size`` (512) and shows them at ``--tile`` (256) pixels; the first tiles force a round, a
square, an off-centre and no collimator, the others are plain preset draws. A thin red outline marks the
artery label (1), a blue one the catheter (2). Prints the generation time of every case.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Dict, List, Tuple

import numpy as np
from PIL import Image
from scipy.ndimage import binary_dilation

from monai_angio.data import PhantomConfig, generate_phantom

__all__ = ["CASES", "render_tile", "main"]

#: (seed, overrides of the preset) per tile
CASES: List[Tuple[int, Dict[str, Any]]] = [
    (11, {"collimator_prob": 1.0, "collimator_shapes": ("circle",), "collimator_offset": 0.0, "shutter_prob": 0.0}),
    (12, {"collimator_prob": 1.0, "collimator_shapes": ("rect",), "collimator_square_prob": 1.0,
          "collimator_offset": 0.0}),
    (13, {"collimator_prob": 1.0, "collimator_shapes": ("circle",), "collimator_offset": 0.15,
          "border_grey_prob": 1.0}),
    (14, {"collimator_prob": 0.0, "shutter_prob": 0.0}),
    (15, {"shutter_prob": 1.0}),
    (16, {"guidewire_prob": 1.0}),
    (17, {"sternal_wires_prob": 1.0, "clips_prob": 1.0}),
    (18, {"ecg_leads_prob": 1.0, "pacemaker_prob": 1.0}),
    (19, {"filling_prob": 1.0}),
    (20, {}),
    (21, {}),
    (22, {"jpeg_prob": 1.0, "jpeg_quality": (25, 35), "text_prob": 1.0}),
]


def render_tile(seed: int, overrides: Dict[str, Any], size: int, tile: int) -> Tuple[np.ndarray, float]:
    """One RGB tile (``tile`` x ``tile``) of a preset case, label outlines drawn; returns it and the seconds taken."""
    t0 = time.perf_counter()
    ph = generate_phantom(seed, PhantomConfig.cathlab(size=size, **overrides))
    dt = time.perf_counter() - t0
    img = Image.fromarray(np.round(ph.image * 255).astype(np.uint8)).resize((tile, tile), Image.BOX)
    rgb = np.repeat(np.asarray(img, np.float32)[..., None], 3, axis=2)
    lab = np.asarray(Image.fromarray(ph.label).resize((tile, tile), Image.NEAREST))
    for value, colour in ((1, (255.0, 40.0, 40.0)), (2, (60.0, 140.0, 255.0))):
        m = lab == value
        ring = binary_dilation(m) & ~m
        rgb[ring] = 0.35 * rgb[ring] + 0.65 * np.asarray(colour)
    return np.clip(rgb, 0, 255).astype(np.uint8), dt


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/images/cathlab_contact_sheet.png")
    ap.add_argument("--size", type=int, default=512, help="generated image size")
    ap.add_argument("--tile", type=int, default=256, help="displayed tile size")
    ap.add_argument("--raw", default=None, help="optional second sheet without outlines")
    args = ap.parse_args()
    tiles, raws = [], []
    for seed, ov in CASES:
        rgb, dt = render_tile(seed, ov, args.size, args.tile)
        tiles.append(rgb)
        if args.raw:
            ph = generate_phantom(seed, PhantomConfig.cathlab(size=args.size, **ov))
            raws.append(np.asarray(Image.fromarray(np.round(ph.image * 255).astype(np.uint8)).resize(
                (args.tile, args.tile), Image.BOX)))
        print(f"seed {seed}: {dt:.3f} s at {args.size} px")
    gap = 4
    sheet = np.full((3 * args.tile + 2 * gap, 4 * args.tile + 3 * gap, 3), 255, np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, 4)
        sheet[r * (args.tile + gap) : r * (args.tile + gap) + args.tile,
              c * (args.tile + gap) : c * (args.tile + gap) + args.tile] = t
    # 8-bit palette (grey levels + outline colours) keeps the noisy sheet small (< 600 kB)
    Image.fromarray(sheet).quantize(colors=256, method=Image.Quantize.MAXCOVERAGE).save(args.out, optimize=True)
    if args.raw:
        raw = np.full(sheet.shape[:2], 255, np.uint8)
        for k, t in enumerate(raws):
            r, c = divmod(k, 4)
            raw[r * (args.tile + gap) : r * (args.tile + gap) + args.tile,
                c * (args.tile + gap) : c * (args.tile + gap) + args.tile] = t
        Image.fromarray(raw).save(args.raw, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
