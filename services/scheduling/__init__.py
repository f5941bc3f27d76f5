"""Scheduling: assignments seen from dispatch, daily shifts, shift messages, visits."""
