"""Backups: snapshots of the embedded backend, restore, the nightly job, store-to-store copies."""
