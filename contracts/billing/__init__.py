"""Billing contracts."""
