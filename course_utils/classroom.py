"""Classroom outputs: reveal.js slide decks, a static HTML course and the student handout.

All three work without network access. The slide decks and HTML pages load nothing from a
CDN: reveal.js (MIT) and KaTeX (MIT) are vendored under ``course_utils/_vendor/`` (see
``course_utils/_vendor/README.md``) and copied next to the pages, and the nbconvert templates are
overridden so that require.js, jQuery, mermaid, MathJax and the ipywidgets HTML manager are
not referenced. Interactive widgets cannot run in a static page: each widget is replaced by
the figure its ``Output`` widget showed when the notebook was executed, with a note naming
the control values.

Command line (what ``make slides``, ``make html`` and ``make handout`` run)::

    python -m course_utils.classroom slides  --out build/slides [NOTEBOOK ...]
    python -m course_utils.classroom html    --out build/html   [NOTEBOOK ...]
    python -m course_utils.classroom handout --out dist/segcourse-student.zip [NOTEBOOK ...]

Notebooks default to every lesson ``notebooks/NN_*.ipynb``.
"""

from __future__ import annotations

import argparse
import copy
import html
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from course_utils.cli import command, error_line, write_text_atomic
from course_utils.exercises.notebook import write_student_notebooks
from course_utils.paths import repo_root

__all__ = [
    "LESSON_GLOB",
    "WIDGET_VIEW_MIME",
    "WIDGET_STATE_MIME",
    "HANDOUT_FILES",
    "HANDOUT_FOLDERS",
    "lesson_notebooks",
    "vendor_root",
    "snapshot_widgets",
    "slide_types",
    "notebook_title",
    "build_slides",
    "build_html",
    "build_handout",
    "is_handout",
    "HANDOUT_MARKER",
    "main",
]

LESSON_GLOB = "[0-9][0-9]_*.ipynb"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"

# What a student needs besides the notebooks: the library, the offline data generator and the
# install files (``make lab`` works in the unpacked folder).
HANDOUT_FOLDERS = ("course_utils", "data_scripts")
HANDOUT_FILES = ("pyproject.toml", "constraints.txt", "environment.yml", "Makefile", "README.md", "LICENSE")

_KATEX_HEAD = """
<link rel="stylesheet" href="{{ resources.segcourse_assets }}/katex/katex.min.css">
<script defer src="{{ resources.segcourse_assets }}/katex/katex.min.js"></script>
<script defer src="{{ resources.segcourse_assets }}/katex/contrib/auto-render.min.js"></script>
<script>
document.addEventListener("DOMContentLoaded", function () {
  if (typeof renderMathInElement !== "function") { return; }
  document.querySelectorAll(".jp-RenderedMarkdown").forEach(function (el) {
    renderMathInElement(el, {
      delimiters: [
        {left: "$$", right: "$$", display: true},
        {left: "\\\\[", right: "\\\\]", display: true},
        {left: "$", right: "$", display: false},
        {left: "\\\\(", right: "\\\\)", display: false}
      ],
      throwOnError: false
    });
  });
  document.body.setAttribute("data-math", "rendered");
});
</script>
"""

_WIDGET_NOTE_CSS = """
<style type="text/css">
.segcourse-widget-note { font-style: italic; color: #555; margin: 0.2em 0; }
</style>
"""

# Static HTML: the lab template without require.js, mermaid, MathJax or the widget manager.
_HTML_TEMPLATE = (
    "{%- extends 'index.html.j2' -%}\n"
    "{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}\n"
    "{% block jupyter_widgets %}{% endblock jupyter_widgets %}\n"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n"
    "{%- block html_head_js_mathjax -%}" + _KATEX_HEAD + "{%- endblock html_head_js_mathjax -%}\n"
    "{%- block html_head_css -%}" + _WIDGET_NOTE_CSS + "{%- endblock html_head_css -%}\n"
)

