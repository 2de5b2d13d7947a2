"""Employment: the social-security system's nightly CSV drop ``employment/drop/``.

``就业登记_20260601.csv`` (employment registrations) and ``失业登记_20260601.csv`` (unemployment
registrations): GB18030, CRLF, a Chinese header row, fields quoted only when needed, dates in the
mixed forms the system emits (``2024年3月5日``, ``2024/3/5``, ``20240305``, ``2024-03-05``).
"""

from __future__ import annotations

import csv
import datetime
import io
import pathlib
import random
from collections import Counter
from typing import Any

from unsilo.demo import clock, resident_id
from unsilo.demo.defects import Seeding
from unsilo.demo.population import Person, Population

ENCODING = "gb18030"
REGISTRATION_FILE = f"就业登记_{clock.NIGHT:%Y%m%d}.csv"
UNEMPLOYMENT_FILE = f"失业登记_{clock.NIGHT:%Y%m%d}.csv"
REGISTRATION_COLUMNS = ("登记编号", "身份证号", "姓名", "性别", "登记日期", "终止日期", "单位名称",
                        "行业代码", "职业代码", "用工形式", "社区代码")
UNEMPLOYMENT_COLUMNS = ("登记编号", "身份证号", "姓名", "性别", "失业登记日期", "注销日期",
                        "领取失业保险金", "登记状态", "社区代码")
SEX = {"male": "男", "female": "女"}
FORMS = ("全日制", "非全日制", "灵活就业")
IMPOSSIBLE_DAY = "2024年2月30日"
BAD_BYTE_MARK = "\x01"  # stands for the raw byte 0xFF until the line is encoded

# GB/T 4754 section -> (weight, what a company of that trade calls itself, likely GB/T 6565 groups)
INDUSTRIES = {
    "A": (1, ("农业开发", "生态农业"), "56"), "B": (1, ("矿业",), "6"), "C": (10, ("机械制造", "电子", "服饰"), "6"),
    "D": (2, ("能源", "电力设备"), "26"), "E": (6, ("建设工程", "建筑装饰"), "26"), "F": (14, ("商贸", "贸易"), "4"),
    "G": (5, ("物流", "运输"), "46"), "H": (8, ("餐饮管理", "酒店管理"), "4"), "I": (14, ("网络科技", "信息技术", "软件"), "23"),
    "J": (4, ("投资管理", "金融服务"), "23"), "K": (5, ("房地产开发", "物业管理"), "34"), "L": (7, ("商务咨询", "人力资源"), "23"),
    "M": (5, ("检测技术", "工程设计"), "2"), "N": (2, ("环境工程", "园林绿化"), "46"), "O": (4, ("家政服务", "美容美发"), "4"),
    "P": (4, ("教育科技", "培训"), "2"), "Q": (5, ("医疗管理", "健康管理"), "24"), "R": (3, ("文化传媒", "体育发展"), "24"),
    "S": (1, ("社会服务",), "13"), "T": (0, ("国际交流",), "1"),
}
TRADE_NAMES = ("恒生", "华数", "文新", "翠苑", "保俶", "西湖", "天目", "灵峰", "北山", "黄龙", "溪谷", "云栖",
               "锦程", "汇丰", "鼎盛", "信达", "卓越", "博远", "新元", "瑞康", "之江", "钱塘", "紫金", "求是",
               "宏达", "安吉", "明珠", "金桥", "远航", "启明", "同创", "万向", "银泰", "嘉禾", "东信", "星辰")


def write_date(rng: random.Random, day: datetime.date) -> str:
    """One of the four forms the system writes dates in."""
    form = rng.randrange(4)
    if form == 0:
        return f"{day.year}年{day.month}月{day.day}日"
    if form == 1:
        return f"{day.year}/{day.month}/{day.day}"
    if form == 2:
        return f"{day:%Y%m%d}"
    return day.isoformat()


