"""The soak's short version (``python -m soak`` runs the long one): 60 clients, 30 at a time, a third of them
leaving at random moments, faults from every provider, against a real gateway process; its end state holds."""

from __future__ import annotations

from soak import SoakConfig, run_soak


def test_a_short_soak_ends_with_nothing_left_open_and_every_client_answered() -> None:
    report = run_soak(SoakConfig(clients=60, concurrency=30, seed=7, ramp_s=1.0))

    assert report.ok, report.render()
    assert report.still_open == 0
    assert sum(report.outcomes.values()) == 60 and report.outcomes["left"] > 0