# Slides: nbconvert's reveal template with reveal.js loaded by plain <script> tags from the
# local copy (no require.js / jQuery), KaTeX instead of MathJax, tall slides scroll.
_REVEAL_TEMPLATE = (
    "{%- extends 'index.html.j2' -%}\n"
    "{%- block html_head_js -%}{%- endblock html_head_js -%}\n"
    "{% block jupyter_widgets %}{% endblock jupyter_widgets %}\n"
    "{%- block html_head_js_mathjax -%}" + _KATEX_HEAD + "{%- endblock html_head_js_mathjax -%}\n"
    "{%- block html_head_css -%}" + _WIDGET_NOTE_CSS + """
<style type="text/css">
.reveal .slides > section, .reveal .slides > section > section {
  height: 100%; overflow-y: auto; overflow-x: hidden;
}
.reveal .jp-OutputArea-output img { max-height: 520px; width: auto; }
</style>
""" + "{%- endblock html_head_css -%}\n"
    "{% block footer_js %}\n"
    '<script src="{{ reveal_url_prefix }}/dist/reveal.js"></script>\n'
    '<script src="{{ reveal_url_prefix }}/plugin/notes/notes.js"></script>\n'
    "<script>\n"
    "Reveal.initialize({\n"
    "  controls: true, progress: true, history: true, hash: true, center: false,\n"
    '  transition: "{{ reveal_transition }}", slideNumber: "c/t",\n'
    "  width: {{ reveal_width }}, height: {{ reveal_height }},\n"
    "  plugins: [RevealNotes]\n"
    "});\n"
    "</script>\n"
    "{% endblock footer_js %}\n"
)


def vendor_root() -> Path:
    """The folder with the vendored web assets (``reveal.js/``, ``katex/``)."""
    return Path(__file__).resolve().parent / "_vendor"


def lesson_notebooks(folder: Path | None = None) -> list[Path]:
    """The lesson notebooks ``NN_*.ipynb`` in ``folder`` (default ``<repo>/notebooks``), sorted."""
    folder = Path(folder) if folder is not None else repo_root() / "notebooks"
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist: expected the lesson notebooks' folder")
    return sorted(folder.glob(LESSON_GLOB))


def _read(path: Path):
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"notebook {path} does not exist")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises several kinds (NotJSONError, ValidationError, KeyError, ...)
        raise ValueError(f"notebook {path} cannot be read ({type(err).__name__}); is it truncated or not a "
                         "notebook?") from err


def notebook_title(nb, default: str = "") -> str:
    """The text of the first Markdown heading of ``nb`` (``default`` if there is none)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip()
    return default


def slide_types(nb) -> list[str]:
    """Each cell's ``slideshow.slide_type`` (``"-"`` where the cell has none)."""
    return [cell.metadata.get("slideshow", {}).get("slide_type", "-") or "-" for cell in nb.cells]


def _widget_models(nb) -> dict:
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {})
    return state.get("state", {}) if isinstance(state, dict) else {}


def _children(model_state: dict) -> Iterable[str]:
    for value in model_state.values():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str) and item.startswith("IPY_MODEL_"):
                yield item[len("IPY_MODEL_"):]


def _control_text(model: dict) -> str | None:
    state = model.get("state", {})
    name = model.get("model_name", "")
    description = state.get("description") or ""
    if name.endswith("SliderModel") or name in {"CheckboxModel", "ToggleButtonModel", "BoundedIntTextModel",
                                                 "BoundedFloatTextModel", "IntTextModel", "FloatTextModel"}:
        value = state.get("value")
    elif "_options_labels" in state and state.get("index") is not None:
        index = state["index"]
        labels = state["_options_labels"]
        value = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else None
    else:
        return None
    if value is None:
        return None
    return f"{description.rstrip(':').strip() or name[:-5]} = {value}"


