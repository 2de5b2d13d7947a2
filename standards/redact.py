"""What a message may show of a source's contents: sources, files, rows, columns, rules and counts, never a value.

Every text a person reads outside the steward zone (ledger messages, logs, CLI errors, Data Docs) goes through
here when it could carry something read from a source:

- :func:`looks_like_data` decides whether a *header name* may be shown. A drop without its header row makes the
  first data row the header, so a name is shown only when it is a column the source declares or maps (``known``),
  or when it is identifier-like and looks like no data: no 15/18-digit resident ID number (GB 11643), no run of 6
  or more digits (phone numbers, account numbers, compact dates), no date or time, no e-mail address, not mostly
  digits, no undecodable bytes, not a Chinese personal name (2-4 Han characters starting with a common surname
  and holding none of the words headers are made of, such as 代码, 编号, 日期, 名称, 姓名), not a long Han text.
  :func:`shown_column` names a hidden one by its position: ``column 3 (header hidden: looks like data)``.
- :func:`scrub` cleans a text written by someone else (an exception of pyarrow, DuckDB, json, the csv module,
  Great Expectations): quoted literals that are neither a path nor a known column, the rest of a row that pyarrow
  quotes after "Expected 5 columns, got 6", and unquoted tokens that look like data become ``<value hidden>``.

Raw records stay where stewards read them: ``meta.quarantine`` (``unsilo quarantine list``) and the landing files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

HIDDEN = "<value hidden>"

# resident ID numbers (GB 11643): 18 = area(6) + birth date YYYYMMDD + sequence(3) + check digit or X, 15 = old form
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
DIGIT_RUN = re.compile(r"\d{6,}")
DATE = re.compile(
    r"(?:19|20)\d\d\s*[-/.年]\s*\d{1,2}\s*(?:[-/.月]\s*\d{1,2}\s*日?)?"  # 2026-06-01, 2026/6/1, 2026年6月1日, 2026-06
    r"|\b\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)?\d\d\b"  # 01/06/2026, 1.6.26
    r"|\d{1,2}\s*月\s*\d{1,2}\s*日"
)
TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
EMAIL = re.compile(r"[^\s@'\"]+@[^\s@'\"]+\.[A-Za-z]{2,}")
NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)*%?$")
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_ONLY = re.compile(rf"^[{HAN}·•]+$")
HAN_RUN = re.compile(rf"[{HAN}][{HAN}·•]*")
# letters, digits, underscore, Han, and the punctuation headers use; at most 64 characters
IDENTIFIER = re.compile(rf"^[\w{HAN}（）()\[\]./%#&+\- ]{{1,64}}$")

# common single-character surnames (about 90 % of the population) and the compound ones
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛"
    "樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉"
    "骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗"
    "瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文",
                     "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "东郭", "申屠", "万俟")
# words headers are made of: a Han string holding one is a column name, not a person's name
HEADER_WORDS = (
    "代码", "编码", "编号", "号码", "证号", "日期", "时间", "年月", "名称", "姓名", "类型", "类别", "状态", "地址", "住址",
    "电话", "手机", "金额", "数量", "单位", "社区", "网格", "证件", "身份", "性别", "年龄", "民族", "户籍", "籍贯", "职业",
    "行业", "标志", "标识", "备注", "说明", "形式", "登记", "注销", "终止", "开始", "结束", "机构", "医院", "科室", "诊断",
    "疫苗", "剂次", "线路", "站点", "站名", "经度", "纬度", "卡号", "次数", "人数", "户号", "面积", "租金", "补贴", "保险",
    "工资", "收入", "婚姻", "学历", "文化", "程度", "联系", "邮编", "区划", "街道", "是否", "领取", "有效", "来源", "序号",
)


def looks_like_data(name: object, known: Iterable[str] = ()) -> bool:
    """Whether a header name (or any short text from a source) may be a cell value and must not be shown."""
    text = "" if name is None else str(name)
    if text in set(known):
        return False
    text = text.strip()
    if not text:
        return False
    if "\ufffd" in text or any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text):
        return True  # undecodable bytes, control characters: a row read in the wrong encoding
    if ID_NUMBER.search(text) or DIGIT_RUN.search(text) or DATE.search(text) or TIME.search(text):
        return True
    if EMAIL.search(text) or NUMBER.match(text):
        return True
    digits = sum(c.isdigit() for c in text)
    if digits * 2 > len(text.replace(" ", "")):
        return True
    if not IDENTIFIER.match(text):
        return True  # quotes, commas, long free text: not a header anyone writes
    if re.search(rf"[{HAN}]", text) and (digits or len(text) > 16 or len(text) == 1):
        return True  # 黄龙路209号, a sentence
    return _personal_name(text)


def _personal_name(text: str) -> bool:
    compact = text.replace(" ", "")
    if not HAN_ONLY.match(compact) or any(w in compact for w in HEADER_WORDS):
        return False
    han = compact.replace("·", "").replace("•", "")
    if compact.startswith(COMPOUND_SURNAMES):
        return 3 <= len(han) <= 4
    return 2 <= len(han) <= 4 and han[0] in SURNAMES


def shown_column(name: object, position: int, known: Iterable[str] = ()) -> str:
    """``name`` when it may be shown, else ``column <position> (header hidden: looks like data)``."""
    if looks_like_data(name, known):
        return hidden_column(position)
    return str(name)


def shown_header(names: Iterable[object], known: Iterable[str] = ()) -> list[str]:
    """Each name of a header line as :func:`shown_column` shows it, except that when any name outside ``known``
    looks like data the line is taken for a data row (a drop without its header row): then every name outside
    ``known`` is hidden, also ``是`` or ``已注销`` that alone would pass."""
    known = {str(k) for k in known}
    names = [str(n) for n in names]
    row = any(n not in known and looks_like_data(n) for n in names)
    return [n if n in known or not row else hidden_column(i) for i, n in enumerate(names, start=1)]


HIDDEN_NOTE = "(header hidden: looks like data)"


def hidden_column(position: int) -> str:
    return f"column {position} {HIDDEN_NOTE}"


# pyarrow: "CSV parse error: Expected 5 columns, got 6: 440106...,张伟,..." (the row follows the colon)
ARROW_ROW = re.compile(r"((?:Expected|expected) \d+ columns?,? (?:got|but got|found) \d+)\s*:.*", re.S)
QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|‘[^’\n]*’|“[^”\n]*”|`[^`\n]*`")
PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|/|~/|\.\.?/)\S*$|^\S+\.(?:csv|txt|tsv|ndjson|json|zip|parquet|duckdb|ya?ml|gz|"
                  r"xlsx?|html)(?::\d+)?$", re.I)
TOKEN = re.compile(r"[^\s,;()\[\]{}<>='\"]+")


def scrub(text: object, known: Iterable[str] = ()) -> str:
    """``text`` (an exception's message from a library) with every piece that may be a cell value hidden.

    Kept: paths and file names, the names in ``known`` (the source's columns), words that do not look like data.
    Hidden: quoted literals other than those, the row pyarrow appends to a parse error, ID numbers, digit runs,
    dates, times, e-mail addresses, Han text that is not a known column, numbers with decimals."""
    text = "" if text is None else str(text)
    known = {str(k) for k in known}
    text = ARROW_ROW.sub(r"\1", text)

    def quoted(m: re.Match) -> str:
        inner = m.group(0)[1:-1]
        if inner in known or PATH.match(inner) or _codec(inner):
            return m.group(0)
        return HIDDEN

    text = QUOTED.sub(quoted, text)
    text = EMAIL.sub(HIDDEN, text)

    text = TOKEN.sub(lambda m: _word(m.group(0), known), text)
    return re.sub(rf"(?:{re.escape(HIDDEN)}[\s,;]*){{2,}}", HIDDEN + " ", text).strip()


def _word(word: str, known: set[str]) -> str:
    """One unquoted token of a foreign text, or :data:`HIDDEN` when it may be a value."""
    if word in known or PATH.match(word):
        return word
    if ":" in word and not TIME.search(word):  # "error:" or "line:3" glued to a value: judge each side
        return ":".join(_word(part, known) if part else part for part in word.split(":"))
    if ID_NUMBER.search(word) or DIGIT_RUN.search(word) or DATE.search(word) or TIME.search(word):
        return HIDDEN
    if re.search(rf"[{HAN}]", word):
        return HAN_RUN.sub(lambda h: h.group(0) if h.group(0) in known else HIDDEN, word)
    if "\ufffd" in word or re.fullmatch(r"[+-]?\d+[.,]\d+", word):
        return HIDDEN
    return word


def _codec(name: str) -> bool:
    import codecs

    try:
        return bool(re.fullmatch(r"[A-Za-z][\w-]{1,20}", name)) and bool(codecs.lookup(name))
    except LookupError:
        return False


def message_of(exc: BaseException, known: Iterable[str] = ()) -> str:
    """The first line of an exception's text as a person may read it: unsilo's own errors (classes defined in its
    packages, which name sources, files, rows and columns only) as they are, any other exception scrubbed."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if own_error(exc):
        return own_text(first, known)
    return scrub(first, known)


# a Python list of names in one of unsilo's own messages: ``['登记编号', '身份证号']``
NAME_LIST = re.compile(r"\[(?:'[^'\\\n]*'(?:, )?)+\]")


def own_text(text: str, known: Iterable[str] = ()) -> str:
    """One of unsilo's own messages, whose lists of column names (``{columns}`` of a header read from a file) are
    shown as :func:`shown_header` shows a header line."""
    import ast

    return NAME_LIST.sub(lambda m: "[" + ", ".join(shown_header(ast.literal_eval(m.group(0)), known)) + "]", text)


def redacted(exc: BaseException, known: Iterable[str] = ()) -> BaseException:
    """``exc`` to raise on: the same object (so callers catching its type still do), a library's text scrubbed
    and the name lists of unsilo's own shown as headers; ``raise redacted(exc) from None`` also drops the chained
    exceptions, whose texts a traceback in a log would print."""
    text = own_text(str(exc), known) if own_error(exc) else scrub(str(exc), known)
    if text != str(exc):
        try:
            exc.args = (text,)
        except (AttributeError, TypeError):
            return RuntimeError(text)
        if text not in str(exc):
            return RuntimeError(text)  # a type whose text is not made of its args (UnicodeDecodeError)
    exc.__cause__, exc.__suppress_context__ = None, True
    return exc


OWN_PACKAGES = ("connectors", "quality", "standards", "unsilo", "warehouse", "dags")


def own_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in OWN_PACKAGES
