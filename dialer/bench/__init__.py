"""Benchmark commands: they print figures measured on the machine they run on."""
