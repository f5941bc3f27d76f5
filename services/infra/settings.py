"""Settings from the environment (prefix HOMECARE_) or a .env file."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.infra.clock import AcceleratedClock, Clock, SystemClock


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOMECARE_", env_file=".env", extra="ignore")

    nats_url: str | None = Field(
        default=None,
        description="NATS server(s), comma separated. Unset: `homecare up` starts an embedded one.",
    )
    var_dir: Path = Field(default=Path("var"), description="Where SQLite files and NATS data live.")
    database_url: str | None = Field(
        default=None,
        description="One PostgreSQL URL for all services (each gets its own schema). "
        "Unset: one SQLite file per service under var_dir.",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections each service keeps open (its SQLAlchemy pool).",
    )
    database_max_overflow: int = Field(
        default=10,
        ge=0,
        description="Connections a service may open beyond the pool in a burst (closed after).",
    )
    dispatch_database_url: str | None = None
    scheduling_database_url: str | None = None
    billing_database_url: str | None = None
    time_zone: str = "Asia/Shanghai"
    max_deliver: int = Field(default=5, ge=1, description="Deliveries before a dead letter.")
    ack_wait_seconds: float = Field(default=30.0, gt=0)
    relay_batch: int = Field(default=500, ge=1)
    log_format: str = Field(default="auto", description="auto | json | console")
    log_level: str = "INFO"
    nats_port: int = Field(default=4223, description="Port of the embedded nats-server.")
    stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="Copies of each JetStream stream: 3 on a three-node cluster (R3). "
        "`homecare migrate` and every service declare the streams with it.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port of this process's Prometheus /metrics and /health endpoints "
        "(0: any free one); unset: no endpoint.",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Where /metrics and /health listen (0.0.0.0: all)."
    )
    shifts_at: str = Field(
        default="18:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="When scheduling generates the next day's shifts, HH:MM in time_zone.",
    )
    reminders_at: str = Field(
        default="07:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="When caregivers get the morning reminder of today's shifts, HH:MM.",
    )
    missed_visit_grace_minutes: int = Field(
        default=30,
        ge=0,
        description="A shift without check-in this long after its window ends is a missed visit.",
    )
    appraisal_threshold: float = Field(
        default=60.0, ge=0, le=100, description="A monthly score below this alerts the station."
    )
    district: str = Field(
        default="沙河口区",
        min_length=1,
        max_length=40,
        description="The district named on the subsidy claim summary for the civil-affairs bureau.",
    )
    billing_policy_file: Path | None = Field(
        default=None,
        description="YAML or JSON file of the monthly fee and subsidy table by effective date "
        "(docs/billing.md); unset: the default policy of domain.md §6.",
    )
    holidays_file: Path | None = Field(
        default=None,
        description="YAML file adding or correcting public holidays (docs/holidays.md); "
        "the official calendar comes with the chinesecalendar package.",
    )
    job_tick_seconds: float = Field(
        default=1.0, gt=0, description="How often scheduled jobs look for due fire times."
    )
    matching_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Dispatch matching weights that differ from the defaults, as JSON, e.g. "
        '{"distance": 2.0, "workload": 1.0} (names: docs/matching.md).',
    )

    clock_start: datetime | None = Field(
        default=None,
        description="Run on accelerated simulated time from this moment (fault tests, "
        "rehearsals); unset: the real clock. A time without zone is in time_zone.",
    )
    clock_wall_start: float | None = Field(
        default=None,
        description="The wall-clock moment (Unix seconds) clock_start corresponds to; processes "
        "that share it agree on the time. Unset: when the process starts.",
    )
    clock_speed: float = Field(
        default=1.0, gt=0, description="Simulated seconds per wall second (with clock_start)."
    )
    console_database_url: str | None = None
    console_host: str = Field(
        default="127.0.0.1", description="Where the web console listens (0.0.0.0: all)."
    )
    console_port: int = Field(
        default=8080, ge=0, le=65535, description="The web console's port (0: any free one)."
    )
    console_secret: str | None = Field(
        default=None,
        description="Key that signs console sessions; unset: one is made once and kept in "
        "var_dir/console-secret.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def database_url_for(self, service: str) -> str:
        """The service's own URL, else the shared PostgreSQL URL, else its SQLite file."""
        own: str | None = getattr(self, f"{service}_database_url", None)
        if own:
            return own
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / (service + '.db')}"

    def nats_servers(self) -> list[str]:
        assert self.nats_url, "nats_url is not set"
        return [s.strip() for s in self.nats_url.split(",") if s.strip()]

    def client_servers(self) -> list[str]:
        """Where a client command (status, import) connects: the configured servers, else
        the embedded server's port on this machine."""
        return self.nats_servers() if self.nats_url else [f"nats://127.0.0.1:{self.nats_port}"]


def clock_for(settings: Settings) -> Clock:
    """The real clock, or accelerated simulated time when ``clock_start`` is set."""
    if settings.clock_start is None:
        return SystemClock(settings.tz)
    start = settings.clock_start
    if start.tzinfo is None:
        start = start.replace(tzinfo=settings.tz)
    wall_start = settings.clock_wall_start if settings.clock_wall_start is not None else time.time()
    return AcceleratedClock(start, wall_start, settings.clock_speed)
