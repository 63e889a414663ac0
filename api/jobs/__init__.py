"""Scheduled jobs: run once per installation, on whichever instance holds the scheduler lease."""
