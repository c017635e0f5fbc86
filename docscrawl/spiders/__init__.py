"""Spiders of the docscrawl project."""
