"""All business rules. Never imports reflex, celery or fastapi."""
