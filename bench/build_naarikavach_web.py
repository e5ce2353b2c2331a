"""Build the NaariKavach web dashboard from its own repository, outside ours, for tests/browser/test_naarikavach_web.py.

Their code never enters this repository: this script copies `naarikavach_website/` out of a checkout (or a
bare git directory, as the `fetch` of github:basilisk-in/NaariKavach leaves it) into a scratch directory,
changes only what a deployment against us changes, and builds it with their own lockfile:

* the four base URLs `http://localhost:8000` (authService.js and three calls in Dashboard.jsx) become
  `API_PLACEHOLDER` + `/naarikavach`, our compatibility prefix;
* the socket URL `http://localhost:8001` (socketService.js) becomes `SOCKET_PLACEHOLDER`;
* the socket gets a token: one line, `auth: (cb) => cb({ token: localStorage.getItem('naarikavach_token') })`,
  added to the options of their `io(...)` call (the token their own login stores).

The placeholders are hosts that cannot resolve; the browser test serves the built files and replaces them
with the live servers' URLs. Every edit must match exactly once, or the script stops: a changed upstream
file is reported, not patched blindly.

    .venv/bin/python bench/build_naarikavach_web.py --source /work/.mirror/basilisk-in+NaariKavach/repo \
        --out /tmp/naarikavach-web

Needs npm (their lockfile's dependencies, installed with --legacy-peer-deps, as their lockfile was made:
react-animated-cursor declares a peer of React 18 while they use React 19). The built site is in
<out>/dist; the test finds it through NAARIKAVACH_WEB_DIST or /tmp/naarikavach-web/dist.
"""

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

API_PLACEHOLDER = "http://naarikavach-api.invalid"
SOCKET_PLACEHOLDER = "http://naarikavach-realtime.invalid"
OLD_API = "http://localhost:8000"
OLD_SOCKET = "http://localhost:8001"

# (file, old text, new text, how many times it must occur)
EDITS = [
    ("src/services/authService.js", f"const API_BASE_URL = '{OLD_API}'",
     f"const API_BASE_URL = '{API_PLACEHOLDER}/naarikavach'", 1),
    ("src/components/Dashboard.jsx", f"'{OLD_API}/api/sos/'", f"'{API_PLACEHOLDER}/naarikavach/api/sos/'", 1),
    ("src/components/Dashboard.jsx", f"`{OLD_API}/api/get-sos-images/",
     f"`{API_PLACEHOLDER}/naarikavach/api/get-sos-images/", 1),
    ("src/components/Dashboard.jsx", f"'{OLD_API}/api/assign-officer/'",
     f"'{API_PLACEHOLDER}/naarikavach/api/assign-officer/'", 1),
    ("src/components/Dashboard.jsx", f"`{OLD_API}/api/resolve-sos/",
     f"`{API_PLACEHOLDER}/naarikavach/api/resolve-sos/", 1),
    ("src/services/socketService.js", f"const SOCKET_URL = '{OLD_SOCKET}'", f"const SOCKET_URL = '{SOCKET_PLACEHOLDER}'", 1),
    ("src/services/socketService.js", "this.socket = io(SOCKET_URL, {\n",
     "this.socket = io(SOCKET_URL, {\n        auth: (cb) => cb({ token: localStorage.getItem('naarikavach_token') }),\n", 1),
]


def export_site(source: Path, into: Path) -> Path:
    """Copy naarikavach_website/ from a checkout, or from HEAD of a bare git directory."""
    if (source / "naarikavach_website").is_dir():
        shutil.copytree(source / "naarikavach_website", into / "naarikavach_website",
                        ignore=shutil.ignore_patterns("node_modules", "dist"))
    else:
        with tempfile.TemporaryFile() as archive:
            subprocess.run(["git", f"--git-dir={source}", "archive", "HEAD", "naarikavach_website"],
                           stdout=archive, check=True)
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:
                tar.extractall(into, filter="data")
    return into / "naarikavach_website"


def apply_edits(site: Path) -> list[str]:
    changed = []
    for name, old, new, times in EDITS:
        path = site / name
        text = path.read_text()
        found = text.count(old)
        if found != times:
            raise SystemExit(f"{name}: expected {times} occurrence(s) of {old!r}, found {found}; upstream changed")
        path.write_text(text.replace(old, new))
        changed.append(f"{name}: {old.strip()!r} -> {new.strip()!r}")
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="their checkout or bare git directory")
    parser.add_argument("--out", type=Path, default=Path("/tmp/naarikavach-web"))
    args = parser.parse_args()
    repo = Path(__file__).resolve().parent.parent
    if args.out.resolve().is_relative_to(repo):
        raise SystemExit("build outside this repository: their code must never enter it")
    scratch = Path(tempfile.mkdtemp(prefix="naarikavach-web-src-"))
    site = export_site(args.source.resolve(), scratch)
    for line in apply_edits(site):
        print("changed", line)
    subprocess.run(["npm", "ci", "--legacy-peer-deps", "--no-audit", "--no-fund"], cwd=site, check=True)
    subprocess.run(["npm", "run", "build"], cwd=site, check=True)
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    shutil.copytree(site / "dist", args.out / "dist")
    print(f"built {args.out / 'dist'} (sources in {site})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
