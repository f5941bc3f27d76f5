"""The console's words, one module per area of pages (merged by services.console.i18n)."""
