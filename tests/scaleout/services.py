"""Real PostgreSQL, Redis, HAProxy and ``facecast serve`` processes on loopback, in temporary directories.

Used by the scale-out tests and by ``python -m benchmarks e2e --cluster``. Every service binds
127.0.0.1 on a free port and lives in its own temporary directory, removed on ``stop()``.
PostgreSQL refuses to run as root, so as root it runs as ``nobody``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

def _pg_bin() -> Path:
    """``$FACECAST_PG_BIN``, else the newest Debian PostgreSQL (``/usr/lib/postgresql/<major>/bin``)."""
    if os.environ.get("FACECAST_PG_BIN"):
        return Path(os.environ["FACECAST_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                   if p.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
UNPRIVILEGED_UID = 65534  # nobody


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


def _drop_privileges() -> None:
    if os.getuid() == 0:
        os.setgid(UNPRIVILEGED_UID)
        os.setuid(UNPRIVILEGED_UID)


class Postgres:
    """A throwaway PostgreSQL cluster: ``dsn(db)``; ``create_database()``; ``restart()``; ``stop()``."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="facecast-pg-"))
        if os.getuid() == 0:
            os.chown(self.dir, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
        self.data = self.dir / "data"
        self.port = free_port()
        self._run([PG_BIN / "initdb", "-D", self.data, "-U", "facecast", "--auth=trust", "--no-sync",
                   "-E", "UTF8", "--locale=C"])
        self.start()

    def _run(self, cmd: list, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(c) for c in cmd], preexec_fn=_drop_privileges, cwd=self.dir, check=check,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run([PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-o", opts, "-w", "start"])

    def restart(self) -> None:
        # -l as on start: without it the new server would write to (and hold open) our pipe.
        self._run([PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-m", "fast", "-w", "restart"])

    def dsn(self, db: str = "postgres") -> str:
        return f"postgresql://facecast@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        self._run([PG_BIN / "psql", "-h", "127.0.0.1", "-p", self.port, "-U", "facecast", "-d", "postgres",
                   "-q", "-c", f'CREATE DATABASE "{name}"'])
        return self.dsn(name)

    def stop(self) -> None:
        if self.data.exists():
            self._run([PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="facecast-redis-"))
        self.port = free_port()
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 10, self.proc)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "FLUSHALL"], check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


HAPROXY_CONFIG = """
global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    option redispatch
    retries 2
frontend facecast
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend servers
backend servers
    balance roundrobin
    option httpchk GET /readyz
    timeout check 3s
    default-server inter 300ms fall 2 rise 1
{servers}
"""


class HAProxy:
    """Round-robin over the given server ports, each health-checked on ``/readyz`` every 300 ms
    (out after two failed checks, so a slow answer on a loaded machine does not take a process out)."""

    def __init__(self, backend_ports: list[int]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="facecast-haproxy-"))
        self.port = free_port()
        servers = "\n".join(f"    server s{i} 127.0.0.1:{p} check" for i, p in enumerate(backend_ports))
        config = self.dir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, servers=servers))
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 10, self.proc)
        self.base_url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class ServeProcess:
    """``facecast serve`` on a free (or given) port against a shared store and Redis; output to a log file."""

    def __init__(self, data_dir: Path, store: str | None, redis: str | None, *extra: str, port: int | None = None,
                 cpu: int | None = None, nice: int | None = None, start_timeout_s: float = 60,
                 wait: bool = True) -> None:
        self.port = port or free_port()
        self.log_path = Path(tempfile.mkstemp(prefix="facecast-serve-", suffix=".log")[1])

        def setup() -> None:
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})
            if nice is not None:
                try:
                    os.setpriority(os.PRIO_PROCESS, 0, nice)
                except OSError:
                    pass
        cmd = [sys.executable, "-m", "engine", "serve", "--port", str(self.port), "--data-dir", str(data_dir)]
        cmd += ["--store", store] if store else []
        cmd += ["--redis", redis] if redis else []
        with open(self.log_path, "wb") as log:  # a file, not a pipe: a chatty server never blocks on it
            self.proc = subprocess.Popen([*cmd, *extra], stdout=log, stderr=subprocess.STDOUT, preexec_fn=setup)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._start_timeout_s = start_timeout_s
        if wait:
            self.wait_started()

    def wait_started(self) -> "ServeProcess":
        deadline = time.monotonic() + self._start_timeout_s
        while "listening on" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("facecast serve did not start:\n" + self.output())
            time.sleep(0.05)
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout_s: float = 30) -> str:
        """SIGTERM (graceful drain) and wait for the exit; returns the whole output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout_s)
        return self.output()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.log_path.unlink(missing_ok=True)
