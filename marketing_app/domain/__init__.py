"""Pydantic value objects and typed errors shared by services, state and api."""
