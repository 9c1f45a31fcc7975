"""Start and stop real servers for tests; each is stopped by its PID."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_pid(process: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a process by its PID, then kill it if it does not go."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout)


class AppServer:
    """The app in a subprocess, with its own port, data folder and environment.

    `command` defaults to `python app.py`; a "{port}" in it is replaced by the port.
    """

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, command: list[str] | None = None
    ) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.extra_env = env or {}
        self.command = [part.format(port=self.port) for part in command or ["app.py"]]
        self.process: subprocess.Popen | None = None
        self.log_path = data_dir / "app.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60) -> AppServer:
        """Start the app and wait until it answers."""
        env = {**os.environ, "DATA_DIR": str(self.data_dir), "PORT": str(self.port)}
        env.update(self.extra_env)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, *self.command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"app did not answer in {timeout} s:\n{self.log_path.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        """Stop the app by its PID."""
        if self.process is not None:
            stop_pid(self.process)
            self.process = None


class PostgresServer:
    """A throwaway PostgreSQL cluster on loopback (Debian's binaries), stopped by its PID."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
        self.bin = Path(found[-1]).parent
        self.port = free_port()
        # Under /tmp itself, so the postgres user can reach it (pytest's tmp dirs are 0700).
        self.dir = Path(tempfile.mkdtemp(prefix="concord-pg-"))
        self.pid: int | None = None

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb refuses root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        """initdb, start, and remember the postmaster's PID."""
        data = self.dir / "data"
        if not data.exists():
            if os.geteuid() == 0:
                shutil.chown(self.dir, user="postgres")
            self._run("initdb", "-D", str(data), "-A", "trust", "-U", "concord", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-w",
            "-t",
            "60",
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "start",
        )
        self.pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://concord@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", autocommit: bool = False) -> Any:
        """A psycopg connection to one of the cluster's databases."""
        import psycopg

        return psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=concord dbname={database}",
            autocommit=autocommit,
        )

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        with self.connect(autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def halt(self) -> None:
        """Fast shutdown by the postmaster's PID, keeping the data (start() resumes it)."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGINT)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    os.kill(self.pid, 0)
                    time.sleep(0.1)
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.pid = None

    def stop(self) -> None:
        """Halt the server and remove the cluster."""
        self.halt()
        shutil.rmtree(self.dir, ignore_errors=True)
