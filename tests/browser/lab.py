"""Drive a real JupyterLab in headless Chromium: start/stop the server, run a notebook, check its widgets.

Used by the browser tests (``make test-browser``). The server runs from this venv on
127.0.0.1 with a random free port and a random token, on a scratch folder that holds copies
of the notebooks (so nothing in ``notebooks/`` is ever saved over), with its own config,
settings and runtime folders. It is always stopped by :meth:`LabServer.stop`: SIGTERM to its
process group, SIGKILL after a grace period, then any kernel it left behind.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path(os.environ.get("SEGCOURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"

# JupyterLab user settings for the test server: every cell stays in the DOM, nothing is saved,
# nothing is fetched from the internet.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}

# Environment of the server and its kernels: quick mode as in `make test`.
LAB_ENV = {"SEGCOURSE_FULL": "0", "TQDM_DISABLE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "2",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM if the test process dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A JupyterLab server in its own process group, serving ``root``."""

    def __init__(self, root: Path, scratch: Path):
        self.root = Path(root)
        self.scratch = Path(scratch)
        self.token = secrets.token_hex(24)
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path = self.scratch / "jupyterlab.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict:
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)  # the kernel's inline backend, as a student gets
        env.update(LAB_ENV)
        for name, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                          ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")]:
            path = self.scratch / sub
            path.mkdir(parents=True, exist_ok=True)
            env[name] = str(path)
        for rel, value in LAB_SETTINGS.items():
            target = self.scratch / "settings" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(value))
        return env

    def start(self, timeout_s: float = 180.0, attempts: int = 3) -> LabServer:
        env = self._env()
        last_error = ""
        for _ in range(attempts):
            self.port = free_port()
            cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                   "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
                   "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                   "--LabApp.extension_manager=readonly", "--MappingKernelManager.cull_idle_timeout=0"]
            if os.geteuid() == 0:  # containers and CI runners often run as root
                cmd.append("--allow-root")
            log = self.log_path.open("ab")
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=_die_with_parent)
            log.close()
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    self.api("GET", "/api/status")
                    return self
                except (urllib.error.URLError, ConnectionError, OSError):
                    time.sleep(0.5)
            last_error = self.log_tail()
            self.stop()
        raise RuntimeError(f"JupyterLab did not start on 127.0.0.1 after {attempts} attempts:\n{last_error}")

    def api(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", method=method, data=data,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        """Shut down every kernel (frees the memory a lesson's kernel holds)."""
        try:
            for session in self.api("GET", "/api/sessions") or []:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            for kernel in self.api("GET", "/api/kernels") or []:
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
        except (urllib.error.URLError, ConnectionError, OSError):
            pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, grace_s: float = 20.0) -> None:
        """Stop the server and everything it started; safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        import psutil

        try:
            descendants = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            descendants = []
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        _, alive = psutil.wait_procs(descendants, timeout=5)
        for child in alive:  # kernels run in their own sessions: kill them by id
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=5)


def launch_chromium(playwright):
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: install Debian's chromium "
                                "(apt-get install -y --no-install-recommends chromium); never `playwright install`")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


@dataclass
class WidgetResult:
    """What happened to one displayed widget."""

    cell: int
    control: str = ""
    problems: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class NotebookReport:
    """The outcome of running one notebook in JupyterLab."""

    name: str
    seconds: float = 0.0
    code_cells: int = 0
    executed_cells: int = 0
    cell_errors: list[str] = field(default_factory=list)
    widgets: list[WidgetResult] = field(default_factory=list)
    closed_widgets: int = 0
    screenshots: list[Path] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        out = list(self.cell_errors)
        for index, widget in enumerate(self.widgets):
            out += [f"widget {index + 1} (cell {widget.cell}): {p}" for p in widget.problems]
        return out


# --- JavaScript run in the page -----------------------------------------------------------

_JS_FIND_PANEL = """
(name) => {
  const app = window.jupyterapp;
  if (!app) { return null; }
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === name && w.content && w.content.model) { return true; }
  }
  return null;
}
"""

_JS_PANEL = """
const findPanel = (name) => {
  for (const w of window.jupyterapp.shell.widgets('main')) {
    if (w.context && w.context.path === name) { return w; }
  }
  throw new Error('notebook ' + name + ' is not open');
};
"""

_JS_RUN_ALL = _JS_PANEL + """
async ([name, timeoutMs]) => {
  const panel = findPanel(name);
  await panel.context.ready;
  await panel.sessionContext.ready;
  window.jupyterapp.shell.activateById(panel.id);
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs));
  const run = window.jupyterapp.commands.execute('notebook:run-all-cells').then(() => 'done');
  return await Promise.race([run, timeout]);
}
"""

_JS_KERNEL_STATUS = _JS_PANEL + """
(name) => {
  const kernel = findPanel(name).sessionContext.session?.kernel;
  return kernel ? kernel.status : 'no kernel';
}
"""

_JS_CELL_REPORT = _JS_PANEL + """
(name) => {
  const cells = findPanel(name).content.model.cells;
  const out = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') { continue; }
    const errors = cell.outputs.toJSON().filter((o) => o.output_type === 'error')
      .map((o) => o.ename + ': ' + o.evalue);
    out.push({index: i, empty: cell.sharedModel.getSource().trim() === '',
              count: cell.executionCount, errors: errors});
  }
  return out;
}
"""

# Widget views: every output of the notebook model carrying the widget-view MIME type, matched to
# its element in the cell's output area (marked data-segcourse-widget="k" so the tests can find it).
_JS_WIDGET_VIEWS = _JS_PANEL + """
(name) => {
  const panel = findPanel(name);
  const cells = panel.content.model.cells;
  const cellNodes = Array.from(panel.content.node.querySelectorAll('.jp-Cell'));
  const views = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') { continue; }
    const outputs = cell.outputs.toJSON();
    const area = cellNodes[i] ? cellNodes[i].querySelector('.jp-Cell-outputArea') : null;
    const children = area ? Array.from(area.children).filter((c) => c.classList.contains('jp-OutputArea-child')) : [];
    outputs.forEach((output, j) => {
      if (!output.data || !output.data['application/vnd.jupyter.widget-view+json']) { return; }
      const k = views.length;
      const child = children[j];
      const el = child ? child.querySelector(':scope > .jp-OutputArea-output') : null;
      if (el) { el.setAttribute('data-segcourse-widget', String(k)); }
      views.push({cell: i, output: j, found: el !== null,
                  model: String(output.data['application/vnd.jupyter.widget-view+json'].model_id || ''),
                  empty: el === null || (el.innerText.trim() === '' && el.querySelector('.jupyter-widgets') === null)});
    });
  }
  return views;
}
"""

# Which widget models are still open in the kernel (a finished progress bar with leave=False, or
# any widget the code closed, leaves an empty view behind: nothing to check there).
_JS_ALIVE_MODELS = _JS_PANEL + """
async ([name, ids]) => {
  const kernel = findPanel(name).sessionContext.session.kernel;
  const expr = "','.join(m for m in " + JSON.stringify(ids) +
               " if m in __import__('ipywidgets').widgets.widget._instances)";
  const future = kernel.requestExecute({code: '', silent: true, store_history: false,
                                        user_expressions: {alive: expr}});
  const reply = await future.done;
  const value = reply.content.user_expressions.alive;
  if (!value || value.status !== 'ok') { throw new Error('widget query failed: ' + JSON.stringify(value)); }
  const text = value.data['text/plain'].slice(1, -1);
  return text ? text.split(',') : [];
}
"""

# Selectors of the controls a student moves; the output is everything else in the view.
_CONTROL_SELECTOR = ('.widget-slider, .widget-dropdown, .widget-toggle-buttons, .widget-checkbox, '
                     '.widget-toggle-button, .widget-button, .widget-radio, .widget-text, .widget-play')

_JS_SIGNATURE = """
([index, controls]) => {
  const view = document.querySelector('[data-segcourse-widget="' + index + '"]');
  if (!view) { return null; }
  const clone = view.cloneNode(true);
  clone.querySelectorAll(controls).forEach((el) => el.remove());
  // What the student sees, not the markup (JupyterLab rewrites styles while it re-renders).
  const text = clone.textContent;
  const images = Array.from(clone.querySelectorAll('img')).map((img) => img.getAttribute('src'));
  const svgs = Array.from(clone.querySelectorAll('svg')).map((svg) => svg.outerHTML);
  const error = /Traceback \\(most recent call last\\)|Error displaying widget/.test(text);
  return {html: [text, ...images, ...svgs].join('\\n'), error: error, text: text.slice(-600)};
}
"""



def _wait_idle(page, name: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    status = ""
    quiet = 0
    while time.monotonic() < deadline:
        status = page.evaluate(_JS_KERNEL_STATUS, name)
        quiet = quiet + 1 if status == "idle" else 0
        if quiet >= 3:
            return status
        time.sleep(0.3)
    return status


def _number(value: str | None) -> str:
    """'3.0' -> '3' (aria values are floats even for an IntSlider)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else str(number)


