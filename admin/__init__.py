"""Staff web UI: analysts' studio and officers' inbox."""
