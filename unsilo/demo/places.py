"""The district's place hierarchy: district, streets (街道), communities (社区), grid cells (网格).

The hierarchy is fixed (it does not depend on the seed), so code lists and dashboards can rely on it:
district ``330106`` 西湖区, four streets ``330106001``..``330106004``, 3-4 communities per street
(street code + 3 digits) and 2-4 grid cells per community (community code + 2 digits).
"""

from __future__ import annotations

from dataclasses import dataclass

DISTRICT_CODE = "330106"
DISTRICT_NAME = "西湖区"
CITY_NAME = "杭州市"
PROVINCE_NAME = "浙江省"


@dataclass(frozen=True)
class Street:
    code: str
    name: str

    @property
    def clinic(self) -> str:
        """The street's community health service centre."""
        return f"{self.name}社区卫生服务中心"


@dataclass(frozen=True)
class Community:
    code: str
    name: str
    street: Street
    grids: tuple[str, ...]
    roads: tuple[str, ...]
    centre: tuple[float, float]  # (lat, lon), WGS84


# street name, [(community name, number of grid cells, roads (without 路), (lat, lon))]
_LAYOUT = (
    ("北山街道", (
        ("保俶社区", 3, ("保俶", "宝石山", "北山"), (30.2660, 120.1480)),
        ("西湖社区", 2, ("北山", "曙光"), (30.2580, 120.1430)),
        ("宝石社区", 4, ("宝石山", "保俶北", "环城西"), (30.2710, 120.1540)),
        ("松木场社区", 3, ("松木场", "体育场", "环城西"), (30.2750, 120.1590)),
    )),
    ("西溪街道", (
        ("曙光社区", 3, ("曙光", "杭大", "黄龙"), (30.2700, 120.1400)),
        ("竞舟社区", 2, ("竞舟", "文二", "教工"), (30.2810, 120.1330)),
        ("黄龙社区", 4, ("黄姑山", "杭大", "天目山"), (30.2730, 120.1470)),
    )),
    ("灵隐街道", (
        ("玉泉社区", 3, ("玉古", "灵溪北", "浙大"), (30.2640, 120.1250)),
        ("灵峰社区", 2, ("灵峰", "植物园"), (30.2580, 120.1150)),
        ("白乐桥社区", 2, ("白乐桥", "灵隐", "法云"), (30.2520, 120.0960)),
        ("求智社区", 3, ("求智", "西溪", "玉古"), (30.2680, 120.1190)),
    )),
    ("翠苑街道", (
        ("翠苑一区社区", 4, ("学院", "文三", "翠苑"), (30.2850, 120.1260)),
        ("文华社区", 3, ("文一西", "学院", "古翠"), (30.2920, 120.1220)),
        ("益乐社区", 2, ("益乐", "文二西", "紫荆花"), (30.2890, 120.1060)),
    )),
)


def _build() -> tuple[tuple[Street, ...], tuple[Community, ...]]:
    streets: list[Street] = []
    communities: list[Community] = []
    for s, (street_name, members) in enumerate(_LAYOUT, start=1):
        street = Street(code=f"{DISTRICT_CODE}{s:03d}", name=street_name)
        streets.append(street)
        for c, (name, grid_count, roads, centre) in enumerate(members, start=1):
            code = f"{street.code}{c:03d}"
            grids = tuple(f"{code}{g:02d}" for g in range(1, grid_count + 1))
            communities.append(Community(code, name, street, grids, roads, centre))
    return tuple(streets), tuple(communities)


STREETS, COMMUNITIES = _build()
COMMUNITY_BY_CODE = {community.code: community for community in COMMUNITIES}


def address(road: str, number: int, building: int, entrance: int, room: int) -> str:
    """``<road>路<n>号<b>栋<u>单元<r>室``."""
    return f"{road}路{number}号{building}栋{entrance}单元{room}室"