def _move_control(page, view) -> tuple[str, str]:
    """Move one control of the widget ``view``; return (control description, problem or "")."""
    handle = view.locator(".widget-slider .noUi-handle").first
    if handle.count():
        before = handle.get_attribute("aria-valuenow")
        at_max = before is not None and before == handle.get_attribute("aria-valuemax")
        handle.focus()
        page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
        time.sleep(0.3)
        after = handle.get_attribute("aria-valuenow")
        if after == before:  # keyboard did not move it: click on the track instead
            track = view.locator(".widget-slider .noUi-base").first
            box = track.bounding_box()
            if box:
                page.mouse.click(box["x"] + box["width"] * (0.25 if at_max else 0.75), box["y"] + box["height"] / 2)
                time.sleep(0.3)
                after = handle.get_attribute("aria-valuenow")
        text = handle.get_attribute("aria-valuetext") or after
        label = f"slider {_number(before)} -> {text}"
        return label, "" if after != before else "the slider did not move"
    select = view.locator(".widget-dropdown select").first
    if select.count():
        options = select.locator("option").all_inner_texts()
        current = select.input_value()
        values = select.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
        others = [v for v in values if v != current]
        if not others:
            return "dropdown", "the dropdown has a single option"
        select.select_option(others[0])
        return f"dropdown -> {options[values.index(others[0])]}", ""
    for selector, what in [(".widget-checkbox input", "checkbox"), (".widget-toggle-buttons button", "toggle"),
                           (".widget-button", "button")]:
        control = view.locator(selector).last
        if control.count():
            control.click()
            return what, ""
    return "", "no slider or other control in the widget"


