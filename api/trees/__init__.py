"""Decision trees: the tree format (`models`), its validation (`validation`), placeholders
(`variables`) and schema migrations (`migrations`). Pure Python: no HTTP, no storage."""
