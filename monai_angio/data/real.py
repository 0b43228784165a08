"""Readers that turn public X-ray coronary angiography data set layouts into the bundles' datalists.

Every reader returns a list of dicts (one per image), sorted by case id (numbers numerically)::

    {"image": "/abs/path/12.png", "label": "/abs/path/12_gt.png", "label_kind": "vessel", "case": "12"}

``label_kind`` says what the mask means: ``"vessel"`` is a binary vessel mask (any value > 0 is vessel; arteries
and, depending on the data set, thin branches; the catheter is *not* labelled), unlike the synthetic data's
three-class label maps (0 background, 1 artery, 2 catheter). Paths are absolute; pass the list to
:func:`monai_angio.data.make_datalist` to write a decathlon-style JSON with relative paths.

- :func:`folder_datalist`: a folder of images plus masks named by a pattern (default ``{n}.png`` /
  ``{n}_gt.png``, e.g. the CIMAT ``Angios_40_training`` folder).
- :func:`dca1_datalist`: the DCA1 / CIMAT layout (``{n}.pgm`` / ``{n}_gt.pgm`` or ``.png`` in one folder).
- :func:`arcade_datalist`: an ARCADE COCO json; the polygons of every image are rasterised into one binary
  artery mask PNG written into a folder the caller gives.
- :func:`split_datalist` (seeded hold-out) and :func:`kfold_datalist` (seeded k-fold), so that training and
  evaluation agree on which images were held back.
- :func:`read_gray` / :func:`read_mask`: load an image (PNG, PGM, ...) as float32 ``(H, W)`` and a mask as bool.

Patterns contain ``{n}`` (the case id, any non-empty text) and optionally ``{ext}`` (one of ``extensions``);
everything else is literal. Bad input raises :class:`~monai_angio.errors.AngioInputError` naming the file.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from monai_angio.errors import AngioInputError
from monai_angio.utils import atomic_path

__all__ = [
    "DEFAULT_IMAGE_PATTERN",
    "DEFAULT_MASK_PATTERN",
    "MISSING_MASK_POLICIES",
    "folder_datalist",
    "dca1_datalist",
    "arcade_datalist",
    "rasterize_polygons",
    "split_datalist",
    "kfold_datalist",
    "holdout_ids",
    "case_ids",
    "read_gray",
    "read_mask",
]

PathLike = Union[str, os.PathLike]

DEFAULT_IMAGE_PATTERN = "{n}.png"
DEFAULT_MASK_PATTERN = "{n}_gt.png"
#: what :func:`folder_datalist` does with an image that has no mask.
MISSING_MASK_POLICIES = ("warn", "skip", "raise", "keep")
_IMAGE_EXTENSIONS = ("png", "pgm", "ppm", "pbm", "jpg", "jpeg", "tif", "tiff", "bmp")


# ----------------------------------------------------------------------------------------------------
# patterns and ids
# ----------------------------------------------------------------------------------------------------


def _pattern_regex(pattern: str, extensions: Sequence[str]) -> "re.Pattern[str]":
    """``"{n}_gt.{ext}"`` -> a compiled regex with a named group ``n`` (and ``ext``), case-insensitive extension."""
    if "{n}" not in pattern:
        raise AngioInputError(f"file name pattern {pattern!r} has no '{{n}}' placeholder for the case id")
    if os.sep in pattern or (os.altsep and os.altsep in pattern):
        raise AngioInputError(f"file name pattern {pattern!r} must be a file name, not a path")
    parts = re.split(r"(\{n\}|\{ext\})", pattern)
    out = []
    seen = set()
    for part in parts:
        if part in ("{n}", "{ext}"):
            if part in seen:
                raise AngioInputError(f"file name pattern {pattern!r} repeats {part}")
            seen.add(part)
            if part == "{n}":
                out.append(r"(?P<n>.+)")
            else:
                exts = "|".join(re.escape(e.lstrip(".")) for e in extensions)
                out.append(rf"(?P<ext>(?i:{exts}))")
        elif part:
            if "{" in part or "}" in part:
                raise AngioInputError(f"file name pattern {pattern!r}: only {{n}} and {{ext}} are placeholders")
            out.append(re.escape(part))
    return re.compile("".join(out))


def _natural_key(case: str) -> Tuple:
    """Sort key: digit runs compare as numbers (``"2" < "10"``)."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(case)) if t != "")


