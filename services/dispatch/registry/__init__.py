"""Registry files: households and caregivers from CSV or JSON, checked row by row."""
