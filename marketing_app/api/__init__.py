"""FastAPI routers mounted beside the Reflex app: thin parse, call a service, serialize."""