def _widget_snapshot(model_id: str, models: dict) -> list:
    """Outputs that stand in for the widget view ``model_id``: its Output widgets' outputs and a note."""
    from nbformat.v4 import new_output

    outputs, controls, seen, stack = [], [], set(), [model_id]
    while stack:
        current = stack.pop(0)
        if current in seen or current not in models:
            continue
        seen.add(current)
        model = models[current]
        if model.get("model_name") == "OutputModel":
            outputs.extend(copy.deepcopy(model.get("state", {}).get("outputs", [])))
        text = _control_text(model)
        if text:
            controls.append(text)
        stack.extend(_children(model.get("state", {})))
    if not seen:
        note = "Interactive widget: open this notebook in JupyterLab to use it."
    elif controls:
        note = "Interactive widget in JupyterLab; shown here with " + ", ".join(controls) + "."
    else:
        note = "Interactive widget in JupyterLab; shown here as it was first drawn."
    html_note = f'<p class="segcourse-widget-note">{html.escape(note)}</p>'
    return [new_output("display_data", data={"text/html": html_note, "text/plain": note})] + [
        _as_output(o) for o in outputs
    ]


def _as_output(raw: dict):
    import nbformat

    return nbformat.from_dict(raw)


def snapshot_widgets(nb):
    """A copy of ``nb`` in which every widget view is replaced by a static snapshot.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook. Its ``metadata.widgets`` holds the widget state that
        nbconvert/nbclient saved; an ``Output`` widget's state holds what it displayed.

    Returns
    -------
    nbformat.NotebookNode
        A new notebook: each output carrying ``application/vnd.jupyter.widget-view+json``
        becomes a short note (naming the control values) followed by the outputs of the
        widget's ``Output`` widgets (e.g. the first figure); ``metadata.widgets`` is removed,
        so exporters do not load the ipywidgets HTML manager from a CDN.
    """
    nb = copy.deepcopy(nb)
    models = _widget_models(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new_outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW_MIME) if output.get("output_type") in {
                "display_data", "execute_result"} else None
            if view is None:
                new_outputs.append(output)
            else:
                new_outputs.extend(_widget_snapshot(str(view.get("model_id", "")), models))
        cell.outputs = new_outputs
    nb.metadata.pop("widgets", None)
    return nb


def _copy_assets(out_dir: Path, names: Sequence[str]) -> None:
    source = vendor_root()
    for name in names:
        src = source / name
        if not src.is_dir():
            raise FileNotFoundError(f"vendored assets {src} are missing: expected {name} under {source}")
        dst = out_dir / "assets" / name
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst)


_BUILD_MARKER = ".segcourse-build"  # which builder ("slides" or "html") owns a folder


