"""Console passwords and roles."""

from __future__ import annotations

from services.console.auth import User, hash_password, password_matches, user_problem


def test_a_password_matches_only_itself_and_each_hash_is_salted() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert password_matches("correct horse", stored)
    assert not password_matches("correct horsE", stored)
    assert hash_password("correct horse") != stored
    assert not password_matches("x", "not-a-hash")
    assert not password_matches("x", "md5$1$2$3$00$00")


def test_who_needs_what() -> None:
    assert user_problem("station_manager", None, None) == "a station manager needs --station"
    assert user_problem("carer", None, None) == "a carer needs --caregiver"
    assert "unknown role" in (user_problem("admin", None, None) or "")
    assert user_problem("finance", None, None) is None


def test_a_station_manager_sees_only_their_station() -> None:
    manager = User("m", "M", "station_manager", station_id="S1")
    assert manager.sees_station("S1") and not manager.sees_station("S2")
    assert User("s", "S", "supervisor").sees_station("S2")
    assert not User("c", "C", "carer", caregiver_id="C1").sees_station("S1")
