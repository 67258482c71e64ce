"""Voxology call flows as data: built from a message, a conference or a call script, and
checked as Voxology would run them, before any call. (dialer.callflows answers the callbacks.)"""