def _check_out_dir(out_dir: Path, kind: str | None = None) -> Path:
    """Create ``out_dir`` for the ``kind`` builder; refuse a file, the notebooks, or another builder's folder.

    A folder is claimed by a marker file: the slides builder never overwrites an HTML build (both
    write ``index.html``), and neither writes into a non-empty folder it did not create.
    """
    out_dir = Path(out_dir)
    notebooks_dir = (repo_root() / "notebooks").resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"out_dir {out_dir} exists and is not a folder")
    if out_dir.resolve() == notebooks_dir:
        raise ValueError(f"out_dir {out_dir} is the instructor notebooks' folder: expected a build folder")
    if kind is not None and out_dir.is_dir():
        marker = out_dir / _BUILD_MARKER
        owner = marker.read_text().strip() if marker.is_file() else None
        if owner is not None and owner != kind:
            raise FileExistsError(f"out_dir {out_dir} holds the {owner} build; refusing to write {kind} over it: "
                                  "choose another --out")
        if owner is None and any(out_dir.iterdir()):
            raise FileExistsError(f"out_dir {out_dir} is not empty and was not written by this command; "
                                  "refusing to overwrite its files: choose another --out or an empty folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    if kind is not None:
        write_text_atomic(out_dir / _BUILD_MARKER, kind + "\n")
    return out_dir


def _exporter(kind: str):
    import jinja2
    from nbconvert import HTMLExporter, SlidesExporter

    if kind == "slides":
        exporter = SlidesExporter()
        exporter.reveal_url_prefix = "assets/reveal.js"
        exporter.reveal_theme = "white"
        exporter.reveal_transition = "slide"
        exporter.reveal_width = "1280"
        exporter.reveal_height = "800"
        source, name = _REVEAL_TEMPLATE, "segcourse_reveal.html.j2"
    else:
        exporter = HTMLExporter(template_name="lab")
        source, name = _HTML_TEMPLATE, "segcourse_lab.html.j2"
    exporter.extra_loaders = [jinja2.DictLoader({name: source})]
    exporter.template_file = name
    exporter.exclude_input_prompt = kind == "slides"
    exporter.exclude_output_prompt = True
    return exporter


def _export(kind: str, notebooks: Sequence[Path], out_dir: Path) -> list[Path]:
    out_dir = _check_out_dir(out_dir, kind)
    notebooks = [Path(p) for p in notebooks]
    if not notebooks:
        raise ValueError("notebooks is empty: expected at least one lesson notebook")
    _copy_assets(out_dir, ["katex", "reveal.js"] if kind == "slides" else ["katex"])
    exporter = _exporter(kind)
    suffix = ".slides.html" if kind == "slides" else ".html"
    written, entries = [], []
    for path in notebooks:
        nb = snapshot_widgets(_read(path))
        body, _ = exporter.from_notebook_node(
            nb, resources={"metadata": {"name": path.stem}, "segcourse_assets": "assets"})
        target = out_dir / f"{path.stem}{suffix}"
        write_text_atomic(target, body)
        written.append(target)
        entries.append((target.name, notebook_title(nb, path.stem)))
    index = out_dir / "index.html"
    write_text_atomic(index, _index_page("segcourse slides" if kind == "slides" else "segcourse", entries))
    return [index, *written]


def _index_page(title: str, entries: Sequence[tuple[str, str]]) -> str:
    items = "\n".join(f'  <li><a href="{html.escape(href)}">{html.escape(text)}</a></li>' for href, text in entries)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            '<style>body { font-family: sans-serif; max-width: 50em; margin: 2em auto; line-height: 1.6; }</style>\n'
            f'</head>\n<body>\n<h1>{html.escape(title)}</h1>\n<ol>\n{items}\n</ol>\n</body>\n</html>\n')


def build_slides(notebooks: Sequence[Path], out_dir: Path) -> list[Path]:
    """Write one reveal.js deck ``<stem>.slides.html`` per notebook, an index and the assets.

    Cells are grouped into slides by their ``slideshow.slide_type`` metadata (``slide``,
    ``subslide``, ``fragment``, ``skip``, ``notes``), as nbconvert does. The decks open from
    the file system without network access. Returns the written pages, index first.
    """
    return _export("slides", notebooks, out_dir)


def build_html(notebooks: Sequence[Path], out_dir: Path) -> list[Path]:
    """Write a static page ``<stem>.html`` per executed notebook, an index and the assets.

    Returns the written pages, index first. The pages open without network access.
    """
    return _export("html", notebooks, out_dir)


def _handout_members(root: Path) -> list[Path]:
    members = []
    for folder in HANDOUT_FOLDERS:
        base = root / folder
        if not base.is_dir():
            raise FileNotFoundError(f"{base} is missing: the handout needs {folder}/")
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and "__pycache__" not in rel.parts and path.suffix not in {".pyc", ".pyo"} \
                    and ".ipynb_checkpoints" not in rel.parts:
                members.append(rel)
    for name in HANDOUT_FILES:
        if (root / name).is_file():
            members.append(Path(name))
    return members


_START_HERE = """# segcourse: the student notebooks

1. With Python 3.10+ and `make`: run `make lab` in this folder. It creates `.venv`, installs
   the course, generates the offline datasets under `data/` and opens JupyterLab on
   `notebooks/`. (With conda: `conda env create -f environment.yml`, `conda activate segcourse`,
   `pip install -e .`, `python -m data_scripts.prepare_offline`, `jupyter lab notebooks/`.)
2. Nothing is downloaded while the notebooks run: the photos ship with scikit-image and
   scikit-learn, and the datasets are generated on your machine
   (`python -m data_scripts.prepare_offline`).
3. Exercise cells raise `NotImplementedError` until you write the missing lines; the
   `check(...)` call at the end of each says *not attempted*, *not yet* (and why) or *correct*,
   naming the exercise as the lesson does: "Exercise 2.1 (max_flow)".
4. A check fails an answer that hands the work to the library or a reference package
   ("write it yourself: your answer calls ..."): the point is to write the algorithm.
"""


