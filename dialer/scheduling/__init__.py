"""When things may happen: schedules, calling windows, retry policies, send times."""
