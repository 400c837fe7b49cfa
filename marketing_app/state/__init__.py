"""Reflex State classes: thin adapters that read forms, call services and set vars."""