#: The comment of every handout zip this module writes: how a rerun knows the file is its own.
HANDOUT_MARKER = b"segcourse student handout, written by python -m course_utils.classroom handout"


def is_handout(path: Path) -> bool:
    """Whether ``path`` is a handout zip :func:`build_handout` wrote (its comment is :data:`HANDOUT_MARKER`)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.comment == HANDOUT_MARKER
    except (OSError, zipfile.BadZipFile):
        return False


def build_handout(out: Path, notebooks: Sequence[Path] | None = None, root: Path | None = None) -> Path:
    """Write the student handout: a zip with the student notebooks and the offline data generator.

    Parameters
    ----------
    out : Path
        The zip file to write (must end in ``.zip``). An existing file there is replaced only if it
        is a handout this function wrote (the zip's comment, :data:`HANDOUT_MARKER`, says so);
        anything else is refused with ``FileExistsError``.
    notebooks : sequence of Path, optional
        Instructor notebooks (default: every lesson notebook). Each becomes a student notebook
        (solutions replaced by stubs, outputs cleared) under ``segcourse-student/notebooks/``.
    root : Path, optional
        The course checkout to take ``course_utils/``, ``data_scripts/`` and the install files
        from (default: this checkout).

    Returns
    -------
    Path
        ``out``. The archive unpacks to ``segcourse-student/``, where ``make lab`` works.
    """

    out = Path(out)
    if out.suffix != ".zip":
        raise ValueError(f"out must be a .zip file path, got {out}")
    for parent in (out.parent, *out.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"out={out} lies under {parent}, which is a file, not a folder")
            break
    if out.exists() and not out.is_file():
        raise IsADirectoryError(f"out {out} exists and is not a file")
    if out.exists() and not is_handout(out):
        raise FileExistsError(f"out {out} exists and is not a handout written by this command; refusing to "
                              "overwrite it: move it away or choose another --out")
    root = Path(root) if root is not None else repo_root()
    notebooks = [Path(p) for p in notebooks] if notebooks is not None else lesson_notebooks(root / "notebooks")
    if not notebooks:
        raise ValueError("notebooks is empty: expected at least one lesson notebook")
    members = _handout_members(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    top = Path("segcourse-student")
    with tempfile.TemporaryDirectory() as tmp:
        student_dir = Path(tmp) / "notebooks"
        written = write_student_notebooks(notebooks, student_dir)
        partial = out.with_name(out.name + ".partial")
        try:
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.comment = HANDOUT_MARKER
                archive.writestr(str(top / "START_HERE.md"), _START_HERE)
                for rel in members:
                    archive.write(root / rel, str(top / rel))
                for path in sorted(w.path for w in written):
                    archive.write(path, str(top / "notebooks" / path.name))
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)  # never leave half a zip behind
    return out


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.classroom",
                                     description="Slides, static HTML and the student handout, offline.")
    parser.add_argument("command", choices=["slides", "html", "handout"])
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder (slides, html) or .zip file (handout)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="lesson notebooks (default: notebooks/NN_*.ipynb)")
    args = parser.parse_intermixed_args(argv)
    notebooks = args.notebooks or lesson_notebooks()
    if not notebooks:
        parser.error("no lesson notebooks found")
    try:
        if args.command == "handout":
            written = [build_handout(args.out, notebooks)]
        elif args.command == "slides":
            written = build_slides(notebooks, args.out)
        else:
            written = build_html(notebooks, args.out)
    except KeyError as err:  # a widget or cell key a notebook lacks (file and value errors: @command)
        print(f"error: {error_line(err)}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
