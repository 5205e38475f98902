"""The portal's processes as subprocesses: a private redis-server, gunicorn, one Celery
worker and beat, and the CPU time each uses (read from ``/proc``, Linux only). The
exchange benchmark runs them under load; ``tests/ciss/test_exchange_faults.py`` stops and
kills them."""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NotReady(RuntimeError):
    """A process did not come up (or a condition did not hold) in time."""


def wait_for(check: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise NotReady(f"not within {seconds:.0f} s: {what}")


@dataclass
class Redis:
    """A redis-server of our own on ``port``: nothing is saved, nothing else uses it."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise NotReady("redis-server is not on the PATH")
        self.process = subprocess.Popen(  # noqa: S603  (the machine's redis-server)
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.answers, seconds=10, what="redis-server starts")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Stack:
    """gunicorn, a Celery worker and beat, each with ``env``; logs in ``workdir``."""

    env: dict[str, str]
    workdir: Path
    web_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, name: str, *args: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603  (our interpreter and modules)
            [sys.executable, "-m", *args], cwd=REPO, env=self.env, stdout=log, stderr=log
        )

    def start_web(
        self,
        *,
        workers: int,
        threads: int,
        keep_alive: int,
        max_requests: int,
        access_log: bool,
    ) -> None:
        """gunicorn as the image runs it (Dockerfile), with ``workers`` x ``threads``."""
        args = [
            "gunicorn",
            "cjis.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.web_port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "60",
            "--keep-alive",
            str(keep_alive),
            "--worker-tmp-dir",
            "/dev/shm",  # noqa: S108  (gunicorn's heartbeat files, as the image puts them)
        ]
        if max_requests:
            jitter = str(max_requests // 10)  # as the image sets it
            args += ["--max-requests", str(max_requests), "--max-requests-jitter", jitter]
        if access_log:
            args += [
                "--access-logfile",
                str(self.workdir / "access.log"),
                "--access-logformat",
                '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms',
            ]
        self._spawn("web", *args)
        wait_for(self.web_answers, seconds=60, what="gunicorn answers /healthz")

    def web_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/healthz", timeout=1):
                return True
        except (OSError, urllib.error.URLError):
            return False

    def start_worker(self, *, pool: str, concurrency: int) -> None:
        self._spawn(
            "worker",
            "celery",
            "-A",
            "cjis",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "-l",
            "warning",
        )

    def start_beat(self) -> None:
        schedule = self.workdir / "beat-schedule"
        self._spawn("beat", "celery", "-A", "cjis", "beat", "-s", str(schedule), "-l", "warning")

    def kill(self, name: str) -> None:
        """Kill a process outright (SIGKILL), as a crash would."""
        process = self.processes.pop(name)
        process.kill()
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def problems(self) -> list[str]:
        """The last lines of each log that mentions a traceback or an error."""
        found = []
        for log in sorted(self.workdir.glob("*.log")):
            if log.name == "access.log":
                continue
            text = log.read_text(errors="replace")
            if "Traceback" in text or "ERROR" in text:
                found.append(f"--- {log.name} ---\n{text[-3000:]}")
        return found


# CPU time, from /proc ----------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The live descendants of ``pid``."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            text = (task / "children").read_text()
        except OSError:
            continue
        for child in text.split():
            found.append(int(child))
            found.extend(children(int(child)))
    return found


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after it.
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User and system CPU seconds of ``pid`` (and, if asked, of its children it waited
    for: workers that gunicorn restarted); 0 once it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # Fields after the name: state is [0]; utime [11], stime [12], cutime [13], cstime [14].
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and all its descendants, live or reaped."""
    return cpu_seconds(pid, reaped_children=True) + sum(cpu_seconds(c) for c in children(pid))


def pids_cpu(pids: Iterable[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


@dataclass(frozen=True)
class MachineCpu:
    """The machine's CPU counters (``/proc/stat``), in seconds over all cores."""

    busy: float
    steal: float
    total: float

    @classmethod
    def now(cls) -> "MachineCpu":
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("cpu "):
                values = [int(v) / CLOCK_TICKS for v in line.split()[1:]]
                # user nice system idle iowait irq softirq steal guest guest_nice
                idle = values[3] + values[4]
                steal = values[7] if len(values) > 7 else 0.0
                total = sum(values[:8])
                return cls(busy=total - idle - steal, steal=steal, total=total)
        raise SystemExit("error: no cpu line in /proc/stat")


class ProcessSampler:
    """The CPU seconds of every process whose command line contains ``marker`` (say, the
    PostgreSQL backends of one database: ``postgres: user database host``), polled in a
    thread so that a process that ends between two snapshots still counts up to its last
    poll."""

    def __init__(self, marker: str, every: float = 0.5) -> None:
        self.marker = marker.encode()
        self.every = every
        self.latest: dict[int, float] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="cpu-sampler")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def sample(self) -> dict[int, float]:
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if self.marker in command:
                found[int(entry.name)] = cpu_seconds(int(entry.name))
        with self.lock:
            for pid, seconds in found.items():
                if seconds:
                    self.latest[pid] = seconds
            return dict(self.latest)

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            self.sample()
