"""homecare services: dispatch, scheduling, billing and the plumbing they share."""
