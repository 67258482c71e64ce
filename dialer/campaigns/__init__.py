"""Campaigns: one message for every contact of a list, scheduled, paced and retried by outcome."""
