"""Single sign-on per tenant: OpenID Connect (authorization code with PKCE)."""
