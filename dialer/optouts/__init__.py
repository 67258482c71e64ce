"""The do-not-contact list: numbers that are never called or texted."""
