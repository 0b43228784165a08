"""Tests for :mod:`monai_angio.apps.overlay`."""

from __future__ import annotations

import numpy as np
import pytest

from monai_angio.apps.overlay import (
    LABEL_COLORS,
    overlay_labels,
    pick_frames,
    save_overlay_gif,
    save_overlay_png,
    to_uint8_gray,
)


def test_colours_at_labelled_pixels():
    img = np.linspace(0, 1000, 16 * 16, dtype=np.float32).reshape(16, 16)
    lab = np.zeros((16, 16), np.uint8)
    lab[2, 3] = 1
    lab[5, 7] = 2
    rgb = overlay_labels(img, lab, alpha=1.0)
    assert rgb.shape == (16, 16, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[2, 3]) == LABEL_COLORS[1] == (255, 0, 0)  # artery red
    assert tuple(rgb[5, 7]) == LABEL_COLORS[2] == (0, 255, 0)  # catheter green
    gray = to_uint8_gray(img)
    assert (rgb[0, 0] == gray[0, 0]).all() and (rgb[15, 15] == 255).all()  # background stays grey
    half = overlay_labels(img, lab, alpha=0.5)
    g = float(gray[2, 3])
    np.testing.assert_allclose(half[2, 3], [round(0.5 * g + 127.5), round(0.5 * g), round(0.5 * g)], atol=1)


def test_overlay_checks():
    with pytest.raises(ValueError):
        overlay_labels(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError):
        overlay_labels(np.zeros((4, 4)), np.zeros((4, 4)), alpha=2.0)
    assert (to_uint8_gray(np.full((3, 3), np.nan)) == 0).all()
    assert (to_uint8_gray(np.full((3, 3), 7.0)) == 0).all()


def test_pick_frames_includes_best():
    imgs = np.ones((20, 8, 8), np.float32)
    labs = np.zeros((20, 8, 8), np.uint8)
    labs[7, :4] = 1  # most-filled frame
    picks = pick_frames(imgs, labs, max_frames=6)
    assert 7 in picks and len(picks) <= 6 and picks == sorted(picks) and picks[0] == 0 and picks[-1] == 19
    imgs[11] = 0.1  # darkest frame = most contrast when no labels
    assert 11 in pick_frames(imgs, None, max_frames=4)
    assert pick_frames(imgs[:3], None) == [0, 1, 2]


def test_save_png_and_gif(tmp_path):
    from PIL import Image

    imgs = np.random.default_rng(0).random((8, 32, 40)).astype(np.float32)
    labs = np.zeros((8, 32, 40), np.uint8)
    labs[:, 10:14, 5:30] = 1
    labs[:, 20:22, :] = 2
    png = save_overlay_png(tmp_path / "o.png", imgs, labs, frame_indices=range(10, 18), title="cine")
    im = np.asarray(Image.open(png).convert("RGB"))
    assert im.ndim == 3 and im.shape[0] > 100
    # pure red-ish and green-ish pixels are present
    assert ((im[..., 0] > 150) & (im[..., 1] < 100) & (im[..., 2] < 100)).any()
    assert ((im[..., 1] > 150) & (im[..., 0] < 100) & (im[..., 2] < 100)).any()
    with pytest.raises(FileExistsError):
        save_overlay_png(tmp_path / "o.png", imgs[0], labs[0], overwrite=False)
    gif = save_overlay_gif(tmp_path / "o.gif", imgs, labs, frame_time_ms=50)
    with Image.open(gif) as g:
        assert g.n_frames == 8 and g.size == (40, 32)
        g.seek(1)
        assert g.info["duration"] == 50  # milliseconds per frame: plays in real time


