"""Settings from environment variables (``UNSILO_*``) with embedded defaults that need nothing installed."""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[1]


class SettingsError(RuntimeError):
    """A setting is missing or wrong; the message says which variable or file to fix."""


KEY_ENV = "UNSILO_PSEUDONYM_KEY"
KEY_FILE_ENV = "UNSILO_PSEUDONYM_KEY_FILE"
KEY_CONN_ID = "unsilo_pseudonym_key"
KEY_CONN_ENV = "AIRFLOW_CONN_UNSILO_PSEUDONYM_KEY"  # how Airflow names a Connection given in the environment
#: New files and folders are owner-only (0600/0700) from creation: unsilo writes raw IDs and keys.
UMASK = 0o077


@dataclass(frozen=True)
class KeySource:
    """Where the key chain came from (``env``, ``file``, ``connection``, ``default``), never the key in a message."""

    kind: str
    where: str  # the variable, Connection id or path that holds it
    path: Path | None  # the file holding the chain (``file``, ``default``), which ``unsilo key rotate`` rewrites
    keys: tuple[bytes, ...]


def owner_only() -> None:
    """Make every file and folder this process creates owner-only (umask 077)."""
    os.umask(UMASK)


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/unsilo`` (default ``~/.config/unsilo``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "unsilo"


def parse_chain(text: str, where: str) -> tuple[bytes, ...]:
    """A key chain as written: one key per line, oldest first (one line: a chain of one)."""
    keys = tuple(line.strip().encode("utf-8") for line in text.splitlines() if line.strip())
    if not keys:
        raise SettingsError(f"{where} holds no pseudonym key")
    return keys


def read_chain(path: Path) -> tuple[bytes, ...]:
    return parse_chain(path.read_text(encoding="utf-8"), str(path))


def connection_password(value: str) -> str:
    """The password of an Airflow Connection given as an environment variable, in its JSON or URI form."""
    if value.lstrip().startswith("{"):
        try:
            return json.loads(value).get("password") or ""
        except (ValueError, AttributeError):
            raise SettingsError(f"{KEY_CONN_ENV} is not a JSON Connection with a password") from None
    return unquote(urlsplit(value).password or "")


def _settled(path: Path) -> Path:
    """``path``, unless a key rotation of it was interrupted (``<path>.next`` exists): then no one may use a key."""
    if path.with_name(path.name + ".next").exists():
        raise SettingsError(f"a key rotation of {path} was interrupted ({path.name}.next is next to it): run "
                            "`unsilo key check`, which finishes or undoes it")
    return path


def write_private(path: Path, text: str, replace: bool) -> bool:
    """Write ``text`` to ``path`` atomically, 0600 from the first byte (folder 0700): a temporary file in the same
    folder, fsynced, then renamed over ``path`` (``replace``) or linked to it only if absent. Return False when
    another process created ``path`` first (its file stands)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
    finally:
        tmp.unlink(missing_ok=True)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return True


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse: Path
    sources_dir: Path
    timezone: str
    # DuckDB's memory limit for a night's own work (normalize, validation, load): past it DuckDB spills to disk
    # and evicts cached blocks, so a night's peak memory stays flat as sources grow (UNSILO_DUCKDB_MEMORY)
    duckdb_memory: str = "512MB"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def staging(self) -> Path:
        return self.home / "staging"

    @property
    def snapshots(self) -> Path:
        """Where the analysts' read-only snapshots are published (``current.duckdb`` points at the newest)."""
        return self.warehouse.parent / "snapshots"

    @property
    def key_file(self) -> Path:
        """The embedded default's key file: in the user's config folder, never under the data root."""
        return config_dir() / "pseudonym.key"

    @property
    def legacy_key_file(self) -> Path:
        """Where keys used to live (under the data root, readable by anything reading it): moved out once."""
        return self.home / "secrets" / "pseudonym.key"

    def key_source(self) -> KeySource:
        """Where the pseudonym key chain comes from, in order: ``UNSILO_PSEUDONYM_KEY``, the file
        ``UNSILO_PSEUDONYM_KEY_FILE``, the Airflow Connection ``unsilo_pseudonym_key`` (its password, as the
        environment variable ``AIRFLOW_CONN_UNSILO_PSEUDONYM_KEY``), else the embedded default key file."""
        env = os.environ.get(KEY_ENV)
        if env:
            return KeySource("env", KEY_ENV, None, parse_chain(env, KEY_ENV))
        named = os.environ.get(KEY_FILE_ENV)
        if named:
            path = self.outside_home(Path(named).expanduser(), KEY_FILE_ENV)
            if not path.is_file():
                raise SettingsError(f"{KEY_FILE_ENV} names {path}, which is not a file: provide the deployment's "
                                    "key file there, or unset the variable")
            return KeySource("file", KEY_FILE_ENV, path, read_chain(_settled(path)))
        conn = os.environ.get(KEY_CONN_ENV)
        if conn:
            return KeySource("connection", KEY_CONN_ID, None, parse_chain(connection_password(conn), KEY_CONN_ENV))
        path = self.outside_home(self.key_file, "the default key file (XDG_CONFIG_HOME)")
        self._move_legacy_key(path)
        if not path.exists():
            raise SettingsError(
                f"no pseudonym key: set {KEY_ENV}, {KEY_FILE_ENV} or the Airflow Connection {KEY_CONN_ID}, "
                f"or create {path} (unsilo demo, or unsilo key init)"
            )
        return KeySource("default", str(path), path, read_chain(_settled(path)))

    def pseudonym_key(self) -> tuple[bytes, ...]:
        """The HMAC key chain of pseudonymous keys (oldest first, standards/pseudonym.py)."""
        return self.key_source().keys

    def ensure_key_file(self) -> Path:
        """Create the embedded default key (0600 from its first byte) unless a key is provided or exists."""
        if any(os.environ.get(v) for v in (KEY_ENV, KEY_FILE_ENV, KEY_CONN_ENV)):
            return self.key_file
        path = self.outside_home(self.key_file, "the default key file (XDG_CONFIG_HOME)")
        self._move_legacy_key(path)
        if not path.exists():
            write_private(path, secrets.token_hex(32) + "\n", replace=False)
        if path.parent == config_dir().resolve():
            path.parent.chmod(0o700)
        return path

    def outside_home(self, path: Path, what: str) -> Path:
        path = path.resolve()
        if path == self.home or self.home in path.parents:
            raise SettingsError(f"{what}: the pseudonym key file {path} is inside the data root {self.home} "
                                "(UNSILO_HOME), where anything reading the data can read it; keep it outside")
        return path

    def _move_legacy_key(self, path: Path) -> None:
        """Move a key left under the data root by an older unsilo to ``path``, once, so its warehouse keeps its keys."""
        old = self.legacy_key_file
        if not old.is_file():
            return
        chain_text = old.read_text(encoding="ascii")
        if path.exists():
            if read_chain(path) != parse_chain(chain_text, str(old)):
                raise SettingsError(
                    f"two pseudonym keys: {old} (under the data root, from an older unsilo) and {path} differ; "
                    f"point {KEY_FILE_ENV} at a copy of the one this warehouse was built with (outside the data "
                    f"root), then delete {old}"
                )
        else:
            write_private(path, chain_text, replace=False)
        old.unlink()
        try:
            old.parent.rmdir()
        except OSError:
            pass
        print(f"unsilo: moved the pseudonym key out of the data root, from {old} to {path}", file=sys.stderr)


def settings() -> Settings:
    """The settings of this process; reading them makes its new files owner-only (every entry point reads them)."""
    owner_only()
    home = Path(os.environ.get("UNSILO_HOME", REPO / "data")).resolve()
    return Settings(
        home=home,
        warehouse=Path(os.environ.get("UNSILO_WAREHOUSE", home / "warehouse" / "unsilo.duckdb")).resolve(),
        sources_dir=Path(os.environ.get("UNSILO_SOURCES", REPO / "sources")).resolve(),
        timezone=os.environ.get("UNSILO_TIMEZONE", "Asia/Shanghai"),
        duckdb_memory=os.environ.get("UNSILO_DUCKDB_MEMORY", "512MB"),
    )
