"""Service levels: the working-day calendar, due dates, escalation and the SKM survey."""
