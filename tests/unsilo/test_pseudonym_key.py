"""Where the pseudonym key comes from, and that the embedded default is created 0600 outside the data root."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import duckdb
import pytest

from standards.pseudonym import chain, fingerprint, hmac_sql, pseudonym
from unsilo import settings as settings_module
from unsilo.settings import (KEY_CONN_ENV, KEY_ENV, KEY_FILE_ENV, SettingsError, connection_password, settings)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A data root and a config folder of their own, and no key provided."""
    home, config = tmp_path / "home", tmp_path / "config"
    home.mkdir()
    monkeypatch.setenv("UNSILO_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    for var in (KEY_ENV, KEY_FILE_ENV, KEY_CONN_ENV, "UNSILO_WAREHOUSE"):
        monkeypatch.delenv(var, raising=False)
    return home, config


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sources_in_order_env_file_connection_default(env, tmp_path, monkeypatch):
    home, config = env
    cfg = settings()
    with pytest.raises(SettingsError, match="no pseudonym key.*unsilo key init"):
        cfg.key_source()
    default = cfg.ensure_key_file()
    assert default == (config / "unsilo" / "pseudonym.key").resolve()
    assert cfg.key_source().kind == "default"
    monkeypatch.setenv(KEY_CONN_ENV, json.dumps({"conn_type": "generic", "password": "from-the-connection"}))
    assert (cfg.key_source().kind, cfg.pseudonym_key()) == ("connection", (b"from-the-connection",))
    provided = tmp_path / "deploy" / "pseudonym.key"
    provided.parent.mkdir()
    provided.write_text("k-one\nk-two\n", encoding="utf-8")
    monkeypatch.setenv(KEY_FILE_ENV, str(provided))
    assert (cfg.key_source().kind, cfg.pseudonym_key()) == ("file", (b"k-one", b"k-two"))
    monkeypatch.setenv(KEY_ENV, "from-the-environment")
    assert (cfg.key_source().kind, cfg.pseudonym_key()) == ("env", (b"from-the-environment",))


def test_connection_password_in_json_and_uri_forms():
    assert connection_password('{"conn_type": "generic", "password": "s3cr/et:1"}') == "s3cr/et:1"
    assert connection_password("generic://:s3cr%2Fet%3A1@") == "s3cr/et:1"
    assert connection_password("generic://user@host") == ""
    with pytest.raises(SettingsError, match=KEY_CONN_ENV):
        connection_password("{not json")


def test_a_key_file_inside_the_data_root_is_refused(env, monkeypatch):
    home, _ = env
    inside = home / "keys" / "pseudonym.key"
    inside.parent.mkdir()
    inside.write_text("k\n", encoding="utf-8")
    monkeypatch.setenv(KEY_FILE_ENV, str(inside))
    with pytest.raises(SettingsError, match=f"{KEY_FILE_ENV}.*inside the data root"):
        settings().key_source()
    monkeypatch.delenv(KEY_FILE_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))  # the default folder placed under the data root
    with pytest.raises(SettingsError, match="inside the data root"):
        settings().ensure_key_file()
    assert not (home / "config").exists()


def test_the_default_key_is_0600_from_its_first_byte_in_a_0700_folder(env, monkeypatch):
    home, config = env
    modes = []
    real_write = os.write

    def write(fd, data):  # the file's mode at the moment the key's first byte is written
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(settings_module.os, "write", write)
    old = os.umask(0)  # the most permissive umask: the mode must come from the creation itself
    try:
        path = settings().ensure_key_file()
    finally:
        os.umask(old)
    assert modes == [0o600]
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert home not in path.parents
    key = path.read_text(encoding="ascii")
    assert len(key.strip()) == 64 and int(key, 16) >= 0
    assert settings().ensure_key_file() == path and path.read_text(encoding="ascii") == key  # kept, not remade
    assert [p.name for p in path.parent.iterdir()] == ["pseudonym.key"]  # no temporary file left


def _create(config: str, home: str, start, out) -> None:
    os.environ.update(XDG_CONFIG_HOME=config, UNSILO_HOME=home)
    start.wait()
    cfg = settings()
    cfg.ensure_key_file()
    out.put(cfg.pseudonym_key()[0].decode())


def test_concurrent_creators_agree_on_one_key(env):
    home, config = env
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_create, args=(str(config), str(home), start, out)) for _ in range(6)]
    for p in procs:
        p.start()
    keys = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert len(set(keys)) == 1
    folder = config / "unsilo"
    assert [p.name for p in folder.iterdir()] == ["pseudonym.key"]
    assert (folder / "pseudonym.key").read_text(encoding="ascii").strip() == keys[0]


def test_a_key_under_the_data_root_is_moved_out_once(env, capsys):
    home, config = env
    legacy = home / "secrets" / "pseudonym.key"
    legacy.parent.mkdir()
    legacy.write_text("0123abcd" * 8 + "\n", encoding="ascii")
    assert settings().pseudonym_key() == (b"0123abcd" * 8,)
    moved = config / "unsilo" / "pseudonym.key"
    assert moved.read_text(encoding="ascii").strip() == "0123abcd" * 8 and mode(moved) == 0o600
    assert not legacy.exists() and not legacy.parent.exists()
    assert "moved the pseudonym key out of the data root" in capsys.readouterr().err
    assert settings().pseudonym_key() == (b"0123abcd" * 8,)
    assert capsys.readouterr().err == ""  # once


def test_two_different_keys_are_not_merged(env):
    home, config = env
    settings().ensure_key_file()
    legacy = home / "secrets" / "pseudonym.key"
    legacy.parent.mkdir()
    legacy.write_text("another-key\n", encoding="ascii")
    with pytest.raises(SettingsError, match=f"two pseudonym keys.*{KEY_FILE_ENV}"):
        settings().key_source()
    assert legacy.exists()  # nothing decided for the steward


def test_an_interrupted_rotation_stops_every_reader(env):
    path = settings().ensure_key_file()
    path.with_name(path.name + ".next").write_text("a\nb\n", encoding="ascii")
    with pytest.raises(SettingsError, match="unsilo key check"):
        settings().pseudonym_key()


def test_a_chain_of_one_is_the_old_single_hmac_and_chains_compose():
    import hashlib
    import hmac

    one = hmac.new(b"k1", b"person:110105194912310021", hashlib.sha256).hexdigest()[:32]
    assert pseudonym(b"k1", "person", "110105194912310021") == pseudonym([b"k1"], "person", "110105194912310021") == one
    two = hmac.new(b"k2", f"person:{one}".encode(), hashlib.sha256).hexdigest()[:32]
    assert pseudonym([b"k1", b"k2"], "person", "110105194912310021") == two
    values = ["110105194912310021", None, "x"]
    with duckdb.connect() as con:
        got = [r[0] for r in con.execute(
            f"SELECT {hmac_sql([b'k1', b'k2'], 'person', 'v')} FROM (SELECT unnest(?) AS v, "
            "generate_subscripts(?, 1) AS i) ORDER BY i", [values, values]).fetchall()]
    assert got == [two, None, pseudonym([b"k1", b"k2"], "person", "x")]
    assert fingerprint([b"k1"]) != fingerprint([b"k1", b"k2"]) and fingerprint([b"k1"]).startswith("1:")
    with pytest.raises(ValueError):
        chain([])
