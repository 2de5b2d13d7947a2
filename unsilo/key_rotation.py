"""``unsilo key rotate``: append a new key to the pseudonym key chain and re-derive the warehouse's keys under it.

The order makes a kill at any point safe:

1. the new chain is written next to the key file as ``<key file>.next`` (0600, fsynced); the key file is unchanged;
2. every pseudonymous column of every table is re-keyed in one transaction that also records the new chain's
   fingerprint (warehouse/rekey.py); a kill before COMMIT leaves the old keys;
3. ``.next`` is renamed over the key file (atomic);
4. the marts are rebuilt and the analysts' snapshot republished (unsilo/night.py ``rebuild_marts``).

While a ``.next`` file exists, nothing reads the key (a night would not know which chain its warehouse holds):
``unsilo key check`` finishes step 3 if the warehouse recorded the new fingerprint, else removes ``.next``.

A key that comes from the environment or an Airflow Connection cannot be rewritten by unsilo: ``--write-to PATH``
names a file (outside the data root) for the new chain, which the deployment then puts in its secret.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from standards.pseudonym import fingerprint
from unsilo.settings import KeySource, Settings, SettingsError, read_chain, write_private
from warehouse.rekey import recorded_fingerprint, rekey
from warehouse.schema import connect


class KeyRotationError(RuntimeError):
    """The rotation cannot start or finish; the message says what to do. Nothing was changed unless it says so."""


@dataclass(frozen=True)
class Rotation:
    source: KeySource
    target: Path
    chain_length: int
    rows: dict[str, int]


def pending(path: Path) -> Path:
    return path.with_name(path.name + ".next")


def key_domains(settings: Settings) -> dict[tuple[str, str], str]:
    """(entity, field) -> the domain its sources pseudonymize it in (``pseudonymize: person``)."""
    from unsilo.catalog import sources

    out: dict[tuple[str, str], str] = {}
    for src in sources(settings):
        for field, spec in (src.get("fields") or {}).items():
            if isinstance(spec, dict) and spec.get("pseudonymize"):
                key, domain = (src["entity"], field), spec["pseudonymize"]
                if out.setdefault(key, domain) != domain:
                    raise KeyRotationError(
                        f"source {src['id']}: {src['path']} pseudonymizes {field} of {src['entity']} in the domain "
                        f"{domain!r}, another source in {out[key]!r}; make them agree before rotating")
    return out


def rotate(settings: Settings, write_to: Path | None = None, new_key: bytes | None = None) -> Rotation:
    source = settings.key_source()
    if source.path is not None:
        target = source.path
    elif write_to is not None:
        target = settings.outside_home(Path(write_to).expanduser(), "--write-to")
    else:
        raise KeyRotationError(
            f"the pseudonym key comes from {source.where} ({source.kind}), which unsilo cannot rewrite: name a file "
            "for the new chain with --write-to PATH (outside the data root), then put its content in that secret")
    nxt = pending(target)
    if nxt.exists():
        raise KeyRotationError(f"{nxt} is left from an interrupted rotation: run `unsilo key check` first")
    new_key = new_key or secrets.token_hex(32).encode("ascii")
    chain = source.keys + (new_key,)
    write_private(nxt, "".join(k.decode("utf-8") + "\n" for k in chain), replace=True)
    try:
        with connect(settings.warehouse) as con:
            rows = rekey(con, new_key, key_domains(settings), fingerprint(chain), len(chain))
    except BaseException:
        nxt.unlink(missing_ok=True)
        raise
    os.replace(nxt, target)
    from unsilo.night import rebuild_marts

    rebuild_marts(settings)
    return Rotation(source, target, len(chain), rows)


def check(settings: Settings, write_to: Path | None = None) -> str:
    """Finish or undo an interrupted rotation, then say whether the key matches the warehouse (one line each)."""
    lines = []
    home_key = settings.key_file if not os.environ.get("UNSILO_PSEUDONYM_KEY_FILE") else \
        Path(os.environ["UNSILO_PSEUDONYM_KEY_FILE"]).expanduser()
    targets = [p for p in (home_key, write_to) if p is not None]
    recorded = None
    if settings.warehouse.exists():
        with connect(settings.warehouse) as con:
            recorded = recorded_fingerprint(con)
    for target in targets:
        nxt = pending(Path(target).resolve())
        if not nxt.exists():
            continue
        if recorded is not None and recorded == fingerprint(read_chain(nxt)):
            os.replace(nxt, nxt.with_name(nxt.name[: -len(".next")]))
            lines.append(f"finished the interrupted rotation: {nxt.name[: -len('.next')]} holds the new chain")
        else:
            nxt.unlink()
            lines.append(f"undid the interrupted rotation: removed {nxt} (the warehouse keeps the old keys)")
    try:
        source = settings.key_source()
    except SettingsError as exc:
        raise KeyRotationError(str(exc)) from None
    current = fingerprint(source.keys)
    lines.append(f"key: {source.kind} ({source.where}), a chain of {len(source.keys)}")
    if recorded is None and len(source.keys) > 1:
        raise KeyRotationError("\n".join(lines + [
            f"the warehouse {settings.warehouse} records no rotation but the key is a chain of {len(source.keys)}: "
            "it was built with another key; point the settings at the key it was built with"]))
    if recorded is not None and recorded != current:
        raise KeyRotationError("\n".join(lines + [
            f"the warehouse {settings.warehouse} was re-keyed to another chain than this key: point the settings at "
            "the chain its last rotation wrote (the --write-to file, or the secret it was copied to)"]))
    lines.append("the warehouse's keys were derived with this key" if recorded else
                 "the warehouse was never rotated (a chain of one)")
    return "\n".join(lines)
