"""`homecare demo`: a demo street pushed through the real services on simulated time."""
