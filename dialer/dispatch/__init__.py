"""Dialling: claiming due notifications, placing calls, recording what the provider said."""