def test_gif_of_a_long_cine_is_strided_in_time(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    imgs = rng.random((300, 24, 24)).astype(np.float32)
    labs = (imgs > 0.8).astype(np.uint8)
    gif = save_overlay_gif(tmp_path / "long.gif", imgs, labs, frame_time_ms=40, max_frames=100)
    with Image.open(gif) as g:
        assert g.n_frames == 100  # every 3rd frame...
        g.seek(1)
        assert g.info["duration"] == 120  # ...shown 3 frame times: same playing time as the cine


def test_still_png_title_not_cut_off(tmp_path):
    from PIL import Image

    from monai_angio.apps.overlay import MIN_FIGURE_WIDTH_IN

    img = np.random.default_rng(1).random((64, 64)).astype(np.float32)
    lab = np.zeros((64, 64), np.uint8)
    lab[10:14] = 1
    lab[40:42] = 2
    title = "a_long_cath_lab_file_name_0001_run_07.dcm - xca_artery_catheter_efficientunetpp (random weights)"
    png = save_overlay_png(tmp_path / "still.png", img, lab, title=title)
    im = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert im.shape[1] >= MIN_FIGURE_WIDTH_IN * 100 - 1  # dpi 100: a still is wide enough for title + legend
    dark = im.sum(-1) < 600  # text and image pixels (the background is white)
    top, bottom = dark[: im.shape[0] // 8], dark[-im.shape[0] // 10 :]
    assert top.any() and bottom.any()  # the title and the legend are drawn
    # nothing touches the left/right borders: the (wrapped) title and the legend are not cut off
    assert not dark[:, :3].any() and not dark[:, -3:].any()
    # the legend shows both colours
    assert ((im[..., 0] > 200) & (im[..., 1] < 140) & (im[..., 2] < 140))[-im.shape[0] // 10 :].any()
    assert ((im[..., 1] > 200) & (im[..., 0] < 140) & (im[..., 2] < 140))[-im.shape[0] // 10 :].any()


def test_still_png_shows_the_image_beside_the_labels_near_its_own_resolution(tmp_path):
    from PIL import Image

    img = np.full((512, 512), 0.8, np.float32)
    img[200:206, 40:470] = 0.3  # one dark vessel, labelled artery
    lab = np.zeros((512, 512), np.uint8)
    lab[200:206, 40:470] = 1
    im = np.asarray(Image.open(save_overlay_png(tmp_path / "still.png", img, lab)).convert("RGB")).astype(int)
    assert im.shape[1] >= 2 * 512  # two panels, each at about the image's own 512 px
    red = (im[..., 0] - im[..., 1] > 80) & (im[..., 0] - im[..., 2] > 80)  # the artery colour over any grey
    legend = im.shape[0] - 60
    left, right = red[:legend, : im.shape[1] // 2], red[:legend, im.shape[1] // 2 :]
    assert not left.any() and right.sum() > 1500  # the image alone on the left, the labels over it on the right
    # the vessel is drawn at full resolution: its 6 px stay about 6 px (not squeezed into a 320 px panel)
    rows = np.flatnonzero(right.any(1))
    assert 5 <= rows.max() - rows.min() + 1 <= 8


def test_overlay_scale_bar_only_with_a_pixel_size(tmp_path):
    from PIL import Image

    img = np.full((300, 300), 0.5, np.float32)  # mid grey: no white pixels of its own
    lab = np.zeros((300, 300), np.uint8)
    lab[100:104, 20:280] = 1
    with_bar = save_overlay_png(tmp_path / "bar.png", img, lab, mm_per_px=0.3, scale_note="at isocentre")
    without = save_overlay_png(tmp_path / "plain.png", img, lab)
    for png, expected in ((with_bar, True), (without, False)):
        im = np.asarray(Image.open(png).convert("RGB")).astype(int)
        panels = im[: im.shape[0] - 60]  # above the legend
        # the bar: a white run of about 20 mm / 0.3 mm/px = 67 px in the labels panel; the figure's white margins
        # are either whole rows or thin columns, so a row of the right half with 40-120 white px is the bar
        right = (panels[:, im.shape[1] // 2 :] > 245).all(-1)[:, 10:-10]
        assert any(40 < n < 120 for n in right.sum(1)) == expected, png
