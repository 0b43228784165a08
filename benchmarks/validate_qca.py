"""Validate catheter-calibrated QCA on synthetic phantoms with exact ground truth.

Not a timed test: run it by hand, e.g. ::

    python benchmarks/validate_qca.py --n 200 --size 512

For every phantom of :mod:`monai_angio.data.synthetic` (random LCA/RCA trees, 1-2 stenoses of 20-90 %,
5/6/7 F catheters, random dose/noise, random projection geometry) it

1. calibrates mm/px from the catheter in the ground-truth label map and compares it with the true
   isocentre spacing (``Phantom.spacing_mm``);
2. for every stenosis on a labelled (major) artery, runs QCA along the true stenosed segment between two
   points of the ground-truth centreline (lesion centre +- (lesion length/2 + max(3 mm, lesion length/2)))
   and compares MLD, reference diameter and %DS with the truth.

MLD truth is given twice: the true lumen (``Stenosis.mld_mm``) and the *projected* lumen
(``VesselSegment.diameter_px x spacing_mm`` at the lesion centre), which includes the out-of-plane
magnification that no single-view QCA can know about; the difference between the two isolates the
measurement error of the algorithm. The whole run is then repeated with masks degraded by 1-px boundary
noise (1-px dilation in random patches, 1-px erosion in others; ``--fraction`` of the field each), applied
to the artery and the catheter.

Prints a markdown table with commercial QCA phantom results for context. ``--cathlab`` also reports how often a
guidewire in the catheter was found and the calibration error with and without one; ``--sheet PNG`` draws the
catheters of the worst calibrations (the image around the measured segment, its median profile, the cylinder fit
and the fit with a guidewire), e.g. ``docs/images/catheter_calibration_worst.png`` from ::

    python benchmarks/validate_qca.py --n 60 --seed 720000 --cathlab --no-auto --methods edge \
        --sheet docs/images/catheter_calibration_worst.png
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import Dict, List, Optional

import numpy as np
from scipy import ndimage

from monai_angio.data.synthetic import PhantomConfig, generate_phantom
from monai_angio.errors import AngioInputError, CalibrationError
from monai_angio.qca import analyze_stenosis, calibrate_from_catheter
from monai_angio.utils.progress import track


def boundary_noise(
    mask: np.ndarray, rng: np.random.Generator, fraction: float = 0.33, corr_px: float = 1.0
) -> np.ndarray:
    """1-px boundary noise: the mask is dilated by one pixel in random patches and eroded in others.

    A smooth random field (Gaussian-filtered white noise, correlation ``corr_px``) is split in three: the top
    ``fraction`` of its values take the 1-px dilation, the bottom ``fraction`` the 1-px erosion, the rest is
    unchanged, so the edges wander by +-1 px in patches a few pixels long, like segmentation errors.
    """
    m = np.asarray(mask, bool)
    if not m.any():
        return m.copy()
    f = ndimage.gaussian_filter(rng.standard_normal(m.shape), corr_px)
    hi, lo = np.quantile(f, [1 - fraction, fraction])
    dil = ndimage.binary_dilation(m)
    ero = ndimage.binary_erosion(m)
    return np.where(f >= hi, dil, np.where(f <= lo, ero, m))


def degrade_label(label: np.ndarray, rng: np.random.Generator, p: float, corr_px: float = 1.0) -> np.ndarray:
    """Boundary noise (:func:`boundary_noise`) on artery and catheter separately (catheter wins where they touch)."""
    art = boundary_noise(label == 1, rng, p, corr_px)
    cat = boundary_noise(label == 2, rng, p, corr_px)
    out = np.zeros_like(label)
    out[art] = 1
    out[cat] = 2
    return out


def _arc(c: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(c, axis=0).T))])


def _overlapped(ph, seg, st, ext_mm: float, unlabelled: bool = False) -> bool:
    """True when another labelled vessel (or the catheter) crosses or touches the analysed lesion in projection.

    With ``unlabelled=True`` the thin branches that are drawn in the image but not labelled count too: they do
    not touch the mask, but they do cross the lumen in the image that the edge method measures.

    Checks the lesion core (+- half the lesion length around its centre): any point of another segment's
    centreline closer than the sum of both radii + 2 px means the 2D lumen there is not that of one vessel.
    The segment's own parent and children are ignored near their junction (two radii + 3 px): a lesion at a
    bifurcation stays in the evaluation, a vessel crossing it in projection does not.
    """
    c = np.asarray(seg.centerline_rc, float)
    s_mm = _arc(c) * ph.spacing_mm
    s0 = s_mm[st.center_index]
    core = np.abs(s_mm - s0) <= st.length_mm / 2
    pts = c[core]
    r_own = np.asarray(seg.diameter_px, float)[core] / 2 if seg.diameter_px is not None else np.full(len(pts), 5.0)
    for other in ph.segments:
        if other is seg or not (unlabelled or other.is_major or other.is_catheter):
            continue  # thin branches are drawn but not labelled: they do not touch the analysed mask
        oc = np.asarray(other.centerline_rc, float)
        orad = np.asarray(other.diameter_px, float) / 2 if other.diameter_px is not None else np.full(len(oc), 5.0)
        if other.parent == seg.name or seg.parent == other.name:
            junction = oc[0] if other.parent == seg.name else c[0]
            near = np.hypot(*(oc - junction).T) <= 2.0 * max(float(np.max(orad)), float(np.max(r_own))) + 3.0
            oc, orad = oc[~near], orad[~near]
            if len(oc) == 0:
                continue
        d = np.hypot(pts[:, None, 0] - oc[None, :, 0], pts[:, None, 1] - oc[None, :, 1])
        if np.any(d < r_own[:, None] + orad[None, :] + 2.0):
            return True
    return False


def evaluate_phantom(
    ph, label: np.ndarray, rows: List[Dict], cal_rows: List[Dict], seed: int, method: str = "mask"
) -> None:
    """Append calibration and per-lesion results of one phantom (and one label map) to the lists.

    ``method="mask"``: diameters and catheter width from the mask boundary (no image); ``"edge"``: both from the
    image borders (the mask only guides, :mod:`monai_angio.qca.edges`).
    """
    image = np.asarray(ph.image, np.float64) if method == "edge" else None
    wire = "guidewire" in ph.meta.get("cathlab", {}).get("devices", [])
    try:
        cal = calibrate_from_catheter(label, french=ph.catheter_french, filename=f"seed{seed}", image=image)
        err = (cal.mm_per_px - ph.spacing_mm) / ph.spacing_mm * 100
        cal_rows.append({"seed": seed, "french": ph.catheter_french, "error_pct": err, "ok": True, "wire": wire,
                         "source": cal.details.get("width_source"), "narrow": cal.details["narrow_catheter"]})
    except CalibrationError as e:
        cal_rows.append(
            {"seed": seed, "french": ph.catheter_french, "error_pct": np.nan, "ok": False, "why": e.problem,
             "wire": wire}
        )
        return
    artery = label == 1
    h, w = label.shape
    for st in ph.stenoses:
        seg = ph.segment(st.segment)
        if not seg.is_major:
            continue
        c = np.asarray(seg.centerline_rc, float)
        s_mm = _arc(c) * ph.spacing_mm
        s0 = s_mm[st.center_index]
        ext = st.length_mm / 2 + max(3.0, st.length_mm / 2)
        i0 = int(np.searchsorted(s_mm, s0 - ext))
        i1 = int(min(len(c) - 1, np.searchsorted(s_mm, s0 + ext)))
        inside = (c[:, 0] >= 2) & (c[:, 0] <= h - 3) & (c[:, 1] >= 2) & (c[:, 1] <= w - 3)
        if not (inside[st.center_index] and inside[i0] and inside[i1]):
            continue
        try:
            rep = analyze_stenosis(artery, image=image, calibration=cal, start_rc=c[i0], end_rc=c[i1], method=method)
        except AngioInputError:
            rows.append({"seed": seed, "ok": False})
            continue
        proj_mld = float(seg.diameter_px[st.center_index]) * ph.spacing_mm if seg.diameter_px is not None else st.mld_mm
        proj_scale = proj_mld / st.mld_mm if st.mld_mm > 0 else 1.0
        # projected lesion extent: arc length of the projected centreline over the lesion (foreshortening included)
        proj_len = float(s_mm[min(st.end_index, len(s_mm) - 1)] - s_mm[max(st.start_index, 0)])
        found = np.hypot(*(np.asarray(rep.mld_rc) - np.asarray(st.center_rc))) * ph.spacing_mm
        overlap = _overlapped(ph, seg, st, ext) or _overlapped(ph, seg, st, ext, unlabelled=True)
        overlap_labelled = _overlapped(ph, seg, st, ext)
        rows.append(
            {
                "seed": seed,
                "ok": True,
                "true_ds": st.percent_diameter,
                "ds_err": rep.percent_diameter_stenosis - st.percent_diameter,
                "mld_err": rep.mld_mm - st.mld_mm,
                "mld_err_proj": rep.mld_mm - proj_mld,
                "ref_err": rep.reference_diameter_mm - st.reference_diameter_mm,
                "ref_err_proj": rep.reference_diameter_mm - st.reference_diameter_mm * proj_scale,
                "len_ratio": rep.lesion_length_mm / st.length_mm,
                "len_ratio_proj": rep.lesion_length_mm / proj_len if proj_len > 0 else np.nan,
                "len_ratio_threshold": rep.details.get("lesion_threshold_length_mm", rep.lesion_length_mm) / proj_len
                if proj_len > 0 else np.nan,
                "len_true_mm": st.length_mm,
                "from_image": bool(rep.details.get("edges") and rep.details["edges"].get("mld_from_image")),
                "mld_found_mm": found,
                "located": found <= max(1.5, st.length_mm / 4),
                "overlap": overlap,
                "overlap_labelled": overlap_labelled,
            }
        )


def evaluate_automatic(
    ph, label: np.ndarray, auto_rows: List[Dict], seed: int, tol_mm: float = 5.0, image: Optional[np.ndarray] = None,
    method: Optional[str] = None,
) -> None:
    """Automatic lesion finding (no start/end points) against the true worst lesion on a major vessel.

    With ``image``, mask gaps are bridged through the image (``max_gap_mm`` 5 mm) and, unless ``method="mask"``,
    diameters and the catheter width come from the image borders.

    Phantoms whose worst major-vessel lesion is overlapped in projection or lies outside the image are skipped.
    """
    major = [st for st in ph.stenoses if ph.segment(st.segment).is_major]
    if not major:
        return
    worst = max(major, key=lambda st: st.percent_diameter)
    seg = ph.segment(worst.segment)
    h, w = label.shape
    r, c = worst.center_rc
    if not (5 <= r < h - 5 and 5 <= c < w - 5) or _overlapped(ph, seg, worst, 0.0):
        return
    try:
        cal = calibrate_from_catheter(
            label, french=ph.catheter_french, filename=f"seed{seed}", image=None if method == "mask" else image
        )
        rep = analyze_stenosis(label, image=image, calibration=cal, filename=f"seed{seed}", method=method)
    except (AngioInputError, CalibrationError):
        auto_rows.append({"seed": seed, "ok": False})
        return
    found = [np.hypot(*(np.asarray(rep.mld_rc) - np.asarray(st.center_rc))) * ph.spacing_mm for st in major]
    d_worst = float(np.hypot(*(np.asarray(rep.mld_rc) - np.asarray(worst.center_rc))) * ph.spacing_mm)
    listed = [
        np.hypot(*(np.asarray(les["mld_rc"]) - np.asarray(worst.center_rc))) * ph.spacing_mm
        for les in rep.details.get("lesions", [])
    ]
    auto_rows.append(
        {
            "seed": seed,
            "ok": True,
            "true_ds": worst.percent_diameter,
            "auto_ds": rep.percent_diameter_stenosis,
            "dist_worst_mm": d_worst,
            "hit_worst": d_worst <= tol_mm,
            "hit_any": min(found) <= tol_mm,
            "listed": bool(listed) and min(listed) <= tol_mm,
            "ds_err": rep.percent_diameter_stenosis - worst.percent_diameter,
            "mld_err": rep.mld_mm - worst.mld_mm,
            "cal_err_pct": (rep.mm_per_px - ph.spacing_mm) / ph.spacing_mm * 100,
        }
    )


def summarize_automatic(rows: List[Dict]) -> Dict[str, float]:
    """Summary of the automatic lesion finding rows."""
    ok = [r for r in rows if r.get("ok")]
    hit = [r for r in ok if r["hit_worst"]]
    col = lambda k, rr: np.array([r[k] for r in rr], float)  # noqa: E731
    nan = float("nan")
    return {
        "n": len(ok),
        "fail": len(rows) - len(ok),
        "hit_worst": float(np.mean([r["hit_worst"] for r in ok])) if ok else nan,
        "hit_any": float(np.mean([r["hit_any"] for r in ok])) if ok else nan,
        "listed": float(np.mean([r["listed"] for r in ok])) if ok else nan,
        "ds_bias": float(np.mean(col("ds_err", hit))) if hit else nan,
        "ds_sd": float(np.std(col("ds_err", hit))) if hit else nan,
        "mld_bias": float(np.mean(col("mld_err", hit))) if hit else nan,
        "mld_sd": float(np.std(col("mld_err", hit))) if hit else nan,
        "cal_bias": float(np.mean(col("cal_err_pct", ok))) if ok else nan,
        "cal_sd": float(np.std(col("cal_err_pct", ok))) if ok else nan,
    }


def automatic_table(res: Dict[str, Dict[str, float]], size: int, tol_mm: float = 5.0) -> str:
    """Markdown table of the automatic lesion finding (one column per mask source)."""
    f = lambda v, fmt: "n/a" if v is None or not np.isfinite(v) else format(v, fmt)  # noqa: E731
    names = list(res)
    lines = [
        f"| automatic lesion finding ({size} px, no start/end points) | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        "| phantoms evaluated (worst major lesion not overlapped) / failures | "
        + " | ".join(f"{res[k]['n']} / {res[k]['fail']}" for k in names) + " |",
        f"| reported worst lesion within {tol_mm:g} mm of the true worst lesion | "
        + " | ".join(f(100 * res[k]["hit_worst"], ".1f") + " %" for k in names) + " |",
        f"| ... within {tol_mm:g} mm of any true lesion | "
        + " | ".join(f(100 * res[k]["hit_any"], ".1f") + " %" for k in names) + " |",
        "| true worst lesion in the list of lesions >= 20 %DS | "
        + " | ".join(f(100 * res[k]["listed"], ".1f") + " %" for k in names) + " |",
        "| %DS error when found, mean +- SD (points) | "
        + " | ".join(f"{f(res[k]['ds_bias'], '+.2f')} +- {f(res[k]['ds_sd'], '.2f')}" for k in names) + " |",
        "| MLD error vs true lumen when found, mean +- SD (mm) | "
        + " | ".join(f"{f(res[k]['mld_bias'], '+.3f')} +- {f(res[k]['mld_sd'], '.3f')}" for k in names) + " |",
        "| catheter calibration error, mean +- SD (%) | "
        + " | ".join(f"{f(res[k]['cal_bias'], '+.2f')} +- {f(res[k]['cal_sd'], '.2f')}" for k in names) + " |",
    ]
    return "\n".join(lines)


def summarize(rows: List[Dict], cal_rows: List[Dict]) -> Dict[str, float]:
    """Summary statistics of one condition."""
    ok_cal = np.array([r["error_pct"] for r in cal_rows if r["ok"]])
    les = [r for r in rows if r.get("ok")]
    loc = [r for r in les if r["located"] and not r["overlap"]]
    allr = [r for r in les]

    def col(k, rr=loc):
        return np.array([r[k] for r in rr], float)

    def abs_err(wire: bool) -> float:
        e = [abs(r["error_pct"]) for r in cal_rows if r["ok"] and r.get("wire", False) == wire]
        return float(np.mean(e)) if e else np.nan

    def abs_err_narrow(narrow: bool) -> float:
        e = [abs(r["error_pct"]) for r in cal_rows if r["ok"] and r.get("narrow", False) == narrow]
        return float(np.mean(e)) if e else np.nan

    found = [r.get("source") == "image+guidewire" for r in cal_rows if r["ok"]]
    wired = [r.get("wire", False) for r in cal_rows if r["ok"]]
    return {
        "n_phantoms": len(cal_rows),
        "cal_fail": sum(not r["ok"] for r in cal_rows),
        "cal_wire": sum(wired),
        "cal_nowire": len(wired) - sum(wired),
        "wire_found": sum(f and w for f, w in zip(found, wired)),
        "wire_false": sum(f and not w for f, w in zip(found, wired)),
        "cal_abs_wire": abs_err(True),
        "cal_abs_nowire": abs_err(False),
        "cal_narrow": sum(r.get("narrow", False) for r in cal_rows if r["ok"]),
        "cal_narrow_big": sum(r.get("narrow", False) and abs(r["error_pct"]) > 5 for r in cal_rows if r["ok"]),
        "cal_big": sum(abs(r["error_pct"]) > 5 for r in cal_rows if r["ok"]),
        "cal_abs_narrow": abs_err_narrow(True),
        "cal_abs_wide": abs_err_narrow(False),
        "cal_bias": float(np.mean(ok_cal)) if ok_cal.size else np.nan,
        "cal_sd": float(np.std(ok_cal)) if ok_cal.size else np.nan,
        "cal_abs_mean": float(np.mean(np.abs(ok_cal))) if ok_cal.size else np.nan,
        "cal_p95": float(np.percentile(np.abs(ok_cal), 95)) if ok_cal.size else np.nan,
        "n_lesions": len(les),
        "n_overlap": sum(r["overlap"] for r in les),
        "n_overlap_labelled": sum(r.get("overlap_labelled", r["overlap"]) for r in les),
        "n_located": len(loc),
        "mld_bias_all": float(np.mean(col("mld_err_proj", allr))),
        "mld_sd_all": float(np.std(col("mld_err_proj", allr))),
        "mld_median": float(np.median(col("mld_err_proj"))),
        "mld_mad_sd": float(1.4826 * np.median(np.abs(col("mld_err_proj") - np.median(col("mld_err_proj"))))),
        "mld_bias": float(np.mean(col("mld_err"))),
        "mld_sd": float(np.std(col("mld_err"))),
        "mld_bias_proj": float(np.mean(col("mld_err_proj"))),
        "mld_sd_proj": float(np.std(col("mld_err_proj"))),
        "ref_bias": float(np.mean(col("ref_err"))),
        "ref_sd": float(np.std(col("ref_err"))),
        "ref_bias_proj": float(np.mean(col("ref_err_proj"))),
        "ref_sd_proj": float(np.std(col("ref_err_proj"))),
        "ds_bias": float(np.mean(col("ds_err"))),
        "ds_sd": float(np.std(col("ds_err"))),
        "len_ratio": float(np.median(col("len_ratio"))) if loc else np.nan,
        "len_ratio_proj": float(np.nanmedian(col("len_ratio_proj"))) if loc else np.nan,
        "len_ratio_threshold": float(np.nanmedian(col("len_ratio_threshold"))) if loc else np.nan,
        "len_q1": float(np.nanpercentile(col("len_ratio_proj"), 25)) if loc else np.nan,
        "len_q3": float(np.nanpercentile(col("len_ratio_proj"), 75)) if loc else np.nan,
        "from_image": float(np.mean(col("from_image"))) if loc else np.nan,
    }


def markdown_table(res: Dict[str, Dict[str, float]], args: argparse.Namespace) -> str:
    """The results as a markdown table, one column per (mask source, method), with commercial QCA anchors."""
    f = lambda v, fmt: "n/a" if v is None or not np.isfinite(v) else format(v, fmt)  # noqa: E731
    names = list(res)
    first = res[names[0]]

    def row(title: str, cell, target: str = "-", anchor: str = "-") -> str:
        return f"| {title} | " + " | ".join(cell(res[k]) for k in names) + f" | {target} | {anchor} |"

    pm = lambda b, s, fb=".3f", fs=".3f": (lambda r: f"{f(r[b], '+' + fb)} +- {f(r[s], fs)}")  # noqa: E731
    lines = [
        f"| metric ({first['n_phantoms']} phantoms, {args.size} px) | " + " | ".join(names)
        + " | target | commercial QCA on phantoms |",
        "|---|" + "---|" * (len(names) + 2),
        row("catheter calibration error, mean +- SD (%)", pm("cal_bias", "cal_sd", ".2f", ".2f"), "within 3 %"),
        row("calibration mean abs / 95th pct abs error (%)",
            lambda r: f"{f(r['cal_abs_mean'], '.2f')} / {f(r['cal_p95'], '.2f')}", "<= 3 %"),
        row("calibration failures (no straight catheter on an even, unclipped background) / phantoms",
            lambda r: f"{r['cal_fail']} / {r['n_phantoms']}"),
        row("guidewire in the catheter: found / calibrated phantoms with one; found in those without",
            lambda r: f"{r['wire_found']} / {r['cal_wire']}; {r['wire_false']} / {r['cal_nowire']}"),
        row("calibration mean abs error with / without a guidewire (%)",
            lambda r: f"{f(r['cal_abs_wire'], '.2f')} / {f(r['cal_abs_nowire'], '.2f')}"),
        row("catheter under 4 px wide (warned) / calibrated; errors above 5 % warned / all",
            lambda r: f"{r['cal_narrow']} / {r['n_phantoms'] - r['cal_fail']}; {r['cal_narrow_big']} / {r['cal_big']}"),
        row("calibration mean abs error, warned narrow / other catheters (%)",
            lambda r: f"{f(r['cal_abs_narrow'], '.2f')} / {f(r['cal_abs_wide'], '.2f')}"),
        row("lesions analysed / overlapped by a labelled vessel / by any drawn vessel / evaluated "
            "(not overlapped, MLD found at the lesion)",
            lambda r: f"{r['n_lesions']} / {r['n_overlap_labelled']} / {r['n_overlap']} / {r['n_located']}"),
        row("MLD bias +- SD vs projected lumen (mm)", pm("mld_bias_proj", "mld_sd_proj"),
            "abs bias <= 0.05, SD <= 0.10", "bias +0.07..+0.31, SD 0.14..0.24; CAAS 2D -0.06 +- 0.14"),
        row("MLD median error, robust SD (1.4826 MAD) vs projected (mm)",
            lambda r: f"{f(r['mld_median'], '+.3f')}, {f(r['mld_mad_sd'], '.3f')}"),
        row("MLD bias +- SD, all analysed lesions incl. overlaps (mm)", pm("mld_bias_all", "mld_sd_all")),
        row("MLD bias +- SD vs true lumen (mm, incl. out-of-plane magnification)", pm("mld_bias", "mld_sd"),
            anchor="same"),
        row("MLD measured from the image (edge method) at evaluated lesions (%)",
            lambda r: f(100 * r["from_image"], ".0f")),
        row("reference diameter bias +- SD vs projected (mm)", pm("ref_bias_proj", "ref_sd_proj")),
        row("reference diameter SD (mm)", lambda r: f(r["ref_sd_proj"], ".3f"), "<= 0.10"),
        row("%DS error, mean +- SD (points)", pm("ds_bias", "ds_sd", ".2f", ".2f"), "SD <= 5"),
        row("lesion length measured / projected true extent, median (IQR)",
            lambda r: f"{f(r['len_ratio_proj'], '.2f')} ({f(r['len_q1'], '.2f')}-{f(r['len_q3'], '.2f')})", "0.9-1.1"),
        row("lesion length measured / true 3D length (foreshortened in projection), median",
            lambda r: f(r["len_ratio"], ".2f")),
        row("... threshold definition (> max(5 % ref, 2 SD) below the reference) / projected, median",
            lambda r: f(r["len_ratio_threshold"], ".2f")),
    ]
    return "\n".join(lines)


def _phantom_overrides(items: List[str]) -> Dict[str, object]:
    """``["guidewire_prob=0", ...]`` -> ``{"guidewire_prob": 0}``: read as ``--set`` reads a bundle id (VALUE as JSON,
    :func:`~monai_angio.bundle.locate.parse_config_overrides`), checked against the PhantomConfig fields."""
    from monai_angio.bundle.locate import parse_config_overrides

    try:
        out = parse_config_overrides(items)
    except ValueError as e:
        raise SystemExit(f"--phantom: {e}; expected FIELD=VALUE with a PhantomConfig field") from None
    fields = {f.name for f in dataclasses.fields(PhantomConfig)}
    unknown = [k for k in out if k not in fields]
    if unknown:
        raise SystemExit(f"--phantom {unknown[0]!r}: expected FIELD=VALUE with a PhantomConfig field")
    return out


def _phantom_config(args: argparse.Namespace, prng: np.random.Generator, overrides: Dict[str, object]) -> PhantomConfig:
    """The phantom configuration of one seed: lesions and catheter sizes, the plain image chain with a dose drawn
    from ``prng`` (its first draw) or ``--cathlab``'s, then ``--phantom`` (which wins over the lesion settings)."""
    lesions = dict(n_stenoses=(1, 2), stenosis_percent=(20.0, 85.0), catheter_french=(5, 6, 7))
    if args.cathlab:  # the realistic image chain, devices and anatomy, with its own dose and noise
        cfg = PhantomConfig.cathlab(size=args.size, **lesions)
    else:
        cfg = PhantomConfig(size=args.size, dose=float(prng.choice([1000.0, 3000.0, 10000.0])), **lesions)
    return dataclasses.replace(cfg, **overrides)