def _match_files(folder: Path, regex: "re.Pattern[str]", exclude: Sequence[Path] = ()) -> Dict[str, Path]:
    """Case id -> file for the files of ``folder`` whose names match ``regex``; two files for one id is an error."""
    excluded = {p.resolve() for p in exclude}
    found: Dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.resolve() in excluded:
            continue
        m = regex.fullmatch(p.name)
        if m is None:
            continue
        n = m.group("n")
        if n in found:
            raise AngioInputError(f"two files for case {n!r}: {found[n].name} and {p.name}", p)
        found[n] = p
    return found


def _image_size(path: Path) -> Tuple[int, int]:
    """``(height, width)`` from the image header (the pixels are not decoded)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
    except Exception as e:  # noqa: BLE001 - any decoder failure is a bad file
        raise AngioInputError(f"cannot read image ({type(e).__name__}: {e})", path) from e
    return int(h), int(w)


def _check_folder(folder: PathLike, what: str) -> Path:
    p = Path(folder).expanduser()
    if not p.is_dir():
        raise AngioInputError(f"{what} folder does not exist or is not a folder", p)
    return p.resolve()


# ----------------------------------------------------------------------------------------------------
# folder of images + masks
# ----------------------------------------------------------------------------------------------------


def folder_datalist(
    folder: PathLike,
    image_pattern: str = DEFAULT_IMAGE_PATTERN,
    mask_pattern: str = DEFAULT_MASK_PATTERN,
    mask_folder: Optional[PathLike] = None,
    missing_mask: str = "warn",
    label_kind: str = "vessel",
    extensions: Sequence[str] = _IMAGE_EXTENSIONS,
    check_sizes: bool = True,
) -> List[Dict[str, Any]]:
    """Pair the images of a folder with their masks by a file name pattern.

    Image candidates are the files matching ``image_pattern`` that do not also match ``mask_pattern``
    (``{n}.png`` matches ``3_gt.png`` too, with ``n = "3_gt"``).

    Args:
        folder: folder holding the images (and, by default, the masks). Not searched recursively.
        image_pattern: image file name with ``{n}`` for the case id (and optionally ``{ext}``), e.g. ``"{n}.png"``.
        mask_pattern: mask file name, e.g. ``"{n}_gt.png"``.
        mask_folder: folder of the masks if not ``folder``.
        missing_mask: an image without a mask is ``"warn"`` (skipped with a warning naming it), ``"skip"``
            (silently), ``"raise"`` (:class:`AngioInputError` naming it) or ``"keep"`` (listed without
            ``"label"``, e.g. to run inference).
        label_kind: value of the entries' ``"label_kind"`` (``"vessel"``: binary vessel mask, catheter unlabelled).
        extensions: what ``{ext}`` may stand for.
        check_sizes: read the image headers and raise if an image and its mask differ in size.

    Returns:
        Entries ``{"image", "label", "label_kind", "case"}`` with absolute paths, sorted by case id.

    Raises:
        AngioInputError: missing folder, bad pattern, a mask without an image (naming the mask), an image without
            a mask with ``missing_mask="raise"``, two files for one case, unreadable files or size mismatches.
    """
    if missing_mask not in MISSING_MASK_POLICIES:
        raise AngioInputError(f"missing_mask must be one of {MISSING_MASK_POLICIES}, got {missing_mask!r}")
    img_dir = _check_folder(folder, "image")
    msk_dir = img_dir if mask_folder is None else _check_folder(mask_folder, "mask")
    img_re = _pattern_regex(image_pattern, extensions)
    msk_re = _pattern_regex(mask_pattern, extensions)
    masks = _match_files(msk_dir, msk_re)
    images = _match_files(img_dir, img_re, exclude=list(masks.values()) if msk_dir == img_dir else ())
    if not images and not masks:
        raise AngioInputError(
            f"no files match the image pattern {image_pattern!r} or the mask pattern {mask_pattern!r}", img_dir
        )
    orphans = sorted(set(masks) - set(images), key=_natural_key)
    if orphans:
        first = masks[orphans[0]]
        more = f" (and {len(orphans) - 1} more)" if len(orphans) > 1 else ""
        raise AngioInputError(
            f"mask without an image: no file matching {image_pattern!r} for case {orphans[0]!r} in {img_dir}{more}",
            first,
        )
    items: List[Dict[str, Any]] = []
    unmatched: List[Path] = []
    for n in sorted(images, key=_natural_key):
        img = images[n]
        entry: Dict[str, Any] = {"image": str(img)}
        if n in masks:
            if check_sizes:
                si, sm = _image_size(img), _image_size(masks[n])
                if si != sm:
                    raise AngioInputError(
                        f"mask is {sm[0]}x{sm[1]} but its image {img.name} is {si[0]}x{si[1]}", masks[n]
                    )
            entry["label"] = str(masks[n])
        else:
            if missing_mask == "raise":
                raise AngioInputError(f"image without a mask: no file matching {mask_pattern!r} in {msk_dir}", img)
            unmatched.append(img)
            if missing_mask != "keep":
                continue
        entry.update({"label_kind": label_kind, "case": n})
        items.append(entry)
    if unmatched and missing_mask == "warn":
        names = ", ".join(str(p) for p in unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
        warnings.warn(f"{len(unmatched)} image(s) without a mask skipped: {names}", stacklevel=2)
    return items


def dca1_datalist(
    folder: PathLike,
    missing_mask: str = "warn",
    extensions: Sequence[str] = ("pgm", "png"),
    check_sizes: bool = True,
) -> List[Dict[str, Any]]:
    """Datalist of the DCA1 / CIMAT layout: ``{n}.pgm`` images with ``{n}_gt.pgm`` masks in one folder.

    PNG (``{n}.png`` / ``{n}_gt.png``) is accepted as well, and an image and its mask may differ in format.

    Args:
        folder: the data set folder (e.g. ``Database_134_Angiograms`` of DCA1, or ``Angios_40_training``).
        missing_mask: see :func:`folder_datalist`.
        extensions: accepted file extensions.
        check_sizes: see :func:`folder_datalist`.

    Returns:
        Entries as :func:`folder_datalist` (``label_kind="vessel"``).

    Raises:
        AngioInputError: as :func:`folder_datalist`, and when one case has both a ``.pgm`` and a ``.png`` image.
    """
    return folder_datalist(
        folder,
        image_pattern="{n}.{ext}",
        mask_pattern="{n}_gt.{ext}",
        missing_mask=missing_mask,
        label_kind="vessel",
        extensions=extensions,
        check_sizes=check_sizes,
    )


# ----------------------------------------------------------------------------------------------------
# ARCADE (COCO json)
# ----------------------------------------------------------------------------------------------------


def rasterize_polygons(polygons: Sequence[Sequence[float]], height: int, width: int) -> np.ndarray:
    """Fill COCO polygons (flat ``[x1, y1, x2, y2, ...]`` lists, pixel coordinates) into one boolean mask.

    COCO's pixel convention (as ``pycocotools``): pixel ``(row, col)`` covers ``[col, col + 1) x [row, row + 1)``
    and is set when its centre ``(x=col + 0.5, y=row + 0.5)`` lies inside the polygon, so a rectangle with integer
    corners fills exactly its area. Reading the corners as pixel centres instead (``PIL.ImageDraw.polygon`` with its
    outline) would move every mask half a pixel up-left and widen it by a pixel, a bias as large as a small
    artery's width error.

    Args:
        polygons: polygons, each a flat list of at least 3 ``(x, y)`` points.
        height: mask height.
        width: mask width.

    Returns:
        ``(height, width)`` bool mask.

    Raises:
        AngioInputError: a polygon with an odd number of coordinates, fewer than 3 points, or non-finite values.
    """
    from matplotlib.path import Path as PolygonPath

    if height <= 0 or width <= 0:
        raise AngioInputError(f"invalid mask size {height}x{width}")
    mask = np.zeros((int(height), int(width)), dtype=bool)
    for k, poly in enumerate(polygons):
        xy = np.asarray(poly, dtype=np.float64).ravel()
        if xy.size % 2 or xy.size < 6:
            raise AngioInputError(f"polygon {k} has {xy.size} coordinates; need an even number >= 6")
        if not np.isfinite(xy).all():
            raise AngioInputError(f"polygon {k} has non-finite coordinates")
        pts = xy.reshape(-1, 2)
        c0, r0 = np.maximum(np.floor(pts.min(0) - 0.5).astype(int), 0)
        c1, r1 = np.minimum(np.ceil(pts.max(0) + 0.5).astype(int), [width, height])
        if c1 <= c0 or r1 <= r0:
            continue  # entirely outside the image
        rr, cc = np.mgrid[r0:r1, c0:c1]
        centres = np.stack([cc.ravel() + 0.5, rr.ravel() + 0.5], axis=1)
        inside = PolygonPath(pts).contains_points(centres).reshape(rr.shape)
        mask[r0:r1, c0:c1] |= inside
    return mask


def _find_image_dir(json_path: Path) -> Path:
    for cand in (json_path.parent.parent / "images", json_path.parent / "images", json_path.parent):
        if cand.is_dir():
            return cand
    return json_path.parent


def arcade_datalist(
    annotation_json: PathLike,
    mask_dir: PathLike,
    image_dir: Optional[PathLike] = None,
    category_ids: Optional[Sequence[int]] = None,
    keep_empty: bool = True,
    foreground: int = 1,
    overwrite: bool = False,
    label_kind: str = "vessel",
) -> List[Dict[str, Any]]:
    """Rasterise an ARCADE COCO json (SYNTAX segment polygons) into binary artery masks and list the pairs.

    Every polygon of every annotation of an image (all SYNTAX segments, or only ``category_ids``) is filled
    into one binary mask, written as an 8-bit PNG ``<mask_dir>/<image stem>_mask.png`` (0 background,
    ``foreground`` artery). ``pycocotools`` is not needed.

    Args:
        annotation_json: the COCO file (``images``, ``annotations`` with ``image_id``, ``category_id`` and
            polygon ``segmentation``).
        mask_dir: output folder for the masks (created); must not be the image folder nor the json's folder.
        image_dir: folder of the images named by ``file_name``; default ``<json>/../../images`` (the ARCADE
            layout ``<split>/images`` + ``<split>/annotations/<split>.json``), else ``<json folder>/images``,
            else the json's folder.
        category_ids: only rasterise these categories (default all).
        keep_empty: list images without a (selected) annotation with an empty mask; otherwise leave them out.
        foreground: mask value of artery pixels (1 follows the project's label PNGs; 255 for viewing).
        overwrite: replace existing mask files (otherwise an existing mask raises ``FileExistsError``).
        label_kind: value of the entries' ``"label_kind"``.

    Returns:
        Entries ``{"image", "label", "label_kind", "case", "coco_id"}`` sorted by case id (the image stem).

    Raises:
        AngioInputError: unreadable/invalid json (naming it), RLE segmentations, annotations of unknown images,
            a missing image file (naming it), a size different from the json's, or ``mask_dir`` next to the inputs.
        FileExistsError: a mask exists and ``overwrite`` is False.
    """
    jpath = Path(annotation_json).expanduser().resolve()
    try:
        coco = json.loads(jpath.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise AngioInputError("annotation file does not exist", jpath) from e
    except (OSError, ValueError) as e:
        raise AngioInputError(f"cannot read COCO json ({type(e).__name__}: {e})", jpath) from e
    if not isinstance(coco, dict) or not isinstance(coco.get("images"), list):
        raise AngioInputError("not a COCO annotation file (no 'images' list)", jpath)
    anns = coco.get("annotations", [])
    if not isinstance(anns, list):
        raise AngioInputError("'annotations' is not a list", jpath)
    img_dir = _find_image_dir(jpath) if image_dir is None else _check_folder(image_dir, "image")
    img_dir = img_dir.resolve()
    out_dir = Path(mask_dir).expanduser().resolve()
    if out_dir in (img_dir, jpath.parent):
        raise AngioInputError(
            "mask_dir must be a separate output folder, not the image or annotation folder", out_dir
        )
    if not 0 < int(foreground) <= 255:
        raise AngioInputError(f"foreground must be in 1..255, got {foreground}")
    wanted = None if category_ids is None else {int(c) for c in category_ids}

    images: Dict[Any, Dict[str, Any]] = {}
    for rec in coco["images"]:
        if not isinstance(rec, dict) or "id" not in rec or "file_name" not in rec:
            raise AngioInputError(f"image record without 'id' or 'file_name': {rec!r}", jpath)
        if rec["id"] in images:
            raise AngioInputError(f"duplicate image id {rec['id']!r}", jpath)
        images[rec["id"]] = rec
    polys: Dict[Any, List[Sequence[float]]] = {k: [] for k in images}
    for a in anns:
        if not isinstance(a, dict) or "image_id" not in a:
            raise AngioInputError(f"annotation without 'image_id': {a!r}", jpath)
        if a["image_id"] not in images:
            raise AngioInputError(f"annotation {a.get('id')!r} refers to unknown image id {a['image_id']!r}", jpath)
        if wanted is not None and int(a.get("category_id", -1)) not in wanted:
            continue
        seg = a.get("segmentation", [])
        if isinstance(seg, dict):
            raise AngioInputError(
                f"annotation {a.get('id')!r} has an RLE segmentation; only polygons are supported", jpath
            )
        if seg and not isinstance(seg[0], (list, tuple)):
            seg = [seg]  # a single flat polygon
        polys[a["image_id"]].extend(seg)

    items: List[Dict[str, Any]] = []
    planned: Dict[Path, Any] = {}
    for iid, rec in images.items():
        if not polys[iid] and not keep_empty:
            continue
        img = (img_dir / str(rec["file_name"])).resolve()
        if not img.is_file():
            raise AngioInputError(f"image listed in {jpath.name} (id {iid!r}) does not exist", img)
        h, w = _image_size(img)
        jh, jw = rec.get("height"), rec.get("width")
        if (jh is not None and int(jh) != h) or (jw is not None and int(jw) != w):
            raise AngioInputError(f"image is {h}x{w} but {jpath.name} says {jh}x{jw}", img)
        mask_path = out_dir / f"{Path(str(rec['file_name'])).stem}_mask.png"
        if mask_path in planned:
            raise AngioInputError(f"two images would write the same mask {mask_path.name}", img)
        planned[mask_path] = iid
        try:
            mask = rasterize_polygons(polys[iid], h, w)
        except AngioInputError as e:
            raise AngioInputError(f"image id {iid!r}: {e.problem}", jpath) from e
        items.append(
            {
                "image": str(img),
                "label": str(mask_path),
                "label_kind": label_kind,
                "case": Path(str(rec["file_name"])).stem,
                "coco_id": iid,
                "_mask": mask,
            }
        )
    if not overwrite:
        for p in planned:
            if p.exists():
                raise FileExistsError(f"{p}: exists; refusing to overwrite (use overwrite=True)")
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    for it in items:
        mask = it.pop("_mask")
        with atomic_path(it["label"], overwrite=overwrite) as tmp:
            Image.fromarray(mask.astype(np.uint8) * np.uint8(foreground), mode="L").save(tmp, format="PNG")
    return sorted(items, key=lambda e: _natural_key(e["case"]))


# ----------------------------------------------------------------------------------------------------
# deterministic splits
# ----------------------------------------------------------------------------------------------------


def _case_of(item: Dict[str, Any], key: str) -> str:
    if key in item:
        return str(item[key])
    if "image" in item:
        return Path(str(item["image"])).name
    raise AngioInputError(f"datalist entry has neither {key!r} nor 'image': {item!r}")


def case_ids(items: Sequence[Dict[str, Any]], key: str = "case") -> List[str]:
    """Distinct case ids of a datalist (``item[key]``, else the image file name), in natural order."""
    return sorted({_case_of(it, key) for it in items}, key=_natural_key)


def holdout_ids(ids: Sequence[str], n_holdout: int, seed: int = 0) -> List[str]:
    """The ``n_holdout`` case ids held back by ``seed``: independent of the order of ``ids``.

    The distinct ids are put in natural order, shuffled with ``numpy.random.default_rng(seed)`` and the first
    ``n_holdout`` are returned (in natural order).

    Raises:
        AngioInputError: ``n_holdout`` negative or larger than the number of cases.
    """
    uniq = sorted({str(i) for i in ids}, key=_natural_key)
    if not 0 <= int(n_holdout) <= len(uniq):
        raise AngioInputError(f"n_holdout must be in 0..{len(uniq)} (number of cases), got {n_holdout}")
    order = np.random.default_rng(int(seed)).permutation(len(uniq))
    return sorted((uniq[i] for i in order[: int(n_holdout)]), key=_natural_key)


def split_datalist(
    items: Sequence[Dict[str, Any]],
    n_holdout: Optional[int] = None,
    seed: int = 0,
    holdout_fraction: Optional[float] = None,
    key: str = "case",
) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Seeded hold-out split by case: ``(train, holdout)``.

    The same ``(ids, n_holdout, seed)`` always hold back the same cases, whatever the order of ``items``
    (see :func:`holdout_ids`); entries of one case stay together. Both lists keep the input order.

    Args:
        items: datalist entries.
        n_holdout: number of cases to hold back (give this or ``holdout_fraction``).
        seed: shuffle seed.
        holdout_fraction: fraction of cases held back (rounded, at least 1 when > 0).
        key: entry key of the case id (falls back to the image file name).

    Returns:
        ``(train, holdout)``.

    Raises:
        AngioInputError: neither or both of ``n_holdout`` / ``holdout_fraction``, or out of range.
    """
    ids = case_ids(items, key)
    if (n_holdout is None) == (holdout_fraction is None):
        raise AngioInputError("give exactly one of n_holdout or holdout_fraction")
    if holdout_fraction is not None:
        if not 0 <= holdout_fraction < 1:
            raise AngioInputError(f"holdout_fraction must be in [0, 1), got {holdout_fraction}")
        n_holdout = int(round(holdout_fraction * len(ids)))
        if holdout_fraction > 0:
            n_holdout = max(1, n_holdout)
    held = set(holdout_ids(ids, int(n_holdout), seed))
    train = [it for it in items if _case_of(it, key) not in held]
    hold = [it for it in items if _case_of(it, key) in held]
    return train, hold


def kfold_datalist(
    items: Sequence[Dict[str, Any]], k: int, fold: int, seed: int = 0, key: str = "case"
) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Seeded k-fold split by case: ``(train, validation)`` of fold ``fold`` (``0..k-1``).

    Cases are shuffled as in :func:`holdout_ids` and dealt into ``k`` folds of near-equal size (the first
    ``n % k`` folds get one more); every case is in exactly one validation fold.

    Raises:
        AngioInputError: ``k < 2``, more folds than cases, or ``fold`` out of range.
    """
    ids = case_ids(items, key)
    if k < 2 or k > len(ids):
        raise AngioInputError(f"k must be in 2..{len(ids)} (number of cases), got {k}")
    if not 0 <= fold < k:
        raise AngioInputError(f"fold must be in 0..{k - 1}, got {fold}")
    order = np.random.default_rng(int(seed)).permutation(len(ids))
    folds = np.array_split(order, k)
    val_ids = {ids[i] for i in folds[fold]}
    train = [it for it in items if _case_of(it, key) not in val_ids]
    val = [it for it in items if _case_of(it, key) in val_ids]
    return train, val


# ----------------------------------------------------------------------------------------------------
# pixel readers
# ----------------------------------------------------------------------------------------------------


def read_gray(path: PathLike) -> np.ndarray:
    """Read a grey still (PNG, PGM, JPEG, TIFF, BMP; RGB is converted to luminance) as float32 ``(H, W)``.

    Values are kept as stored (8-bit 0..255, 16-bit 0..65535).

    Raises:
        AngioInputError: unreadable file or not a single 2D image.
    """
    from PIL import Image

    p = Path(path)
    try:
        with Image.open(p) as im:
            im.load()
            if im.mode in ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "P", "PA", "LA"):
                arr = np.asarray(im.convert("L"))
            else:  # L, I, I;16, F, 1
                arr = np.asarray(im)
    except Exception as e:  # noqa: BLE001 - any decoder failure is a bad file
        raise AngioInputError(f"cannot read image ({type(e).__name__}: {e})", p) from e
    if arr.ndim != 2 or 0 in arr.shape:
        raise AngioInputError(f"expected a 2D grey image, got shape {arr.shape}", p)
    return arr.astype(np.float32)


def read_mask(path: PathLike) -> np.ndarray:
    """Read a binary mask (0/255, 0/1 or any value > 0 = foreground) as bool ``(H, W)``.

    Raises:
        AngioInputError: unreadable file or not 2D.
    """
    return read_gray(path) > 0
