"""Voxology numbers: bought, routed and given back one request at a time."""
