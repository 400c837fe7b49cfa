"""The API alone as an ASGI app, for benchmarks and API-only deployments behind the same code."""

from marketing_app.api.app import create_api

app = create_api()
