"""Which text encoding a file is in: a declared one is honoured; ``auto`` looks at BOMs, then strict UTF-8, then
charset-normalizer's guess on a sample, so UTF-8 (with or without BOM), UTF-16 LE/BE, GB18030/GBK and the
single-byte code pages are read without a steward having to know."""

from __future__ import annotations

import codecs

SAMPLE = 1 << 20
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# what departments really send; an encoding outside this list is declared in the source YAML
CANDIDATES = ("gb18030", "big5", "shift_jis", "euc_kr", "cp1252", "cp1250", "cp1251", "iso8859_7")
MULTIBYTE = {"gb18030", "big5", "shift_jis", "cp932", "euc_kr"}
MULTIBYTE_EVIDENCE = 16
# charset-normalizer names a subset; read with the superset so that rarer characters decode too
SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "ascii": "utf-8", "latin_1": "cp1252", "iso8859_1": "cp1252"}


class EncodingError(ValueError):
    """A declared encoding Python does not know."""


def encoding(sample: bytes, declared: str | None = "auto") -> str:
    """The codec to read a file whose first bytes are ``sample`` (about 1 MiB) with."""
    if declared and declared.lower() != "auto":
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            raise EncodingError(f"unknown encoding {declared!r}") from None
        if name == "utf-8" and sample.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if name == "utf-8" and sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"  # a UTF-16 byte order mark cannot start UTF-8 text: the writer got it wrong, read it
        if name in ("utf-16-le", "utf-16-be") and sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        return name
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample[:SAMPLE], cp_isolation=list(CANDIDATES)).best()
    if best is None:
        return "cp1252"  # every byte decodes (five as U+FFFD): nothing is lost, the rule quarantines those rows
    name = SUPERSETS.get(best.encoding, best.encoding)
    if name in MULTIBYTE and sum(b >= 0x80 for b in sample) < MULTIBYTE_EVIDENCE:
        # a handful of high bytes ('Ann\xe9e') also pair up as CJK characters: too little to tell, take Western
        return "cp1252"
    return name
