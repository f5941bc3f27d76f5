"""Matching weights come from the settings (HOMECARE_MATCHING_WEIGHTS) and reach the use cases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from builders import caregiver, household
from faststream.nats import TestNatsBroker
from routing_helpers import events, send

from contracts import subjects as s
from contracts.dispatch.v1 import RequestCare
from contracts.dispatch.values import GeoPoint
from services.dispatch import app as dispatch_app
from services.dispatch.matching import Weights
from services.infra.clock import SimulatedClock
from services.infra.settings import Settings

DAY = date(2026, 11, 2)
HOME = GeoPoint(lat=38.905, lon=121.59)


def settings_with(tmp_path: Path, weights: str) -> Settings:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOMECARE_MATCHING_WEIGHTS", weights)
        return Settings(nats_url="nats://127.0.0.1:1", var_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]


def test_weights_from_the_environment_override_the_defaults(tmp_path: Path) -> None:
    weights = dispatch_app.matching_weights(settings_with(tmp_path, '{"distance": 3, "gender": 0}'))
    assert weights == Weights(distance=3.0, gender=0.0)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ('{"distanse": 3}', "unknown weight(s) distanse"),
        ('{"distance": -1}', "non-negative"),
        ('{"distance_scale_km": 0}', "distance_scale_km must be positive"),
    ],
)
def test_a_wrong_weight_stops_the_start_with_its_name(
    tmp_path: Path, weights: str, message: str, clock: SimulatedClock
) -> None:
    with pytest.raises(ValueError, match="HOMECARE_MATCHING_WEIGHTS") as caught:
        dispatch_app.build(settings_with(tmp_path, weights), clock)
    assert message in str(caught.value)


async def test_configured_weights_change_the_ranking(tmp_path: Path, clock: SimulatedClock) -> None:
    """C1 lives next door but has a poor appraisal; C2 is 4 km away with a perfect one.
    By default distance wins; with appraisal weighted heavily C2 comes first."""
    ranked: dict[str, list[str]] = {}
    for name, weights in (("default", "{}"), ("appraisal", '{"appraisal": 10}')):
        svc = dispatch_app.build(settings_with(tmp_path / name, weights), clock)
        await svc.migrate()
        try:
            async with TestNatsBroker(svc.broker) as broker:
                for cid, km, score in (("C1", 0.2, 60.0), ("C2", 4.0, 100.0)):
                    home = GeoPoint(lat=round(38.905 + km / 111.0, 5), lon=121.59)
                    await send(
                        broker,
                        s.REGISTER_CAREGIVER,
                        caregiver(cid).model_copy(update={"home": home, "appraisal_score": score}),
                    )
                await send(
                    broker,
                    s.REGISTER_HOUSEHOLD,
                    household("H1").model_copy(update={"location": HOME}),
                )
                await send(
                    broker,
                    s.REQUEST_CARE,
                    RequestCare(
                        request_id="R1", household_id="H1", start_date=DAY, mode="shortlist"
                    ),
                )
            proposed = (await events(svc, s.SHORTLIST_PROPOSED))[0]
            ranked[name] = [c["caregiver_id"] for c in proposed["candidates"]]
        finally:
            await svc.engine.dispose()
    assert ranked == {"default": ["C1", "C2"], "appraisal": ["C2", "C1"]}
