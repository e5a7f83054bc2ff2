"""`make slides` and `make html` pages open in Chromium with the network off and render."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils.classroom import build_html, build_slides, lesson_notebooks, slide_types

LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def _math_notebook(path):
    """A small executed notebook with LaTeX in Markdown and a '$' in a text output."""
    cells = [
        new_markdown_cell("# Math check: the IoU (交并比)\n\n$\\mathrm{IoU} = \\frac{|A \\cap B|}{|A \\cup B|}$",
                          metadata={"slideshow": {"slide_type": "slide"}}),
        new_markdown_cell("$$E(x) = \\sum_i \\psi_u(x_i) + \\sum_{i<j} \\psi_p(x_i, x_j)$$",
                          metadata={"slideshow": {"slide_type": "subslide"}}),
        new_code_cell("print('costs $5 and $6')", execution_count=1,
                      outputs=[new_output("stream", name="stdout", text="costs $5 and $6\n")]),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="session")
def built_pages(tmp_path_factory):
    src = tmp_path_factory.mktemp("pages-src")
    notebooks = [*lesson_notebooks(), _math_notebook(src / "99_math_check.ipynb")]
    out = tmp_path_factory.mktemp("pages")
    build_slides(notebooks, out / "slides")
    build_html(notebooks, out / "html")
    return out, notebooks


class OfflinePage:
    """A page in a context with the network off; records every non-local request and script error."""

    def __init__(self, chromium):
        self.context = chromium.new_context(offline=True, viewport={"width": 1280, "height": 800})
        self.external: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda r: None if r.url.startswith(LOCAL_SCHEMES) else self.external.append(r.url))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _route(self, route):
        if route.request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            route.abort()

    def check_clean(self):
        assert not self.external, f"the page asked the network for {self.external}"
        assert not self.failed, f"requests failed: {self.failed}"
        assert not self.errors, f"script errors: {self.errors}"

    def close(self):
        self.context.close()


@pytest.fixture
def offline_page(chromium):
    page = OfflinePage(chromium)
    yield page
    page.close()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("stem", [p.stem for p in lesson_notebooks()] + ["99_math_check"])
def test_slide_deck_renders_offline(stem, built_pages, offline_page, artifacts_dir):
    out, notebooks = built_pages
    nb = nbformat.read(next(p for p in notebooks if p.stem == stem), as_version=4)
    page = offline_page.page
    page.goto((out / "slides" / f"{stem}.slides.html").as_uri(), wait_until="load")
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
    total = page.evaluate("() => Reveal.getTotalSlides()")
    types = slide_types(nb)
    expected = sum(t in {"slide", "subslide"} for t in types)
    assert total > 0
    if types and types[0] == "slide":
        assert total == expected, f"{stem}: {total} slides rendered, {expected} slide/subslide cells"
    title = page.evaluate("() => Reveal.getCurrentSlide().innerText")
    assert title.strip(), "the first slide is empty"
    page.screenshot(path=str(artifacts_dir / f"{stem}-slide1.png"))
    if total > 1:
        page.evaluate("() => Reveal.next()")
        page.wait_for_function("() => { const i = Reveal.getIndices(); return i.h + i.v > 0; }", timeout=10_000)
    if stem == "99_math_check":
        page.wait_for_function("() => document.body.dataset.math === 'rendered'", timeout=30_000)
        assert page.locator(".katex").count() >= 2, "the LaTeX was not typeset"
        assert page.locator(".jp-OutputArea-output pre").inner_text().strip() == "costs $5 and $6", "text output was mangled"
    offline_page.check_clean()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("stem", [p.stem for p in lesson_notebooks()] + ["99_math_check"])
def test_static_html_renders_offline(stem, built_pages, offline_page):
    out, _ = built_pages
    page = offline_page.page
    page.goto((out / "html" / f"{stem}.html").as_uri(), wait_until="load")
    page.wait_for_function("() => document.body.dataset.math === 'rendered'", timeout=30_000)
    assert page.locator(".jp-Cell").count() > 0
    broken = page.evaluate("() => Array.from(document.images).filter((i) => !(i.complete && i.naturalWidth > 0)).length")
    assert broken == 0, f"{broken} images did not load"
    if stem == "99_math_check":
        assert page.locator(".katex").count() >= 2, "the LaTeX was not typeset"
    page.goto((out / "html" / "index.html").as_uri(), wait_until="load")
    assert page.locator(f'a[href="{stem}.html"]').count() == 1
    offline_page.check_clean()
