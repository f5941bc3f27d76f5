"""The demo street: Zhongshan Park street (中山公园街道), Shahekou district, Dalian.

Deterministic (seeded) so every run tells the same story: four community stations,
about 120 households with an A/B/C/D mix like the seed's, about 80 caregivers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time, timedelta

from contracts.dispatch.v1 import RegisterCaregiver, RegisterHousehold
from contracts.dispatch.values import Certificate, Elder, GeoPoint, Preferences
from contracts.types import CERTIFICATE_MODULES

STREET = "中山公园街道"
STATIONS = (
    ("S1", "星海社区服务站"),
    ("S2", "联合社区服务站"),
    ("S3", "锦绣社区服务站"),
    ("S4", "长兴社区服务站"),
)
CATEGORY_MIX = (("A", 0.12), ("B", 0.33), ("C", 0.40), ("D", 0.15))
WINDOWS = ((time(8), time(10)), (time(9), time(11)), (time(14), time(16)), (time(15), time(17)))
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡"
CARER_NAMES = {
    "F": (
        "秀兰",
        "桂英",
        "淑珍",
        "玉梅",
        "凤琴",
        "丽华",
        "素芬",
        "春燕",
        "红霞",
        "秀云",
        "晓梅",
        "美玲",
    ),
    "M": ("建华", "志强", "国庆"),
}
ELDER_NAMES = (
    "德明",
    "桂芝",
    "淑英",
    "玉兰",
    "文华",
    "秀珍",
    "长顺",
    "凤英",
    "宝山",
    "金花",
    "振国",
    "素云",
    "广福",
    "兰英",
)
STATION_CENTRES = (
    (38.9080, 121.5850),
    (38.9050, 121.5950),
    (38.9000, 121.5880),
    (38.9020, 121.5990),
)
ROADS = ("五一路", "中山路", "西安路", "黄河路", "长江路", "联合路")


@dataclass(frozen=True)
class DemoStreet:
    caregivers: list[RegisterCaregiver]
    households: list[RegisterHousehold]


def build_street(
    month_start: date, households: int = 120, caregivers: int = 80, seed: int = 2002
) -> DemoStreet:
    rng = random.Random(seed)
    carers = [_caregiver(rng, i, caregivers) for i in range(caregivers)]
    homes = [_household(rng, i, month_start) for i in range(households)]
    return DemoStreet(carers, homes)


def _near(rng: random.Random, station_index: int) -> GeoPoint:
    """A point within about 600 m of the station (Zhongshan Park is about 2 km across)."""
    lat, lon = STATION_CENTRES[station_index]
    return GeoPoint(
        lat=round(lat + rng.uniform(-0.005, 0.005), 5),
        lon=round(lon + rng.uniform(-0.006, 0.006), 5),
    )


def _caregiver(rng: random.Random, i: int, total: int) -> RegisterCaregiver:
    station_index = i % len(STATIONS)
    station_id, _ = STATIONS[station_index]
    # Six in ten serve two households (the seed's norm is one); two are inactive; one's
    # first-aid certificate has expired (she cannot be assigned until she renews it).
    sex = "M" if rng.random() < 0.08 else "F"
    expiry = date(2027, rng.randint(1, 12), 1)
    certificates = [Certificate(module=m, expires_on=expiry) for m in CERTIFICATE_MODULES]
    if i == 5:
        certificates[2] = Certificate(module="first_aid", expires_on=date(2026, 9, 30))
    return RegisterCaregiver(
        caregiver_id=f"C{i + 1:04d}",
        name=rng.choice(SURNAMES) + rng.choice(CARER_NAMES[sex]),
        station_id=station_id,
        street=STREET,
        sex=sex,
        capacity=2 if i % 2 == 0 or i % 10 == 1 else 1,
        active=i not in (total - 1, total - 2),
        home=_near(rng, station_index),
        dialects=frozenset({"大连话"} | ({"山东话"} if rng.random() < 0.3 else set())),
        skills=frozenset(
            k for k, p in (("bedridden_care", 0.4), ("dementia_care", 0.25)) if rng.random() < p
        ),
        certificates=tuple(certificates),
        appraisal_score=round(rng.uniform(70, 98), 1),
    )


def _household(rng: random.Random, i: int, month_start: date) -> RegisterHousehold:
    station_index = i % len(STATIONS)
    station_id, station = STATIONS[station_index]
    category = rng.choices([c for c, _ in CATEGORY_MIX], [w for _, w in CATEGORY_MIX])[0]
    elder_count = 2 if rng.random() < 0.35 else 1
    elders = tuple(
        Elder(
            name=rng.choice(SURNAMES) + rng.choice(ELDER_NAMES),
            sex=rng.choice(("F", "M")),
            birth_date=date(rng.randint(1928, 1958), rng.randint(1, 12), rng.randint(1, 28)),
            self_care="unable" if category == "A" or rng.random() < 0.2 else "needs_help",
        )
        for _ in range(elder_count)
    )
    needs = {"bedridden_care"} if any(e.self_care == "unable" for e in elders) else set()
    if rng.random() < 0.1:
        needs.add("dementia_care")
    # Most were enrolled before the month; one in ten joins during it.
    enrolled = (
        month_start + timedelta(days=rng.randint(3, 20))
        if rng.random() < 0.1
        else month_start - timedelta(days=rng.randint(30, 900))
    )
    building = rng.randint(1, 40)
    return RegisterHousehold(
        household_id=f"H{i + 1:04d}",
        name=rng.choice(SURNAMES) + rng.choice(ELDER_NAMES) + "家",
        address=f"大连市沙河口区{STREET}{station.removesuffix('服务站')}{rng.choice(ROADS)}"
        f"{building}号{rng.randint(1, 6)}单元{rng.randint(1, 7)}0{rng.randint(1, 4)}",
        station_id=station_id,
        street=STREET,
        category=category,
        enrolled_on=enrolled,
        visit_window=rng.choice(WINDOWS),
        location=_near(rng, station_index),
        elders=elders,
        needs=frozenset(needs),
        preferences=Preferences(
            caregiver_sex="F" if rng.random() < 0.3 else None,
            dialects=frozenset({"大连话"}) if rng.random() < 0.5 else frozenset(),
        ),
    )
