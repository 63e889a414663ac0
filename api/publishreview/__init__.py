"""Publish reviews: a draft revision approved by someone else before it is published."""
