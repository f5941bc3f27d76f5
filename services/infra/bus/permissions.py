"""Who may publish and subscribe what on the bus: NATS user permissions derived from the code.

Each service's permissions come from its ``Service`` object, built (never started) with
``services.system.BUILDERS``: the subjects its broker publishes (``Service.emits``: events,
dead letters and the commands it sends through its outbox), the core subjects it answers or
follows (``Service.rpc``, the console's live pages), its durable consumers
(``Service.consume``) and the JetStream API calls that start-up and the pull loops make.
Caregivers get their own subjects and the commands of their working day, on their own
command subjects. Nothing here connects to anything; ``render_config`` writes an
``authorization`` block for nats-server (docs/bus-permissions.md).

NATS checks subjects, not payloads, so a caregiver's commands carry the caregiver id in the
subject (``homecare.carer.<id>.cmd.<name>.v1``): each caregiver may publish only under their
own id, and scheduling refuses (dead-letters) a command whose payload names another
caregiver than its subject. The ``homecare.scheduling.cmd`` subjects are for trusted
senders (console, operators) only.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from contracts import subjects
from contracts.subjects import STREAMS

JS_API = "$JS.API"
JS_ACK = "$JS.ACK"
DEFAULT_INBOX = "_INBOX"
ADMIN_USER = "admin"
CAREGIVER_USER_PREFIX = "carer_"
# The HC_CARER consumer a caregiver's phone reads from (services/carer.py CarerInbox.durable).
CAREGIVER_DURABLE_PREFIX = "carer_"

# What a caregiver may send: the commands of their own working day, each on the caregiver's
# own subject (subjects.carer_command_subject), never on homecare.scheduling.cmd.
CAREGIVER_COMMANDS = subjects.CARER_COMMAND_NAMES


def caregiver_commands(caregiver_id: str) -> tuple[str, ...]:
    """The command subjects caregiver ``caregiver_id`` may publish on: only their own."""
    check_caregiver_id(caregiver_id)
    return tuple(subjects.carer_command_subject(caregiver_id, n) for n in CAREGIVER_COMMANDS)


# Core NATS publishes that go around the outbox (Service.publish_core), so no broker
# publisher records them: billing's run progress (services/billing/running.py RunWorker).
CORE_PUBLISHES: Mapping[str, tuple[str, ...]] = {
    "billing": (subjects.BILLING_PROGRESS_PATTERN,),
}

# The console reads billing's rejected runs back from the stream (pages/finance.py:
# stream_info + get_msg on HC_BILLING).
STREAM_READS: Mapping[str, tuple[str, ...]] = {
    "console": ("HC_BILLING",),
}

_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")
_CONSOLE_PAGES = Path(__file__).resolve().parents[2] / "console" / "pages"


@dataclass(frozen=True)
class Permissions:
    """One NATS user: the subjects it may publish to and subscribe on (all else refused)."""

    user: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    # may publish to the reply subject of a request it received (RPC responders)
    allow_responses: bool = False
    why: tuple[str, ...] = field(default=(), compare=False)


def wildcard(subject: str) -> str:
    """A subject pattern with ``{placeholders}`` as single-token wildcards."""
    return _PLACEHOLDER.sub("*", subject)


def _sorted(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(items)))


def _address(subject: Any) -> str:
    """A FastStream endpoint's subject (an ``Address`` with a ``template``) or a string."""
    return str(getattr(subject, "template", subject))


def inbox_prefix(svc: Any) -> str:
    """The inbox prefix of a service's connection (replies and pull deliveries land under it)."""
    kwargs = getattr(svc.broker, "_connection_kwargs", {}) or {}
    prefix = kwargs.get("inbox_prefix") or DEFAULT_INBOX
    return prefix.decode() if isinstance(prefix, bytes) else str(prefix)


