"""A real HTTP server on 127.0.0.1 for provider fakes, with latency, a rate limit and faults.

`FakeProviderServer` runs a Starlette app under uvicorn in a daemon thread. Every request
passes the `Simulation` first: the credential is checked (401), the rate limit is enforced
on arrival as a moving window (429 with Retry-After; refused requests do not count), the
latency is awaited (requests overlap, as on a real network), then the next queued fault
matching the path applies: an error status, a hang past the client's timeout, or a body
that is not JSON. Tests read what the server saw from `simulation.requests`.
"""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

import uvicorn
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketing_app.providers.http import RetryPolicy

# The clients' retry policy with waits of tens of milliseconds, for tests against the fakes.
TEST_RETRY = RetryPolicy(
    attempts=4,
    timeout_seconds=20,
    wait_initial_seconds=0.05,
    wait_max_seconds=0.5,
    wait_jitter_seconds=0.05,
)
GARBAGE_BODY = '{"data": [{"id": 1, "total": '  # a JSON answer cut short


@dataclass
class Fault:
    kind: str  # "status" | "hang" | "garbage"
    remaining: int
    path_prefix: str = ""
    status: int = 503
    seconds: float = 0.0
    retry_after: int | None = None


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str
    status: int
    arrived_at: float  # time.monotonic()


class Simulation:
    """The knobs a test turns, and the log of what the server answered."""

    def __init__(
        self,
        *,
        latency_seconds: float = 0.0,
        rate_limit: tuple[int, float] | None = None,  # (requests, window seconds)
    ) -> None:
        self.latency_seconds = latency_seconds
        self.rate_limit = rate_limit
        self.requests: list[RequestRecord] = []
        self._arrivals: deque[float] = deque()
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        path_prefix: str = "",
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `count` matching requests with `status` (e.g. 500, 503, 400, 429)."""
        self._add(Fault("status", count, path_prefix, status=status, retry_after=retry_after))

    def hang_next(self, count: int = 1, *, seconds: float = 5.0, path_prefix: str = "") -> None:
        """Hold the next `count` matching requests for `seconds` before answering."""
        self._add(Fault("hang", count, path_prefix, seconds=seconds))

    def garbage_next(self, count: int = 1, *, path_prefix: str = "") -> None:
        """Answer the next `count` matching requests 200 with a body that is not JSON."""
        self._add(Fault("garbage", count, path_prefix))

    def count(self, path_prefix: str = "", *, status: int | None = None) -> int:
        with self._lock:
            return sum(
                1
                for record in self.requests
                if record.path.startswith(path_prefix) and status in (None, record.status)
            )

    @property
    def rate_limited(self) -> int:
        """Requests answered 429 by the rate limit or a fault."""
        return self.count(status=429)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def admit(self) -> int | None:
        """None when the request fits the rate limit, else the Retry-After seconds."""
        if self.rate_limit is None:
            return None
        amount, window = self.rate_limit
        now = time.monotonic()
        with self._lock:
            while self._arrivals and self._arrivals[0] <= now - window:
                self._arrivals.popleft()
            if len(self._arrivals) >= amount:
                return max(1, math.ceil(self._arrivals[0] + window - now))
            self._arrivals.append(now)
            return None

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    return fault
            return None

    def log(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)


class SimulationMiddleware:
    """ASGI wrapper that applies a `Simulation` in front of a fake provider's routes."""

    def __init__(
        self, app: ASGIApp, simulation: Simulation, authorized: Callable[[Headers], bool]
    ) -> None:
        self.app = app
        self.simulation = simulation
        self.authorized = authorized

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sim = self.simulation
        arrived_at = time.monotonic()
        query = scope.get("query_string", b"").decode()

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":  # logged before the client can read it
                status = message["status"]
                sim.log(RequestRecord(scope["method"], scope["path"], query, status, arrived_at))
            await send(message)

        response = None
        if not self.authorized(Headers(scope=scope)):
            response = JSONResponse({"success": False, "error": "bad credentials"}, 401)
        elif (retry_after := sim.admit()) is not None:
            response = _too_many(retry_after)
        await asyncio.sleep(sim.latency_seconds)
        if response is None and (fault := sim.take_fault(scope["path"])) is not None:
            response = await _fault_response(fault)
        if response is not None:
            await response(scope, receive, logged_send)
        else:
            await self.app(scope, receive, logged_send)


def _too_many(retry_after: int) -> Response:
    return JSONResponse(
        {"success": False, "error": "rate limit exceeded"},
        429,
        headers={"Retry-After": str(retry_after)},
    )


async def _fault_response(fault: Fault) -> Response | None:
    if fault.kind == "hang":
        await asyncio.sleep(fault.seconds)
        return None  # then answer normally, long after the client gave up
    if fault.kind == "garbage":
        return Response(GARBAGE_BODY, 200, media_type="application/json")
    if fault.status == 429:
        return _too_many(1 if fault.retry_after is None else fault.retry_after)
    return JSONResponse({"success": False, "error": f"injected {fault.status}"}, fault.status)


class FakeProviderServer:
    """Serves an app on 127.0.0.1 (a free port) from a thread; use as a context manager."""

    def __init__(
        self, app: ASGIApp, simulation: Simulation, authorized: Callable[[Headers], bool]
    ) -> None:
        self.simulation = simulation
        self._app = SimulationMiddleware(app, simulation, authorized)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it. asyncio sets it only on sockets made with
        # IPPROTO_TCP (this one has proto 0): without it a response's body waited for the
        # client's delayed ACK of its head, 40 ms in a quarter of the answers.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake provider server did not start")
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
