"""Pacing: keeping every worker together under the provider account's limits."""
