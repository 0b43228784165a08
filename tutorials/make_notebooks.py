"""Write the clinician tutorials ``tutorials/*.ipynb`` (without outputs) from the cell lists below.

Run ``python3 tutorials/make_notebooks.py`` after editing this file; the notebooks are generated, not hand-edited.
Every notebook honours ``MONAI_ANGIO_TUTORIAL_FAST=1`` (smaller images, fewer frames and iterations), which the
tests (``tests/tutorials/test_notebooks.py``) use to execute them quickly on a CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = ["NOTEBOOKS", "build", "main"]

HERE = Path(__file__).resolve().parent

Cell = Tuple[str, str]  # ("md" | "code", source)


def md(text: str) -> Cell:
    return ("md", text.strip("\n"))


def code(text: str) -> Cell:
    return ("code", text.strip("\n"))


SETUP = code(
    """
%matplotlib inline
import json
import os
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import monai_angio

FAST = os.environ.get("MONAI_ANGIO_TUTORIAL_FAST", "0") == "1"  # the automated tests set this: small & quick
torch.set_num_threads(1 if FAST else max(1, min(4, os.cpu_count() or 1)))
WORK = Path("tutorial_outputs") / "{name}"
WORK.mkdir(parents=True, exist_ok=True)
print(f"monai-angio {{monai_angio.__version__}} | fast mode: {{FAST}} | outputs in {{WORK.resolve()}}")
"""
)


def setup(name: str) -> Cell:
    return ("code", SETUP[1].replace("{name}", name).replace("{{", "{").replace("}}", "}"))


# ------------------------------------------------------------------------------------------------ 01


NB01: List[Cell] = [
    md(
        """
# 1. Segmenting an angiogram

**Who this is for:** clinicians in training who want to understand what an automatic coronary segmentation
does, what its numbers mean and where it can go wrong. No programming knowledge is needed to follow the text;
the code cells can simply be run from top to bottom (*Run All*).

**What you will do:** make a short synthetic angiogram run (a *cine*), segment it with the flagship model
`xca_artery_catheter_efficientunetpp`, and look at the result as a coloured overlay.

> Everything here uses **synthetic phantoms**, not patient images. They imitate the physics of X-ray
> angiography and come with an exact ground truth, which is what lets us check the model honestly.
> Nothing in this notebook is validated for clinical use.
"""
    ),
    md(
        """
## What is an X-ray coronary angiogram?

* An X-ray tube on one side of the patient and a flat detector on the other produce a **projection**: every
  pixel records how much X-ray was absorbed along one line through the chest. Depth is lost: vessels in front
  of and behind each other overlap.
* Iodinated **contrast medium** injected through a **catheter** into the coronary ostium absorbs X-rays
  strongly, so the filled arteries appear **dark on a brighter background** (that is how the raw images are
  stored, and how our models see them).
* A run is recorded as a **cine** at typically 7.5-30 frames per second (15 fps = 66.7 ms per frame). The
  contrast arrives, fills the tree, and washes out; the heart moves the arteries between frames.
* The catheter itself is visible as a straight-ish, uniformly dark tube. Its outer diameter is known
  (French size: 1 F = 1/3 mm), which notebook 2 uses to turn pixels into millimetres.
"""
    ),
    setup("01"),
    md(
        """
## A synthetic cine

`monai_angio.data.synthetic` draws a left coronary tree (LM, LAD, LCx and branches) in 3D, moves it with a
cardiac cycle, fills it with contrast over time and projects it with realistic X-ray physics (Beer-Lambert
attenuation, quantum noise, blur, ribs and soft-tissue background). It also records the **ground truth**:
which pixel is artery (label 1), catheter (label 2) or background (0).

The phantoms' labelling rule is the clinical one of the EfficientUNet++ study: only arteries whose diameter at
their origin is **at least 2 mm** are labelled *artery*; thinner side branches are drawn in the image but labelled
background, because they are not usually treated and are measured unreliably. (The shipped model was also trained
on real angiograms, whose expert tracings include the thin branches; see "Thin branches" below.)
"""
    ),
    code(
        """
from monai_angio.data import synthetic, write_dicom_xa

SIZE = 512    # frames up to 640 px are segmented at their own size (larger ones are brought down to 640 px)
FRAMES = 12
config = synthetic.PhantomConfig(size=SIZE, tree="lca", n_stenoses=1, catheter_french=(6,))
cine = synthetic.generate_cine(seed=3, config=config, frames=FRAMES)
print("images (frames, rows, columns):", cine.images.shape, "| labels:", cine.labels.shape)
print(f"pixel size in the vessel plane: {cine.spacing_mm:.3f} mm | frame time: {cine.frame_time_ms} ms")
print("relative contrast concentration per frame:", np.round(cine.concentration, 2))
print("frame with the most contrast:", cine.key_frame)

# save it the way a catheter lab would: a multi-frame DICOM XA file (anonymous, generated identifiers)
dicom_path = write_dicom_xa(WORK / "sample_cine.dcm", cine, overwrite=True)
print("written:", dicom_path)

show = np.linspace(0, FRAMES - 1, 4).round().astype(int)
fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
for ax, k in zip(axes, show):
    ax.imshow(cine.images[k], cmap="gray")
    ax.set_title(f"frame {k} (contrast {cine.concentration[k]:.2f})")
    ax.axis("off")
plt.suptitle("Synthetic cine: contrast arrives, fills the arteries and washes out")
plt.show()
"""
    ),
    md(
        """
## What the model does

A segmentation model assigns a class to **every pixel**: background (0), artery (1) or catheter (2). The
flagship bundle is an **EfficientUNet++**: an EfficientNet encoder that summarises the image at several
scales, and a nested U-Net++ decoder that rebuilds a full-resolution map of class scores; the class with the
highest score wins at each pixel. It works frame by frame, on images resized to 512 x 512 pixels.

The default weights shipped with the bundle (`models/model.pt`) were trained on 576 **synthetic** 512-pixel
phantoms like the one above (held-out synthetic test set: Dice 0.95 for artery, 0.99 for catheter). They have
never seen a patient image.

A *bundle* is a folder with the network definition, the pre-processing and the trained weights. The command
line does the same as the code below:

