"""Authentication: passwords, tokens, throttling, and turning a request into a Principal."""
