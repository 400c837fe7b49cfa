"""Celery app and thin tasks: ids in, one service call out."""
