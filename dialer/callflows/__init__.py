"""Voxology call flows: the JSON actions our call-flow endpoint answers with."""
