"""The ONNX encoder's build cache kept tidy (retrieval/model_cache.py): a cache no current recipe
uses is removed, never a current one, one a process holds, one being built, nor a build's
temporary folder still young; and after a build, the encoder's own cache stays while it lives.

Fake cache folders stand in for builds, except in the tests through the ONNX encoder, which
build the tiny stand-in model of ``tests/test_onnx_encoder.py``.
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval import model_cache, onnx_encoder, onnx_export
from tests.helpers import ROOT, runner
from tests.test_onnx_encoder import TinyExporter, tiny_model

CURRENT = ("tiny-int8-" + "a" * 16, "tiny-fp32-" + "b" * 16)
STALE = "tiny-int8-" + "c" * 16
OTHER_MODEL = "other-int8-" + "d" * 16
HOLD_SECONDS = 60  # the holding process's bound, should the test never end it

# A process of this release using a cache: holds its shared lock until killed (or the bound).
HOLDER = """
import sys, time
from pathlib import Path
from retrieval import model_cache
held = model_cache.hold(Path(sys.argv[1]))
print("held" if held else "not held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def fake_cache(models: Path, name: str, *, marked: bool = True) -> Path:
    """A cache folder as a build leaves it; ``marked``: a process of this release used it."""
    folder = models / name
    folder.mkdir(parents=True)
    for file in ("model.onnx", "tokenizer.json", "encoder.json"):
        (folder / file).write_bytes(b"x")
    (models / f"{name}.lock").touch()
    if marked:
        (models / f"{name}.in-use").touch()
    return folder


@pytest.fixture
def models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    for name in CURRENT:
        fake_cache(folder, name)
    (folder / "sources").mkdir()
    (folder / "sources" / ("0" * 32)).write_text("f" * 64)
    return folder


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_a_stale_cache_is_removed_and_the_current_ones_kept(
    models: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stale = fake_cache(models, STALE)
    (models / "notes.txt").write_text("not ours")
    before = names(models)
    with caplog.at_level(logging.INFO, logger="retrieval.model_cache"):
        removed = model_cache.prune(models, CURRENT)
    assert removed == [stale]
    # The folder and both its lock files; nothing else (current caches, sources, others').
    assert names(models) == before - {STALE, f"{STALE}.lock", f"{STALE}.in-use"}
    assert f"removed the ONNX encoder cache {stale}" in caplog.text
    assert model_cache.prune(models, CURRENT) == []


def test_a_current_cache_is_never_removed(models: Path) -> None:
    """Current caches stay even unmarked, unlocked, and with every option given."""
    (models / f"{CURRENT[0]}.in-use").unlink()
    before = names(models)
    assert model_cache.prune(models, CURRENT, other_models=True, unmarked=True) == []
    assert names(models) == before


def test_a_cache_a_process_holds_is_never_removed(models: Path) -> None:
    stale = fake_cache(models, STALE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(stale), str(HOLD_SECONDS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert model_cache.prune(models, CURRENT, unmarked=True, other_models=True) == []
        assert (stale / "model.onnx").is_file()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    # Its lock went with the process.
    assert model_cache.prune(models, CURRENT) == [stale]


def test_a_cache_held_in_this_process_is_kept_until_released(models: Path) -> None:
    stale = fake_cache(models, STALE, marked=False)
    held = model_cache.hold(stale)  # marks it, as a process of this release does on use
    assert held is not None and (models / f"{STALE}.in-use").exists()
    assert model_cache.prune(models, CURRENT) == []
    held.close()
    assert model_cache.prune(models, CURRENT) == [stale]
    # A process that takes the lock of a removed cache gets one (and builds the cache again).
    again = model_cache.hold(stale)
    assert again is not None
    again.close()


def test_a_cache_being_built_is_kept(models: Path) -> None:
    stale = fake_cache(models, STALE)
    with (models / f"{STALE}.lock").open("a") as build:
        fcntl.flock(build, fcntl.LOCK_EX)  # as onnx_encoder.ensure_model does while building
        assert model_cache.prune(models, CURRENT) == []
    assert model_cache.prune(models, CURRENT) == [stale]


def test_a_cache_no_process_of_this_release_used_is_kept_unless_asked(
    models: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A process of an older release takes no lock: its cache goes only when asked."""
    stale = fake_cache(models, STALE, marked=False)
    with caplog.at_level(logging.INFO, logger="retrieval.model_cache"):
        assert model_cache.prune(models, CURRENT) == []
    assert stale.is_dir() and "an older release may use it" in caplog.text
    assert model_cache.prune(models, CURRENT, unmarked=True) == [stale]
    assert not stale.exists() and not (models / f"{STALE}.lock").exists()


def test_the_caches_of_other_models_are_kept_unless_asked(models: Path) -> None:
    other = fake_cache(models, OTHER_MODEL)
    assert model_cache.prune(models, CURRENT) == []
    assert model_cache.prune(models, CURRENT, other_models=True) == [other]


def test_lock_files_left_without_their_cache_are_removed(models: Path) -> None:
    (models / f"{STALE}.lock").touch()
    (models / f"{STALE}.in-use").touch()
    assert model_cache.prune(models, CURRENT) == []  # no folder removed, to name
    assert not (models / f"{STALE}.lock").exists() and not (models / f"{STALE}.in-use").exists()


def make_leftover(models: Path, name: str, suffix: str, *, age: float) -> Path:
    folder = models / f".{name}.k2_x9abc.{suffix}"
    folder.mkdir()
    (folder / "exported.onnx").write_bytes(b"half")
    moment = time.time() - age
    for path in (folder / "exported.onnx", folder):
        os.utime(path, (moment, moment))
    return folder


def test_what_unfinished_builds_left_is_removed_once_old(models: Path) -> None:
    hour = 3600.0
    young = make_leftover(models, CURRENT[0], "tmp", age=60)
    old = make_leftover(models, CURRENT[1], "tmp", age=hour)
    trash = make_leftover(models, STALE, "old", age=hour)
    removed = model_cache.prune(models, CURRENT)
    assert sorted(removed) == sorted([old, trash])
    assert young.is_dir()  # a build writing it now, perhaps


def test_an_old_staging_folder_of_a_running_build_is_kept(models: Path) -> None:
    """A build that has run long (its lock held) keeps its staging folder, however old."""
    staging = make_leftover(models, CURRENT[0], "tmp", age=3600)
    with (models / f"{CURRENT[0]}.lock").open("a") as build:
        fcntl.flock(build, fcntl.LOCK_EX)
        assert model_cache.prune(models, CURRENT) == []
    assert staging.is_dir()


def test_no_models_folder_is_nothing_to_do(tmp_path: Path) -> None:
    assert model_cache.prune(tmp_path / "none", CURRENT) == []


# --- through the ONNX encoder --------------------------------------------------------------------


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(onnx_export, "export", TinyExporter())
    yield tiny_model(tmp_path / "tiny-model")


def load(tiny: Path, models: Path) -> onnx_encoder.OnnxEncoder:
    return onnx_encoder.load(tiny, models, "onnx-int8", name="tiny", announce=lambda _line: None)


def test_a_build_removes_what_an_older_recipe_built_unless_it_is_in_use(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    monkeypatch.setattr(onnx_encoder, "RECIPE", "older")
    older = load(tiny, models)
    old_folder = older.built
    assert older.in_use is not None  # the encoder holds its cache while it lives
    monkeypatch.setattr(onnx_encoder, "RECIPE", "newer")
    newer = load(tiny, models)
    assert newer.built != old_folder
    assert old_folder.is_dir()  # in use by ``older``: the build's prune left it
    del older
    gc.collect()
    assert onnx_encoder.prune_stale(tiny, models) == [old_folder]
    assert newer.built.is_dir() and not old_folder.exists()
    assert {p.name for p in models.iterdir()} == {
        "sources",
        newer.built.name,
        f"{newer.built.name}.lock",
        f"{newer.built.name}.in-use",
    }


def test_model_prune_names_what_it_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.delenv("QUOTEDESK_MODEL", raising=False)
    monkeypatch.delenv("QUOTEDESK_MODEL_CACHE", raising=False)
    # Made by a release before these locks (unmarked): `model prune` removes it all the same.
    stale = fake_cache(data / "models", "all-MiniLM-L6-v2-int8-" + "0" * 16, marked=False)
    invoke = runner(None, monkeypatch)
    result = invoke("model", "prune", "--data-dir", str(data))
    assert result.exit_code == 0, result.output
    assert result.output == f"removed {stale}\n"
    assert not stale.exists()
    again = invoke("model", "prune", "--data-dir", str(data))
    assert again.output == f"nothing to remove in {data / 'models'}\n"