```bash
monai-angio segment sample_cine.dcm --bundle xca_artery_catheter_efficientunetpp --out results/
```

It writes, for every input file, a label map (NIfTI), a PNG overlay (and an animated GIF for cines), a DICOM
Segmentation object when the input is DICOM (a still or a whole cine, every frame referencing its source frame,
without patient data), and a summary JSON. On a laptop CPU the model needs roughly
0.5-1.5 s per frame; a GPU is much faster.
"""
    ),
    code(
        """
from monai_angio.apps.segment import segment_files
from monai_angio.bundle import resolve_bundle

BUNDLE = "xca_artery_catheter_efficientunetpp"
weights = resolve_bundle(BUNDLE) / "models" / "model.pt"
HAVE_WEIGHTS = weights.is_file()
if HAVE_WEIGHTS:
    print(f"Trained weights: {weights}")
else:
    print("!" * 78)
    print(f"The trained weights file is missing: {weights}")
    print("(a damaged or partial installation?). The network below runs with RANDOM weights only to show the")
    print("mechanics: its masks and every Dice value below are meaningless.")
    print("!" * 78)

# fast mode (automated tests): segment only an early, poorly filled frame and the best-filled frame
early = int(np.argmax(cine.concentration > 0.3))
frames = sorted({early, cine.key_frame}) if FAST else "all"
t0 = time.perf_counter()
result = segment_files([dicom_path], BUNDLE, WORK / "segmentation", overwrite=True, frames=frames,
                       allow_random_weights=not HAVE_WEIGHTS, progress=False)[0]
print(f"finished in {time.perf_counter() - t0:.1f} s; ok = {result.ok} {result.error or ''}")
for kind, path in result.outputs.items():
    print(f"  {kind:8s} {path}")
for w in result.warnings:
    print("  note:", w)
"""
    ),
    md(
        """
## Reading the overlay

The overlay paints the model's answer over the angiogram: **red = artery**, **green = catheter**, uncoloured =
background. The colours are semi-transparent so that you can still judge the grey image underneath. The
panels are different frames of the run (the number is the frame index). The white bar is a millimetre scale at
the isocentre, from the DICOM geometry (an image without it, such as a PNG, has no bar). A single image, rather
than a cine, is drawn twice side by side, alone and with its labels, at close to its own resolution.
"""
    ),
    code(
        """
from IPython.display import Image, display

from monai_angio.apps.overlay import overlay_labels

display(Image(filename=str(result.outputs["overlay"])))
"""
    ),
    md(
        """
## Prediction versus ground truth

Below, for the best-filled frame: the image, the model's prediction, the phantom's ground truth, and a map of
the disagreements: **yellow** = artery in the ground truth that the model missed, **cyan** = pixels the model
called artery that are not labelled artery, **magenta** = thin branches that are drawn in the image but are
deliberately *not* labelled (narrower than 2 mm at their origin).
"""
    ),
    code(
        """
idx = list(result.summary["frames"])            # which frames were segmented
pred = {t: result.labels[i] for i, t in enumerate(idx)}
k = cine.key_frame
truth_k, pred_k = cine.labels[k], pred[k]
thin = cine.vessel_masks[k] & (truth_k == 0)       # drawn arteries below the 2 mm criterion

errors = overlay_labels(cine.images[k], np.zeros_like(truth_k))  # the grey image as RGB
errors[thin] = (200, 0, 200)
errors[(truth_k == 1) & (pred_k != 1)] = (255, 220, 0)
errors[(truth_k != 1) & (pred_k == 1)] = (0, 220, 255)

fig, axes = plt.subplots(1, 4, figsize=(16, 4.6))
axes[0].imshow(cine.images[k], cmap="gray"); axes[0].set_title(f"image, frame {k}")
axes[1].imshow(overlay_labels(cine.images[k], pred_k)); axes[1].set_title("model prediction")
axes[2].imshow(overlay_labels(cine.images[k], truth_k)); axes[2].set_title("ground truth (phantom)")
axes[3].imshow(errors); axes[3].set_title("yellow missed, cyan extra,\\nmagenta thin (not labelled)")
for ax in axes:
    ax.axis("off")
plt.tight_layout(); plt.show()
"""
    ),
    md(
        """
## How good is it? The Dice coefficient

With a phantom we know the right answer, so we can score the segmentation. The usual overlap score is the
**Dice coefficient**: `2 x |prediction AND truth| / (|prediction| + |truth|)`, from 0 (no overlap) to 1
(perfect). It is computed separately for each class. Read it with care:

* Dice is dominated by large structures; a missed **thin distal branch** barely changes it but may matter
  clinically. A Dice of 0.85 can hide a missing vessel.
* Most disagreement sits at the **edges** of the vessels: at 0.28 mm per pixel a 3 mm artery is ~11 pixels
  wide, so one pixel on each side is already ~20 % of its area.
* It says nothing about **diameters** directly: notebook 2 measures them.
* On real patients, the "truth" is itself a human tracing; two experts never agree perfectly either, mostly
  at vessel edges and thin branches.

The ground truth of a cine labels the arteries **geometrically in every frame**, also before the contrast
arrives. So the Dice of an early frame measures how much of the tree is *visible*, not only the model.
"""
    ),
    code(
        """
from monai_angio.metrics import per_class_metrics

print(f"{'frame':>5s} {'contrast':>8s} {'Dice artery':>12s} {'Dice catheter':>14s}")
scores = {}
for t in idx:
    m = per_class_metrics(pred[t], cine.labels[t], num_classes=3, class_names=["background", "artery", "catheter"])
    scores[t] = m
    print(f"{t:5d} {cine.concentration[t]:8.2f} {m['artery']['dice']:12.3f} {m['catheter']['dice']:14.3f}"
          + ("   <- best-filled frame" if t == k else ""))
mk = scores[k]["artery"]
print(f"\\nbest-filled frame {k}: artery sensitivity (share of true artery found) {mk['recall']:.3f}, "
      f"precision (share of the red pixels that are artery) {mk['precision']:.3f}")
print(f"thin branches (< 2 mm, not labelled): {thin.sum()} px drawn, of which {(pred_k[thin] == 1).mean():.0%} "
      "were called artery by the model")
