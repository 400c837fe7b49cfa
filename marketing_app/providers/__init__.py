"""Adapters to the outside world behind Protocols (email, SMS, loyalty, CRM, commerce)."""
