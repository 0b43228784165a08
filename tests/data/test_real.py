"""Tests of the public data set readers on tiny made-up folders (no real data is used or shipped)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_angio.data import (
    arcade_datalist,
    dca1_datalist,
    folder_datalist,
    holdout_ids,
    kfold_datalist,
    rasterize_polygons,
    read_gray,
    read_mask,
    split_datalist,
)
from monai_angio.errors import AngioInputError


def _img(path: Path, h: int = 8, w: int = 10, value: int = 100) -> Path:
    arr = np.full((h, w), value, dtype=np.uint8)
    arr[0, 0] = 7
    Image.fromarray(arr, mode="L").save(path)
    return path


def _mask(path: Path, h: int = 8, w: int = 10) -> Path:
    arr = np.zeros((h, w), dtype=np.uint8)
    arr[2:4, 3:7] = 255
    Image.fromarray(arr, mode="L").save(path)
    return path


def _cases(items):
    return [it["case"] for it in items]


# ---------------------------------------------------------------------------------------------- folder


def test_folder_default_pattern_pairs_exactly(tmp_path):
    for n in (1, 2, 10):
        _img(tmp_path / f"{n}.png")
        _mask(tmp_path / f"{n}_gt.png")
    (tmp_path / "README.md").write_text("not an image")
    items = folder_datalist(tmp_path)
    assert _cases(items) == ["1", "2", "10"]  # natural order, masks not taken for images
    for it, n in zip(items, (1, 2, 10)):
        assert it["image"] == str((tmp_path / f"{n}.png").resolve())
        assert it["label"] == str((tmp_path / f"{n}_gt.png").resolve())
        assert it["label_kind"] == "vessel"
        assert Path(it["image"]).is_absolute()


def test_folder_custom_patterns_and_mask_folder(tmp_path):
    imgs, msks = tmp_path / "images", tmp_path / "masks"
    imgs.mkdir()
    msks.mkdir()
    for n in ("a", "b"):
        _img(imgs / f"img_{n}.png")
        _mask(msks / f"{n}-vessels.png")
    _img(imgs / "other.png")  # does not match img_{n}.png: ignored
    items = folder_datalist(imgs, image_pattern="img_{n}.png", mask_pattern="{n}-vessels.png", mask_folder=msks)
    assert [(Path(i["image"]).name, Path(i["label"]).name) for i in items] == [
        ("img_a.png", "a-vessels.png"),
        ("img_b.png", "b-vessels.png"),
    ]
    # the default pattern does not see these masks
    with pytest.raises(AngioInputError):
        folder_datalist(imgs, mask_folder=msks, missing_mask="raise")


def test_folder_missing_mask_policies(tmp_path):
    _img(tmp_path / "1.png")
    _mask(tmp_path / "1_gt.png")
    lonely = _img(tmp_path / "2.png")
    with pytest.warns(UserWarning, match="2.png"):
        items = folder_datalist(tmp_path)
    assert _cases(items) == ["1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _cases(folder_datalist(tmp_path, missing_mask="skip")) == ["1"]
    kept = folder_datalist(tmp_path, missing_mask="keep")
    assert _cases(kept) == ["1", "2"] and "label" not in kept[1]
    with pytest.raises(AngioInputError, match="image without a mask") as ei:
        folder_datalist(tmp_path, missing_mask="raise")
    assert ei.value.filename == str(lonely.resolve())
    with pytest.raises(AngioInputError, match="missing_mask"):
        folder_datalist(tmp_path, missing_mask="maybe")


def test_folder_mask_without_image_names_the_mask(tmp_path):
    _img(tmp_path / "1.png")
    _mask(tmp_path / "1_gt.png")
    orphan = _mask(tmp_path / "7_gt.png")
    with pytest.raises(AngioInputError, match="mask without an image") as ei:
        folder_datalist(tmp_path)
    assert ei.value.filename == str(orphan.resolve())
    assert "7_gt.png" in str(ei.value)


def test_folder_size_mismatch_and_bad_inputs(tmp_path):
    _img(tmp_path / "1.png", 8, 10)
    _mask(tmp_path / "1_gt.png", 9, 10)
    with pytest.raises(AngioInputError, match="1_gt.png"):
        folder_datalist(tmp_path)
    assert len(folder_datalist(tmp_path, check_sizes=False)) == 1
    with pytest.raises(AngioInputError, match="placeholder"):
        folder_datalist(tmp_path, image_pattern="image.png")
    with pytest.raises(AngioInputError, match="nowhere"):
        folder_datalist(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AngioInputError, match="no files match"):
        folder_datalist(empty)


def test_dca1_pgm_and_png(tmp_path):
    _img(tmp_path / "1.pgm")
    _mask(tmp_path / "1_gt.pgm")
    _img(tmp_path / "2.png")
    _mask(tmp_path / "2_gt.pgm")  # image and mask may differ in format
    _img(tmp_path / "3.PGM")
    _mask(tmp_path / "3_gt.PGM")
    items = dca1_datalist(tmp_path)
    assert [(Path(i["image"]).name, Path(i["label"]).name) for i in items] == [
        ("1.pgm", "1_gt.pgm"),
        ("2.png", "2_gt.pgm"),
        ("3.PGM", "3_gt.PGM"),
    ]
    assert read_gray(items[0]["image"]).dtype == np.float32
    assert read_gray(items[0]["image"])[0, 0] == 7 and read_gray(items[0]["image"])[1, 1] == 100
    m = read_mask(items[0]["label"])
    assert m.dtype == bool and m.sum() == 8 and m[2:4, 3:7].all()
    _img(tmp_path / "1.png")  # now case 1 has two images
    with pytest.raises(AngioInputError, match="two files for case '1'"):
        dca1_datalist(tmp_path)


def test_read_gray_bad_file(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(AngioInputError, match="bad.png"):
        read_gray(bad)


# ---------------------------------------------------------------------------------------------- ARCADE


def test_rasterize_polygons_pixels():
    # COCO pixel convention: pixel (r, c) covers [c, c+1) x [r, r+1); a rectangle with integer corners fills its area
    m = rasterize_polygons([[2, 1, 5, 1, 5, 3, 2, 3]], 6, 8)
    expected = np.zeros((6, 8), bool)
    expected[1:3, 2:5] = True
    np.testing.assert_array_equal(m, expected)
    assert rasterize_polygons([[0, 0, 0, 9, 9, 9, 9, 0]], 12, 12).sum() == 81  # as pycocotools
    # a right triangle off the pixel grid: pixel (r, c) inside when its centre has x < y - 0.2 and y < 4.2
    tri = rasterize_polygons([[0, 0.2, 0, 4.2, 4, 4.2]], 5, 5)
    expected = np.tril(np.ones((5, 5), bool), -1)
    expected[4] = False
    np.testing.assert_array_equal(tri, expected)
    # a vessel-like band: the mask is centred where the polygon is and as wide (no half-pixel shift, no outline)
    band = rasterize_polygons([[0, 3.0, 20, 3.0, 20, 7.0, 0, 7.0]], 12, 20)
    assert band.sum(0).tolist() == [4] * 20 and np.nonzero(band[:, 5])[0].mean() + 0.5 == 5.0
    # two polygons union, parts outside the image are cut, empty list gives an empty mask
    both = rasterize_polygons([[0, 0, 1, 0, 1, 1, 0, 1], [3, 3, 5, 3, 5, 5, 3, 5]], 5, 5)
    assert both.sum() == 5 and both[0, 0] and both[3:5, 3:5].all()
    assert rasterize_polygons([[-5, -5, 2, -5, 2, 2, -5, 2]], 4, 4).sum() == 4
    assert not rasterize_polygons([[10, 10, 12, 10, 12, 12]], 4, 4).any()
    assert not rasterize_polygons([], 4, 4).any()
    with pytest.raises(AngioInputError, match="even number"):
        rasterize_polygons([[0, 0, 1, 1, 2]], 4, 4)
    with pytest.raises(AngioInputError, match="non-finite"):
        rasterize_polygons([[0, 0, 1, np.nan, 2, 2]], 4, 4)


def _arcade(tmp_path: Path) -> Path:
    split = tmp_path / "arcade" / "syntax" / "train"
    (split / "images").mkdir(parents=True)
    (split / "annotations").mkdir()
    _img(split / "images" / "1.png", 12, 16)
    _img(split / "images" / "2.png", 12, 16)
    _img(split / "images" / "3.png", 12, 16)
    coco = {
        "images": [
            {"id": 11, "file_name": "1.png", "height": 12, "width": 16},
            {"id": 12, "file_name": "2.png", "height": 12, "width": 16},
            {"id": 13, "file_name": "3.png", "height": 12, "width": 16},
        ],
        "categories": [{"id": 1, "name": "1"}, {"id": 5, "name": "5"}],
        "annotations": [
            {"id": 1, "image_id": 11, "category_id": 1, "segmentation": [[1, 1, 4, 1, 4, 2, 1, 2]]},
            {"id": 2, "image_id": 11, "category_id": 5, "segmentation": [[10, 8, 12, 8, 12, 10, 10, 10]]},
            {"id": 3, "image_id": 12, "category_id": 5, "segmentation": [[0, 0, 2, 0, 2, 2, 0, 2]]},
        ],
    }
    path = split / "annotations" / "train.json"
    path.write_text(json.dumps(coco))
    return path


def test_arcade_rasterises_all_segments_into_one_mask(tmp_path):
    ann = _arcade(tmp_path)
    out = tmp_path / "out_masks"
    items = arcade_datalist(ann, out)
    assert _cases(items) == ["1", "2", "3"]
    assert items[0]["image"] == str((ann.parent.parent / "images" / "1.png").resolve())
    assert items[0]["coco_id"] == 11 and items[0]["label_kind"] == "vessel"
    m1 = np.asarray(Image.open(items[0]["label"]))
    expected = np.zeros((12, 16), np.uint8)
    expected[1:2, 1:4] = 1  # COCO pixel areas: a 3 x 1 and a 2 x 2 rectangle
    expected[8:10, 10:12] = 1
    np.testing.assert_array_equal(m1, expected)
    assert Path(items[0]["label"]).parent == out.resolve()
    assert np.asarray(Image.open(items[1]["label"])).sum() == 4
    assert not np.asarray(Image.open(items[2]["label"])).any()  # image without annotations: empty mask
    # nothing was written next to the inputs
    assert sorted(p.name for p in (ann.parent.parent / "images").iterdir()) == ["1.png", "2.png", "3.png"]
    # existing masks are not overwritten without overwrite=True
    with pytest.raises(FileExistsError):
        arcade_datalist(ann, out)
    again = arcade_datalist(ann, out, category_ids=[1], keep_empty=False, overwrite=True, foreground=255)
    assert _cases(again) == ["1"]
    m = np.asarray(Image.open(again[0]["label"]))
    assert set(np.unique(m)) == {0, 255} and (m > 0).sum() == 3


def test_arcade_errors_name_the_file(tmp_path):
    ann = _arcade(tmp_path)
    images = ann.parent.parent / "images"
    with pytest.raises(AngioInputError, match="separate output folder"):
        arcade_datalist(ann, images)
    (images / "2.png").unlink()
    with pytest.raises(AngioInputError, match="does not exist") as ei:
        arcade_datalist(ann, tmp_path / "m")
    assert ei.value.filename.endswith("2.png")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(AngioInputError, match="bad.json"):
        arcade_datalist(bad, tmp_path / "m")
    rle = json.loads(ann.read_text())
    rle_seg = {"counts": [1], "size": [12, 16]}
    rle["annotations"] = [{"id": 9, "image_id": 11, "category_id": 1, "segmentation": rle_seg}]
    (ann.parent / "rle.json").write_text(json.dumps(rle))
    with pytest.raises(AngioInputError, match="RLE"):
        arcade_datalist(ann.parent / "rle.json", tmp_path / "m")


# ---------------------------------------------------------------------------------------------- splits


def _items(n: int):
    return [{"image": f"/x/{i}.png", "label": f"/x/{i}_gt.png", "case": str(i)} for i in range(1, n + 1)]


def test_split_datalist_deterministic_and_order_free():
    items = _items(40)
    train, hold = split_datalist(items, n_holdout=10, seed=0)
    assert len(train) == 30 and len(hold) == 10
    assert {i["case"] for i in train}.isdisjoint({i["case"] for i in hold})
    train2, hold2 = split_datalist(list(reversed(items)), n_holdout=10, seed=0)
    assert sorted(i["case"] for i in hold2) == sorted(i["case"] for i in hold)
    assert [i["case"] for i in hold] == holdout_ids([i["case"] for i in items], 10, seed=0)
    _, hold3 = split_datalist(items, n_holdout=10, seed=1)
    assert {i["case"] for i in hold3} != {i["case"] for i in hold}
    _, hold4 = split_datalist(items, holdout_fraction=0.25, seed=0)
    assert [i["case"] for i in hold4] == [i["case"] for i in hold]
    with pytest.raises(AngioInputError):
        split_datalist(items, n_holdout=41)
    with pytest.raises(AngioInputError):
        split_datalist(items)


def test_split_keeps_cases_together():
    items = [{"image": f"/x/c{c}_f{f}.png", "case": f"c{c}"} for c in range(6) for f in range(3)]
    train, hold = split_datalist(items, n_holdout=2, seed=3)
    assert len(hold) == 6 and len({i["case"] for i in hold}) == 2


def test_kfold_covers_every_case_once():
    items = _items(11)
    seen = []
    for fold in range(4):
        train, val = kfold_datalist(items, k=4, fold=fold, seed=5)
        assert len(train) + len(val) == 11 and len(val) in (2, 3)
        assert {i["case"] for i in train}.isdisjoint({i["case"] for i in val})
        seen.extend(i["case"] for i in val)
    assert sorted(seen) == sorted(i["case"] for i in items)
    _, val_a = kfold_datalist(items, 4, 1, seed=5)
    _, val_b = kfold_datalist(list(reversed(items)), 4, 1, seed=5)
    assert sorted(i["case"] for i in val_a) == sorted(i["case"] for i in val_b)
    with pytest.raises(AngioInputError):
        kfold_datalist(items, k=1, fold=0)
    with pytest.raises(AngioInputError):
        kfold_datalist(items, k=4, fold=4)
