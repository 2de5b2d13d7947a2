"""tasks.py: when the install cannot download, the set-up fails with one clear line, not a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from unsilo.settings import REPO


def test_an_unreachable_index_fails_with_one_line(tmp_path):
    shutil.copy(REPO / "tasks.py", tmp_path / "tasks.py")  # ROOT, and so .venv, is the copy's folder
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    env.update(PIP_INDEX_URL="http://127.0.0.1:9/simple", UV_INDEX_URL="http://127.0.0.1:9/simple",
               PIP_RETRIES="0", PIP_TIMEOUT="2", PIP_NO_CACHE_DIR="1", PIP_FIND_LINKS="")
    out = subprocess.run([sys.executable, str(tmp_path / "tasks.py"), "setup"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr + out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("tasks.py: installing uv ") and "failed (exit" in lines[0]
    assert "PIP_INDEX_URL" in lines[0] and str(tmp_path / ".venv" / "install.log") in lines[0]
    assert "No matching distribution found for uv" in lines[0]  # the installer's last word, not a stack
    assert "pip install" in (tmp_path / ".venv" / "install.log").read_text(encoding="utf-8")


def test_a_step_that_cannot_start_is_one_line(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("tasks_under_test", REPO / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    monkeypatch.setattr(tasks, "LOG", tmp_path / "install.log")
    try:
        tasks.run(tmp_path / "no-such-installer", "sync", step="installing the locked dependencies with uv")
    except tasks.SetupError as exc:
        assert str(exc).startswith("installing the locked dependencies with uv failed: cannot run no-such-installer")
        assert "\n" not in str(exc)
    else:
        raise AssertionError("no SetupError")
