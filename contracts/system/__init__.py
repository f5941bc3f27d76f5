"""System contracts shared by every service (health, dead letters)."""
