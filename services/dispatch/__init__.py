"""Dispatch: households, caregivers, care requests and assignments."""
