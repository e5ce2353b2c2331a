"""The NaariKavach web dashboard's socket calls, made by the official socket.io-client under Node."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from realtime_server.testing import realtime, realtime_server, tokens  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "tests" / "js" / "naarikavach_dashboard.test.mjs"

pytestmark = pytest.mark.slow


def test_the_naarikavach_dashboards_socket_calls_work_and_the_trail_does_not_move_its_rows(realtime, live_server, tokens):
    node = shutil.which("node")
    assert node, "Node.js is needed for this test"
    env = {"PATH": str(Path(node).parent), "RT_URL": realtime.url, "API_URL": live_server.url,
           "DISPATCHER_TOKEN": tokens["dispatcher"], "OFFICER_TOKEN": tokens["officer_a"]}

    run = subprocess.run([node, str(SCRIPT)], cwd=REPO, env=env, capture_output=True, text=True, timeout=90)

    result = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
    assert run.returncode == 0 and result.get("ok"), f"{run.stdout}\n{run.stderr}"
    assert result["trailHasSosId"] is False
    assert result["movedTo"] == 12.98
    assert result["unitLoc"] == ["UNIT-A", 12.95, 77.58]
