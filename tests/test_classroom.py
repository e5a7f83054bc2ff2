"""Slides, static HTML and the student handout: offline pages, widget snapshots, a complete zip.

The pages are opened in Chromium by tests/browser/test_offline_pages.py (make test-browser);
here the files themselves are checked, without a browser.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils.classroom import (
    WIDGET_STATE_MIME,
    WIDGET_VIEW_MIME,
    build_handout,
    build_html,
    build_slides,
    is_handout,
    lesson_notebooks,
    main,
    notebook_title,
    slide_types,
    snapshot_widgets,
    vendor_root,
)
from tests.notebook_utils import NOTEBOOKS, ROOT, read

LESSON0 = ROOT / "notebooks" / "00_getting_started.ipynb"
# Anything that would make a page fetch from the network: script/link/img/iframe sources,
# CSS imports and url(...) pointing at http(s) or protocol-relative addresses.
REMOTE = re.compile(r"""(?:<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)\s*=\s*["']\s*(?:https?:)?//)"""
                    r"""|(?:@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//)|(?:url\(\s*["']?\s*(?:https?:)?//)""",
                    re.IGNORECASE)
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


def _remote_refs(text: str) -> list[str]:
    return [m.group(0) for m in REMOTE.finditer(text)]


# --- slide metadata in every lesson ---------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_carries_slide_metadata(path):
    nb = read(path)
    types = slide_types(nb)
    assert types[0] == "slide", f"{path.name}: the first cell must open a slide (slideshow.slide_type 'slide')"
    assert types.count("slide") >= 2, f"{path.name}: expected a 'slide' cell for each section, found {types.count('slide')}"
    allowed = {"slide", "subslide", "fragment", "skip", "notes", "-"}
    assert set(types) <= allowed, f"{path.name}: unknown slide types {set(types) - allowed}"
    for index, cell in enumerate(nb.cells):
        first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "markdown" and re.match(r"#{1,2} ", first):
            assert types[index] in {"slide", "subslide"}, (
                f"{path.name} cell {index} opens a section ({first[:50]!r}) without slideshow metadata "
                '(# %% [markdown] slideshow={"slide_type": "slide"})')


# --- vendored assets ------------------------------------------------------------------------

def test_vendored_assets_are_complete_local_and_mit():
    root = vendor_root()
    for rel in ["reveal.js/dist/reveal.js", "reveal.js/dist/reveal.css", "reveal.js/dist/theme/white.css",
                "reveal.js/plugin/notes/notes.js", "katex/katex.min.js", "katex/katex.min.css",
                "katex/contrib/auto-render.min.js"]:
        assert (root / rel).is_file(), f"course_utils/_vendor/{rel} is missing"
    for licence in ["reveal.js/LICENSE", "katex/LICENSE"]:
        assert "MIT" in (root / licence).read_text() or "Permission is hereby granted" in (root / licence).read_text()
    for css in root.rglob("*.css"):
        assert not _remote_refs(css.read_text()), f"{css} loads something from the network"
        text = css.read_text()
        for ref in re.findall(r"""@import\s+url\(\s*['"]?([^'")]+)""", text):
            assert (css.parent / ref).is_file(), f"{css.name} imports missing {ref}"
        for face in re.findall(r"@font-face\s*{[^}]*}", text):  # each font: a woff2 or woff we ship
            refs = re.findall(r"""url\(\s*['"]?([^'")?#]+)""", face)
            assert any((css.parent / r).is_file() for r in refs if r.endswith((".woff2", ".woff"))), \
                f"{css.name}: no shipped woff/woff2 file for {refs}"
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total < 2_000_000, f"vendored assets grew to {total / 1e6:.1f} MB"


# --- widget snapshots -------------------------------------------------------------------------

def _widget_notebook(view_id: str = "box"):
    state = {
        "box": {"model_name": "VBoxModel", "model_module": "@jupyter-widgets/controls",
                "state": {"children": ["IPY_MODEL_slider", "IPY_MODEL_out"]}},
        "slider": {"model_name": "FloatSliderModel", "model_module": "@jupyter-widgets/controls",
                   "state": {"description": "sigma", "value": 2.5}},
        "out": {"model_name": "OutputModel", "model_module": "@jupyter-widgets/output",
                "state": {"outputs": [{"output_type": "display_data", "metadata": {},
                                       "data": {"image/png": PNG, "text/plain": "<Figure>"}}]}},
    }
    view = new_output("display_data", data={WIDGET_VIEW_MIME: {"model_id": view_id, "version_major": 2,
                                                               "version_minor": 0},
                                            "text/plain": "VBox(...)"})
    nb = new_notebook(cells=[new_markdown_cell("# Title", metadata={"slideshow": {"slide_type": "slide"}}),
                             new_code_cell("w", execution_count=1,
                                           outputs=[new_output("stream", name="stdout", text="hi\n"), view])])
    nb.metadata["widgets"] = {WIDGET_STATE_MIME: {"state": state, "version_major": 2, "version_minor": 0}}
    return nb


