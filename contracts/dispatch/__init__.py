"""Dispatch contracts (households, caregivers, care requests, assignments)."""
