"""The audit log: an append-only, hash-chained record per tenant of security- and content-relevant
actions (sign-ins, users, roles, API keys, sharing, publishing, exports, settings).

Other features call `record(...)` (from `service`) in one line where the action happens."""
