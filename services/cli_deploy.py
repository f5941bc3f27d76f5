"""`homecare deploy`: files for running homecare on a server, generated from the code.

``nats-auth`` writes the nats-server ``authorization`` block: one user per service with only
the subjects that service publishes and reads, an operators' user, and one user per caregiver
limited to their own subjects (docs/bus-permissions.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console as Terminal

from services.infra.bus.permissions import check_caregiver_id, render_config, system_permissions

deploy_app = typer.Typer(help="Deployment files generated from the code.", no_args_is_help=True)
err = Terminal(stderr=True, highlight=False, soft_wrap=True)


@deploy_app.callback()
def _deploy() -> None:
    """Deployment files generated from the code (a group, also with one command)."""


@deploy_app.command("nats-auth")
def nats_auth(
    caregiver: Annotated[
        list[str] | None,
        typer.Option(
            "--caregiver",
            help="A caregiver id to give NATS credentials (repeat for each caregiver).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write here instead of standard output."),
    ] = None,
) -> None:
    """The nats-server users and permissions (include the output from nats-server.conf).

    Passwords are references to environment variables (HOMECARE_NATS_PASSWORD_<USER>) that
    nats-server reads when it starts; put a password or a bcrypt hash in each."""
    ids = caregiver or []
    try:
        for one in ids:
            check_caregiver_id(one)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    text = render_config(system_permissions(ids))
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    err.print(f"wrote {out}")


@deploy_app.command("streams")
def streams(
    replicas: Annotated[
        int | None,
        typer.Option(
            "--replicas", min=1, max=5, help="Copies per stream (default HOMECARE_STREAM_REPLICAS)."
        ),
    ] = None,
) -> None:
    """The JetStream streams and every service's durable consumers, as `homecare migrate`
    declares them, in JSON (compare with `nats stream info` / `nats consumer info`)."""
    import json

    from nats.js.api import ConsumerConfig, StreamConfig

    from contracts.subjects import STREAMS
    from services.infra.bus.streams import consumer_config, stream_config
    from services.infra.clock import SystemClock
    from services.infra.settings import Settings
    from services.system import BUILDERS

    settings = Settings()
    copies = replicas or settings.stream_replicas

    def plain(config: StreamConfig | ConsumerConfig) -> dict[str, object]:
        return {k: v for k, v in config.as_dict().items() if v not in (None, [], {})}

    consumers = []
    for name, build in BUILDERS.items():
        for spec in build(settings, SystemClock(settings.tz)).durables:
            config = consumer_config(settings.ack_wait_seconds)
            config.durable_name = spec.durable
            config.filter_subject = spec.subject
            consumers.append({"service": name, "stream": spec.stream, "config": plain(config)})
    document = {
        "streams": [plain(stream_config(spec, copies)) for spec in STREAMS],
        "consumers": consumers,
    }
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
