"""Protocol compatibility: the official JavaScript socket.io-client, run by Node, against the realtime server."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from realtime_server.testing import realtime, realtime_server, tokens  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "tests" / "js" / "realtime_client.test.mjs"

pytestmark = pytest.mark.slow


def test_the_javascript_client_connects_joins_and_resumes_without_losing_an_alert(realtime, live_server, tokens):
    node = shutil.which("node")
    assert node, "Node.js is needed for this test"
    assert (REPO / "node_modules" / "socket.io-client").is_dir(), "run `npm ci` first (make install-test does)"
    env = {"PATH": str(Path(node).parent), "RT_URL": realtime.url, "API_URL": live_server.url,
           "DISPATCHER_TOKEN": tokens["dispatcher"], "CITIZEN_TOKEN": tokens["citizen"]}

    run = subprocess.run([node, str(SCRIPT)], cwd=REPO, env=env, capture_output=True, text=True, timeout=90)

    result = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
    assert run.returncode == 0 and result.get("ok"), f"{run.stdout}\n{run.stderr}"
    assert result["names"] == ["js live", "js missed 1", "js missed 2", "js after"]
    assert result["transport"] == "websocket"  # started on long-polling, upgraded
    assert result["trailPoints"] == 1
