"""The operator console: server-rendered pages under /, signed in with an API key."""