def console_sent_subjects(pages: Path = _CONSOLE_PAGES) -> tuple[str, ...]:
    """Commands and queries the console's pages send: every ``subjects.NAME`` the page
    modules use that names a command (``.cmd.``) or a query (``homecare.rpc.``)."""
    found: set[str] = set()
    for path in sorted(pages.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "subjects"
            ):
                value = getattr(subjects, node.attr, None)
                if isinstance(value, str) and (".cmd." in value or ".rpc." in value):
                    found.add(value)
    return _sorted(found)


def _stream_management() -> list[str]:
    # Service.start runs ensure_streams: every service declares every stream (INFO, then
    # CREATE or UPDATE). Scoped to homecare's own streams; no DELETE, PURGE or LIST.
    return [
        f"{JS_API}.STREAM.{op}.{spec.name}"
        for spec in STREAMS
        for op in ("INFO", "CREATE", "UPDATE")
    ]


def _consumer_api(stream: str, durable: str, filter_subject: str, legacy_create: bool) -> list[str]:
    allowed = [
        # create bound to the filter in the subject itself: the server refuses a body whose
        # filter differs, so this cannot open a consumer on someone else's subjects
        f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}.{filter_subject}",
        f"{JS_API}.CONSUMER.INFO.{stream}.{durable}",
        f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
        # ack, nak, in-progress and term of the messages this consumer delivered
        f"{JS_ACK}.{stream}.{durable}.>",
    ]
    if legacy_create:
        # nats-py creates a consumer given only durable_name through this subject, which does
        # not name the filter; services are trusted with their own consumer names
        allowed.append(f"{JS_API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}")
    return allowed


def service_permissions(svc: Any) -> Permissions:
    """The permissions of one built (not started) ``Service``."""
    name: str = svc.name
    emitted = [wildcard(_address(p.subject)) for p in svc.broker.publishers]
    core_subscribed: list[str] = []
    for sub in svc.broker.subscribers:
        if type(sub).__name__ == "CoreSubscriber":
            core_subscribed.append(wildcard(_address(sub.subject)))
    sends: list[str] = []
    follows: list[str] = []
    if name == "console":
        from services.console.core import LIVE_SUBJECTS

        sends = list(console_sent_subjects())
        follows = list(LIVE_SUBJECTS)
    consumers: list[str] = []
    for spec in svc._durables:
        consumers += _consumer_api(spec.stream, spec.durable, spec.subject, legacy_create=True)
    reads: list[str] = []
    for stream in STREAM_READS.get(name, ()):
        reads += [f"{JS_API}.STREAM.INFO.{stream}", f"{JS_API}.STREAM.MSG.GET.{stream}"]
    inbox = inbox_prefix(svc)
    publish = (
        emitted
        + [wildcard(s) for s in CORE_PUBLISHES.get(name, ())]
        + sends
        + _stream_management()
        + consumers
        + reads
    )
    subscribe = core_subscribed + follows + [f"{inbox}.>"]
    return Permissions(
        user=name,
        publish=_sorted(publish),
        subscribe=_sorted(subscribe),
        allow_responses=True,
        why=(
            f"publish: {len(emitted)} emitted subjects, {len(sends)} sent commands/queries, "
            f"stream declarations, {len(svc._durables)} durable consumers",
            f"subscribe: {len(core_subscribed)} answered subjects, {len(follows)} followed live, "
            f"inbox {inbox}",
        ),
    )


def check_caregiver_id(caregiver_id: str) -> str:
    """A caregiver id must be one subject token (no dots, wildcards or spaces)."""
    if not _TOKEN.match(caregiver_id):
        raise ValueError(
            f"caregiver id {caregiver_id!r} cannot be a NATS subject token "
            "(letters, digits, - and _ only)"
        )
    return caregiver_id


def caregiver_inbox(caregiver_id: str) -> str:
    """The private inbox prefix a caregiver's connection must use (nats-py ``inbox_prefix``):
    whoever may subscribe to ``_INBOX.>`` receives everyone's replies."""
    return f"{DEFAULT_INBOX}_{check_caregiver_id(caregiver_id)}"


def caregiver_user(caregiver_id: str) -> str:
    return f"{CAREGIVER_USER_PREFIX}{check_caregiver_id(caregiver_id)}"


