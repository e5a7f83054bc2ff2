# segcourse: two commands for a fresh machine.
#   make lab    install into .venv, prepare the offline data, open JupyterLab on notebooks/
#   make test   install into .venv, run the whole suite (unit tests + nbval over every notebook)
# Other targets: make student, make assignments (nbgrader course folder), make bench, make data, make execute NB=notebooks/xx.ipynb
#   make test-browser  every lesson run in a real JupyterLab (headless Chromium), slides/HTML opened offline
#   make slides / make html / make handout   reveal.js decks, static HTML, the student zip (all offline)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.segcourse-installed
PORT   ?= 8888
PYTEST_ARGS ?=

# Quick mode, no progress bars, headless plotting, deterministic hashing for tests.
TEST_ENV := SEGCOURSE_FULL=0 TQDM_DISABLE=1 PYTHONHASHSEED=0 OMP_NUM_THREADS=2 PYDEVD_DISABLE_FILE_VALIDATION=1

.PHONY: install lab test test-browser data student handout slides html assignments bench execute clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	# the dense-CRF reference (tests/test_crf_reference.py) builds from source against the installed
	# NumPy: its build tools first, then no build isolation (about a minute)
	$(BIN)/python -m pip install --quiet -c constraints.txt cython setuptools wheel
	$(BIN)/python -m pip install --quiet -c constraints.txt --no-build-isolation -e '.[dev,crf]'
	@touch $(STAMP)

data: install
	$(BIN)/python -m data_scripts.prepare_offline

# JupyterLab refuses to run as root unless told; containers often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: data
	@if [ "$$CI" = "true" ]; then \
	  echo "make lab is interactive: not started under CI=true"; \
	else \
	  echo "Starting JupyterLab on notebooks/ (stop it with Ctrl-C, then y)."; \
	  $(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(ROOT_FLAG); \
	fi

test: install
	$(TEST_ENV) $(BIN)/python -m pytest -p no:cacheprovider -p tests.nbval_timeouts \
	  --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  --nbval-cell-timeout=900 tests notebooks $(PYTEST_ARGS)

# The course in a real browser: JupyterLab (127.0.0.1, random port and token) in headless
# Debian Chromium (/usr/bin/chromium, driven by Playwright; never `playwright install`) runs every
# lesson and moves each widget; the slide decks and HTML pages are opened with the network off.
# Screenshots and report.json go to artifacts/browser/. Not part of `make test`.
test-browser: install
	$(TEST_ENV) SEGCOURSE_BROWSER=1 $(BIN)/python -m pytest -p no:cacheprovider --durations=0 \
	  tests/browser $(PYTEST_ARGS)

student: install
	$(BIN)/python -m course_utils.exercises student --out student

# The student handout: student notebooks + library + offline data generator, in one zip.
handout: install
	$(BIN)/python -m course_utils.classroom handout --out dist/segcourse-student.zip

# reveal.js slide decks and a static HTML course from the executed notebooks; both open offline.
slides: install
	$(BIN)/python -m course_utils.classroom slides --out build/slides

html: install
	$(BIN)/python -m course_utils.classroom html --out build/html

# An nbgrader course folder for a class on a JupyterHub: build/nbgrader/source/<lesson>/ (the instructor
# notebooks with nbgrader's metadata and an autograded test cell after each exercise), nbgrader_config.py,
# and release/<lesson>/ from `nbgrader generate_assignment`. Reruns keep the gradebook and submissions.
assignments: install
	$(BIN)/python -m course_utils.exercises assignments --out build/nbgrader

bench: install
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Execute one instructor notebook in place (quick mode), as nbval will re-run it.
execute: install
	@test -n "$(NB)" || (echo "usage: make execute NB=notebooks/00_getting_started.ipynb"; exit 2)
	$(TEST_ENV) $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.kernel_name=python3 $(NB)

clean-venv:
	rm -rf $(VENV)
