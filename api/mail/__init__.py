"""E-mail: the outbox (`mail` database), its worker and the branded messages."""
