"""Everything unsilo writes under the data root is owner-only from creation, whatever the umask it started with."""

from __future__ import annotations

import os
import stat

import pytest
from rich.console import Console

from unsilo.extract import owner_only_file
from unsilo.settings import KEY_CONN_ENV, KEY_ENV, KEY_FILE_ENV


def test_a_demo_night_leaves_nothing_readable_by_group_or_others(tmp_path, monkeypatch):
    from unsilo.demo_night import demo_night

    home, config = tmp_path / "home", tmp_path / "config"
    monkeypatch.setenv("UNSILO_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    for var in (KEY_ENV, KEY_FILE_ENV, KEY_CONN_ENV, "UNSILO_WAREHOUSE", "UNSILO_SOURCES", "UNSILO_HOUSING_URL"):
        monkeypatch.delenv(var, raising=False)
    old = os.umask(0o022)  # a usual login umask: files 0644, folders 0755 unless unsilo says otherwise
    try:
        demo_night(people=100, seed=7, use_airflow=False, generate_only=False, console=Console(file=open(os.devnull, "w")))
    finally:
        os.umask(old)
    seen, open_to_others = 0, []
    for root, dirs, files in os.walk(home):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):  # a symlink's own mode is always 0777; its target is walked itself
                continue
            seen += 1
            if st.st_mode & 0o077:
                open_to_others.append(f"{stat.S_IMODE(st.st_mode):o} {os.path.relpath(path, home)}")
    assert seen > 100 and {"landing", "warehouse", "quality", "departments", "staging"} <= set(os.listdir(home))
    assert open_to_others == []
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    key = config / "unsilo" / "pseudonym.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and not (home / "secrets").exists()


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_landing_files_are_0600_from_creation_whatever_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = owner_only_file(tmp_path / "x.parquet.part")
        with open(path, "wb") as f:  # a writer truncating it (pyarrow does the same) keeps the mode
            f.write(b"raw")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
