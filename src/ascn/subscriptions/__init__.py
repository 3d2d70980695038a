"""Subscriptions at work: which writes a subscription is told about (matching, pure) and how the
notifications reach their receivers (delivery, from a persistent outbox)."""
