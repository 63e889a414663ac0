"""Signed webhooks: subscriptions, an outbox fed from the changes feeds, and their delivery."""
