"""Versioned wire contracts of homecare: the envelope, subjects and payloads every client uses."""
