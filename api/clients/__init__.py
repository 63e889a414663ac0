"""Client contexts: what engineers look up again and again for one customer (`client:{slug}`
in the tenant's `clients` database), read by sessions as `{{client.X}}`."""
