"""`homecare up --secure`: the embedded nats-server with the generated users and permissions
(docs/bus-permissions.md), a fresh password for each, every service signing in as itself and
an admin login for the command line."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from services.infra.bus.permissions import ADMIN_USER, render_config, system_permissions
from services.infra.nats_server import NatsServer

SERVER_CONFIG = """# homecare up --secure: generated at each start
include "auth.conf"
jetstream {
  sync_interval: always
}
"""


@dataclass(frozen=True)
class SecureBus:
    server: NatsServer
    passwords: dict[str, str]

    def url_for(self, user: str) -> str:
        return f"nats://{user}:{self.passwords[user]}@{self.server.host}:{self.server.port}"

    @property
    def admin_url(self) -> str:
        return self.url_for(ADMIN_USER)


def _private(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def start_secure_bus(store_dir: Path, port: int) -> SecureBus:
    """Write the configuration (passwords new each start; files readable by the owner only)
    and start the server; the admin URL is also written to ``store_dir/admin-url``."""
    users = system_permissions()
    passwords = {perms.user: secrets.token_urlsafe(18) for perms in users}
    store_dir.mkdir(parents=True, exist_ok=True)
    _private(store_dir / "auth.conf", render_config(users, passwords))
    _private(store_dir / "secure.conf", SERVER_CONFIG)
    server = NatsServer(store_dir, port=port, config_file=store_dir / "secure.conf").start()
    bus = SecureBus(server, passwords)
    _private(store_dir / "admin-url", bus.admin_url + "\n")
    return bus
