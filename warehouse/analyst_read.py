"""The one way analyst-facing code opens DuckDB: a sandboxed read-only connection and a gate before each query.

Two layers, so that what one misses the other still stops:

1. **The connection** (``analyst_read``): read-only, external access off (no file, no ATTACH, no COPY, no
   network, no extension installed or loaded), no replacement scans of Python objects, and the configuration
   locked so that no ``SET``/``RESET``/``PRAGMA`` can undo any of it. DuckDB spills to a private temporary folder
   (0700, removed on close), never next to the snapshot.
2. **The gate** (``check``): DuckDB's own parser splits the text into statements; only read statements pass
   (SELECT, WITH, FROM, VALUES, TABLE, DESCRIBE, SHOW, SUMMARIZE, and EXPLAIN of one of those). Each SELECT is
   walked in DuckDB's JSON serialization of its parse tree: table functions must be on ``ALLOWED_TABLE_FUNCTIONS``
   (``range``, ``unnest``, the ``duckdb_*`` catalog ...), a few scalar functions are refused, and a table name
   that is a file path (``FROM 'file.csv'``) is refused.

A refusal is a ``Refused`` whose text is one line, ``refused: <what> ...``. Real enforcement lies below both:
the working warehouse, the landing files and the key are owner-only files of the stewards' OS user, and an
analyst runs as a different OS user (docs/stewards.md).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import duckdb

# DuckDB settings of every analyst connection; ``lock_configuration`` is set after them and freezes them
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,
}
#: Resource limits of one analyst session (a runaway recursive CTE must not take the machine): DuckDB's memory
#: limit, the most it may spill to its private temporary folder, and the seconds after which the session's running
#: query is interrupted.
LIMITS = (("memory_limit", "UNSILO_QUERY_MEMORY", "2GB"), ("max_temp_directory_size", "UNSILO_QUERY_SPILL", "4GB"))
TIMEOUT_VARIABLE, TIMEOUT_DEFAULT = "UNSILO_QUERY_TIMEOUT", 900.0
ROLE_VARIABLE = "UNSILO_ROLE"
STEWARD = "steward"
READS = "SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE or EXPLAIN"

# table functions that read nothing but their arguments or DuckDB's own catalog of the open database
ALLOWED_TABLE_FUNCTIONS = frozenset({
    "range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree",
    "duckdb_columns", "duckdb_constraints", "duckdb_databases", "duckdb_dependencies", "duckdb_functions",
    "duckdb_indexes", "duckdb_keywords", "duckdb_schemas", "duckdb_sequences", "duckdb_settings", "duckdb_tables",
    "duckdb_types", "duckdb_views", "pragma_table_info", "pragma_show", "pragma_version",
    "icu_calendar_names", "pg_timezone_names",
})
FILE_FUNCTION_PREFIXES = ("read_", "parquet_", "iceberg_", "delta_", "sqlite_", "postgres_", "mysql_", "st_read",
                          "excel", "arrow_", "python_", "pandas_")
FILE_FUNCTIONS = frozenset({"glob", "sniff_csv", "seq_scan", "which_secret", "duckdb_secrets", "duckdb_extensions",
                            "duckdb_external_file_cache"})
SQL_RUNNERS = frozenset({"query", "query_table", "json_execute_serialized_sql", "summary", "histogram",
                         "histogram_values"})
REFUSED_SCALARS = {"getenv": "reads the environment"}
PATH_MARKS = ("/", "\\", ".", ":", "~", "*", "?")


class Refused(ValueError):
    """A statement an analyst query may not run; ``str()`` is one line that names what was refused."""

    def __init__(self, what: str):
        super().__init__(f"refused: {what}")


class AnalystRead:
    """A sandboxed read-only connection: ``query()`` checks each statement with the gate, then runs it."""

    def __init__(self, path: Path, wait_seconds: float | None = None):
        from warehouse.schema import connect

        self._temp = tempfile.mkdtemp(prefix="unsilo-analyst-")
        limits = {name: os.environ.get(variable, default) for name, variable, default in LIMITS}
        try:
            self.con = connect(path, read_only=True, wait_seconds=wait_seconds,
                               config={**SANDBOX, **limits, "temp_directory": self._temp, "lock_configuration": True})
        except BaseException:
            shutil.rmtree(self._temp, ignore_errors=True)
            raise
        self._tables = None
        seconds = float(os.environ.get(TIMEOUT_VARIABLE, TIMEOUT_DEFAULT))
        self._timer = threading.Timer(seconds, self.con.interrupt)  # a query still running then is interrupted
        self._timer.daemon = True
        self._timer.start()

    def query(self, sql: str, lazy: bool = False):
        """Run ``sql`` after ``check``: a cursor with the last statement's result (``lazy``: a relation)."""
        statements = check(self.con, sql, self._known)
        for st in statements[:-1]:  # reads whose results nobody sees: run (errors surface), then let go
            self._run(st.query, False)
            self.con.abort()
        return self._run(statements[-1].query, lazy)

    def _run(self, sql: str, lazy: bool):
        try:
            return self.con.sql(sql) if lazy else self.con.execute(sql)
        except duckdb.PermissionException as exc:  # the locked configuration caught what the gate let through
            raise Refused(str(exc).strip().splitlines()[0]) from None

    def _known(self, name: str) -> bool:
        """Whether ``name`` is a table or view of the open database (asked only of names that look like paths)."""
        if self._tables is None:
            self._tables = catalog(self.con)
        return name.lower() in self._tables

    def close(self) -> None:
        self._timer.cancel()
        try:
            self.con.close()
        finally:
            shutil.rmtree(self._temp, ignore_errors=True)

    def __enter__(self) -> "AnalystRead":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def analyst_read(path: Path, wait_seconds: float | None = None) -> AnalystRead:
    """Open a snapshot (or, for stewards, the working warehouse: ``steward_read``) sandboxed and read-only."""
    return AnalystRead(path, wait_seconds)


