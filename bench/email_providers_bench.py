"""Email provider throughput through the delivery chain, each fake in its own process.

Prints ONE JSON line:
- SMTP: messages/s to a sink that takes 20 ms per message (the lean asyncio sink, and
  aiosmtpd for comparison), next to the ceiling its connections allow (pool / 20 ms);
- SendGrid: recipients/s to a fake with 150 ms latency and 1,000 personalizations a
  request, next to a bare httpx client posting one prebuilt body with as many requests in
  flight (what the fake and this machine allow, in the same run);
- SES: the rate held against a fake that throttles over 50 SendEmail calls a second, and
  how many calls it throttled.

    python bench/email_providers_bench.py [--smtp N] [--sendgrid N] [--ses N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx

from marketing_app.domain.email import BatchRecipient, SubstitutionBatch
from marketing_app.providers.email.base import EmailProvider
from marketing_app.providers.email.registry import ProviderAccount, build_email_provider
from marketing_app.services.email_delivery import DeliveryChain

SMTP_DELAY = 0.02  # seconds the sink takes per message
SMTP_POOL = 100  # connections
SENDGRID_LATENCY = 0.15
SES_LIMIT = 50  # SendEmail calls a second
PARAGRAPH = "<p>Our spring sale starts Friday: -first-, take 20% off everything in store. </p>"
HTML = "<html><body><h1>Hi -first-</h1>" + PARAGRAPH * 60 + "<p>12 Main St</p></body></html>"
TENANT = uuid.uuid4()
# Recipients per chain call: enough to keep every provider's calls in flight (SendGrid:
# 1,000 a request x 12 requests), as a campaign worker should hand them over.
PER_CALL = {"smtp": 2_000, "sendgrid": 12_000, "ses": 500}


def campaign(count: int, *, start: int = 0) -> SubstitutionBatch:
    recipients = tuple(
        BatchRecipient(
            message_id=i,
            to=f"shopper{i}@example.com",
            substitutions={"-first-": f"Ava{i}", "-unsub-": f"https://t.example/u/{i}"},
            headers={
                "List-Unsubscribe": f"<https://t.example/u/{i}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            custom_args={"message_id": str(i), "campaign_id": "1"},
        )
        for i in range(start, start + count)
    )
    return SubstitutionBatch(
        from_email="news@leaf.example",
        from_name="Leaf & Co",
        subject="Hi -first-, the spring sale",
        html=HTML + "<a href='-unsub-'>Unsubscribe</a>",
        text="Hi -first-, take 20% off. Unsubscribe: -unsub-",
        recipients=recipients,
        custom_args={"tenant_id": str(TENANT)},
    )


def serve(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def chain_of(provider: EmailProvider) -> DeliveryChain:
    return DeliveryChain(
        tenant_id=TENANT, providers=[provider], redis_url=os.environ.get("REDIS_URL")
    )


def timed_send(chain: DeliveryChain, count: int, per_call: int) -> tuple[float, int]:
    """Send `count` recipients `per_call` at a time, as a campaign worker hands them over.
    One batch is built ahead and sent again and again: rendering is not measured here."""
    batch = campaign(per_call)
    accepted = 0
    started = time.perf_counter()
    for _ in range(count // per_call):
        outcomes = chain.send_batch(batch)
        accepted += sum(outcome.accepted for outcome in outcomes)
    elapsed = time.perf_counter() - started
    chain.close()
    return elapsed, accepted


def smtp_rate(count: int, *, lean: bool) -> dict[str, float]:
    process, port = serve("tests.fakes.smtp_sink", *(["--lean"] if lean else []), "--delay",
                          str(SMTP_DELAY))  # fmt: skip
    config = {"host": "127.0.0.1", "port": int(port), "security": "none", "pool_size": SMTP_POOL}
    account = ProviderAccount("smtp", "", config)
    provider = build_email_provider(account, tenant_id=TENANT, session_factory=_no_session)
    provider.send_batch(campaign(SMTP_POOL))  # opens the connections
    elapsed, accepted = timed_send(chain_of(provider), count, per_call=PER_CALL["smtp"])
    process.communicate("")
    return {"msgs_per_s": round(accepted / elapsed), "accepted": accepted}


def sendgrid_rate(count: int) -> dict[str, float]:
    process, base_url = serve("tests.fakes.sendgrid_server", "--latency", str(SENDGRID_LATENCY))
    account = ProviderAccount("sendgrid", "SG.test-key-0123456789", {"host": base_url})
    provider = build_email_provider(account, tenant_id=TENANT, session_factory=_no_session)
    elapsed, accepted = timed_send(chain_of(provider), count, per_call=PER_CALL["sendgrid"])
    bare = _bare_sendgrid(base_url, count, in_flight=provider.concurrency)
    process.kill()
    return {
        "recipients_per_s": round(accepted / elapsed),
        "bare_recipients_per_s": round(bare),
        "in_flight": provider.concurrency,
        "accepted": accepted,
    }


def _bare_sendgrid(base_url: str, count: int, *, in_flight: int) -> float:
    """One prebuilt 1,000-personalization body posted `in_flight` at a time with httpx."""
    personalizations = [
        {"to": [{"email": f"s{i}@example.com"}], "substitutions": {"-first-": f"Ava{i}"},
         "headers": {"List-Unsubscribe": f"<https://t.example/u/{i}>"},
         "custom_args": {"message_id": str(i)}}
        for i in range(1000)
    ]  # fmt: skip
    body = json.dumps(
        {"personalizations": personalizations, "from": {"email": "news@leaf.example"},
         "subject": "Hi -first-", "content": [{"type": "text/html", "value": HTML}]}
    ).encode()  # fmt: skip
    headers = {"Authorization": "Bearer SG.test-key-0123456789", "Content-Type": "application/json"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(in_flight) as pool:
            list(
                pool.map(lambda _: client.post("/v3/mail/send", content=body), range(count // 1000))
            )
        return (count // 1000) * 1000 / (time.perf_counter() - started)


def ses_rate(count: int) -> dict[str, float]:
    process, base_url = serve("tests.fakes.ses_server", "--latency", "0.02", "--rate",
                              str(SES_LIMIT))  # fmt: skip
    config = {"access_key_id": "AKIAFAKE0000EXAMPLE", "region": "us-east-1",
              "endpoint": base_url, "rate_limit": f"{SES_LIMIT}/second"}  # fmt: skip
    account = ProviderAccount("ses", "fake/secret/key/0123456789abcdefEXAMPLE", config)
    provider = build_email_provider(
        account, tenant_id=TENANT, session_factory=_no_session,
        limiter_storage_uri=os.environ.get("REDIS_URL"),
    )  # fmt: skip
    elapsed, accepted = timed_send(chain_of(provider), count, per_call=PER_CALL["ses"])
    stats = httpx.get(f"{base_url}/_fake/stats").json()
    process.kill()
    held = stats["arrival_rate"]  # as the fake saw them arrive
    return {
        "held_per_s": round(held, 2),
        "client_side_per_s": round(accepted / elapsed, 2),
        "limit_per_s": SES_LIMIT,
        "held_vs_limit": round(held / SES_LIMIT, 4),
        "throttled_429": stats["throttled"],
        "accepted": accepted,
    }


def _rss_mb() -> int:
    with open("/proc/self/statm") as statm:
        return round(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20)


def _no_session():
    raise RuntimeError("the console provider is not benchmarked")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smtp", type=int, default=10_000)
    parser.add_argument("--sendgrid", type=int, default=120_000)
    parser.add_argument("--ses", type=int, default=500)
    args = parser.parse_args()
    smtp = smtp_rate(args.smtp, lean=True)
    smtp_aiosmtpd = smtp_rate(max(args.smtp // 4, SMTP_POOL), lean=False)
    result = {
        "smtp_msgs_per_s": smtp["msgs_per_s"],
        "smtp_ceiling_msgs_per_s": round(SMTP_POOL / SMTP_DELAY),
        "smtp_aiosmtpd_sink_msgs_per_s": smtp_aiosmtpd["msgs_per_s"],
        "smtp_delay_ms": SMTP_DELAY * 1000,
        "smtp_connections": SMTP_POOL,
        "sendgrid": sendgrid_rate(args.sendgrid),
        "sendgrid_latency_ms": SENDGRID_LATENCY * 1000,
        "ses": ses_rate(args.ses),
        "per_call": PER_CALL,
        # Peak includes the one Argon2 hash services.crypto computes at import (64 MB).
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_mb_at_end": _rss_mb(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