if not HAVE_WEIGHTS:
    print("RANDOM weights: these numbers are meaningless.")
"""
    ),
    md(
        """
## Thin branches: every visible vessel, or only the major arteries?

Two conventions meet here. The phantoms (and QCA practice) call "artery" only vessels at least **2 mm** wide at
their origin: smaller branches are rarely treated with a stent, are measured unreliably (a 1.5 mm branch is only
~5 pixels wide here) and vary most between human tracers. Real expert tracings, which the shipped model also
learned from, draw **every** contrast-filled vessel, thin branches included, and trace the vessel a little inside
its edge. The label map follows the real experts, so on a phantom the thin branches count as "extra" (cyan above)
and the Dice against the 2 mm class stays below 0.9 even where the segmentation looks right.

For the 2 mm class itself, the bundle can also write a **major-artery map** (`monai-angio segment ...
--set major_map=true` writes `<stem>_major.nii.gz`): it takes the label map's arteries out to their lumen edge and
keeps those at least 2 mm wide at their origin, using the catheter as the ruler (or the DICOM geometry, or a pixel
size you give with `--set major_map_mm_per_px=...`; with none of these, the widest artery in the frame taken to be
4.2 mm, as wide as a typical left main, which is rough but enough for a 2 mm rule). It costs about a quarter of a second per 512 px frame, so it
is off unless asked for. Below, the same best-filled frame both ways against the phantom's 2 mm class:
"""
    ),
    code(
        """
from monai_angio.bundle import load_bundle
from monai_angio.metrics import dice

if HAVE_WEIGHTS:
    major_model = load_bundle(BUNDLE, major_map=True)
    label_k = np.asarray(major_model.predict(cine.images[k][None]))[0]
    major_k = major_model.extra_maps["major"][0] > 0
    print(f"label map (every vessel)   Dice against the 2 mm class: {dice(label_k == 1, truth_k == 1):.3f}")
    print(f"major-artery map (>= 2 mm) Dice against the 2 mm class: {dice(major_k, truth_k == 1):.3f}")
    print(f"ruler: {major_model.diagnostics['major_mm_per_px'][0]:.3f} mm per pixel from the 6F catheter "
          f"(true {cine.spacing_mm:.3f})")
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.6))
    axes[0].imshow(overlay_labels(cine.images[k], label_k)); axes[0].set_title("label map: every vessel")
    axes[1].imshow(overlay_labels(cine.images[k], major_k.astype(np.uint8))); axes[1].set_title("major-artery map")
    axes[2].imshow(overlay_labels(cine.images[k], truth_k)); axes[2].set_title("phantom truth: >= 2 mm class")
    for ax in axes:
        ax.axis("off")
    plt.tight_layout(); plt.show()
else:
    print("no trained weights: the major-artery map needs them")
"""
    ),
    md(
        """
## Where the model fails

1. **Faint contrast.** Early in the run (and again during wash-out) the arteries are barely visible; the
   model then labels less of them (see the table above: Dice rises with the contrast). Use well-filled frames
   for measurements; end-diastolic, fully opacified frames are the standard for QCA.
2. **Overlapping anatomy.** The spine, the diaphragm and the heart shadow absorb X-rays too; where an artery
   crosses them it has less contrast against its surroundings. Below we make the same phantom with a three
   times stronger anatomical background, more quantum noise (lower dose) or weaker contrast filling and
   segment it again.
3. **Vessel overlaps and crossings** are flattened into one blob in the projection; the model cannot tell
   which vessel is in front, and lesions hidden behind another vessel are missed.
4. **Anything unlike its training data**: other X-ray systems, stents, unusual devices. The shipped weights saw
   30 real angiograms of one public set and realistic phantoms with guidewires, leads, sternal wires and clips;
   wires are still sometimes labelled artery, and images from other hospitals differ more than those.
"""
    ),
    code(
        """
from monai_angio.bundle import load_bundle
from monai_angio.metrics import dice

model = load_bundle(BUNDLE, allow_random_weights=not HAVE_WEIGHTS)
conditions = [("as above (still, full contrast)", {}),
              ("3x stronger spine / diaphragm / heart shadow", {"background_strength": 3.0})]
if not FAST:
    conditions += [("10x fewer photons (noisier)", {"dose": 300.0}),
                   ("40 % contrast filling", {"concentration": 0.4})]
stress = []
for name, change in conditions:
    ph = synthetic.generate_phantom(seed=3, config=synthetic.PhantomConfig(size=SIZE, tree="lca", n_stenoses=1,
                                                                             catheter_french=(6,), **change))
    p = np.asarray(model.predict(ph.image[None]))[0]
    stress.append((name, ph, p))
    print(f"{name:45s} Dice artery {dice(p == 1, ph.label == 1):.3f} | catheter {dice(p == 2, ph.label == 2):.3f}")

fig, axes = plt.subplots(1, len(stress), figsize=(4.5 * len(stress), 4.6))
for ax, (name, ph, p) in zip(np.atleast_1d(axes), stress):
    ax.imshow(overlay_labels(ph.image, p)); ax.set_title(name, fontsize=9); ax.axis("off")
plt.tight_layout(); plt.show()
"""
    ),
    md(
        """
## The summary file

Every input also gets a `*_summary.json` with the frames processed, the classes, how many pixels each class
covers, the calibration found in the DICOM header (if any) and the time taken. The DICOM header
calibration assumes the artery lies at the **isocentre** of the C-arm; notebook 2 explains why the catheter is
usually the better ruler.
"""
    ),
    code(
        """
summary = json.loads(Path(result.outputs["summary"]).read_text())
print(json.dumps({k: summary[k] for k in ("file", "bundle", "random_weights", "frames", "classes",
                                          "pixel_counts", "spacing_mm", "frame_time_ms", "calibration",
                                          "timing_s")}, indent=1))
cal = summary["calibration"]
if cal:
    area = summary["pixel_counts"].get("artery", 0) * cal["mm_per_px"] ** 2 / max(1, len(summary["frames"]))
    print(f"artery area per frame ~ {area:.0f} mm^2 (projected; overlapping vessels counted once)")
print(f"true in-plane pixel size of the phantom: {cine.spacing_mm:.4f} mm")
"""
    ),
    md(
        """
