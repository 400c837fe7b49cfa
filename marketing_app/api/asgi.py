"""The API alone as an ASGI app, for benchmarks and API-only deployments behind the same code."""

from marketing_app.api.app import create_api
from marketing_app.gc_tuning import tune_gc_for_batches

app = create_api()
tune_gc_for_batches()
