"""Cross-cutting pieces of the API: errors, dependencies, the application context."""
