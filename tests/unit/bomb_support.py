"""Run one import in a fresh Python process and report its time, peak memory and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The child reads the upload from a file, notes its peak memory so far (the interpreter and
# the file), parses, and prints what a user would see: the messages, or the images read.
_CHILD = """
import json, sys, time
def peak_kb():  # VmHWM starts afresh at exec; ru_maxrss keeps the forking parent's peak
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
from formats.model import FormatError
from formats.registry import codec_for, read_upload
from formats.resolve import reject
fmt, path, name = sys.argv[1:4]
data = open(path, "rb").read()
labels = ("person", "car")
before = peak_kb()
start = time.perf_counter()
try:
    images = read_upload(codec_for(fmt), name, data, labels)
    messages = []
except FormatError as exc:
    images = []
    messages = list(reject(exc, name).messages)
seconds = time.perf_counter() - start
after = peak_kb()
print(json.dumps({"seconds": seconds, "grown_mb": (after - before) / 1024,
                  "messages": messages, "images": len(images)}))
"""


@dataclass(frozen=True)
class Outcome:
    """What one import in a child process did."""

    seconds: float
    grown_mb: float  # growth of the peak resident memory while parsing
    messages: list[str]
    images: int

    @property
    def text(self) -> str:
        return "\n".join(self.messages)


def import_in_child(fmt: str, path: Path, name: str = "", timeout: float = 60) -> Outcome:
    """Import the file at `path` as format `fmt` in a child process (killed after
    `timeout` seconds); an uncaught error in the child fails the caller."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, fmt, str(path), name or path.name],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"the import crashed:\n{done.stderr[-3000:]}")
    return Outcome(**json.loads(done.stdout.strip().splitlines()[-1]))
