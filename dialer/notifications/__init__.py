"""One message for one person: create, read, cancel."""
