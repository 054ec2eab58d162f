"""Scenario tests of process packages: `tests/*.toml` files played on a throw-away copy (docs/scenarios.md)."""

from engine.catalogue.scenarios.format import Scenario, ScenarioInvalid, parse, scenario_files
from engine.catalogue.scenarios.runner import Playback, TraceEntry
from engine.catalogue.scenarios.service import ScenarioResult, Trial, run, scenario_problems, trial

__all__ = ["Playback", "Scenario", "ScenarioInvalid", "ScenarioResult", "TraceEntry", "Trial", "parse", "run",
           "scenario_files", "scenario_problems", "trial"]
