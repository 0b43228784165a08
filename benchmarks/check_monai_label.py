"""Serve every bundle with the *stock* MONAI Label ``monaibundle`` sample app and check what comes back.

Run by hand inside a MONAI Label environment (its dependency pins clash with this project's, so it gets its own
virtual environment; ``docs/deploy.md`` has the setup, with the two environment workarounds it needs)::

    /opt/mlvenv/bin/python benchmarks/check_monai_label.py --out /tmp/ml_check --train

What it does, with nothing of the app or of the bundles changed:

1. copies the sample app ``monaibundle`` shipped inside the installed ``monailabel`` package into ``OUT/app`` and
   every bundle (configs, weights) into ``OUT/app/model/<bundle>``, where the app looks for local bundles;
2. writes ``--n`` synthetic phantoms as 16-bit PNG into the studies folder ``OUT/studies`` (one square, then
   non-square crops, so that a transposed answer cannot pass), with their 0/1/2 label maps as the datastore's
   ``labels/final`` when ``--train`` is given;
3. starts ``monailabel start_server`` on 127.0.0.1 (``--conf zoo_source github --conf sam2 false``: no model-zoo
   or SAM2 download), waits for ``/info/`` and checks the label names it lists against the values the bundle
   returns;
4. for every bundle and image, ``POST /infer/<bundle>?image=<id>&output=image`` and compares the returned label
   map with :func:`monai_angio.bundle.load_bundle`'s (what ``monai-angio segment`` writes): the share of identical
   pixels, and artery Dice (label 1 against the phantom's artery label) of both;
5. with ``--train``, ``POST /train/<bundle>?run_sync=true`` for one epoch on the labelled studies and checks that
   the bundle's shipped ``models/model.pt`` in the app is unchanged (MONAI Label trains into the bundle's
   ``runs/`` folder);
6. stops the server, writes ``OUT/results.json`` and prints a table. The exit status is 1 when any check fails.

Only loopback traffic: the server listens on 127.0.0.1 and every request is bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from monai_angio.bundle import BUNDLE_NAMES, load_bundle, resolve_bundle
from monai_angio.bundle.runner import class_names_from_metadata
from monai_angio.bundle.runtime import file_sha256
from monai_angio.metrics import dice

__all__ = ["find_sample_app", "make_studies", "label_names_ok", "main"]


def find_sample_app(name: str = "monaibundle") -> Path:
    """The sample app folder shipped with the installed ``monailabel`` (``<prefix>/monailabel/sample-apps``)."""
    import monailabel

    candidates = [Path(sys.prefix) / "monailabel" / "sample-apps" / name,
                  Path(monailabel.__file__).resolve().parent.parent / "sample-apps" / name]
    for c in candidates:
        if (c / "main.py").is_file():
            return c
    raise FileNotFoundError(f"sample app {name!r} not found in {[str(c) for c in candidates]}")


def make_studies(folder: Path, n: int, size: int, labels: bool) -> Dict[str, np.ndarray]:
    """Write ``n`` phantoms (16-bit PNG; the first square, the others cropped to non-square) into ``folder``.

    Returns image id -> the phantom's 0/1/2 label map (row-major), the truth for the Dice columns.
    """
    from monai_angio.data.synthetic import PhantomConfig, generate_phantom
    from monai_angio.data.writers import write_png_image, write_png_label

    truth: Dict[str, np.ndarray] = {}
    for i in range(n):
        ph = generate_phantom(8100 + i, PhantomConfig(size=size))
        rows = slice(0, size) if i == 0 else slice(size // 8 * (i % 3 + 1), size - size // 8)  # non-square
        image, label = ph.image[rows], ph.label[rows].astype(np.uint8)
        name = f"xca_{i:02d}"
        write_png_image(folder / f"{name}.png", image)
        if labels:
            write_png_label(folder / "labels" / "final" / f"{name}.png", label)
        truth[name] = label
    return truth


def label_names_ok(info_labels: Dict[str, int], bundle: str) -> bool:
    """Whether MONAI Label's label name -> value map for ``bundle`` equals the bundle's own (background left out)."""
    meta = json.loads((resolve_bundle(bundle) / "configs" / "metadata.json").read_text(encoding="utf-8"))
    ours = {v.lower(): k for k, v in class_names_from_metadata(meta).items() if k > 0}
    return {k.lower(): int(v) for k, v in info_labels.items()} == ours


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(url: str, data: Optional[bytes] = None, timeout: float = 600.0, json_body: bool = False) -> bytes:
    headers = {"Content-Type": "application/json"} if json_body else {}
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET", headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - loopback only
        return r.read()


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="work folder (app copy, studies, server log, results.json)")
    p.add_argument("--bundles", default=",".join(BUNDLE_NAMES), help="comma-separated bundle names")
    p.add_argument("--n", type=int, default=3, help="phantoms to serve (the first square, the rest non-square)")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--train", action="store_true", help="also run a 1-epoch /train per bundle")
    p.add_argument("--port", type=int, default=0, help="server port on 127.0.0.1 (0: a free one)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds for start-up and for each request")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    args = p.parse_args(argv)

    from PIL import Image

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        if not args.overwrite:
            print(f"{out} exists and is not empty; refusing to replace it (use --overwrite)", file=sys.stderr)
            return 2
        shutil.rmtree(out)
    app, studies = out / "app", out / "studies"
    shutil.copytree(find_sample_app(), app)
    bundles = [b.strip() for b in args.bundles.split(",") if b.strip()]
    for b in bundles:
        shutil.copytree(resolve_bundle(b), app / "model" / b, ignore=shutil.ignore_patterns("runs", "eval"))
    studies.mkdir(parents=True)
    truth = make_studies(studies, args.n, args.size, labels=args.train)
    shipped = {b: file_sha256(app / "model" / b / "models" / "model.pt") for b in bundles}

    port = args.port or _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "monailabel.main", "start_server", "--app", str(app), "--studies", str(studies),
           "--conf", "models", ",".join(bundles), "--conf", "zoo_source", "github", "--conf", "sam2", "false",
           "--host", "127.0.0.1", "--port", str(port)]
    log = open(out / "server.log", "wb")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    results: Dict[str, Any] = {"server": " ".join(cmd[1:]), "bundles": {}}
    ok = True
    try:
        t0 = time.time()
        while True:
            try:
                info = json.loads(_request(base + "/info/", timeout=10))
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if server.poll() is not None or time.time() - t0 > args.timeout:
                    print(f"MONAI Label did not start (see {out / 'server.log'})", file=sys.stderr)
                    return 1
                time.sleep(2)
        results["startup_s"] = round(time.time() - t0, 1)
        print(f"MONAI Label up in {results['startup_s']} s: models {sorted(info['models'])}", flush=True)
        for b in bundles:
            row: Dict[str, Any] = {}
            model_info = info["models"].get(b)
            row["listed"] = model_info is not None
            row["labels"] = model_info.get("labels") if model_info else None
            row["labels_ok"] = bool(model_info) and label_names_ok(model_info["labels"], b)
            runner = load_bundle(b, device="cpu")
            images = []
            for name, lab in truth.items():
                t = time.time()
                body = _request(f"{base}/infer/{b}?image={name}&output=image", data=b"", timeout=args.timeout)
                secs = time.time() - t
                served = np.asarray(Image.open(io.BytesIO(body)))
                ours = np.asarray(runner.predict(runner.load(studies / f"{name}.png"))[0])
                same_shape = served.shape == ours.shape
                images.append({
                    "image": name, "shape": list(lab.shape), "served_shape": list(served.shape),
                    "seconds": round(secs, 2),
                    "identical": float((served == ours).mean()) if same_shape else 0.0,
                    "dice_served": round(float(dice(served == 1, lab == 1)), 4) if same_shape else 0.0,
                    "dice_segment": round(float(dice(ours == 1, lab == 1)), 4),
                })
                print(f"  {b} {name} {lab.shape}: {images[-1]}", flush=True)
            row["infer"] = images
            row["infer_ok"] = all(abs(r["dice_served"] - r["dice_segment"]) <= 0.01 and r["shape"] == r["served_shape"]
                                  for r in images)
            if args.train:
                t = time.time()
                try:
                    _request(f"{base}/train/{b}?run_sync=true", data=json.dumps({"max_epochs": 1}).encode(),
                             timeout=args.timeout, json_body=True)
                    row["train_ok"] = True
                except (urllib.error.URLError, OSError) as e:
                    row["train_ok"], row["train_error"] = False, str(e)
                row["train_s"] = round(time.time() - t, 1)
                row["shipped_weights_unchanged"] = file_sha256(app / "model" / b / "models" / "model.pt") == shipped[b]
                row["train_ok"] = row["train_ok"] and row["shipped_weights_unchanged"]
            ok = ok and row["listed"] and row["labels_ok"] and row["infer_ok"] and row.get("train_ok", True)
            results["bundles"][b] = row
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    results["ok"] = ok
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print("\n| bundle | labels (MONAI Label) | images | identical pixels (min) | artery Dice served / segment "
          "(mean) | max abs Dice diff | infer s (median) | 1-epoch train |")
    print("|---|---|---|---|---|---|---|---|")
    for b, row in results["bundles"].items():
        im = row["infer"]
        diff = max(abs(r["dice_served"] - r["dice_segment"]) for r in im)
        train = "-" if "train_ok" not in row else (f"ok, {row['train_s']} s" if row["train_ok"] else "FAILED")
        print(f"| `{b}` | {row['labels']} | {len(im)} | {min(r['identical'] for r in im):.4f} | "
              f"{np.mean([r['dice_served'] for r in im]):.4f} / {np.mean([r['dice_segment'] for r in im]):.4f} | "
              f"{diff:.4f} | {np.median([r['seconds'] for r in im]):.2f} | {train} |")
    print(f"\n{'all checks passed' if ok else 'SOME CHECKS FAILED'}; wrote {out / 'results.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