def _employers(rng: random.Random, count: int) -> list[tuple[str, str]]:
    letters = [letter for letter, spec in INDUSTRIES.items() if spec[0]]
    employers: dict[str, str] = {}
    while len(employers) < count:
        letter = rng.choices(letters, weights=[INDUSTRIES[x][0] for x in letters])[0]
        city = rng.choices(("杭州", "浙江"), weights=(4, 1))[0]
        name = f"{city}{rng.choice(TRADE_NAMES)}{rng.choice(INDUSTRIES[letter][1])}有限公司"
        employers.setdefault(name, letter)
    return sorted(employers.items())


def _encode(values: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow(values)
    return buffer.getvalue().encode(ENCODING).replace(BAD_BYTE_MARK.encode(ENCODING), b"\xff")


def _adult_from(person: Person, earliest: datetime.date) -> datetime.date:
    return max(clock.years_after(person.birth, 18), earliest)


def registrations(rng: random.Random, population: Population) -> list[dict[str, Any]]:
    """About 40 % of the residents aged 18-65 hold a registration; some also an earlier, ended one."""
    employers = _employers(rng, max(30, len(population.persons) // 25))
    spells = []
    for person in population.adults():
        current = rng.random() < 0.4
        earlier = rng.random() < (0.3 if current else 0.06)
        start = None
        if current:
            start = clock.day_between(rng, _adult_from(person, datetime.date(2010, 1, 1)), clock.NIGHT)
            spells.append((start, person, None))
        if earlier:
            limit = (start or clock.NIGHT) - datetime.timedelta(days=60)
            first = _adult_from(person, datetime.date(2005, 1, 1))
            if first <= limit - datetime.timedelta(days=60):
                begun = clock.day_between(rng, first, limit - datetime.timedelta(days=60))
                ended = clock.day_between(rng, begun + datetime.timedelta(days=30), limit)
                spells.append((begun, person, ended))
    spells.sort(key=lambda spell: (spell[0], spell[1].index))
    records = []
    for number, (begun, person, ended) in enumerate(spells, start=1):
        employer, letter = rng.choice(employers)
        records.append({
            "登记编号": f"JY2026{number:06d}",
            "身份证号": person.id_number,
            "姓名": person.name,
            "性别": SEX[person.sex],
            "登记日期": write_date(rng, begun),
            "终止日期": write_date(rng, ended) if ended else "",
            "单位名称": employer,
            "行业代码": letter,
            "职业代码": rng.choice(INDUSTRIES[letter][2]),
            "用工形式": rng.choices(FORMS, weights=(75, 10, 15))[0],
            "社区代码": person.community.code,
        })
    return records


def unemployment(rng: random.Random, population: Population, employed: set[str]) -> list[dict[str, Any]]:
    """About 5 % of the residents aged 18-65, mostly among those without an ongoing registration;
    some claims open (在册), some closed (已注销)."""
    adults = population.adults()
    pool = [person for person in adults if person.id_number not in employed] or adults
    count = min(len(pool), max(10, round(len(adults) * 0.05)))
    chosen = sorted(rng.sample(pool, count), key=lambda person: person.index)
    claims = []
    for position, person in enumerate(chosen):
        closed = position % 5 in (1, 3) if position < 5 else rng.random() < 0.4
        first = _adult_from(person, datetime.date(2019, 1, 1))
        closed = closed and first <= clock.NIGHT - datetime.timedelta(days=60)
        if closed:
            begun = clock.day_between(rng, first, clock.NIGHT - datetime.timedelta(days=60))
            ended = clock.day_between(rng, begun + datetime.timedelta(days=30),
                                      min(begun + datetime.timedelta(days=540), clock.NIGHT))
        else:
            begun = clock.day_between(rng, max(first, clock.NIGHT - datetime.timedelta(days=540)), clock.NIGHT)
            ended = None
        claims.append((begun, person, ended))
    claims.sort(key=lambda claim: (claim[0], claim[1].index))
    records = []
    for number, (begun, person, ended) in enumerate(claims, start=1):
        records.append({
            "登记编号": f"SY2026{number:06d}",
            "身份证号": person.id_number,
            "姓名": person.name,
            "性别": SEX[person.sex],
            "失业登记日期": write_date(rng, begun),
            "注销日期": write_date(rng, ended) if ended else "",
            "领取失业保险金": rng.choices(("是", "否"), weights=(55, 45))[0],
            "登记状态": "已注销" if ended else "在册",
            "社区代码": person.community.code,
            "_began": begun,
        })
    return records


def _seed_registrations(rng: random.Random, records: list[dict[str, Any]]) -> Seeding:
    seeding = Seeding(rng, len(records))
    for index in seeding.choose("id-check-digit"):
        records[index]["身份证号"] = resident_id.corrupt(records[index]["身份证号"], rng.randrange(10))
    # In the (optional) end date of an ended registration: a bad date in the required 登记日期 would
    # also leave a required field without a usable value, and a record carries one defect only.
    for index in seeding.choose("impossible-date", lambda i: bool(records[i]["终止日期"])):
        records[index]["终止日期"] = IMPOSSIBLE_DAY
    for index in seeding.choose("unknown-code"):
        records[index]["行业代码"] = "Z"
    for index in seeding.choose("required-missing"):
        records[index]["单位名称"] = ""
    for index in seeding.choose("undecodable-bytes"):
        name = records[index]["姓名"]
        records[index]["姓名"] = name[0] + BAD_BYTE_MARK + name[1:]
    seeding.duplicate()
    return seeding


def _seed_unemployment(rng: random.Random, records: list[dict[str, Any]]) -> Seeding:
    seeding = Seeding(rng, len(records))
    for index in seeding.choose("id-check-digit"):
        records[index]["身份证号"] = resident_id.corrupt(records[index]["身份证号"], rng.randrange(10))
    for index in seeding.choose("unknown-code"):
        records[index]["登记状态"] = "暂停"
    for index in seeding.choose("impossible-date", lambda i: records[i]["登记状态"] == "已注销"):
        began = records[index]["_began"]
        records[index]["注销日期"] = write_date(rng, began - datetime.timedelta(days=rng.randint(1, 200)))
    seeding.duplicate()
    return seeding


def _write(path: pathlib.Path, columns: tuple[str, ...], lines: list[bytes]) -> None:
    path.write_bytes(_encode(list(columns)) + b"".join(lines))


def employment(rng: random.Random, population: Population, departments: pathlib.Path) -> tuple[dict[str, dict[str, Any]], Counter[str]]:
    """Write the drop under ``departments/employment/drop/``; return the sources' truth and the clean
    open unemployment claims per community."""
    folder = departments / "employment" / "drop"
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict[str, dict[str, Any]] = {}

    jobs = registrations(rng, population)
    ongoing = {record["身份证号"] for record in jobs if not record["终止日期"]}
    seeding = _seed_registrations(rng, jobs)
    lines = [_encode([record[column] for column in REGISTRATION_COLUMNS]) for record in jobs]
    ordered, truth["employment_registration"] = seeding.emit(lines, REGISTRATION_FILE, first_line=2)
    _write(folder / REGISTRATION_FILE, REGISTRATION_COLUMNS, ordered)

    claims = unemployment(rng, population, ongoing)
    seeding = _seed_unemployment(rng, claims)
    open_claims: Counter[str] = Counter(
        claims[index]["社区代码"] for index in range(len(claims))
        if index not in _defective(seeding) and claims[index]["登记状态"] == "在册")
    lines = [_encode([record[column] for column in UNEMPLOYMENT_COLUMNS]) for record in claims]
    ordered, truth["employment_unemployment"] = seeding.emit(lines, UNEMPLOYMENT_FILE, first_line=2)
    _write(folder / UNEMPLOYMENT_FILE, UNEMPLOYMENT_COLUMNS, ordered)
    return truth, open_claims


def _defective(seeding: Seeding) -> set[int]:
    return {index for indexes in seeding.chosen.values() for index in indexes}