## Take-home points

* The model labels every pixel; the overlay shows **artery in red** and **catheter in green**.
* **Dice** measures overlap with a reference tracing (1 = perfect). On well-filled synthetic frames the
  shipped model reaches about 0.88 for the phantoms' 2 mm arteries with its label map (which also draws the thin
  branches, as real experts do), about 0.92 with its major-artery map, and about 0.97 for the catheter; early,
  faint frames score much lower.
* The label map draws thin branches (< 2 mm at their origin) as real experts do; the major-artery map
  (`--set major_map=true`) leaves them out.
* These are **synthetic images**: the numbers show that the pipeline works and where it struggles, but they
  say **nothing** about accuracy on patients. A model must be validated on images from your own equipment and
  population before any clinical use; this one is not.
* Check the summary (`random_weights` must be `false`) to know which weights produced a result.
* Next: notebook 2 turns masks into millimetres (QCA); notebook 3 trains a model; notebook 4 uses
  neighbouring frames.
"""
    ),
]


# ------------------------------------------------------------------------------------------------ 02


NB02: List[Cell] = [
    md(
        """
# 2. Catheter calibration and stenosis measurement (QCA)

**Quantitative coronary angiography (QCA)** measures a narrowing in millimetres: the **minimal lumen diameter
(MLD)**, the **reference diameter** the vessel would have without disease, and from them the
**percent diameter stenosis (%DS)**. This notebook does it on phantoms whose true answer is known, and shows
where the numbers can mislead.
"""
    ),
    setup("02"),
    md(
        """
## Why the catheter gives millimetres

The image is in **pixels**. To get millimetres we need to know how many millimetres one pixel covers *in the
plane of the artery*. The catheter is a ruler of known size that lies right next to the coronary ostium:

* Catheter sizes are in **French (F)**: the **outer** diameter in units of 1/3 mm. So **6 F = 2.00 mm**,
  5 F = 1.67 mm, 7 F = 2.33 mm.
* If a 6 F catheter is 10 pixels wide, each pixel is 2.00 / 10 = **0.20 mm**.
"""
    ),
    code(
        """
for french in (4, 5, 6, 7, 8):
    print(f"{french} F = {french / 3:.2f} mm outer diameter")
"""
    ),
    md(
        """
## A phantom with a known answer

A straight 3.0 mm artery with a 60 % diameter stenosis (10 mm long) and a 6 F catheter running parallel to it,
imaged at exactly 0.20 mm per pixel, with realistic noise and blur.
"""
    ),
    code(
        """
from monai_angio.apps.overlay import overlay_labels
from monai_angio.data import synthetic

TRUE_MM_PER_PX = 0.20
tube = synthetic.straight_tube_phantom(diameter_mm=3.0, spacing_mm=TRUE_MM_PER_PX, size=128, stenosis_percent=60,
                                       stenosis_length_mm=10.0, catheter_french=6, noise=True, seed=0)
truth = tube.stenoses[0]
print(f"ground truth: reference {truth.reference_diameter_mm:.2f} mm, MLD {truth.mld_mm:.2f} mm, "
      f"%DS {truth.percent_diameter:.0f} %, length {truth.length_mm:.0f} mm")

fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
axes[0].imshow(tube.image, cmap="gray"); axes[0].set_title("image")
axes[1].imshow(overlay_labels(tube.image, tube.label)); axes[1].set_title("labels: artery red, catheter green")
for ax in axes:
    ax.axis("off")
plt.show()
"""
    ),
    code(
        """
from monai_angio.qca import analyze_stenosis, calibrate_from_catheter

cal = calibrate_from_catheter(tube.label, french=6)
print(f"catheter width: {cal.details['width_px']:.2f} px -> {cal.mm_per_px:.4f} mm/px "
      f"(true {TRUE_MM_PER_PX:.4f}; source: {cal.source})")

H, W = tube.label.shape
report = analyze_stenosis(tube.label, image=tube.image, calibration=cal,
                          start_rc=(H / 2 - 0.5, 4), end_rc=(H / 2 - 0.5, W - 5))
print(report.summary())
rows = [("MLD (mm)", report.mld_mm, truth.mld_mm),
        ("reference (mm)", report.reference_diameter_mm, truth.reference_diameter_mm),
        ("%DS", report.percent_diameter_stenosis, truth.percent_diameter),
        ("%AS", report.percent_area_stenosis, truth.percent_area),
        ("lesion length (mm)", report.lesion_length_mm, truth.length_mm)]
print(f"{'':20s}{'measured':>10s}{'truth':>10s}")
for name, m, t in rows:
    print(f"{name:20s}{m:10.2f}{t:10.2f}")
"""
    ),
    md(
        """
## Reading the diameter profile

The program finds the vessel's centreline, measures the width perpendicular to it at every point, and plots
diameter against distance along the vessel.

* **MLD** is the smallest diameter in the analysed segment.
* The **reference diameter** is *interpolated*: a straight (tapering) line fitted to the healthy parts on both
  sides of the lesion, read at the MLD position. This avoids having to choose a "normal" spot by eye.
* **%DS = (1 - MLD / reference) x 100.** %AS assumes a circular cross-section: (1 - (MLD/ref)^2) x 100.
* The **lesion length** is where the profile falls clearly below the reference. For a smooth narrowing this is
  shorter than its full extent (about 0.8 x for a cosine shape), so do not expect it to match exactly.
"""
    ),
    code(
        """
prof = report.profile
s = prof.arc_length_mm
plt.figure(figsize=(8, 3.6))
plt.plot(s, prof.diameter_mm, label="measured diameter")
plt.plot(s, report.reference_mm, "--", label="interpolated reference")
plt.axvspan(report.lesion_start_mm, report.lesion_end_mm, color="orange", alpha=0.2, label="lesion")
plt.plot([report.mld_position_mm], [report.mld_mm], "rv", markersize=10, label=f"MLD {report.mld_mm:.2f} mm")
plt.xlabel("distance along the vessel (mm)"); plt.ylabel("diameter (mm)")
plt.title(f"%DS {report.percent_diameter_stenosis:.0f} % (truth {truth.percent_diameter:.0f} %)")
plt.legend(); plt.grid(alpha=0.3); plt.show()
"""
    ),
    md(
        """