def check_widget(page, name: str, index: int, cell: int, screenshot: Path | None,
                 react_timeout_s: float = 120.0) -> WidgetResult:
    """Check the ``index``-th widget view: it rendered, and moving one control changes its output."""
    result = WidgetResult(cell=cell)
    view = page.locator(f'[data-segcourse-widget="{index}"]')
    if not view.count():
        result.problems.append("the widget did not render: no output element in the notebook")
        return result
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not view.locator(".jupyter-widgets").count():
        if "Error displaying widget" in view.inner_text():
            break
        time.sleep(0.3)
    if not view.locator(".jupyter-widgets").count():
        result.problems.append(f"the widget did not render: {view.inner_text()[:200]!r}")
        return result
    view.scroll_into_view_if_needed()
    if not view.locator(".widget-slider, .widget-dropdown, .widget-checkbox, .widget-toggle-buttons, "
                        ".widget-button").count():
        result.problems.append("the widget rendered without a slider or other control")
        return result
    before = page.evaluate(_JS_SIGNATURE, [index, _CONTROL_SELECTOR])
    if before["error"]:
        result.problems.append(f"the widget shows an error before it was moved: {before['text']!r}")
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        view.screenshot(path=str(screenshot))
        result.screenshot = screenshot
    result.control, problem = _move_control(page, view)
    if problem:
        result.problems.append(problem)
        return result
    deadline = time.monotonic() + react_timeout_s
    after, stable = before, 0
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = page.evaluate(_JS_SIGNATURE, [index, _CONTROL_SELECTOR])
        stable = stable + 1 if now == after else 0
        after = now
        if after["html"] != before["html"] and stable >= 2 and _wait_idle(page, name, 5) == "idle":
            break
    _wait_idle(page, name, 30)
    after = page.evaluate(_JS_SIGNATURE, [index, _CONTROL_SELECTOR])
    if after["error"]:
        result.problems.append(f"moving the {result.control} made the widget show an error: {after['text']!r}")
    elif after["html"] == before["html"]:
        result.problems.append(f"moving the {result.control} did not change the widget's output "
                               f"within {react_timeout_s:.0f} s")
    if screenshot is not None and result.ok:
        moved = screenshot.with_name(screenshot.stem + "-moved.png")
        view.screenshot(path=str(moved))
    return result


