"""Read-only share links: a signed, expiring, revocable page of one session for someone
without an account (a client's IT contact)."""
