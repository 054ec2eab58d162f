"""Jobs: timers, outbound calls, messages and scans, claimed by workers and run once."""