def test_snapshot_widgets_replaces_a_view_by_its_output_and_control_values():
    nb = _widget_notebook()
    snap = snapshot_widgets(nb)
    outputs = snap.cells[1].outputs
    assert outputs[0]["text"] == "hi\n"
    assert "sigma = 2.5" in outputs[1]["data"]["text/plain"]
    assert outputs[2]["data"]["image/png"] == PNG
    assert not any(WIDGET_VIEW_MIME in o.get("data", {}) for o in outputs)
    assert "widgets" not in snap.metadata
    assert "widgets" in nb.metadata and WIDGET_VIEW_MIME in nb.cells[1].outputs[1]["data"], "input was modified"
    nbformat.validate(snap)


def test_snapshot_widgets_without_state_leaves_a_note():
    snap = snapshot_widgets(_widget_notebook(view_id="missing"))
    outputs = snap.cells[1].outputs
    assert len(outputs) == 2 and "open this notebook in JupyterLab" in outputs[1]["data"]["text/plain"]


@pytest.mark.timeout(300)
def test_snapshot_of_a_really_executed_widget_shows_its_figure(tmp_path):
    """nbclient stores the Output widget's figure in the widget state; the snapshot shows it."""
    from nbclient import NotebookClient

    source = ("import ipywidgets as widgets\nimport matplotlib.pyplot as plt\n"
              "from course_utils.viz.widgets import interactive_figure\n"
              "def draw(k):\n    fig, ax = plt.subplots(figsize=(2, 2))\n    ax.plot([0, k])\n    return fig\n"
              "interactive_figure(draw, k=widgets.IntSlider(value=3, min=0, max=9, description='k'))")
    nb = new_notebook(cells=[new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    snap = snapshot_widgets(nb)
    data = [o.get("data", {}) for o in snap.cells[0].outputs]
    assert any("k = 3" in d.get("text/plain", "") for d in data), data
    assert any("image/png" in d for d in data), "the widget's figure is missing from the snapshot"


# --- slides and HTML --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lesson0_pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("pages")
    extra = out / "src" / "01_widget.ipynb"
    extra.parent.mkdir()
    nbformat.write(_widget_notebook(), extra)
    return out, build_slides([LESSON0, extra], out / "slides"), build_html([LESSON0, extra], out / "html")


def test_slides_are_written_with_local_assets_and_no_remote_references(lesson0_pages):
    out, slides, _ = lesson0_pages
    assert [p.name for p in slides] == ["index.html", "00_getting_started.slides.html", "01_widget.slides.html"]
    text = slides[1].read_text()
    assert not _remote_refs(text), _remote_refs(text)
    for ref in re.findall(r'(?:src|href)="(assets/[^"]+)"', text):
        assert (out / "slides" / ref).is_file(), f"the deck refers to missing {ref}"
    assert 'src="assets/reveal.js/dist/reveal.js"' in text and "Reveal.initialize" in text
    assert "require(" not in text and "MathJax.Hub" not in text and "jquery" not in text.lower()
    nb = read(LESSON0)
    assert text.count("<section") >= slide_types(nb).count("slide") + slide_types(nb).count("subslide")
    widget_deck = slides[2].read_text()
    assert "sigma = 2.5" in widget_deck and f"data:image/png;base64,{PNG}" in widget_deck
    assert "embed-amd" not in widget_deck and "html-manager" not in widget_deck


def test_html_pages_are_static_offline_and_indexed(lesson0_pages):
    out, _, pages = lesson0_pages
    index, lesson, widget = pages
    for page in (lesson, widget):
        text = page.read_text()
        assert not _remote_refs(text), _remote_refs(text)
        assert "require.min.js" not in text and "mathjax" not in text.lower() and "mermaid" not in text.lower()
        for ref in re.findall(r'(?:src|href)="(assets/[^"]+)"', text):
            assert (out / "html" / ref).is_file(), f"{page.name} refers to missing {ref}"
    assert "Label maps and palettes" in lesson.read_text()
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', index.read_text())
    assert links[0] == ("00_getting_started.html", notebook_title(read(LESSON0)).replace("&", "&amp;"))
    assert [href for href, _ in links] == ["00_getting_started.html", "01_widget.html"]


def test_build_refuses_the_notebooks_folder_and_an_empty_list(tmp_path):
    with pytest.raises(ValueError, match="out_dir"):
        build_html([LESSON0], ROOT / "notebooks")
    with pytest.raises(ValueError, match="notebooks"):
        build_slides([], tmp_path / "slides")
    with pytest.raises(FileNotFoundError, match="nope.ipynb"):
        build_slides([tmp_path / "nope.ipynb"], tmp_path / "slides")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="out_dir"):
        build_html([LESSON0], tmp_path / "file")


# --- the student handout ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("handout") / "segcourse-student.zip"
    build_handout(out, [LESSON0])
    return out


def test_handout_holds_student_notebooks_library_and_data_generator(handout):
    with zipfile.ZipFile(handout) as archive:
        names = set(archive.namelist())
        student = nbformat.reads(archive.read("segcourse-student/notebooks/00_getting_started.ipynb").decode(),
                                 as_version=4)
    top = "segcourse-student/"
    for required in ["pyproject.toml", "constraints.txt", "environment.yml", "Makefile", "README.md", "START_HERE.md",
                     "course_utils/__init__.py", "course_utils/exercises/lesson00.py", "course_utils/classroom.py",
                     "data_scripts/prepare_offline.py", "notebooks/00_getting_started.ipynb"]:
        assert top + required in names, f"{required} is missing from the handout"
    assert all(n.startswith(top) for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(tuple(top + d for d in ("tests/", "benchmarks/", ".venv/", "data/")))]
    library = {n[len(top):] for n in names if n.startswith(top + "course_utils/") and n.endswith(".py")}
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / "course_utils").rglob("*.py") if "__pycache__" not in p.parts}
    assert library == on_disk
    code = "".join(c.source for c in student.cells if c.cell_type == "code")
    assert "### BEGIN SOLUTION" not in code and "NotImplementedError" in code
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


