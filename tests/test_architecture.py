"""The layers point one way: every app's imports (lazy ones inside functions too), read from the source with ast.

Run it alone to print the dependency graph: `.venv/bin/python tests/test_architecture.py`.
"""

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Our top-level packages: the configuration package and every app of ours in INSTALLED_APPS.
PACKAGES = (
    "naarikavach", "common", "accounts", "compat", "sos", "incidents", "response", "cameras", "realtime",
    "realtime_server", "console", "detection", "dashboard", "privacy", "contacts",
)
# The configuration package wires everything; tests exercise everything. Neither is a layer.
WIRING = {"naarikavach"}


def _is_app_code(path: Path) -> bool:
    # Tests may reach any layer; migrations name other apps by string, never by import.
    return not ({"tests", "migrations"} & set(path.relative_to(ROOT).parts))


def imports_of(package: str) -> dict[str, list[str]]:
    """{imported package: ["file:line", ...]} for every import of another of our packages inside `package`."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted((ROOT / package).rglob("*.py")):
        if not _is_app_code(path):
            continue
        # ast.walk visits every node, so an import inside a function (a lazy import) counts like one at the top.
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in PACKAGES and top != package:
                    found[top].append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def dependency_graph() -> dict[str, dict[str, list[str]]]:
    return {package: imports_of(package) for package in PACKAGES}


def find_cycle(graph: dict[str, dict[str, list[str]]], *, skip: set[str] = WIRING) -> list[str] | None:
    """One cycle among the packages not in `skip`, as [a, b, ..., a], or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once fully explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if target in skip:
                continue
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in skip and start not in state and (cycle := visit(start)):
            return cycle
    return None


def describe(graph: dict[str, dict[str, list[str]]], cycle: list[str] | None = None) -> str:
    lines = [f"{package} -> {', '.join(sorted(targets)) or '(nothing of ours)'}" for package, targets in sorted(graph.items())]
    if cycle:
        lines.append("cycle: " + " -> ".join(cycle))
        lines += [f"  {a} -> {b}: {', '.join(graph[a][b])}" for a, b in zip(cycle, cycle[1:])]
    return "\n".join(lines)


def test_the_outbox_imports_none_of_our_apps():
    assert dict(imports_of("realtime")) == {}


def test_only_the_wiring_and_tests_import_the_realtime_server():
    importers = {package: targets["realtime_server"] for package, targets in dependency_graph().items()
                 if "realtime_server" in targets and package not in WIRING}
    assert importers == {}


def test_the_apps_depend_on_each_other_without_cycles():
    graph = dependency_graph()
    cycle = find_cycle(graph)
    print(describe(graph, cycle))
    assert cycle is None, describe(graph, cycle)


def test_the_cycle_finder_finds_a_cycle_and_names_it():
    graph = {"a": {"b": ["a.py:1"]}, "b": {"c": ["b.py:2"]}, "c": {"a": ["c.py:3"]}, "d": {"a": ["d.py:4"]}}
    assert find_cycle(graph, skip=set()) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": []}, "b": {}}, skip=set()) is None


def test_a_lazy_import_inside_a_function_counts(tmp_path, monkeypatch):
    package = tmp_path / "sos"
    package.mkdir()
    (package / "services.py").write_text("def f():\n    from cameras.services import link\n    return link\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert dict(imports_of("sos")) == {"cameras": ["sos/services.py:2"]}


def test_the_apps_above_react_to_the_moments_the_apps_below_announce():
    """The reactions that replaced upward imports are wired at ready(): without them an SOS would link no
    camera, alert no contact, and a trail read would go unaudited."""
    from cameras import services as cameras
    from contacts import services as contacts
    from incidents import hooks as incident_hooks
    from privacy import apis as privacy_apis
    from privacy import services as privacy
    from sos import hooks as sos_hooks

    assert sos_hooks.sos_raised.receivers == (contacts.contacts_alert_sos,)
    assert sos_hooks.sos_positioned.receivers == (cameras.cameras_link_sos,)
    assert sos_hooks.sos_trail_read.receivers == (privacy.sos_trail_read_record,)
    assert sos_hooks.sos_detail_extras.receivers == (privacy_apis.sos_detail_view_audit,)
    assert incident_hooks.camera_incident_reported.receivers == (cameras.cameras_attach_incident_to_linked_sos,)
    assert incident_hooks.incident_detail_extras.receivers == (privacy_apis.incident_detail_view_audit,)


def test_a_hook_calls_each_receiver_once_in_order_and_lets_errors_through():
    from common.hooks import Hook

    heard = []
    hook = Hook("test.moment", "A moment for this test.")
    first = hook.register(lambda *, n: heard.append(("first", n)) or "a")
    hook.register(lambda *, n: heard.append(("second", n)) or "b")
    hook.register(first)
    assert hook.fire(n=1) == ["a", "b"]
    assert heard == [("first", 1), ("second", 1)]

    def refuse(*, n):
        raise RuntimeError("refused")

    hook.register(refuse)
    try:
        hook.fire(n=2)
    except RuntimeError as error:
        assert str(error) == "refused"
    else:
        raise AssertionError("a receiver's error must reach the caller (it rolls the transaction back)")


if __name__ == "__main__":
    graph = dependency_graph()
    print(describe(graph, find_cycle(graph)))
