"""Settings: HOMECARE_ environment, database URL precedence, time zone, NATS servers."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.infra.settings import Settings

ENV_NAMES = [
    "NATS_URL",
    "VAR_DIR",
    "DATABASE_URL",
    "DISPATCH_DATABASE_URL",
    "SCHEDULING_DATABASE_URL",
    "BILLING_DATABASE_URL",
    "TIME_ZONE",
    "MAX_DELIVER",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ENV_NAMES:
        monkeypatch.delenv("HOMECARE_" + name, raising=False)


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMECARE_MAX_DELIVER", "9")
    monkeypatch.setenv("HOMECARE_TIME_ZONE", "Europe/Paris")
    monkeypatch.setenv("MAX_DELIVER", "3")  # unprefixed: ignored
    settings = Settings()
    assert settings.max_deliver == 9
    assert settings.tz == ZoneInfo("Europe/Paris")


def test_reads_dotenv_in_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HOMECARE_NATS_URL=nats://from-dotenv:4222\n")
    assert Settings().nats_url == "nats://from-dotenv:4222"


def test_environment_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMECARE_MAX_DELIVER", "0")
    with pytest.raises(ValidationError, match="max_deliver"):
        Settings()


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOMECARE_VAR_DIR", str(tmp_path / "data"))
    assert Settings().database_url_for("billing") == (
        f"sqlite:///{tmp_path / 'data' / 'billing.db'}"
    )
    monkeypatch.setenv("HOMECARE_DATABASE_URL", "postgresql+asyncpg://shared/hc")
    assert Settings().database_url_for("billing") == "postgresql+asyncpg://shared/hc"
    monkeypatch.setenv("HOMECARE_BILLING_DATABASE_URL", "postgresql+asyncpg://own/billing")
    settings = Settings()
    assert settings.database_url_for("billing") == "postgresql+asyncpg://own/billing"
    assert settings.database_url_for("dispatch") == "postgresql+asyncpg://shared/hc"


def test_each_service_gets_its_own_sqlite_file() -> None:
    settings = Settings(var_dir=Path("somewhere"))
    urls = {s: settings.database_url_for(s) for s in ("dispatch", "scheduling", "billing")}
    assert urls["dispatch"] == "sqlite:///somewhere/dispatch.db"
    assert len(set(urls.values())) == 3


def test_unknown_time_zone_refused() -> None:
    with pytest.raises(Exception, match="Mars"):
        Settings(time_zone="Mars/Olympus_Mons")
    assert Settings(time_zone="America/New_York").tz == ZoneInfo("America/New_York")


def test_unknown_time_zone_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMECARE_TIME_ZONE", "Mars/Olympus_Mons")
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(
    ("raw", "servers"),
    [
        ("nats://a:4222", ["nats://a:4222"]),
        ("nats://a:4222,nats://b:4222", ["nats://a:4222", "nats://b:4222"]),
        (" nats://a:4222 , ,nats://b:4222,", ["nats://a:4222", "nats://b:4222"]),
    ],
)
def test_nats_servers_split_commas(
    monkeypatch: pytest.MonkeyPatch, raw: str, servers: list[str]
) -> None:
    monkeypatch.setenv("HOMECARE_NATS_URL", raw)
    assert Settings().nats_servers() == servers


def test_nats_servers_needs_a_url() -> None:
    with pytest.raises(AssertionError):
        Settings().nats_servers()
