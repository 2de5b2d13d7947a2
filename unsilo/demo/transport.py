"""Transport: the bus operator's GTFS feed and the smart-card (公交IC卡) ridership, ``transport/``.

``gtfs.zip`` holds agency, stops, routes, trips, stop_times and calendar; stops carry WGS84
coordinates inside the district and their community code in ``zone_id``.
``ridership/ridership_20260601.csv`` (UTF-8) has ``service_date,stop_id,boardings`` per stop for the
night's service day (a Monday, served by the weekday timetable).
"""

from __future__ import annotations

import csv
import io
import math
import pathlib
import random
import zipfile
from collections import Counter
from typing import Any

from unsilo.demo import clock, places
from unsilo.demo.defects import Seeding
from unsilo.demo.population import Population

LAT_RANGE = (30.2500, 30.3000)
LON_RANGE = (120.0800, 120.1600)
AGENCY_ID = "HZBUS"
RIDERSHIP_FILE = f"ridership_{clock.NIGHT:%Y%m%d}.csv"
GTFS_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt", "calendar.txt")
ROUTE_NUMBERS = ("7", "15", "21", "28", "49", "51", "52", "82", "103", "151", "193", "290", "312")
LANDMARKS = {
    "330106001001": ("保俶塔", "宝石山"), "330106001002": ("断桥", "北山街"), "330106001003": ("宝石二弄",),
    "330106001004": ("松木场", "杭州体育馆"), "330106002001": ("浙大西溪校区",), "330106002002": ("竞舟北苑",),
    "330106002003": ("黄龙体育中心", "黄龙洞"), "330106003001": ("浙大玉泉校区", "玉泉"), "330106003002": ("杭州植物园",),
    "330106003003": ("灵隐", "白乐桥"), "330106003004": ("求智巷",), "330106004001": ("翠苑一区", "文三数字生活街区"),
    "330106004002": ("文华园",), "330106004003": ("益乐新村",),
}
# service_id -> (days Monday..Sunday, minutes between departures)
SERVICES = {"WKDY": ((1, 1, 1, 1, 1, 0, 0), (12, 20)), "WKND": ((0, 0, 0, 0, 0, 1, 1), (20, 30))}
NIGHT_SERVICE = "WKDY" if clock.NIGHT.weekday() < 5 else "WKND"


def _rows(header: list[str], rows: list[list[Any]]) -> list[str]:
    """``header`` and ``rows`` as CSV lines (LF), one string per line, header first."""
    lines = []
    for row in [header, *rows]:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(row)
        lines.append(buffer.getvalue())
    return lines


def _stops(rng: random.Random) -> list[dict[str, Any]]:
    count = rng.randint(38, 52)
    communities = list(places.COMMUNITIES)
    homes = communities * 2 + rng.choices(communities, k=count - 2 * len(communities))
    homes.sort(key=lambda community: community.code)
    used: set[str] = set()
    stops = []
    for community in homes:
        for _ in range(50):
            road, other = rng.sample(community.roads, 2) if len(community.roads) > 1 else (community.roads[0], "文三")
            name = rng.choice((f"{road}路{other}路口", f"{road}路口", f"{rng.choice(LANDMARKS[community.code])}",
                               f"{rng.choice(LANDMARKS[community.code])}{rng.choice(('东', '西', '南', '北'))}",
                               f"{road}路{rng.choice(('东口', '西口', '南口', '北口', '中段'))}"))
            if name not in used:
                break
        else:
            name = f"{community.name.removesuffix('社区')}{len(stops) + 1}号站"
        used.add(name)
        lat = min(LAT_RANGE[1] - 0.001, max(LAT_RANGE[0] + 0.001, community.centre[0] + rng.gauss(0, 0.0025)))
        lon = min(LON_RANGE[1] - 0.001, max(LON_RANGE[0] + 0.001, community.centre[1] + rng.gauss(0, 0.003)))
        stops.append({"stop_id": f"S{len(stops) + 1:04d}", "stop_name": name, "stop_lat": f"{lat:.6f}",
                      "stop_lon": f"{lon:.6f}", "zone_id": community.code, "lat": lat, "lon": lon})
    return stops


def _distance(a: dict[str, Any], b: dict[str, Any]) -> float:
    return math.hypot((a["lat"] - b["lat"]) * 111_000, (a["lon"] - b["lon"]) * 96_000)


