"""Scheduling contracts (shifts, shift messages, visits)."""
