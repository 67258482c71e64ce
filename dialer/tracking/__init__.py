"""Following every attempt to a final status: callbacks, polling, reconciliation."""
