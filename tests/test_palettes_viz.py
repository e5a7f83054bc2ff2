import matplotlib
import numpy as np
import pytest

from course_utils import palettes
from course_utils.viz import plots


def test_voc_palette_matches_the_devkit():
    pal = palettes.voc_palette()
    assert pal.shape == (256, 3) and pal.dtype == np.uint8
    # Values from the VOC devkit's labelcolormap: background, aeroplane, person, tvmonitor, ignore.
    assert tuple(pal[0]) == (0, 0, 0)
    assert tuple(pal[1]) == (128, 0, 0)
    assert tuple(pal[15]) == (192, 128, 128)
    assert tuple(pal[20]) == (0, 64, 128)
    assert tuple(pal[255]) == (224, 224, 192)
    assert len(palettes.VOC_CLASSES) == 21


def test_voc_palette_matches_pillow_palette_png(tmp_path):
    from PIL import Image

    labels = np.arange(21, dtype=np.uint8).reshape(3, 7)
    img = Image.fromarray(labels, mode="P")
    img.putpalette(palettes.voc_palette().flatten().tolist())
    img.save(tmp_path / "x.png")
    rgb = np.asarray(Image.open(tmp_path / "x.png").convert("RGB"))
    assert np.array_equal(rgb, plots.colorize(labels, palettes.voc_palette()))


def test_cityscapes_palette_from_official_table():
    from cityscapesscripts.helpers.labels import name2label

    names = palettes.cityscapes_train_classes()
    pal = palettes.cityscapes_palette()
    assert len(names) == 19 and names[0] == "road" and names[18] == "bicycle"
    for train_id, name in enumerate(names):
        assert tuple(pal[train_id]) == name2label[name].color
    with pytest.raises(ValueError, match="dataset"):
        palettes.label_palette("coco")


def test_colorize_and_overlays():
    pal = palettes.voc_palette()
    labels = np.array([[0, 1], [2, 255]], np.uint8)
    rgb = plots.colorize(labels, pal)
    assert rgb.shape == (2, 2, 3) and tuple(rgb[1, 1]) == (224, 224, 192)
    with pytest.raises(ValueError, match="palette"):
        plots.colorize(np.array([[30]], np.int64), pal[:21])
    image = np.zeros((2, 2, 3), np.uint8)
    out = plots.overlay_mask(image, np.array([[True, False], [False, False]]), color=(255, 0, 0), alpha=1.0)
    assert np.allclose(out[0, 0], (1, 0, 0)) and np.allclose(out[1, 1], 0)
    with pytest.raises(ValueError, match="alpha"):
        plots.overlay_mask(image, np.zeros((2, 2), bool), alpha=2)
    ov = plots.overlay_labels(image, labels, pal, alpha=1.0)
    assert np.allclose(ov[0, 1], pal[1] / 255) and np.allclose(ov[1, 1], 0)


def test_figures_are_built():
    pal = palettes.voc_palette()
    labels = np.array([[0, 1], [2, 255]], np.uint8)
    fig = plots.show_labels(np.zeros((2, 2, 3), np.uint8), [labels], ["gt"], pal, palettes.VOC_CLASSES)
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 2
    assert len(fig.legends[0].get_texts()) == 3  # classes 0, 1, 2 (not the ignore index)
    with pytest.raises(ValueError, match="titles"):
        plots.show_images([np.zeros((2, 2))], titles=["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        plots.show_images([])


def test_interactive_figure_redraws():
    import ipywidgets as widgets

    from course_utils.viz.widgets import interactive_figure

    calls = []

    def draw(k):
        import matplotlib.pyplot as plt

        calls.append(k)
        fig, ax = plt.subplots()
        ax.plot([0, k])
        return fig

    slider = widgets.IntSlider(value=1, min=0, max=5)
    box = interactive_figure(draw, k=slider)
    slider.value = 4
    assert calls == [1, 4] and box.children[0] is slider
    with pytest.raises(ValueError, match="controls"):
        interactive_figure(draw)