def catheter_sheet(items: List[tuple], path: str) -> None:
    """Draw, per phantom, the image around the catheter's measured segment and its median profile with the plain
    and the guidewire fit (:mod:`monai_angio.qca.catheter_profile`), the true catheter edges and both errors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from monai_angio.qca.calibration import catheter_width_px
    from monai_angio.qca.catheter_profile import fit_catheter_with_and_without_wire, fitted_profile

    fig, axs = plt.subplots(2, max(len(items), 1), figsize=(3.6 * max(len(items), 1), 7.0), squeeze=False)
    for j, (ph, row) in enumerate(items):
        img = np.asarray(ph.image, np.float64)
        true_w = ph.catheter_french / 3.0 / ph.spacing_mm
        res = catheter_width_px(ph.label == 2, image=img, french=ph.catheter_french)
        seg = np.asarray(res["segment_rc"])
        w0 = res.get("width_image_px", res["width_mask_px"])
        x, y, _, plain, wired = fit_catheter_with_and_without_wire(img, seg, w0, ph.catheter_french)
        ax = axs[0, j]
        c = seg.mean(0)
        half = max(40.0, 0.6 * float(np.ptp(seg, axis=0).max()))
        ax.imshow(img, cmap="gray")
        ax.plot(seg[:, 1], seg[:, 0], "-", color="tab:red", lw=1.5, label="measured segment")
        ax.set_xlim(c[1] - half, c[1] + half)
        ax.set_ylim(c[0] + half, c[0] - half)
        ax.set_title(f"seed {row['seed']}, {ph.catheter_french}F, {true_w:.1f} px wide\n"
                     f"{'guidewire' if row.get('wire') else 'no guidewire'}; used: {row.get('source')}", fontsize=8)
        ax.axis("off")
        ax = axs[1, j]
        ax.plot(x, y, "k-", lw=2, label="median profile")
        ax.plot(x, fitted_profile(plain, x, y), "-", color="tab:blue", lw=1,
                label=f"cylinder: {100 * (true_w / plain.width - 1):+.1f} %")
        ax.plot(x, fitted_profile(wired, x, y), "--", color="tab:orange", lw=1,
                label=f"with wire: {100 * (true_w / wired.width - 1):+.1f} %")
        for v in (-0.5 * true_w, 0.5 * true_w):
            ax.axvline(v + plain.centre, color="tab:green", lw=0.8)
        ax.set_xlabel("offset across the catheter (px); green: true edges", fontsize=7)
        ax.set_title(f"calibration error {row['error_pct']:+.1f} %", fontsize=8)
        ax.legend(fontsize=6, loc="lower right")
        ax.tick_params(labelsize=6)
    fig.suptitle("catheter calibration: largest errors (scale error = true / measured width - 1)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the validation and print the markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="number of phantoms (default 200)")
    ap.add_argument("--size", type=int, default=512, help="image size in px (default 512)")
    ap.add_argument("--seed", type=int, default=1000, help="first seed")
    ap.add_argument("--fraction", type=float, default=0.33, help="boundary fraction dilated (and eroded) by 1 px")
    ap.add_argument("--corr", type=float, default=1.0, help="correlation length (px) of the boundary noise patches")
    ap.add_argument("--csv", default=None, help="optional CSV of per-lesion results")
    ap.add_argument("--sheet", default=None,
                    help="PNG: the catheter of the phantoms with the largest calibration errors (ground-truth masks, "
                         "edge): the image around its measured segment, its median profile and both fits")
    ap.add_argument("--sheet-tiles", type=int, default=6, help="phantoms on the --sheet (default 6)")
    ap.add_argument("--no-auto", action="store_true", help="skip the automatic lesion finding rows")
    ap.add_argument(
        "--model-n", type=int, default=0,
        help="also run automatic QCA on the flagship model's predicted masks for the first N phantoms (CPU, slow)",
    )
    ap.add_argument(
        "--methods", default="mask,edge",
        help="comma-separated diameter methods: mask (mask boundary, no image) and/or edge (image borders)",
    )
    ap.add_argument(
        "--cathlab", action="store_true",
        help="cath-lab phantoms (PhantomConfig.cathlab: collimators, anatomy, wires, a guidewire in the catheter, "
        "exposure, edge enhancement, JPEG) with the same lesions and catheter sizes",
    )
    ap.add_argument(
        "--phantom", action="append", default=[], metavar="FIELD=VALUE",
        help="override a PhantomConfig field, VALUE read as JSON, e.g. --phantom guidewire_prob=0 (repeatable)",
    )
    args = ap.parse_args(argv)
    overrides = _phantom_overrides(args.phantom)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    t0 = time.time()
    conds = ["ground-truth masks", "1-px boundary noise"] + (["model-predicted masks"] if args.model_n > 0 else [])
    rows: Dict[str, List[Dict]] = {f"{c}, {m}": [] for c in conds for m in methods}
    cal_rows: Dict[str, List[Dict]] = {k: [] for k in rows}
    auto_rows: Dict[str, List[Dict]] = {}
    for c in ["ground-truth masks"] + (["model-predicted masks"] if args.model_n > 0 else []):
        for m in methods:
            auto_rows[f"{c}, {m}"] = []
    model = None
    if args.model_n > 0:
        from monai_angio.apps.segment import load_bundle

        model = load_bundle("xca_artery_catheter_efficientunetpp", device="cpu")
    for k in track(range(args.n), desc="phantoms", unit="phantom"):  # a line per 10 phantoms in a log file
        seed = args.seed + k
        prng = np.random.default_rng(seed)
        ph = generate_phantom(seed, _phantom_config(args, prng, overrides))
        labels = {"ground-truth masks": ph.label, "1-px boundary noise": degrade_label(ph.label, prng, args.fraction, args.corr)}
        if model is not None and k < args.model_n:
            pred = np.asarray(model.predict(np.asarray(ph.image, np.float32)[None]))
            labels["model-predicted masks"] = pred.reshape(ph.label.shape).astype(np.uint8)
        img = np.asarray(ph.image, np.float32)
        for cond, lab in labels.items():
            for m in methods:
                evaluate_phantom(ph, lab, rows[f"{cond}, {m}"], cal_rows[f"{cond}, {m}"], seed, method=m)
        if not args.no_auto:
            for m in methods:
                evaluate_automatic(
                    ph, ph.label, auto_rows[f"ground-truth masks, {m}"], seed,
                    image=img if m == "edge" else None, method=m,
                )
                if "model-predicted masks" in labels:  # the image is always passed here (gap bridging)
                    evaluate_automatic(
                        ph, labels["model-predicted masks"], auto_rows[f"model-predicted masks, {m}"], seed,
                        image=img, method=m,
                    )
    res = {k: summarize(rows[k], cal_rows[k]) for k in rows if cal_rows[k]}
    print()
    print(markdown_table(res, args))
    if not args.no_auto:
        ares = {k: summarize_automatic(v) for k, v in auto_rows.items() if v}
        print()
        print(automatic_table(ares, args.size))
    print(f"\n{args.n} phantoms in {time.time() - t0:.0f} s")
    key = "ground-truth masks, edge"
    if args.sheet and key in cal_rows:
        worst = sorted((r for r in cal_rows[key] if r["ok"]), key=lambda r: -abs(r["error_pct"]))[: args.sheet_tiles]
        phantoms = [generate_phantom(r["seed"], _phantom_config(args, np.random.default_rng(r["seed"]), overrides))
                    for r in worst]
        catheter_sheet(list(zip(phantoms, worst)), args.sheet)
        print(f"catheter sheet: {args.sheet}")
    if args.csv:
        import csv

        keys = sorted({k for rr in rows.values() for r in rr for k in r})
        with open(args.csv, "w", newline="") as fh:
            wr = csv.DictWriter(fh, fieldnames=["condition"] + keys)
            wr.writeheader()
            for cond, rr in rows.items():
                for r in rr:
                    wr.writerow({"condition": cond, **r})
    return 0


if __name__ == "__main__":
    sys.exit(main())
