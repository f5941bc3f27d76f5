"""Billing: categories and completed visits projected from the bus; served days per month."""
