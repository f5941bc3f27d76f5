"""Bus plumbing: broker factory, streams, outbox relay, inbox, dead letters, middleware."""
