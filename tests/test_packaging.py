"""The package metadata, environment.yml, the Makefile, the README and CI agree."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.notebook_utils import ROOT

CONDA_TO_PIP = {"pytorch": "torch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = _pyproject()["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip |= {_name(r) for r in dep["pip"] if not r.startswith("-e")}
        elif _name(dep) not in {"python", "pip"}:
            conda.add(CONDA_TO_PIP.get(_name(dep), _name(dep)))
    assert conda | pip == wanted, f"only in environment.yml: {sorted((conda | pip) - wanted)}; only in pyproject: {sorted(wanted - (conda | pip))}"


def test_constraints_pin_every_dependency_and_the_torch_builds():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    project = _pyproject()["project"]
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert _name(req) in pins, f"{_name(req)} is not pinned in constraints.txt"
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"


def test_readme_quick_start_is_the_two_make_commands_and_ci_runs_make_test():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", quick, flags=re.S)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["make lab", "make test"], commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "--nbval" in makefile and "--nbval-current-env" in makefile
