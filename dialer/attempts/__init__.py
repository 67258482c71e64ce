"""An attempt's life, in one place: the transition tables, the events that move attempts, the
pure rules, the one applier (dialer.attempts.rounds) and the fence. dispatch/ and tracking/
produce events; neither moves an attempt itself."""
