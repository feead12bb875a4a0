"""What a cold `import app` leaves out: libraries only some requests need are imported on first use
(docs/performance.md, The deployment package)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ON_FIRST_USE = ("stripe", "jwt", "standardwebhooks", "aiohttp")


def test_import_app_imports_no_library_that_only_some_requests_need() -> None:
    script = (
        f"import sys, json, app; print(json.dumps([m for m in {list(ON_FIRST_USE)!r} if m in sys.modules]))"
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