## Pitfall 1: the wrong French size

If the catheter is really 6 F but we tell the program 5 F, every millimetre value is scaled by 5/6. Notice
that **%DS does not change**: it is a ratio of two diameters measured with the same ruler. Absolute values
(MLD, reference, length) do. Always record the catheter size (it is printed on the package) and remember
that French is the **outer** diameter, and that some catheters **taper** at the tip.
"""
    ),
    code(
        """
for french in (5, 6, 7):
    c = calibrate_from_catheter(tube.label, french=french)
    r = analyze_stenosis(tube.label, image=tube.image, calibration=c,
                         start_rc=(H / 2 - 0.5, 4), end_rc=(H / 2 - 0.5, W - 5))
    print(f"told {french} F: MLD {r.mld_mm:.2f} mm, reference {r.reference_diameter_mm:.2f} mm, "
          f"%DS {r.percent_diameter_stenosis:.1f} %")
"""
    ),
    md(
        """
## Pitfall 2: magnification

X-rays spread out from a point source, so objects closer to the source look bigger on the detector. The
magnification is `SID / SOD` (source-to-detector over source-to-object distance). The catheter ruler is only
right for objects **at the same depth** as the catheter tip; an artery a few centimetres nearer the detector
is magnified less. The DICOM header calibration (ImagerPixelSpacing x SOD / SID) assumes the artery is exactly
at the C-arm **isocentre**, which it rarely is.
"""
    ),
    code(
        """
SID = 1000.0      # source-to-detector distance (mm)
detector_px = 0.30  # detector pixel size (mm)
for sod in (700.0, 750.0, 800.0):
    print(f"object {sod:.0f} mm from the source: magnification {SID / sod:.3f}, "
          f"one pixel = {detector_px * sod / SID:.3f} mm in the object plane")
print("A 5 cm depth difference between catheter and artery changes absolute sizes by about 6-7 %.")
"""
    ),
    md(
        """
## Pitfall 3: foreshortening and overlap

A projection shows a 3D vessel flattened. A segment running **towards** the detector looks **shorter** than it
is (foreshortening), so lesion lengths are underestimated; diameters of a round tube are not affected. Lesions
hidden behind another vessel or at a bifurcation can be missed or mis-measured. Clinically: analyse the view
where the lesion is tightest and least foreshortened, and check it in an orthogonal view.

## A realistic coronary tree

