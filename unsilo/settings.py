"""Settings from environment variables (``UNSILO_*``) with embedded defaults that need nothing installed."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class SettingsError(RuntimeError):
    """A setting is missing or wrong; the message says which variable or file to fix."""


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
        return self.home / "secrets" / "pseudonym.key"

    def pseudonym_key(self) -> bytes:
        """The HMAC key for pseudonymous keys: ``UNSILO_PSEUDONYM_KEY``, else the key file ``unsilo demo`` creates."""
        env = os.environ.get("UNSILO_PSEUDONYM_KEY")
        if env:
            return env.encode("utf-8")
        if self.key_file.exists():
            return self.key_file.read_text(encoding="ascii").strip().encode("ascii")
        raise SettingsError(
            f"no pseudonym key: set UNSILO_PSEUDONYM_KEY or create {self.key_file} (unsilo demo creates one)"
        )

    def ensure_key_file(self) -> Path:
        if not self.key_file.exists() and not os.environ.get("UNSILO_PSEUDONYM_KEY"):
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
            self.key_file.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
            self.key_file.chmod(0o600)
        return self.key_file


def settings() -> Settings:
    home = Path(os.environ.get("UNSILO_HOME", REPO / "data")).resolve()
    return Settings(
        home=home,
        warehouse=Path(os.environ.get("UNSILO_WAREHOUSE", home / "warehouse" / "unsilo.duckdb")).resolve(),
        sources_dir=Path(os.environ.get("UNSILO_SOURCES", REPO / "sources")).resolve(),
        timezone=os.environ.get("UNSILO_TIMEZONE", "Asia/Shanghai"),
        duckdb_memory=os.environ.get("UNSILO_DUCKDB_MEMORY", "512MB"),
    )
