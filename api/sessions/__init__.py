"""Sessions: running a tree step by step, as a header plus immutable events."""