@pytest.mark.timeout(120)
def test_handout_library_imports_from_the_unpacked_folder(handout, tmp_path):
    with zipfile.ZipFile(handout) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / "segcourse-student"
    probe = ("import course_utils, data_scripts.prepare_offline, course_utils.exercises.lesson00;"
             "print(course_utils.__file__)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True, timeout=100)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve().is_relative_to(folder.resolve())


def test_handout_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="out must be a .zip"):
        build_handout(tmp_path / "handout.tar", [LESSON0])
    (tmp_path / "dir.zip").mkdir()
    with pytest.raises(IsADirectoryError, match="out"):
        build_handout(tmp_path / "dir.zip", [LESSON0])
    with pytest.raises(ValueError, match="notebooks"):
        build_handout(tmp_path / "h.zip", [])
    assert main(["handout", "--out", str(tmp_path / "handout.txt"), str(LESSON0)]) == 2


def test_handout_claims_its_zip_and_never_replaces_another_file(handout, tmp_path):
    assert is_handout(handout)
    # a file the user made, a zip someone else wrote: refused, left as they were
    mine = tmp_path / "notes.zip"
    mine.write_bytes(b"my own notes")
    with pytest.raises(FileExistsError, match="not a handout"):
        build_handout(mine, [LESSON0])
    assert mine.read_bytes() == b"my own notes"
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("thesis.tex", "chapter 1")
    before = other.read_bytes()
    assert main(["handout", "--out", str(other), str(LESSON0)]) == 2
    assert other.read_bytes() == before and not is_handout(other)
    # our own handout is rebuilt in place
    ours = tmp_path / "ours.zip"
    build_handout(ours, [LESSON0])
    build_handout(ours, [LESSON0])
    assert is_handout(ours) and not list(tmp_path.glob("*.partial"))


def test_slides_and_html_claim_their_folder_and_refuse_anything_else(tmp_path):
    foreign = tmp_path / "site"
    foreign.mkdir()
    (foreign / "index.html").write_text("my page")
    for build in (build_slides, build_html):
        with pytest.raises(FileExistsError, match="not empty"):
            build([LESSON0], foreign)
    assert (foreign / "index.html").read_text() == "my page" and len(list(foreign.iterdir())) == 1
    slides = tmp_path / "slides"
    build_slides([LESSON0], slides)
    with pytest.raises(FileExistsError, match="slides build"):
        build_html([LESSON0], slides)
    assert (slides / ".segcourse-build").read_text().strip() == "slides"
    build_slides([LESSON0], slides)  # its own folder: rebuilt


def test_lesson_notebooks_lists_the_lessons_in_order():
    found = lesson_notebooks()
    assert found == NOTEBOOKS and found == sorted(found)
    with pytest.raises(FileNotFoundError, match="folder"):
        lesson_notebooks(ROOT / "no-such-folder")


# --- make targets and CI ----------------------------------------------------------------------

def test_make_targets_and_ci_run_the_classroom_checks():
    makefile = (ROOT / "Makefile").read_text()
    for target in ["test-browser", "slides", "html", "handout"]:
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target} is missing"
    browser = makefile.split("\ntest-browser:", 1)[1].split("\n\n", 1)[0]
    assert "SEGCOURSE_BROWSER=1" in browser and "tests/browser" in browser
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test-browser" in ci and "apt-get install" in ci and "chromium" in ci
    commands = [line for line in ci.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in commands if "playwright install" in line]
