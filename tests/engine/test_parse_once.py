"""Deploying a package parses each file once and runs SpiffWorkflow's parser once, for lint and compile."""

from __future__ import annotations

from collections import Counter, OrderedDict
from typing import Any

import pytest
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.bpmn import xmlsafe as xmlsafe
from engine.catalogue import registry as registry
from engine.catalogue.package import from_files, from_path
from engine.context import AppContext
from tests.factories import PBG, deploy


def test_a_deploy_parses_each_file_once(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: Counter[str] = Counter()
    loaded: Counter[str] = Counter()
    real_parse, real_add = xmlsafe.parse_xml, SpiffBpmnParser.add_bpmn_xml

    def counting_parse(data: bytes, *, filename: str, **kwargs: Any) -> Any:
        parsed[filename] += 1
        return real_parse(data, filename=filename, **kwargs)

    def counting_add(self: SpiffBpmnParser, bpmn: Any, filename: str | None = None) -> None:
        loaded[str(filename)] += 1
        real_add(self, bpmn, filename=filename)

    monkeypatch.setattr(registry, "_checked", OrderedDict())  # lint and compile are remembered by content
    monkeypatch.setattr(xmlsafe, "parse_xml", counting_parse)
    monkeypatch.setattr(SpiffBpmnParser, "add_bpmn_xml", counting_add)
    package = from_files({**from_path(PBG).files, "README.md": b"parse once"})
    result = deploy(ctx, package)
    assert result.created
    assert parsed == Counter(dict.fromkeys([*package.bpmn_files, *package.dmn_files], 1))
    assert loaded == Counter(dict.fromkeys(package.bpmn_files, 1))