def caregiver_permissions(caregiver_id: str) -> Permissions:
    own = subjects.carer_subjects(check_caregiver_id(caregiver_id))
    durable = f"{CAREGIVER_DURABLE_PREFIX}{caregiver_id}"
    publish = [
        *caregiver_commands(caregiver_id),
        *_consumer_api(subjects.CARER_STREAM, durable, own, False),
    ]
    return Permissions(
        user=caregiver_user(caregiver_id),
        publish=_sorted(publish),
        subscribe=_sorted([own, f"{caregiver_inbox(caregiver_id)}.>"]),
        why=("their own subjects and inbox; their own working day's commands, on their subjects",),
    )


def admin_permissions() -> Permissions:
    """The operators' command line (import, status, dlq, billing run): everything."""
    return Permissions(
        user=ADMIN_USER,
        publish=(">",),
        subscribe=(">",),
        allow_responses=False,
        why=("operators and the homecare command line: unrestricted; keep its password close",),
    )


def built_services(names: Iterable[str] | None = None) -> list[Any]:
    """Every service of services.system.BUILDERS, built without a database or a connection."""
    from services.infra.clock import SystemClock
    from services.infra.settings import Settings
    from services.system import BUILDERS

    no_db = "sqlite+aiosqlite:///:memory:"
    settings = Settings(
        _env_file=None,
        nats_url=None,
        database_url=no_db,
        dispatch_database_url=no_db,
        scheduling_database_url=no_db,
        billing_database_url=no_db,
        console_database_url=no_db,
    )
    clock = SystemClock(ZoneInfo(settings.time_zone))
    return [BUILDERS[name](settings, clock) for name in (names or BUILDERS)]


def system_permissions(caregivers: Iterable[str] = ()) -> list[Permissions]:
    """Every service user, the admin user and one user per caregiver, in a stable order."""
    users = [service_permissions(svc) for svc in built_services()]
    users.append(admin_permissions())
    users += [caregiver_permissions(c) for c in sorted(set(caregivers))]
    return users


def password_variable(user: str) -> str:
    """The environment variable nats-server reads a user's password (or bcrypt hash) from."""
    return "HOMECARE_NATS_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", user).upper()


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _list(items: tuple[str, ...], indent: str) -> str:
    inner = "".join(f"{indent}  {_quoted(s)}\n" for s in items)
    return f"[\n{inner}{indent}]"


def render_config(users: list[Permissions], passwords: Mapping[str, str] | None = None) -> str:
    """An ``authorization`` block for nats-server. With ``passwords`` (user → password or
    bcrypt hash) they are written in; without, each password is a reference to the
    environment variable ``password_variable(user)``, which nats-server resolves at start."""
    out = [
        "# nats-server users and permissions for homecare, generated by",
        "# `homecare deploy nats-auth` from the services' code",
        "# (services/infra/bus/permissions.py).",
        "# Do not edit: generate again. See docs/bus-permissions.md.",
        "authorization {",
        "  users = [",
    ]
    for perms in users:
        if passwords is None:
            password = "$" + password_variable(perms.user)
        else:
            password = _quoted(passwords[perms.user])
        out.append("    {")
        for line in perms.why:
            out.append(f"      # {line}")
        out.append(f"      user: {_quoted(perms.user)}")
        out.append(f"      password: {password}")
        out.append("      permissions: {")
        out.append(f"        publish: {{ allow: {_list(perms.publish, '        ')} }}")
        out.append(f"        subscribe: {{ allow: {_list(perms.subscribe, '        ')} }}")
        if perms.allow_responses:
            out.append("        allow_responses: true")
        out.append("      }")
        out.append("    }")
    out += ["  ]", "}", ""]
    return "\n".join(out)


EXAMPLE_CAREGIVERS = ("C001", "C002")


def example_config() -> str:
    """deploy/nats/auth.conf: every service and two example caregivers."""
    return render_config(system_permissions(EXAMPLE_CAREGIVERS))
