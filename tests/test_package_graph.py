"""The dependency rule of dialer/ and jobs/ (README, "How the code is laid out"), checked on the
import graph: `python -m tests.package_graph` prints it."""

from __future__ import annotations

from tests.package_graph import Graph, read_graph

GRAPH = read_graph()

# Modules every package may import: they import nothing of ours but each other.
FOUNDATION = {
    "bounds",
    "clock",
    "config",
    "errors",
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
    # The outbox writes events in the transaction of the change they report.
    assert GRAPH.imports("db") <= {"outbox"}
    assert GRAPH.imports("outbox") <= FOUNDATION | {"models"}


def test_providers_know_nothing_of_the_dialer() -> None:
    assert GRAPH.imports("providers") <= FOUNDATION


def test_the_attempt_package_is_below_dispatch_and_tracking() -> None:
    below = FOUNDATION | {"models", "providers", "scheduling"}
    assert GRAPH.imports("attempts") <= below
    assert "tracking" not in GRAPH.imports("dispatch")
    assert "dispatch" not in GRAPH.imports("tracking")


def test_the_dialer_reaches_jobs_only_through_the_worker_factory() -> None:
    assert not any(b == "jobs" for a, b in GRAPH.package_edges())
