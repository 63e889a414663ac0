"""PSA connectors: configuration, the push outbox and its worker (ConnectWise PSA first)."""