Now a full synthetic left coronary tree with one lesion. As in clinical QCA software, we choose the segment by
giving a point **proximal** and a point **distal** to the lesion (here about 10 mm on either side, taken from
the phantom's centreline); the program snaps them to the vessel centreline and measures in between.
(`analyze_stenosis` can also search every major-vessel path from the ostium automatically; always check
on the figure which segment it chose.) Note how coarse pixels (about 0.45 mm here, i.e. only ~4 pixels across
a 2 mm vessel) limit precision: one pixel is already ~20 % of such a diameter.
"""
    ),
    code(
        """
from monai_angio.qca import write_report

phantom = synthetic.generate_phantom(seed=1, config=synthetic.PhantomConfig(
    size=256, tree="lca", n_stenoses=1, stenosis_percent=(55.0, 70.0), catheter_french=(6,)))
gt = phantom.stenoses[0]
centre = phantom.segment(gt.segment).centerline_rc          # the phantom's true centreline (row, col)
step_mm = np.linalg.norm(np.diff(centre, axis=0), axis=1).mean() * phantom.spacing_mm
n = int(round(10.0 / step_mm))                                # ~10 mm on each side of the lesion
inside = lambda p: 0 <= p[0] < phantom.image.shape[0] and 0 <= p[1] < phantom.image.shape[1]
i0, i1 = max(0, gt.center_index - n), min(len(centre) - 1, gt.center_index + n)
while not inside(centre[i0]):
    i0 += 1
while not inside(centre[i1]):
    i1 -= 1
qca = analyze_stenosis(phantom.label, image=phantom.image, french=6, start_rc=centre[i0], end_rc=centre[i1],
                       filename="phantom_seed1")
print(qca.summary())
print(f"truth ({gt.segment}): MLD {gt.mld_mm:.2f} mm, reference {gt.reference_diameter_mm:.2f} mm, "
      f"%DS {gt.percent_diameter:.1f} %")
print(f"calibration {qca.mm_per_px:.4f} mm/px from {qca.calibration_source}; true {phantom.spacing_mm:.4f} mm/px")
for w in qca.warnings:
    print("warning:", w)
paths = write_report(qca, phantom.image, phantom.label, WORK, overwrite=True)
from IPython.display import Image, display
display(Image(filename=str(paths["png"])))
"""
    ),
    md(
        """
## The same measurement on the model's mask

So far QCA used the phantom's **ground-truth** mask. In practice the mask comes from the segmentation model
(notebook 1), and its errors propagate into the millimetres: the catheter width sets the calibration (a
catheter mask one pixel too wide at ~4 pixels across changes mm/px by ~25 %), and the artery edges set the
MLD. Below, the flagship model segments the same phantom image and QCA runs on its mask with the **same**
start and end points, so that both analyses measure the same segment.
"""
    ),
    code(
        """
from monai_angio.bundle import load_bundle, resolve_bundle
from monai_angio.metrics import dice

BUNDLE = "xca_artery_catheter_efficientunetpp"
have_weights = (resolve_bundle(BUNDLE) / "models" / "model.pt").is_file()
model = load_bundle(BUNDLE, allow_random_weights=not have_weights)
if not have_weights:
    print("The trained weights file is missing: RANDOM weights, the model's mask and numbers are meaningless.")
pred_mask = np.asarray(model.predict(phantom.image[None]))[0]
print(f"Dice vs ground truth: artery {dice(pred_mask == 1, phantom.label == 1):.3f}, "
      f"catheter {dice(pred_mask == 2, phantom.label == 2):.3f}")
r, c = np.round(gt.center_rc).astype(int)
box = (slice(max(0, r - 15), r + 16), slice(max(0, c - 15), c + 16))   # ~14 mm square around the lesion
print(f"around the lesion: local artery Dice {dice(pred_mask[box] == 1, phantom.label[box] == 1):.3f}; "
      f"lesion centre labelled artery by the model: {bool(pred_mask[r, c] == 1)}")
if pred_mask[r, c] != 1:
    print("!! The model's artery mask is INTERRUPTED at the narrowest point. QCA bridges a short gap (<= 5 mm) "
          "through the image and warns about it; a longer gap cannot be measured. Check the figure.")
qca_model = None
try:
    qca_model = analyze_stenosis(pred_mask, image=phantom.image, french=6, start_rc=centre[i0], end_rc=centre[i1],
                                 filename="phantom_seed1_model")
    rows = [("calibration (mm/px)", qca_model.mm_per_px, qca.mm_per_px, phantom.spacing_mm),
            ("MLD (mm)", qca_model.mld_mm, qca.mld_mm, gt.mld_mm),
            ("reference (mm)", qca_model.reference_diameter_mm, qca.reference_diameter_mm, gt.reference_diameter_mm),
            ("%DS", qca_model.percent_diameter_stenosis, qca.percent_diameter_stenosis, gt.percent_diameter)]
    print(f"{'':22s}{'model mask':>12s}{'GT mask':>10s}{'truth':>10s}")
    for name, a, b, c in rows:
        print(f"{name:22s}{a:12.3f}{b:10.3f}{c:10.3f}")
    for w in qca_model.warnings:
        print("warning:", w)
except Exception as e:  # e.g. the model missed the catheter or cut the vessel: QCA refuses to guess
    print(f"QCA on the model's mask failed: {type(e).__name__}: {e}")
# the masks side by side either way: where the model's mask differs is what to check
fig, axes = plt.subplots(1, 2, figsize=(10, 5))
axes[0].imshow(overlay_labels(phantom.image, phantom.label)); axes[0].set_title("ground-truth mask")
axes[1].imshow(overlay_labels(phantom.image, pred_mask))
axes[1].set_title("model mask" if qca_model is not None else "model mask (QCA failed on it)")
for ax, result in ((axes[0], qca), (axes[1], qca_model)):
    ax.plot([centre[i0][1], centre[i1][1]], [centre[i0][0], centre[i1][0]], "c+", markersize=14, mew=2)
    if result is not None:
        ax.plot([result.mld_rc[1]], [result.mld_rc[0]], "yv", markersize=10)
    ax.axis("off")
plt.suptitle("cyan +: start/end points; yellow triangle: MLD position"); plt.show()
"""
    ),
    md(
        """
Reading the comparison:

* The **calibration** from the model's catheter mask is usually close to the ground truth: the catheter is
  large, uniformly dark and well segmented (catheter Dice ~0.99).
* The **lesion** is the hardest place for the model: at a tight stenosis the lumen is only one or two pixels
  wide (here ~0.45 mm per pixel, because this image is 256 pixels while the model was trained on 512-pixel
  images of ~0.25 mm per pixel), the contrast there is faint, and the model may **cut the vessel** at its
  narrowest point. monai-angio then bridges a short end-to-end gap (up to 5 mm) through the image: it follows
  the dark lumen between the two mask ends, measures the diameter there from the image edges, and warns
  "mask interrupted at ... mm; diameter from image edges". On phantoms this works for moderate lesions, but very
  tight bridged lesions read too mild (about 14 %DS points on average for true 72-89 %DS). A longer gap cannot be
  bridged: the centreline stops or detours through another branch, and the analysis fails or is meaningless. A
  tight lesion that the mask interrupts is exactly the case a clinician must catch.
* Hence the rule of clinical QCA software: **always look at the contours and the centreline** the program
  used, and correct them, before reading a number. %DS is a ratio (calibration errors cancel), but it is only
  as good as the contours at the lesion.
* These are synthetic images: neither the agreement nor the failures seen here say how the model behaves on
  patient images.
"""
    ),
    md(
        """
## Take-home points

* **6 F = 2.00 mm.** The catheter converts pixels to millimetres; the method and its source are always reported.
* **%DS is a ratio** and is robust to calibration errors; MLD and lengths are not.
* **On patient images the catheter is rarely alone.** During PCI a 0.014" guidewire runs inside the guiding
  catheter and makes it look narrower, so every millimetre reads too large. monai-angio models the wire where the
  image resolves it and says so ("guidewire modelled"). It refuses a catheter that runs along the collimator's
  edge or over a saturated background rather than guessing. Compare with the DICOM geometry whenever it warns.
* Magnification, foreshortening, overlap, catheter tapering and coarse pixels all limit accuracy. QCA numbers
  support, and do not replace, clinical judgement (and physiology such as FFR/iFR).
"""
    ),
]


# ------------------------------------------------------------------------------------------------ 03


NB03: List[Cell] = [
    md(
        """
# 3. Training a model on your own data

A segmentation model learns from **examples**: images paired with label maps drawn by experts. This notebook
shows the file layout MONAI expects, makes a tiny synthetic data set, trains the flagship bundle for a few
iterations and reads the training curves.

> A few iterations on a toy data set produce a **useless** model. The point is to see the workflow; real
> training needs hundreds of annotated images, a GPU and hours.
"""
    ),
    setup("03"),
    md(
        """
## The datalist

Training data are listed in a JSON **datalist** (MONAI "decathlon" format). Paths are relative to the datalist
file; `training` is used to fit the weights, `validation` to monitor progress and pick the best checkpoint,
`test` is kept aside for the final evaluation:

```json
{"training":   [{"image": "images/case_000.png", "label": "labels/case_000.png"}, ...],
 "validation": [...],
 "test":       [...]}
```

Label maps are 8-bit images with 0 = background, 1 = artery, 2 = catheter. With your own data you would export
the images (PNG or DICOM) and the expert tracings in this layout.

`monai-angio synth` writes such a data set from synthetic phantoms:
"""
    ),
    code(
        """
import subprocess

def run(*cmd):
    cmd = [str(c) for c in cmd]
    print("$ monai-angio", " ".join(cmd[3:]))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    print(proc.stdout[-2500:])
    if proc.returncode != 0:
        print(proc.stderr[-4000:])
        raise RuntimeError(f"command failed with exit status {proc.returncode}")

CLI = [sys.executable, "-m", "monai_angio"]
DATA = WORK / "toy_data"
N_CASES = 6 if FAST else 12
SIZE = 64 if FAST else 128
run(*CLI, "synth", "--n", N_CASES, "--size", SIZE, "--out", DATA, "--seed", 0, "--overwrite")
datalist = json.loads((DATA / "datalist.json").read_text())
print({split: len(items) for split, items in datalist.items()})
print(json.dumps(datalist["training"][0], indent=1))
"""
    ),
    code(
        """
from PIL import Image as PILImage

from monai_angio.apps.overlay import overlay_labels

item = datalist["training"][0]
img = np.asarray(PILImage.open(DATA / item["image"]))
lab = np.asarray(PILImage.open(DATA / item["label"]))
print("image", img.shape, img.dtype, "| label values", np.unique(lab))
fig, axes = plt.subplots(1, 2, figsize=(7, 3.6))
axes[0].imshow(img, cmap="gray"); axes[0].set_title("training image")
axes[1].imshow(overlay_labels(img, lab)); axes[1].set_title("its label map")
for ax in axes:
    ax.axis("off")
plt.show()
"""
    ),
    md(
        """
## Training

`monai-angio train` runs the bundle's `configs/train.json` with MONAI. It never writes into the bundle folder:
checkpoints go to `OUT/models/`, TensorBoard logs to `OUT/logs/`. Useful options: `--epochs` (passes over
the training set), `--iterations` (batches per epoch, for quick trials), `--image-size`, `--device cuda`,
`--multi-gpu N` (several GPUs with `torchrun`), and `--override ID=VALUE` for any config value.

An **epoch** is one pass over the training images; after each epoch the model is scored on the validation
images and the best one so far is saved as `models/model.pt`.
"""
    ),
    code(
        """
BUNDLE = "xca_artery_catheter_efficientunetpp"
RUN = WORK / "run"
EPOCHS, ITERS = (1, 1) if FAST else (3, 3)
t0 = time.perf_counter()
run(*CLI, "train", BUNDLE, "--data", DATA / "datalist.json", "--out", RUN, "--epochs", EPOCHS,
    "--iterations", ITERS, "--device", "cpu", "--image-size", SIZE,
    "--override", "num_workers=0", "--override", "batch_size=1", "--override", "val_batch_size=1",
    "--override", "cache_rate=0")
print(f"training took {time.perf_counter() - t0:.0f} s")
print("checkpoint:", RUN / "models" / "model.pt", "exists:", (RUN / "models" / "model.pt").is_file())
"""
    ),
    md(
        """
## Reading the TensorBoard logs

TensorBoard is a viewer for training curves: run `tensorboard --logdir <OUT>/logs` in a terminal and open the
address it prints (usually http://localhost:6006). Here we read the same event files directly.

* **train_loss** should go down. If it does not, the learning rate or the data are wrong.
* The **validation Dice** (overall, artery, catheter) should go up. If training loss keeps falling while
  validation Dice falls, the model is memorising the training images (**over-fitting**): more data,
  augmentation or earlier stopping help.
"""
    ),
    code(
        """
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

log_dir = RUN / "logs"
print(f"tensorboard --logdir {log_dir.resolve()}")
acc = EventAccumulator(str(log_dir))
acc.Reload()
tags = acc.Tags()["scalars"]
print("logged curves:", tags)
fig, axes = plt.subplots(1, max(1, len(tags)), figsize=(4 * max(1, len(tags)), 3), squeeze=False)
for ax, tag in zip(axes[0], tags):
    events = acc.Scalars(tag)
    ax.plot([e.step for e in events], [e.value for e in events], "o-")
    ax.set_title(tag); ax.set_xlabel("iteration / epoch"); ax.grid(alpha=0.3)
plt.tight_layout(); plt.show()
"""
    ),
    md(
        """
## Using your model

```bash
monai-angio segment my_images/ --bundle xca_artery_catheter_efficientunetpp \\
    --weights runs/my_model/models/model.pt --out results/
```

Before trusting a model, evaluate it on the **test** split it never saw, on images from your own equipment
and population, and look at the failures, not just the average Dice. If you have expert vessel masks for some
of your images (`{n}.png` + `{n}_gt.png`), one command scores the model next to a training-free Frangi
baseline and draws the best, median and worst case:

```bash
monai-angio evaluate my_labelled_images/ --weights runs/my_model/models/model.pt --out eval/
# eval/per_image.csv, eval/summary.json, eval/contact_sheet.png
```

Add `--zoom 1.5` to see how the model copes when vessels are 1.5x wider in pixels (another system, another
magnification): a model that only works at one scale will not work on every catheterisation lab's images.
"""
    ),
]


# ------------------------------------------------------------------------------------------------ 04


NB04: List[Cell] = [
    md(
        """
# 4. Temporal segmentation: using neighbouring frames

A single frame can be ambiguous: quantum noise, a faint thin branch, a rib edge. A cardiologist scrolls back
and forth through the cine to decide. A **temporal** model does the same: to label frame *t* it looks at frames
*t-N ... t+N*.
"""
    ),
    setup("04"),
    md(
        """
## Why neighbours help

* **Noise** is independent from frame to frame while the anatomy is (almost) the same, so combining frames
  averages the noise down (by about the square root of the number of frames).
* **Vessels move** with the heart in a smooth, consistent way; the background (spine, ribs) moves differently
  or not at all. Motion helps separate them.

Below: the same background patch in one frame and averaged over three frames.
"""
    ),
    code(
        """
from monai_angio.data import synthetic

SIZE = 64 if FAST else 128
FRAMES = 6 if FAST else 12
cine = synthetic.generate_cine(seed=1, config=synthetic.PhantomConfig(size=SIZE, tree="rca", n_stenoses=0,
                                                                      catheter_french=(6,)), frames=FRAMES)
k = cine.key_frame
background = ~cine.vessel_masks.any(0) & (cine.labels == 0).all(0)
single = cine.images[k][background]
k0, k1 = max(0, k - 1), min(FRAMES, k + 2)
averaged = cine.images[k0:k1].mean(0)[background]
print(f"pixel-to-pixel variation in the background: single frame {np.std(np.diff(single)):.4f}, "
      f"average of {k1 - k0} frames {np.std(np.diff(averaged)):.4f}")
"""
    ),
    md(
        """
## The temporal window and edge padding

`TemporalWindow(num_neighbors=N)` cuts the `2N+1` frames around frame *t* out of the cine: input `(T, H, W)`,
output `(1, 2N+1, H, W)`. The first and last frames have no neighbour on one side, so the missing frames are
filled by **repeating the first / last frame** (edge padding): with N = 2, frame 0 uses frames `[0, 0, 0, 1, 2]`.
"""
    ),
    code(
        """
from monai_angio.transforms import TemporalWindow, window_indices

N = 2
for t in (0, 1, FRAMES // 2, FRAMES - 1):
    print(f"frame {t}: uses frames {window_indices(FRAMES, t, N)}")
window = TemporalWindow(num_neighbors=N)(torch.as_tensor(cine.images), 0)
print("cine", cine.images.shape, "-> window for frame 0:", tuple(window.shape))
fig, axes = plt.subplots(1, 2 * N + 1, figsize=(2.6 * (2 * N + 1), 2.8))
for i, (ax, src) in enumerate(zip(axes, window_indices(FRAMES, 0, N))):
    ax.imshow(window[0, i], cmap="gray"); ax.set_title(f"slot {i}: frame {src}"); ax.axis("off")
plt.show()
"""
    ),
    md(
        """
## The temporal CE-Net bundle

`xca_temporal_cenet` stacks the `2N+1` frames and passes them through a small **3D-to-2D stem**: 3D
convolutions mix information across neighbouring frames and space, then collapse the time axis into a 2D
feature map for the centre frame. A **CE-Net** (context-encoder network: a ResNet encoder, dense atrous
convolutions and multi-scale pooling for thin elongated structures) turns that into a vessel map (binary:
vessel / background). The code tells you whether trained weights exist; if not it runs with random weights
and the masks mean nothing.
"""
    ),
    code(
        """
from monai_angio.apps.segment import segment_files
from monai_angio.bundle import load_bundle
from monai_angio.data import write_nifti_cine

TEMPORAL = "xca_temporal_cenet"
cine_path = write_nifti_cine(WORK / "cine.nii.gz", cine.images, spacing_mm=cine.spacing_mm,
                             frame_time_ms=cine.frame_time_ms, overwrite=True)
try:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_bundle(TEMPORAL, allow_random_weights=True)
    print(f"bundle {model.name}: {2 * model.num_neighbors + 1} frames per window, classes {model.class_names}")
    print("weights:", model.weights if model.weights else "NONE - RANDOM weights, the masks below are meaningless")
except FileNotFoundError as e:
    model = None
    print("The temporal bundle is not available in this installation:", e)
"""
    ),
    md(
        """
## Small-component removal

Segmentations often contain isolated specks: a few pixels of noise labelled as vessel. A coronary tree is a
connected structure, so components smaller than a few dozen pixels can be removed safely
(`--min-size` on the command line, `RemoveSmallComponents` in code). Choose the size with care: a real vessel
interrupted by a tight stenosis or overlap can also break into pieces.
"""
    ),
    code(
        """
from scipy import ndimage

from monai_angio.transforms import RemoveSmallComponents

def n_components(mask):
    return int(ndimage.label(mask, structure=np.ones((3, 3)))[1])

MIN_SIZE = 10
if model is not None:
    frames = "all" if not FAST else [cine.key_frame]
    raw = segment_files([cine_path], model, WORK / "segmentation", overwrite=True, frames=frames, progress=False)[0]
    print(raw.error or f"segmented frames {raw.summary['frames']} -> {raw.outputs['labels']}")
    remover = RemoveSmallComponents(min_size=MIN_SIZE)
    for i, t in enumerate(raw.summary["frames"]):
        cleaned_frame = np.asarray(remover(raw.labels[i][None]))[0]
        print(f"frame {t}: {n_components(raw.labels[i] > 0)} components before, "
              f"{n_components(cleaned_frame > 0)} after removing < {MIN_SIZE} px"
              + ("" if model.weights else "  (random weights: not meaningful)"))
    # the command line does the same with: monai-angio segment cine.nii.gz --bundle xca_temporal_cenet --min-size 10

# the same operation on the phantom's ground truth with added specks (a controlled example)
rng = np.random.default_rng(0)
truth = (cine.labels[cine.key_frame] == 1).astype(np.uint8)
noisy = truth.copy()
noisy[rng.random(truth.shape) < 0.01] = 1
cleaned = np.asarray(RemoveSmallComponents(min_size=MIN_SIZE)(noisy[None]))[0]
print(f"ground truth {n_components(truth)} components; with specks {n_components(noisy)}; "
      f"after removal {n_components(cleaned)}")
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
for ax, m, title in zip(axes, (truth, noisy, cleaned), ("ground truth", "with noise specks", f"specks < {MIN_SIZE} px removed")):
    ax.imshow(m, cmap="gray"); ax.set_title(title); ax.axis("off")
plt.show()
"""
    ),
    md(
        """
## Take-home points

* Temporal models use `2N+1` neighbouring frames; the ends of the run are padded by repeating frames.
* Neighbouring frames reduce noise and help separate moving vessels from static background.
* Post-processing such as small-component removal cleans specks but can delete real, disconnected vessel
  pieces: always look at the overlay.
"""
    ),
]


NOTEBOOKS = {
    "01_segment_an_angiogram.ipynb": NB01,
    "02_catheter_calibration_and_stenosis.ipynb": NB02,
    "03_train_on_your_own_data.ipynb": NB03,
    "04_temporal_segmentation.ipynb": NB04,
}


def build(cells: List[Cell]) -> nbformat.NotebookNode:
    """A notebook (no outputs) from ``(kind, source)`` cells."""
    nb = new_notebook()
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids: regenerating gives identical files
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(out_dir: Path = HERE) -> List[Path]:
    """Write every notebook into ``out_dir``; returns the paths."""
    paths = []
    for name, cells in NOTEBOOKS.items():
        nb = build(cells)
        nbformat.validate(nb)
        path = Path(out_dir) / name
        nbformat.write(nb, str(path))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in main():
        print("wrote", p)