def steward_read(path: Path, wait_seconds: float | None = None) -> AnalystRead:
    """The working warehouse for a steward: the same sandbox, after the role check (``UNSILO_ROLE=steward``)."""
    role = os.environ.get(ROLE_VARIABLE, "")
    if role != STEWARD:
        raise Refused(f"reading the working warehouse needs the steward role ({ROLE_VARIABLE}=steward, which the "
                      "deployment sets for stewards' accounts only; docs/stewards.md); analysts query the snapshot")
    return AnalystRead(path, wait_seconds)


def catalog(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The lower-case names of every table and view of the open database."""
    return frozenset(n.lower() for (n,) in con.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()").fetchall())


def check(con: duckdb.DuckDBPyConnection, sql: str, known=None) -> list:
    """The statements of ``sql`` if every one is a read an analyst may run, else ``Refused`` for the first that is not.

    ``known(name)`` says whether an unqualified name is a table or view of the open database (default: asks
    ``con``); a name that is neither that nor a CTE and looks like a path would be a replacement scan of a file.
    """
    if known is None:
        known = catalog(con).__contains__
    statements = con.extract_statements(sql)
    if not statements:
        raise Refused("the query holds no statement")
    for st in statements:
        _check_statement(con, st, known)
    return statements


def _check_statement(con, st, known, under: str = "") -> None:
    try:
        kind = st.type
    except ValueError:  # e.g. UPDATE EXTENSIONS: "29 is not a valid StatementType" in DuckDB's Python client
        raise Refused(f"{_keyword(st.query)} statements are not allowed in an analyst query{under} "
                      f"(read statements only: {READS})") from None
    if kind == duckdb.StatementType.EXPLAIN:
        inner = con.extract_statements(_after_explain(st.query))
        if len(inner) != 1:
            raise Refused("EXPLAIN takes exactly one statement in an analyst query")
        return _check_statement(con, inner[0], known, under=" (not even under EXPLAIN)")
    if kind == duckdb.StatementType.MULTI:
        raise Refused("PIVOT without an IN list creates a type, which an analyst query may not; "
                      "list the values: PIVOT ... ON column IN (...)")
    if kind != duckdb.StatementType.SELECT:
        raise Refused(f"{_keyword(st.query)} statements are not allowed in an analyst query{under} "
                      f"(read statements only: {READS})")
    # fetchall: a result left unfinished on the connection would block the query that follows (DuckDB 2.0)
    tree = json.loads(con.execute("SELECT json_serialize_sql(?::VARCHAR)", [st.query]).fetchall()[0][0])
    if tree.get("error"):
        raise Refused(f"unsilo cannot check this statement ({tree.get('error_message', 'unknown form')}); "
                      f"write it as a plain {READS}")
    _check_tree(tree, known, _cte_names(tree))


def _check_tree(node, known, ctes: frozenset[str]) -> None:
    """Walk DuckDB's parse tree: every table function, scalar function and table name, at any depth."""
    if isinstance(node, list):
        for item in node:
            _check_tree(item, known, ctes)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "TABLE_FUNCTION":
        _check_table_function(node.get("function") or {})
    elif node.get("class") == "FUNCTION":
        name = str(node.get("function_name", "")).lower()
        if name in REFUSED_SCALARS:
            raise Refused(f"function {name} {REFUSED_SCALARS[name]}")
    elif kind == "BASE_TABLE" or (kind == "SHOW_REF" and node.get("show_type") == "SHOW"):
        _check_table_name(node, known, ctes)
    for value in node.values():
        _check_tree(value, known, ctes)


def _check_table_function(function: dict) -> None:
    name = str(function.get("function_name", "")).lower()
    if name in ALLOWED_TABLE_FUNCTIONS:
        return
    if name in FILE_FUNCTIONS or name.startswith(FILE_FUNCTION_PREFIXES):
        raise Refused(f"table function {name} reads files")
    if name in SQL_RUNNERS:
        raise Refused(f"table function {name} runs SQL given as text, which the gate cannot check; "
                      "write the query itself")
    raise Refused(f"table function {name} is not one analysts may use "
                  f"(allowed: {', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))})")


def _check_table_name(node: dict, known, ctes: frozenset[str]) -> None:
    if node.get("schema_name") or node.get("catalog_name"):
        return
    name = str(node.get("table_name", ""))
    if any(mark in name for mark in PATH_MARKS) and name.lower() not in ctes and not known(name):
        raise Refused(f"FROM {name!r} reads a file; an analyst query reads the tables of the warehouse only "
                      "(unsilo tables lists them)")


def _cte_names(node) -> frozenset[str]:
    """Every CTE name declared anywhere in the tree (a name that is a CTE somewhere is no file path)."""
    if isinstance(node, list):
        return frozenset().union(*map(_cte_names, node))
    if not isinstance(node, dict):
        return frozenset()
    cte_map = node.get("cte_map")
    own = {str(e.get("key", "")).lower() for e in cte_map.get("map", [])} if isinstance(cte_map, dict) else set()
    return frozenset(own).union(*map(_cte_names, node.values()))


def _tokens(sql: str) -> list[tuple[int, str]]:
    """DuckDB's tokens of ``sql`` as (offset, text), comments left out."""
    found = duckdb.tokenize(sql)
    ends = [offset for offset, _ in found[1:]] + [len(sql)]
    return [(offset, sql[offset:end].strip()) for (offset, kind), end in zip(found, ends)
            if kind != duckdb.token_type.comment]


def _keyword(sql: str) -> str:
    """The statement's first keyword (``ATTACH``, ``INSTALL``, ``RESET``, ...), which names it for a person."""
    tokens = _tokens(sql)
    words = [text.upper() for _, text in tokens[:2]]
    if words[:1] == ["FORCE"]:
        return " ".join(words)
    return words[0] if words else "empty"


def _after_explain(sql: str) -> str:
    """The statement EXPLAIN [ANALYZE] [(options)] explains, found with DuckDB's tokenizer."""
    tokens = _tokens(sql)
    i = 1  # past EXPLAIN
    if i < len(tokens) and tokens[i][1].upper() in ("ANALYZE", "ANALYSE"):
        i += 1
    if i < len(tokens) and tokens[i][1] == "(":
        depth = 0
        while i < len(tokens):
            depth += tokens[i][1].count("(") - tokens[i][1].count(")")
            i += 1
            if depth <= 0:
                break
    return sql[tokens[i][0]:] if i < len(tokens) else ""
