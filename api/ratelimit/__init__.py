"""Rate limits: per address, per user and per API key on every request; per tenant (and per
address for registrations) on expensive work. See `gate` and `deps`."""
