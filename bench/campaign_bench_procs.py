"""Campaign benchmark processes: the fake providers and real Celery workers, each its own
process (so none shares the bench's GIL), with their logs in a scratch folder.

Workers run `celery -A jobs.celery_app worker` on a queue of their own (other engineers'
workers on the same Redis never take these tasks); one of them runs the embedded beat.
Peak memory is each process's VmHWM (/proc/<pid>/status), read before it stops.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import cpu_seconds, process_tree

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 60.0


@dataclass
class Fake:
    """A fake provider serving from its own process; `address` is what it printed first
    (a port for the SMTP sink, a base URL for the HTTP fakes)."""

    process: subprocess.Popen
    address: str
    headers: dict[str, str] = field(default_factory=dict)  # the fake's credential check

    def stats(self) -> dict:
        """The HTTP fakes' own counts (requests, personalizations, accepted, throttled)."""
        answer = httpx.get(f"{self.address}/_fake/stats", headers=self.headers, timeout=5)
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> str:
        """Stop it; the SMTP sink answers its count when its stdin closes."""
        if self.process.stdin is not None and self.address.isdigit():
            out, _ = self.process.communicate("", timeout=30)
            return out.strip()
        self.process.kill()
        self.process.wait()
        return ""


def start_fake(module: str, *args: str) -> Fake:
    """Serve a fake with the provider benchmark's launcher (bench/email_providers_bench.py)."""
    from email_providers_bench import serve

    process, address = serve(module, *args)
    if not address:
        raise RuntimeError(f"{module} did not start")
    return Fake(process, address)


@dataclass
class Workers:
    """Celery worker processes (each a main process with its pool children)."""

    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if all(" ready." in log.read_text(errors="replace") for log in self.logs):
                return
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(0.2)
        raise RuntimeError("celery workers did not start:\n" + self.tail())

    def peak_rss_mb(self) -> dict[str, float]:
        """VmHWM of every worker process and its children (pool processes, beat), in MB."""
        peaks: dict[str, float] = {}
        for n, process in enumerate(self.processes):
            for pid in process_tree(process.pid):
                peak = _vm_hwm_mb(pid)
                if peak is not None:
                    role = "main" if pid == process.pid else f"child{pid}"
                    peaks[f"w{n}.{role}"] = peak
        return peaks

    def cpu_seconds(self) -> float:
        """CPU (user + system) used so far by every worker process and its children."""
        return sum(cpu_seconds(pid) for p in self.processes for pid in process_tree(p.pid))

    def child_pids(self) -> list[int]:
        return [pid for p in self.processes for pid in process_tree(p.pid) if pid != p.pid]

    def stop(self, *, keep_logs: bool = False) -> None:
        """Stop every worker (SIGTERM, then SIGKILL after 30 s); drop the scratch folder
        with the logs and the beat schedule unless asked to keep it."""
        for process in self.processes:
            _signal_group(process, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        if not keep_logs and self.logs:
            shutil.rmtree(self.logs[0].parent, ignore_errors=True)

    def tail(self) -> str:
        return "\n".join(log.read_text(errors="replace")[-2000:] for log in self.logs)


def start_workers(count: int, concurrency: int, env: dict[str, str]) -> Workers:
    """`count` workers with `concurrency` pool processes each; the first runs the beat."""
    scratch = Path(tempfile.mkdtemp(prefix="mk-bench-campaign-"))
    workers = Workers()
    for n in range(count):
        command = [
            sys.executable, "-m", "celery", "-A", "jobs.celery_app", "worker",
            f"--concurrency={concurrency}", "--loglevel=INFO", "--without-gossip",
            "--without-mingle", "--without-heartbeat", "-n", f"bench{n}@%h",
        ]  # fmt: skip
        if n == 0:
            command += ["--beat", "-s", str(scratch / "beat-schedule")]
        log = scratch / f"worker{n}.log"
        with log.open("wb") as out:
            workers.processes.append(
                subprocess.Popen(
                    command, cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                )
            )  # fmt: skip
        workers.logs.append(log)
    try:
        workers.wait_ready()
    except BaseException:
        workers.stop(keep_logs=True)
        raise
    return workers


def start_profilers(pids: list[int], folder: Path, label: str) -> list[subprocess.Popen]:
    """py-spy on each pid, sampling the thread that holds the GIL (where the process's Python
    CPU goes); stop them with SIGINT to write collapsed stacks to `folder/<label>-<pid>.txt`."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(pid),
                "--format",
                "raw",
                "--rate",
                "100",
                "--gil",
                "--output",
                str(folder / f"{label}-{pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for pid in pids
    ]


def stop_profilers(profilers: list[subprocess.Popen]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        profiler.wait(timeout=60)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None
