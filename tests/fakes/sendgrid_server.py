"""Fake SendGrid v3: Mail Send and scopes behind a real local HTTP server.

`POST /v3/mail/send` checks what SendGrid checks first (Bearer key, 1 to 1,000
personalizations, a from address, content, an address in every `to`), answers 400 with
SendGrid's `{"errors": [{"message", "field"}]}` naming the personalization, else 202 with an
`X-Message-Id`. Latency, rate limits and faults come from `Simulation`. Kept requests are in
`fake.data.requests` (the JSON bodies); `keep_requests=False` keeps only the counts (benches).
Run `python -m tests.fakes.sendgrid_server --latency 0.15` to serve one from a separate
process (it prints its base URL).
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import FakeProviderServer, Simulation

MAX_PERSONALIZATIONS = 1000


@dataclass
class SendGridData:
    api_key: str = "SG.test-key-0123456789"
    scopes: list[str] = field(default_factory=lambda: ["mail.send", "user.profile.read"])
    keep_requests: bool = True
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted_requests: int = 0
    accepted_personalizations: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def personalizations(self) -> list[dict[str, Any]]:
        return [p for body in self.requests for p in body["personalizations"]]


def _errors(*errors: tuple[str, str | None]) -> JSONResponse:
    return JSONResponse({"errors": [{"message": m, "field": f} for m, f in errors]}, 400)


def _validate(body: Any) -> JSONResponse | None:
    if not isinstance(body, dict):
        return _errors(("Bad Request", None))
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return _errors(("The personalizations field is required.", "personalizations"))
    if len(personalizations) > MAX_PERSONALIZATIONS:
        message = "The personalizations field cannot have more than 1000 items."
        return _errors((message, "personalizations"))
    if not (body.get("from") or {}).get("email"):
        return _errors(("The from object must be provided.", "from"))
    if not body.get("content") and not body.get("template_id"):
        return _errors(("Unless a valid template_id is provided, content is required.", "content"))
    bad = [
        (
            "Does not contain a valid address.",
            f"personalizations.{index}.to.0.email",
        )
        for index, item in enumerate(personalizations)
        if "@" not in str(((item.get("to") or [{}])[0]).get("email", ""))
    ]
    return _errors(*bad) if bad else None


def build_app(data: SendGridData) -> Starlette:
    async def mail_send(request: Request) -> Response:
        try:  # orjson: in the bench this process shares the box's cores with the workers
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _errors(("Bad Request", None))
        refusal = _validate(body)
        if refusal is not None:
            return refusal
        with data.lock:
            data.accepted_requests += 1
            data.accepted_personalizations += len(body["personalizations"])
            if data.keep_requests:
                data.requests.append(body)
        return Response(status_code=202, headers={"X-Message-Id": uuid.uuid4().hex[:22]})

    async def scopes(request: Request) -> Response:
        return JSONResponse({"scopes": data.scopes})

    async def stats(request: Request) -> Response:  # for benches in another process
        return JSONResponse(
            {"requests": data.accepted_requests, "personalizations": data.accepted_personalizations}
        )

    return Starlette(
        routes=[
            Route("/v3/mail/send", mail_send, methods=["POST"]),
            Route("/v3/scopes", scopes, methods=["GET"]),
            Route("/_fake/stats", stats, methods=["GET"]),
        ]
    )


class FakeSendGrid(FakeProviderServer):
    def __init__(
        self, data: SendGridData | None = None, simulation: Simulation | None = None
    ) -> None:
        self.data = data or SendGridData()
        self.api_key = self.data.api_key
        super().__init__(
            build_app(self.data),
            simulation or Simulation(),
            lambda headers: headers.get("authorization") == f"Bearer {self.data.api_key}",
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.15)
    args = parser.parse_args()
    fake = FakeSendGrid(SendGridData(keep_requests=False), Simulation(latency_seconds=args.latency))
    print(fake.start(), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
