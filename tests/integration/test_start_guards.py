"""Real processes (`python app.py`, gunicorn as the Procfile runs it) refuse to start open to
the network without accounts, or over a deleted database, and say why (issue 16, points 7
and 8). Every process is stopped by its PID."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from storage.annotation_store import AnnotationStore
from tests.servers import ROOT, AppServer, free_port, stop_pid

CONCORD_VARIABLES = ("USERS", "USERS_FILE", "SECRET_KEY", "ALLOW_NO_SIGN_IN", "PROXY_HOPS")


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without accounts, plus a data folder and `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in CONCORD_VARIABLES}
    env.update({"DATA_DIR": str(data_dir), **extra})
    return env


def run_to_exit(command: list[str], env: dict[str, str], timeout: float = 40) -> tuple[int, str]:
    """Run a command that should refuse to start: its exit status and output. A process
    still running after `timeout` is stopped by its PID and fails the test."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_pid(process)
        output = process.stdout.read() if process.stdout else ""
        pytest.fail(f"still running after {timeout} s: it started instead of refusing\n{output}")
    return process.returncode, output


def procfile_web(port: int) -> list[str]:
    """The Procfile's web command with $PORT and ${WEB_CONCURRENCY:-2} filled in, run by this
    interpreter's gunicorn."""
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    command = line.removeprefix("web:").strip()
    command = command.replace("${WEB_CONCURRENCY:-2}", "1").replace("$PORT", str(port))
    words = shlex.split(command)
    assert words[0] == "gunicorn", words
    return [sys.executable, "-m", *words]


def test_python_app_py_on_every_interface_without_accounts_refuses(tmp_path):
    port = free_port()
    env = clean_env(tmp_path / "data", HOST="0.0.0.0", PORT=str(port))

    status, output = run_to_exit([sys.executable, "app.py"], env)

    assert status != 0
    assert f"Concord refuses to start: it would listen on 0.0.0.0:{port} with no accounts" in output
    assert "ALLOW_NO_SIGN_IN=1" in output and "Traceback" not in output


def test_allow_no_sign_in_starts_open_with_a_warning(tmp_path):
    env = clean_env(tmp_path / "data", HOST="0.0.0.0", ALLOW_NO_SIGN_IN="1")
    server = AppServer(tmp_path / "data", env=env).start()
    try:
        with urllib.request.urlopen(server.url + "healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert f"ALLOW_NO_SIGN_IN=1: Concord listens on 0.0.0.0:{server.port} with no accounts" in log


def test_the_procfile_web_command_without_accounts_refuses(tmp_path):
    port = free_port()

    status, output = run_to_exit(procfile_web(port), clean_env(tmp_path / "data", PORT=str(port)))

    assert status != 0
    assert f"it would listen on 0.0.0.0:{port} with no accounts" in output
    assert "Traceback" not in output
    assert not (tmp_path / "data" / "annotations.db").exists()  # refused before the app loaded


def test_gunicorn_on_every_interface_starts_when_allowed(tmp_path):
    env = clean_env(tmp_path / "data", ALLOW_NO_SIGN_IN="1")
    command = ["-m", "gunicorn", "app:server", "-w", "1", "-b", "0.0.0.0:{port}"]
    server = AppServer(tmp_path / "data", env=env, command=command).start()
    server.stop()
    log = server.log_path.read_text()
    assert f"ALLOW_NO_SIGN_IN=1: Concord listens on 0.0.0.0:{server.port}" in log


def health(server: AppServer) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(server.url + "healthz", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_deleted_database_turns_health_red_and_a_restart_refuses(tmp_path):
    data = tmp_path / "data"
    server = AppServer(data, env=clean_env(data)).start()
    try:
        assert health(server) == (200, "ok")
        database = data / "annotations.db"
        database.unlink()
        status, reason = health(server)
    finally:
        server.stop()
    assert status == 503 and "deleted or replaced while the app ran" in reason
    log = server.log_path.read_text()
    assert f"starting with a new, empty database at {database}" in log
    assert f"the database file {database} was deleted or replaced" in log

    port = free_port()
    for command in (
        [sys.executable, "app.py"],
        [sys.executable, "-m", "gunicorn", "app:server", "-w", "1", "-b", f"127.0.0.1:{port}"],
    ):
        status, output = run_to_exit(command, clean_env(data, PORT=str(port)))
        assert status != 0, output
        assert f"the database file {database} is missing" in output
        assert "Restore it from a backup" in output and "Traceback" not in output
        assert not database.exists()


def without_root_override(command: list[str]) -> list[str]:
    """Root writes read-only files anyway; run without CAP_DAC_OVERRIDE it meets file modes
    as any other user does (setpriv, util-linux). Other users run the command as it is."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only file cannot be made to bite")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", *command]


def test_a_read_only_shm_file_is_refused_at_start_by_name(tmp_path):
    data = tmp_path / "data"
    AnnotationStore.from_url(f"sqlite:///{data / 'annotations.db'}").engine.dispose()
    shm = data / "annotations.db-shm"
    shm.write_bytes(bytes(32768))  # left behind by a process run as another user
    shm.chmod(0o444)

    command = without_root_override([sys.executable, "app.py"])
    status, output = run_to_exit(command, clean_env(data, PORT=str(free_port())))

    assert status == 1, output
    assert f"cannot write {shm}" in output and "read-only for this process" in output
    assert "Traceback" not in output and "Fatal Python error" not in output


def test_a_fatal_signal_leaves_a_traceback_in_the_log(tmp_path):
    data = tmp_path / "data"
    server = AppServer(data, env=clean_env(data)).start()
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGBUS)  # what a read-only -shm mmap raises
    server.process.wait(timeout=30)
    server.stop()
    log = server.log_path.read_text()
    assert "Fatal Python error: Bus error" in log and 'File "' in log
