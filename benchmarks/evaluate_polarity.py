"""Image polarity (``monai_angio.transforms.vessel_polarity``) on normal and inverted angiograms, through a bundle.

Usage (real data: never inside the repository)::

    python benchmarks/evaluate_polarity.py [--real ../shared/real/cimat_train] [--n 30] [--seed 961000]
        [--bundle xca_artery_catheter_efficientunetpp] [--json out.json]

Every image is segmented twice by the bundle's own ``inference.json`` (``load_bundle(...).predict``): as it is and
inverted (``max - image``), and the polarity its preprocessing measured (``diagnostics["vessel_polarity"]``) is
recorded. Images: the ``{n}.png`` files of ``--real`` (optional), ``--n`` plain phantoms and ``--n`` cath-lab
phantoms, phantom ``i`` drawn at ``sizes[i % 4]`` (256, 512, 768, 1024 px). Prints one row per image set: the
lowest polarity of the normal images, the highest of the inverted ones and how many inverted images read negative
(what ``monai-angio segment`` warns about and ``invert_intensity=auto`` inverts).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from monai_angio.data.synthetic import PhantomConfig, generate_phantom

__all__ = ["image_sets", "evaluate_polarity", "main"]

SIZES = (256, 512, 768, 1024)


def image_sets(real: Optional[str], n: int, seed: int) -> Iterator[Tuple[str, str, np.ndarray]]:
    """``(set name, image name, image)``: the real ``{n}.png`` images (sorted by case number), then the phantoms."""
    if real:
        from monai_angio.transforms.readers import read_image

        files = sorted((p for p in Path(real).glob("*.png") if re.fullmatch(r"\d+", p.stem)), key=lambda p: int(p.stem))
        for f in files:
            arr, _meta = read_image(str(f))
            yield "real", f.name, np.asarray(arr[0], np.float32)
    for i in range(n):
        size = SIZES[i % len(SIZES)]
        yield "plain phantoms", f"seed {seed + i}", np.asarray(generate_phantom(seed + i, PhantomConfig(size=size)).image,
                                                               np.float32)
        yield "cath-lab phantoms", f"seed {seed + i}", np.asarray(
            generate_phantom(seed + i, PhantomConfig.cathlab(size=size)).image, np.float32)


def evaluate_polarity(model, images: Iterator[Tuple[str, str, np.ndarray]]) -> Dict[str, List[Dict[str, float]]]:
    """Per image set, the rows ``{name, normal, inverted}`` of polarities measured by ``model``'s preprocessing."""
    out: Dict[str, List[Dict[str, float]]] = {}
    for group, name, img in images:
        row: Dict[str, float] = {}
        for kind, x in (("normal", img), ("inverted", img.max() - img)):
            model.predict(x[None])
            row[kind] = float(min(model.diagnostics["vessel_polarity"]))
        out.setdefault(group, []).append(dict(name=name, **row))
        print(f"{group:18s} {name:12s} normal {row['normal']:+.2f} inverted {row['inverted']:+.2f}", flush=True)
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--real", default="", help="folder of {n}.png angiograms (optional)")
    p.add_argument("--n", type=int, default=30, help="plain and cath-lab phantoms each")
    p.add_argument("--seed", type=int, default=961_000)
    p.add_argument("--bundle", default="xca_artery_catheter_efficientunetpp")
    p.add_argument("--json", default="", help="write the rows here")
    args = p.parse_args(argv)
    from monai_angio.apps.segment import load_bundle

    model = load_bundle(args.bundle, device="cpu")
    res = evaluate_polarity(model, image_sets(args.real, args.n, args.seed))
    print("\n| images | normal: lowest polarity | inverted: highest polarity | inverted read negative |")
    print("|---|---|---|---|")
    for group, rows in res.items():
        normal = np.array([r["normal"] for r in rows])
        inverted = np.array([r["inverted"] for r in rows])
        print(f"| {group} ({len(rows)}) | {np.nanmin(normal):+.2f} | {np.nanmax(inverted):+.2f} | "
              f"{int(np.sum(inverted < 0))} / {len(rows)} |")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
