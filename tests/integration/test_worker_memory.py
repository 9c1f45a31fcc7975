"""A web worker loads what serving the page needs, not what only jobs need (issue 17).

The analysis stack (pandas, scipy, scikit-learn, shapely) is imported by the agreement,
consensus-export and training jobs that use it; a worker that imports the app to serve
pages, images and saves holds about 100 MB less per process without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.servers import ROOT

JOBS_ONLY = ("pandas", "scipy", "sklearn", "shapely", "onnxruntime")
MAX_RSS_MB = 220  # after `import app`: 259 MB when every worker loaded the analysis stack

PROBE = """
import json, sys
import app
client = app.server.test_client()
answers = [client.get(path).status_code for path in ("/", "/_dash-layout", "/healthz")]
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS"))
print(json.dumps({"answers": answers, "rss_mb": rss / 1024,
                  "loaded": [m for m in %r if m in sys.modules]}))
"""


def test_a_web_worker_does_not_load_what_only_jobs_need(tmp_path):
    def start() -> dict:
        done = subprocess.run(
            [sys.executable, "-c", PROBE % (JOBS_ONLY,)],
            cwd=ROOT,
            env={**os.environ, "DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    start()  # the very first start writes the sample photos (scikit-image, once)
    found = start()  # a worker's start, as every later one is

    assert found["answers"] == [200, 200, 200]
    assert found["loaded"] == [], "imported at start though only jobs use them"
    assert found["rss_mb"] < MAX_RSS_MB, f"a worker holds {found['rss_mb']:.0f} MB after start"
