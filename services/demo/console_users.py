"""The demo street's console users: one of each role, a manager per station and a carer
per station (one who serves households), all with the same demo password."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from contracts import subjects
from contracts.dispatch.queries_v1 import HouseholdsList, HouseholdsQuery
from services.client import BusClient
from services.console import app as console_app
from services.console.core import Console
from services.infra.clock import Clock
from services.infra.settings import Settings

DEMO_PASSWORD = "homecare-demo"


@dataclass(frozen=True)
class DemoUser:
    user_id: str
    name: str
    role: str
    station_id: str | None = None
    caregiver_id: str | None = None


async def demo_users(client: BusClient) -> list[DemoUser]:
    """Who signs in to the demo, from the street as dispatch knows it."""
    households = await client.ask(subjects.RPC_HOUSEHOLDS, HouseholdsQuery(), HouseholdsList)
    stations = sorted({h.station_id for h in households.households})
    users = [
        DemoUser("district", "区民政办 刘干部", "district_officer"),
        DemoUser("finance", "财务 陈会计", "finance"),
        DemoUser("supervisor", "督导 周主任", "supervisor"),
    ]
    carers: set[str] = set()
    for station in stations:
        users.append(DemoUser(f"manager-{station}", f"{station} 站长", "station_manager", station))
        # a caregiver may serve households of two stations: one user each
        served = sorted(
            h.caregiver_id
            for h in households.households
            if h.station_id == station and h.caregiver_id and h.caregiver_id not in carers
        )
        if served:
            cid = served[0]
            carers.add(cid)
            users.append(DemoUser(f"carer-{cid}", f"护理员 {cid}", "carer", caregiver_id=cid))
    return users


async def seed_console_users(settings: Settings, clock: Clock, users: list[DemoUser]) -> None:
    svc = console_app.build(settings, clock)
    try:
        await svc.migrate()
        console = Console(svc)
        for user in users:
            await console.add_user(password=DEMO_PASSWORD, **asdict(user))
    finally:
        await svc.engine.dispose()