def check_notebook(browser, server: LabServer, name: str, artifacts: Path | None,
                   run_timeout_s: float = 1500.0, react_timeout_s: float = 120.0) -> NotebookReport:
    """Open ``name`` (relative to the server root) in JupyterLab, run all cells, check cells and widgets.

    Screenshots of the first widget go to ``artifacts/<stem>-widget1.png`` (and ``-moved.png``
    after one control was moved); a full-page ``<stem>-failed.png`` when something went wrong.
    The notebook's kernel is shut down afterwards.
    """
    report = NotebookReport(name=name)
    stem = Path(name).stem
    start = time.monotonic()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(server.lab_url(name), wait_until="domcontentloaded", timeout=120_000)
        page.wait_for_function(_JS_FIND_PANEL, arg=name, timeout=120_000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
        outcome = page.evaluate(_JS_RUN_ALL, [name, int(run_timeout_s * 1000)])
        if outcome != "done":
            report.cell_errors.append(f"running all cells did not finish within {run_timeout_s:.0f} s")
        _wait_idle(page, name, 60)
        cells = page.evaluate(_JS_CELL_REPORT, name)
        code = [c for c in cells if not c["empty"]]
        report.code_cells = len(code)
        report.executed_cells = sum(c["count"] is not None for c in code)
        for c in code:
            report.cell_errors += [f"cell {c['index']} shows an error: {e}" for e in c["errors"]]
        if report.executed_cells < report.code_cells:
            report.cell_errors.append(f"only {report.executed_cells} of {report.code_cells} code cells ran")
        # Tracebacks shown anywhere outside widget views (e.g. printed by a display hook).
        shown = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-Cell .jp-OutputArea-output'))
            .filter((el) => !el.closest('.jupyter-widgets'))
            .filter((el) => /Traceback \\(most recent call last\\)/.test(el.innerText)).length""")
        if shown and not any("shows an error" in e for e in report.cell_errors):
            report.cell_errors.append(f"{shown} output(s) show a traceback")
        views = page.evaluate(_JS_WIDGET_VIEWS, name)
        alive = set(page.evaluate(_JS_ALIVE_MODELS, [name, [v["model"] for v in views]])) if views else set()
        for index, view in enumerate(views):
            if view["empty"] and view["model"] not in alive:
                report.closed_widgets += 1  # closed by the code (e.g. a finished progress bar)
                continue
            first = not report.widgets
            shot = artifacts / f"{stem}-widget1.png" if artifacts is not None and first else None
            result = check_widget(page, name, index, view["cell"], shot, react_timeout_s)
            report.widgets.append(result)
            if result.screenshot is not None:
                report.screenshots.append(result.screenshot)
    except Exception as err:  # noqa: BLE001 - a browser failure is a reported problem, with a screenshot
        report.cell_errors.append(f"{type(err).__name__}: {err}")
    finally:
        if report.problems and artifacts is not None:
            failed = artifacts / f"{stem}-failed.png"
            try:
                failed.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(failed), full_page=True)
                report.screenshots.append(failed)
            except Exception:  # noqa: BLE001 - best effort
                pass
        context.close()
        server.shutdown_kernels()
        report.seconds = time.monotonic() - start
    return report
