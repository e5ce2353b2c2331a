"""The runnable examples of socketio_testing_guide.md, run as they are against real servers."""

import asyncio
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from realtime_server.testing import api, realtime, realtime_server, tokens  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "socketio_testing_guide.md"

pytestmark = pytest.mark.slow


def example(name: str, directory: Path) -> Path:
    """Write the code block that follows `<!-- example: name -->` in the guide to a file, as a reader would."""
    match = re.search(rf"<!-- example: {re.escape(name)} -->\n```\w+\n(.*?)```", GUIDE.read_text(), re.S)
    assert match, f"no example {name} in the guide"
    path = directory / name
    path.write_text(match.group(1))
    return path


@pytest.fixture
def examples_dir():
    # Inside the repository, so that Node finds socket.io-client in ./node_modules as the guide says.
    directory = REPO / ".local" / f"guide-examples-{os.getpid()}"
    directory.mkdir(parents=True, exist_ok=True)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


async def run_example(command: list[str], env: dict, on_line=None, timeout: float = 30) -> str:
    """Run an example to its end, calling `on_line` with each line it prints; return everything it printed."""
    process = await asyncio.create_subprocess_exec(
        *command, cwd=REPO, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output = []
    try:
        async with asyncio.timeout(timeout):
            while line := (await process.stdout.readline()).decode():
                output.append(line)
                if on_line is not None:
                    await on_line(line)
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, "".join(output)
    return "".join(output)


@pytest.mark.parametrize("name, command", [("follow_alerts.py", [sys.executable]), ("follow_alerts.mjs", ["node"])])
async def test_the_dashboard_examples_print_an_alert_raised_while_they_listen(
    realtime, live_server, api, tokens, examples_dir, name, command
):
    script = example(name, examples_dir)
    env = {"RT_URL": realtime.url, "API_URL": live_server.url, "TOKEN": tokens["dispatcher"], "MAX_ALERTS": "1"}
    joined = []

    async def raise_sos_once_the_rooms_are_joined(line):
        if line.startswith("rooms_joined"):
            joined.append(line)
            await api.raise_sos("Asha from the guide")

    output = await run_example([*command, str(script)], env, raise_sos_once_the_rooms_are_joined)

    assert "new_sos" in output and "Asha from the guide" in output
    assert len(joined) == 1  # one answer for both rooms


async def test_the_sos_owner_example_follows_its_own_room(realtime, live_server, examples_dir):
    script = example("follow_my_sos.py", examples_dir)

    output = await run_example([sys.executable, str(script)], {"RT_URL": realtime.url, "API_URL": live_server.url})

    assert '"updates"' in output  # the trail
    assert '"latitude": 12.972' in output  # the point it posted, back through the room
