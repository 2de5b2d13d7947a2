"""A source YAML's ``sql:`` field expression, checked before it is pasted into the normalizing query.

The mapping ``{sql: "coalesce(NULLIF(route_short_name, ''), route_long_name)"}`` becomes ``(<expr>)`` inside the
SELECT that :mod:`standards.transform` compiles, so the text must be one scalar expression over the source's own
raw columns, nothing else: no subquery (``(SELECT content FROM read_text('k'))``), no table or file function, no
``getenv``, no second statement, no comment that hides the rest of the query, no window or aggregate.

The text is parsed by DuckDB's own parser (``json_serialize_sql``) in exactly the position it will run in
(``SELECT (<expr>) FROM t``), so what is checked is what DuckDB will execute: no second parser that could read the
text differently (the reason this needs no sqlglot). Every node of the parse tree must be of an allowed class, every
function call must name a function of :data:`FUNCTIONS` (string, numeric, date, regexp, JSON, list access,
conditional), and every column must be a plain, unqualified name (of the source's raw columns when they are known).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Collection, Iterator

import duckdb


class SqlExpressionError(ValueError):
    """The expression is not one allowed scalar expression; the message names the refused construct."""


#: scalar functions an expression may call (DuckDB names; operators appear as their symbol)
FUNCTIONS = frozenset({
    # operators
    "+", "-", "*", "/", "//", "%", "**", "^", "||", "~~", "!~~", "~~*", "!~~*", "~~~", "!~~~", "->>", "->",
    "&", "|", "<<", ">>", "@",
    # strings
    "lower", "upper", "lcase", "ucase", "trim", "ltrim", "rtrim", "substr", "substring", "left", "right", "length",
    "len", "strlen", "replace", "concat", "concat_ws", "lpad", "rpad", "strip_accents", "split_part", "starts_with",
    "ends_with", "prefix", "suffix", "contains", "position", "strpos", "instr", "reverse", "repeat", "translate",
    "format", "printf", "chr", "ascii", "unicode", "ord", "nfc_normalize", "like_escape", "ilike_escape",
    "string_split", "str_split", "string_to_array", "array_to_string", "list_aggr", "md5", "sha256", "hash",
    "levenshtein", "initcap", "to_base64", "from_base64", "encode", "decode", "string_split_regex",
    # regular expressions
    "regexp_matches", "regexp_replace", "regexp_extract", "regexp_extract_all", "regexp_full_match",
    "regexp_split_to_array",
    # numbers
    "abs", "round", "round_even", "floor", "ceil", "ceiling", "sign", "trunc", "mod", "power", "pow", "sqrt", "cbrt",
    "ln", "log", "log2", "log10", "exp", "greatest", "least", "isnan", "isinf", "isfinite", "even", "factorial",
    "gcd", "lcm", "to_hex", "hex", "unhex", "bit_length", "octet_length",
    # dates and times
    "strptime", "try_strptime", "strftime", "date_part", "datepart", "date_trunc", "datetrunc", "date_diff",
    "datediff", "date_sub", "datesub", "date_add", "make_date", "make_time", "make_timestamp", "year", "month", "day",
    "hour", "minute", "second", "dayofweek", "dayofyear", "isodow", "week", "weekofyear", "quarter", "epoch",
    "epoch_ms", "to_timestamp", "last_day", "monthname", "dayname", "to_days", "to_months", "to_years",
    "to_hours", "to_minutes", "to_seconds", "age", "timezone", "isoyear", "yearweek", "century", "decade",
    # conditionals and nulls
    "nullif", "ifnull", "coalesce", "if", "iff", "typeof",
    # JSON text already in a column
    "json_extract", "json_extract_string", "json_extract_path", "json_extract_path_text", "json_value",
    "json_valid", "json_type", "json_array_length", "json_keys",
    # lists and structs built from the row's own values
    "list_value", "list_extract", "list_element", "array_extract", "list_contains", "list_has", "array_contains",
    "len", "array_length", "struct_pack", "struct_extract", "list_concat", "array_concat",
})

#: parse-tree node classes an expression may contain
CLASSES = frozenset({
    "COLUMN_REF", "CONSTANT", "FUNCTION", "OPERATOR", "COMPARISON", "CONJUNCTION", "CASE", "CAST", "BETWEEN",
    "COLLATE", "TYPE",
})
#: what a refused class is, for the message
REFUSED_CLASSES = {
    "SUBQUERY": "a subquery", "STAR": "a star or COLUMNS(...)", "PARAMETER": "a query parameter",
    "POSITIONAL_REFERENCE": "a positional reference (#n)", "WINDOW": "a window function", "LAMBDA": "a lambda",
    "DEFAULT": "DEFAULT", "BOUND_REF": "an internal reference",
}
ALLOWED_CONTROL = {"\t", "\n", "\r"}
INTERNAL_PREFIX = "__unsilo"


def _nodes(tree) -> Iterator[dict]:
    if isinstance(tree, dict):
        if "class" in tree:
            yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def _parse(sql: str) -> dict:
    tokens = duckdb.tokenize(sql)
    if any(str(kind).endswith("comment") for _, kind in tokens):
        raise SqlExpressionError("it holds a comment (-- or /* */); write the expression without one")
    raw = sql.encode("utf-8")  # token positions are byte offsets
    if any(raw[pos:pos + 1] == b";" for pos, kind in tokens if not str(kind).endswith(("string_const", "identifier"))):
        raise SqlExpressionError("it holds ';' (one expression only, never a second statement)")
    with duckdb.connect() as con:
        (text,) = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    tree = json.loads(text)
    if tree.get("error"):
        raise SqlExpressionError(f"it does not parse as one expression ({tree.get('error_message', 'syntax error')})")
    return tree


def _characters(expr: str) -> None:
    for ch in expr:
        if ch in ALLOWED_CONTROL:
            continue
        category = unicodedata.category(ch)
        if category[0] == "C" or category in ("Zl", "Zp"):
            raise SqlExpressionError(f"it holds the invisible character U+{ord(ch):04X} "
                                     f"({unicodedata.name(ch, category)}); retype the expression")


def sql_expression(expr: str, columns: Collection[str] | None = None) -> str:
    """``expr`` when it is one allowed scalar expression over ``columns`` (any plain column names when None);
    otherwise :class:`SqlExpressionError` naming the refused construct."""
    if not isinstance(expr, str) or not expr.strip():
        raise SqlExpressionError("it is empty; write a DuckDB expression over the source's raw columns")
    _characters(expr)
    tree = _parse(f"SELECT ({expr}) FROM t")
    statements = tree.get("statements") or []
    if len(statements) != 1:
        raise SqlExpressionError("it is more than one statement")
    node = statements[0].get("node") or {}
    select = node.get("select_list") or []
    table = node.get("from_table") or {}
    if (node.get("type") != "SELECT_NODE" or len(select) != 1 or table.get("type") != "BASE_TABLE"
            or table.get("table_name") != "t" or node.get("where_clause") or node.get("group_expressions")
            or node.get("having") or node.get("qualify") or node.get("modifiers") or node.get("sample")
            or (node.get("cte_map") or {}).get("map") or (table.get("alias") or "")):
        raise SqlExpressionError("it is not one expression (it closes the parenthesis it is put in, or adds a "
                                 "clause); write a single expression")
    known = {c.casefold() for c in columns} if columns is not None else None
    for n in _nodes(select):
        cls = n["class"]
        if cls not in CLASSES:
            what = REFUSED_CLASSES.get(cls, cls.lower())
            raise SqlExpressionError(f"it holds {what}; only a scalar expression over the source's own columns "
                                     f"is allowed")
        if cls == "FUNCTION":
            name = str(n.get("function_name", "")).lower()
            if n.get("schema") or n.get("catalog"):
                where = ".".join(x for x in (n.get("catalog"), n.get("schema")) if x)
                raise SqlExpressionError(f"it calls {where}.{name}(): name a function without a schema or catalog")
            if name not in FUNCTIONS:
                raise SqlExpressionError(f"it calls {name}(), which is not on the allow-list of scalar functions "
                                         f"(docs/sources.md)")
            if n.get("filter") or (n.get("order_bys") or {}).get("orders") or n.get("distinct"):
                raise SqlExpressionError(f"it calls {name}() with FILTER, ORDER BY or DISTINCT (an aggregate form)")
        if cls == "COLUMN_REF":
            names = n.get("column_names") or []
            if len(names) != 1:
                raise SqlExpressionError(f"it names {'.'.join(names)}: only the source's own columns, unqualified, "
                                         f"are allowed (no other table)")
            if names[0].lower().startswith(INTERNAL_PREFIX):
                raise SqlExpressionError(f"it names the internal column {names[0]}")
            if known is not None and names[0].casefold() not in known:
                raise SqlExpressionError(f"it names {names[0]!r}, which is not a raw column of the source")
    return expr
