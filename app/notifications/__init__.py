"""Outgoing notifications: written to the outbox inside the causing transaction, delivered later."""

from app.notifications.outbox import enqueue

__all__ = ["enqueue"]
