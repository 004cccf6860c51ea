"""Plumbing shared by every service: settings, DB sessions, outbox, inbox, CloudEvents, Zeebe runtime."""
