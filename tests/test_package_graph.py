"""The dependency rule of dialer/ and jobs/ (docs/development.md, "How the code is laid out"),
checked on the import graph: `python -m tests.package_graph` prints it."""

from __future__ import annotations

import ast

from tests.package_graph import ROOT, Graph, read_graph

GRAPH = read_graph()

# Modules every package may import: they import nothing of ours but each other.
FOUNDATION = {
    "bounds",
    "clock",
    "config",
    "creation",
    "errors",
    "logs",
    "metrics",
    "payloads",
    "resources",
    "phone",
    "security",
    "sms",
    "spreadsheets",
    "templating",
    "terminal",
    "vocabulary",
}


def test_the_graph_is_read_from_the_source() -> None:
    assert "dialer.attempts.rounds" in GRAPH.modules
    assert "dialer.vocabulary" in GRAPH.modules["dialer.models"]
    assert ("tracking", "attempts") in GRAPH.package_edges()


def test_no_two_packages_import_each_other() -> None:
    assert GRAPH.mutual_pairs() == []


def test_no_packages_import_each_other_round_a_circle() -> None:
    assert GRAPH.package_circles() == []


def test_no_file_circle() -> None:
    assert GRAPH.file_circles() == []


def test_the_circle_finder_finds_circles() -> None:
    graph = Graph(
        {
            "dialer.a.x": frozenset({"dialer.b.y"}),
            "dialer.b.y": frozenset({"dialer.c"}),
            "dialer.c": frozenset({"dialer.a.x"}),
            "dialer.d": frozenset({"dialer.c"}),
        }
    )
    assert graph.package_circles() == [["a", "b", "c"]]
    assert graph.file_circles() == [["dialer.a.x", "dialer.b.y", "dialer.c"]]
    assert graph.mutual_pairs() == []


def test_foundation_modules_import_only_each_other() -> None:
    for module in FOUNDATION:
        assert GRAPH.imports(module) <= FOUNDATION, module


def test_the_vocabulary_and_the_tables_stand_on_the_foundation_alone() -> None:
    assert GRAPH.imports("vocabulary") == set()
    assert GRAPH.imports("models") <= FOUNDATION


def test_db_imports_no_domain_package() -> None:
    # The outbox writes events in the transaction of the change they report; SQLite's writers
    # of different processes take turns through sqlite_turns, which imports nothing of ours.
    assert GRAPH.imports("db") <= {"outbox", "sqlite_turns"}
    assert GRAPH.imports("outbox") <= FOUNDATION | {"models"}
    assert GRAPH.imports("sqlite_turns") == set()


def test_providers_know_nothing_of_the_dialer() -> None:
    assert GRAPH.imports("providers") <= FOUNDATION


def test_the_attempt_package_is_below_dispatch_and_tracking() -> None:
    below = FOUNDATION | {"models", "providers", "scheduling"}
    assert GRAPH.imports("attempts") <= below
    assert "tracking" not in GRAPH.imports("dispatch")
    assert "dispatch" not in GRAPH.imports("tracking")


def test_the_dialer_reaches_jobs_only_through_the_worker_factory() -> None:
    assert not any(b == "jobs" for a, b in GRAPH.package_edges())


DOMAINS = sorted(p.parent.name for p in (ROOT / "dialer").glob("*/api.py"))
# What a route may not do itself: ask the database (rules and queries live in service.py).
_QUERIES = {"exec", "execute", "get", "add", "add_all", "delete", "flush", "scalar"}


def test_every_domain_package_has_routes_rules_and_bodies_apart() -> None:
    assert {"campaigns", "notifications", "webhooks"} <= set(DOMAINS)
    for name in DOMAINS:
        for part in ("api.py", "service.py", "schemas.py"):
            assert (ROOT / "dialer" / name / part).exists(), f"dialer/{name}/{part}"


def test_routes_leave_the_database_to_their_service() -> None:
    for name in DOMAINS:
        tree = ast.parse((ROOT / "dialer" / name / "api.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = node.func
            if isinstance(called, ast.Name):
                assert called.id != "select", f"dialer/{name}/api.py:{node.lineno} queries"
            elif isinstance(called, ast.Attribute) and isinstance(called.value, ast.Name):
                asks = called.value.id == "session" and called.attr in _QUERIES
                assert not asks, f"dialer/{name}/api.py:{node.lineno} session.{called.attr}"


def test_the_console_calls_services_and_only_the_app_imports_it() -> None:
    for module, imported in GRAPH.modules.items():
        if module.startswith("dialer.console"):
            assert not [m for m in imported if m.endswith(".api")], module
    importers = {a for a, b in GRAPH.package_edges() if b == "console"}
    # The web app mounts it; the console benchmark signs in as it does.
    assert importers == {"app", "bench"}, importers