def _routes(rng: random.Random, stops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """5-8 bus routes, each a line of stops between two far-apart ends; every stop is served."""
    routes = []
    for number, short_name in enumerate(sorted(rng.sample(ROUTE_NUMBERS, rng.randint(5, 8)), key=int), start=1):
        first = rng.choice(stops)
        last = max(rng.sample(stops, 8), key=lambda stop: _distance(first, stop))
        dx, dy = last["lon"] - first["lon"], last["lat"] - first["lat"]
        length = math.hypot(dx, dy) or 1.0

        def along(stop: dict[str, Any]) -> float:
            return ((stop["lon"] - first["lon"]) * dx + (stop["lat"] - first["lat"]) * dy) / length

        def aside(stop: dict[str, Any]) -> float:
            return abs((stop["lon"] - first["lon"]) * dy - (stop["lat"] - first["lat"]) * dx) / length

        middle = [stop for stop in stops if stop is not first and stop is not last and 0 < along(stop) < length]
        middle = sorted(middle, key=aside)[: rng.randint(7, 14)]
        path = [first, *sorted(middle, key=along), last]
        routes.append({"route_id": f"R{number:02d}", "short_name": short_name, "path": path})
    served = {id(stop) for route in routes for stop in route["path"]}
    for stop in stops:
        if id(stop) in served:
            continue
        best = None
        for route in routes:
            path = route["path"]
            for position in range(len(path) + 1):
                before = path[position - 1] if position else None
                after = path[position] if position < len(path) else None
                extra = sum(_distance(stop, end) for end in (before, after) if end)
                if before and after:
                    extra -= _distance(before, after)
                if best is None or extra < best[0]:
                    best = (extra, route["route_id"], position)
        assert best is not None
        route = next(route for route in routes if route["route_id"] == best[1])
        route["path"].insert(best[2], stop)
        served.add(id(stop))
    return routes


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _timetable(rng: random.Random, routes: list[dict[str, Any]]) -> tuple[list[list[Any]], list[list[Any]], Counter[str]]:
    trips: list[list[Any]] = []
    stop_times: list[list[Any]] = []
    departures_on_night: Counter[str] = Counter()
    for route in routes:
        for direction in (0, 1):
            path = route["path"] if direction == 0 else route["path"][::-1]
            offsets = [0]
            for a, b in zip(path, path[1:]):
                offsets.append(offsets[-1] + 60 + int(_distance(a, b) / 5.0) + rng.randint(0, 60))
            for service, (_, (low, high)) in SERVICES.items():
                minute = 6 * 60 + rng.randint(0, 10)
                while minute <= 21 * 60 + 30:
                    trip_id = f"{route['route_id']}-{service}-{direction}-{minute // 60:02d}{minute % 60:02d}"
                    trips.append([route["route_id"], service, trip_id, path[-1]["stop_name"], direction])
                    for sequence, (stop, offset) in enumerate(zip(path, offsets), start=1):
                        arrival = minute * 60 + offset
                        stop_times.append([trip_id, _hms(arrival), _hms(arrival + (20 if 1 < sequence < len(path) else 0)),
                                           stop["stop_id"], sequence])
                        if service == NIGHT_SERVICE and sequence < len(path):
                            departures_on_night[stop["stop_id"]] += 1
                    minute += rng.randint(low, high)
    return trips, stop_times, departures_on_night


def _zip(path: pathlib.Path, files: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in GTFS_FILES:
            info = zipfile.ZipInfo(name, date_time=clock.ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name].encode("utf-8"))


def transport(rng: random.Random, population: Population, departments: pathlib.Path) -> dict[str, dict[str, Any]]:
    """Write ``departments/transport/gtfs.zip`` and the ridership file; return the sources' truth."""
    folder = departments / "transport"
    (folder / "ridership").mkdir(parents=True, exist_ok=True)
    truth: dict[str, dict[str, Any]] = {}

    stops = _stops(rng)
    routes = _routes(rng, stops)
    trips, stop_times, departures = _timetable(rng, routes)
    residents = Counter(person.community.code for person in population.persons)

    stop_header = ["stop_id", "stop_name", "stop_lat", "stop_lon", "zone_id"]
    rows = [[stop[column] for column in stop_header] for stop in stops]
    seeding = Seeding(rng, len(rows))
    for index in seeding.choose("out-of-range"):
        rows[index][2] = "200"
    for index in seeding.choose("required-missing"):
        rows[index][1] = ""
    header, *lines = _rows(stop_header, rows)
    lines, truth["transport_stops"] = seeding.emit(lines, "stops.txt", first_line=2)
    stops_txt = header + "".join(lines)

    route_header = ["route_id", "agency_id", "route_short_name", "route_long_name", "route_type"]
    rows = [[route["route_id"], AGENCY_ID, route["short_name"],
             f"{route['path'][0]['stop_name']}—{route['path'][-1]['stop_name']}", 3] for route in routes]
    seeding = Seeding(rng, len(rows))
    for index in seeding.choose("unknown-code"):
        rows[index][4] = 99
    header, *lines = _rows(route_header, rows)
    lines, truth["transport_routes"] = seeding.emit(lines, "routes.txt", first_line=2)
    routes_txt = header + "".join(lines)

    files = {
        "agency.txt": "".join(_rows(
            ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang", "agency_phone"],
            [[AGENCY_ID, "杭州公交集团", "https://bus.unsilo.example/", "Asia/Shanghai", "zh", "0571-96123"]])),
        "stops.txt": stops_txt,
        "routes.txt": routes_txt,
        "trips.txt": "".join(_rows(["route_id", "service_id", "trip_id", "trip_headsign", "direction_id"], trips)),
        "stop_times.txt": "".join(_rows(
            ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"], stop_times)),
        "calendar.txt": "".join(_rows(
            ["service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
             "start_date", "end_date"],
            [[service, *days, "20260101", "20261231"] for service, (days, _) in SERVICES.items()])),
    }
    _zip(folder / "gtfs.zip", files)

    people_per_stop = {code: residents[code] / max(1, sum(1 for s in stops if s["zone_id"] == code)) for code in residents}
    rows = []
    for stop in stops:
        demand = departures[stop["stop_id"]] * rng.uniform(0.8, 3.0) + people_per_stop.get(stop["zone_id"], 0) * rng.uniform(0.2, 0.6)
        rows.append([clock.NIGHT.isoformat(), stop["stop_id"], int(demand)])
    seeding = Seeding(rng, len(rows))
    for index in seeding.choose("out-of-range"):
        rows[index][2] = -max(1, rows[index][2])
    seeding.duplicate()
    header, *lines = _rows(["service_date", "stop_id", "boardings"], rows)
    lines, truth["transport_ridership"] = seeding.emit(lines, RIDERSHIP_FILE, first_line=2)
    (folder / "ridership" / RIDERSHIP_FILE).write_bytes((header + "".join(lines)).encode("utf-8"))
    return truth
