"""Issue 16: every command exits 2 with one line naming the file or flag; writers never overwrite another's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON0 = ROOT / "notebooks" / "00_getting_started.ipynb"


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


def test_make_minicity_refuses_zero_frames(tmp_path, capsys):
    from data_scripts.make_minicity import main

    assert main(["--root", str(tmp_path / "c"), "--train", "0", "--val", "0"]) == 2
    assert "nothing to generate" in _one_line(capsys)
    assert not (tmp_path / "c" / "minicity.json").exists()


def test_make_minicity_root_naming_a_file(tmp_path, capsys):
    from data_scripts.make_minicity import main

    f = tmp_path / "file"
    f.write_text("keep")
    assert main(["--root", str(f), "--train", "1", "--val", "0", "--size", "32", "64"]) == 2
    line = _one_line(capsys)
    assert "--root" in line and "is a file" in line and f.read_text() == "keep"


def test_minicity_interrupted_run_is_not_completed_with_other_parameters(tmp_path, monkeypatch):
    import course_utils.data.minicity as mc

    calls = []
    real = mc.render_scene

    def dies_after_one(*a, **k):
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(mc, "render_scene", dies_after_one)
    with pytest.raises(KeyboardInterrupt):
        mc.write_minicity(tmp_path / "c", train_images=3, val_images=0, size=(32, 64), seed=1, progress=False)
    monkeypatch.setattr(mc, "render_scene", real)
    with pytest.raises(FileExistsError, match="refusing to mix"):
        mc.write_minicity(tmp_path / "c", train_images=3, val_images=0, size=(32, 64), seed=2, progress=False)
    mc.write_minicity(tmp_path / "c", train_images=3, val_images=0, size=(32, 64), seed=1, progress=False)  # resumes
    assert json.loads((tmp_path / "c" / "minicity.json").read_text())["seed"] == 1
    assert not list((tmp_path / "c").rglob("*.tmp*"))


def test_minicity_truncated_manifest_is_named(tmp_path, capsys):
    from data_scripts.make_minicity import main

    root = tmp_path / "c"
    assert main(["--root", str(root), "--train", "1", "--val", "0", "--size", "32", "64"]) == 0
    capsys.readouterr()
    text = (root / "minicity.json").read_text()
    (root / "minicity.json").write_text(text[:10])
    assert main(["--root", str(root), "--train", "1", "--val", "0", "--size", "32", "64"]) == 2
    assert "minicity.json" in _one_line(capsys)


@pytest.mark.parametrize("mirror", ["not a url", "ftp://host/voc.tar", "http://", "http://host:99999/x.tar"])
def test_download_voc_malformed_mirror(tmp_path, capsys, mirror):
    from data_scripts.download_voc import main

    assert main(["--root", str(tmp_path), "--mirror", mirror, "--no-progress"]) == 2
    line = _one_line(capsys)
    assert "--mirror" in line and not list(tmp_path.iterdir())


def test_download_file_refuses_a_malformed_url(tmp_path):
    from course_utils.data.download import download_file

    with pytest.raises(ValueError, match="url="):
        download_file("voc.tar", tmp_path / "voc.tar", progress=False, log=lambda s: None)


def test_slides_never_overwrite_an_html_build(tmp_path, capsys):
    from course_utils.classroom import main

    assert main(["html", "--out", str(tmp_path / "site"), str(LESSON0)]) == 0
    index = (tmp_path / "site" / "index.html").read_text()
    capsys.readouterr()
    assert main(["slides", "--out", str(tmp_path / "site"), str(LESSON0)]) == 2
    assert "holds the html build" in _one_line(capsys)
    assert (tmp_path / "site" / "index.html").read_text() == index
    assert main(["html", "--out", str(tmp_path / "site"), str(LESSON0)]) == 0  # its own build is refreshed
    other = tmp_path / "mine"
    other.mkdir()
    (other / "index.html").write_text("my page")
    capsys.readouterr()
    assert main(["slides", "--out", str(other), str(LESSON0)]) == 2
    assert "not empty" in _one_line(capsys) and (other / "index.html").read_text() == "my page"


def test_builders_name_a_damaged_notebook(tmp_path, capsys):
    from course_utils.classroom import main as classroom
    from course_utils.exercises.__main__ import main as exercises

    bad = tmp_path / "07_bad.ipynb"
    bad.write_text(LESSON0.read_text()[:200])  # truncated JSON
    assert classroom(["html", "--out", str(tmp_path / "h"), str(bad)]) == 2
    assert "07_bad.ipynb" in _one_line(capsys)
    assert exercises(["student", "--out", str(tmp_path / "s"), str(bad)]) == 2
    assert "07_bad.ipynb" in _one_line(capsys)
    assert not list((tmp_path / "s").glob("*.tmp"))


def test_student_builder_keeps_a_foreign_notebook(tmp_path, capsys):
    from course_utils.exercises.__main__ import main

    out = tmp_path / "s"
    out.mkdir()
    (out / LESSON0.name).write_text("{ my own work")
    assert main(["student", "--out", str(out), str(LESSON0)]) == 2
    assert LESSON0.name in _one_line(capsys) and (out / LESSON0.name).read_text() == "{ my own work"


def test_error_line_names_the_file():
    from course_utils.cli import error_line

    assert error_line(FileNotFoundError(2, "No such file or directory", "/x/y.png")) == \
        "/x/y.png: No such file or directory"
    assert error_line(IsADirectoryError(21, "Is a directory", "/x")) == "/x: is a folder, expected a file"
    assert error_line(ValueError("a\nb")) == "a b"


def test_atomic_file_leaves_nothing_on_failure(tmp_path):
    from course_utils.cli import atomic_file

    target = tmp_path / "a.png"
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(target) as tmp:
            tmp.write_bytes(b"half an image")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_interrupted_saliency_writer_leaves_no_half_image(tmp_path, monkeypatch):
    import cv2

    import course_utils.data.saliency_synth as ss

    real = cv2.imwrite
    calls = []

    def dies_in_the_middle(path, image, *args):
        calls.append(path)
        if len(calls) == 3:
            with open(path, "wb") as f:
                f.write(b"\xff\xd8 half")  # half a JPEG, then the power goes
            raise KeyboardInterrupt
        return real(path, image, *args)

    monkeypatch.setattr(cv2, "imwrite", dies_in_the_middle)
    with pytest.raises(KeyboardInterrupt):
        ss.write_dataset(tmp_path / "sal", n_train=3, n_test=1, size=32, seed=0)
    monkeypatch.setattr(cv2, "imwrite", real)
    for path in (tmp_path / "sal").rglob("*"):
        assert ".tmp" not in path.name
        if path.suffix in (".jpg", ".png"):
            assert cv2.imread(str(path)) is not None, path
