"""Who may sign in and what each role may see.

Passwords are kept as scrypt hashes (standard library; salted, deliberately slow). Roles:
a station manager works for one station and sees only it; a carer is one caregiver and sees
only their own shifts; the district officer approves categories; finance runs billing; a
supervisor reads everything and writes inspection notes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["station_manager", "carer", "district_officer", "finance", "supervisor"]
ROLES: tuple[Role, ...] = get_args(Role)

# scrypt cost: about 50 ms here, so guessing is slow and signing in is not
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    role: Role
    station_id: str | None = None
    caregiver_id: str | None = None

    def sees_station(self, station_id: str) -> bool:
        """A station manager sees only their station; supervisors, the district and finance
        see all; a carer sees no station pages."""
        if self.role == "station_manager":
            return self.station_id == station_id
        return self.role in ("supervisor", "district_officer", "finance")


def user_problem(role: str, station_id: str | None, caregiver_id: str | None) -> str | None:
    """Why a user with these fields cannot be made (None: they can)."""
    if role not in ROLES:
        return f"unknown role {role!r} (one of {', '.join(ROLES)})"
    if role == "station_manager" and not station_id:
        return "a station manager needs --station"
    if role == "carer" and not caregiver_id:
        return "a carer needs --caregiver"
    return None
