"""Front-of-house queueing: booths, counters (loket), numbered tickets, the hall display and visit bookings."""
