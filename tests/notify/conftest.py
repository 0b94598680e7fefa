"""Notification tests: the channels against real local servers (an HTTP receiver, an SMTP
server) and the outbox's notifier and sender over the three stores, with a sender process
killed mid-batch (``servers.py``)."""
