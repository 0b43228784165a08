"""The millimetre scale bar of overlays and QCA reports."""

import numpy as np
import pytest

from monai_angio.utils.scale_bar import add_scale_bar, scale_bar_mm


@pytest.mark.parametrize(
    "mm_per_px,width,expected",
    [(0.3, 512, 20.0), (0.2, 512, 20.0), (0.45, 1024, 100.0), (0.3, 300, 20.0), (0.6, 256, 20.0), (0.1, 64, 1.0)],
)
def test_bar_is_a_round_length_near_a_fifth_of_the_width(mm_per_px, width, expected):
    mm = scale_bar_mm(mm_per_px, width)
    assert mm == expected
    assert mm / mm_per_px <= 0.4 * width  # never longer than 40 % of the image


def test_bar_refuses_a_missing_scale():
    with pytest.raises(ValueError, match="positive mm/px"):
        scale_bar_mm(0.0, 512)


def test_bar_is_drawn_to_scale():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.12, 5.12), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(np.zeros((512, 512)), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    mm = add_scale_bar(ax, 0.25, (512, 512), note="at isocentre")
    assert mm == 20.0 and ax.get_xlim() == (-0.5, 511.5)  # the bar does not rescale the image axis
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    white = (rgb > 240).all(-1)
    row = int(0.94 * 512)
    run = np.flatnonzero(white[row])
    assert abs((run.max() - run.min() + 1) - 20.0 / 0.25) <= 3  # 80 px for 20 mm at 0.25 mm/px
    assert any("20 mm at isocentre" == t.get_text() for t in ax.texts)
