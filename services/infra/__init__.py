"""Plumbing every service shares: settings, clock, logging, database, bus."""
