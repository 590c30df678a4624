"""The `discovery` config field (mDNS, TypeScript node only): the Python node validates it with the same
schema, warns that it does not apply it and lists it in `stats()["unappliedLimits"]`."""

from __future__ import annotations

import logging

import pytest

from spikewire.config import parse_config
from spikewire.errors import ConfigError
from spikewire.node import Node


@pytest.mark.parametrize("discovery", [{"mdns": True}, {"mdns": {"serviceTag": "_lab-a._udp.local", "intervalMs": 2000}}])
def test_discovery_reported_not_applied(discovery: dict[str, object], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="spikewire.node"):
        node = Node(config={"name": "n", "discovery": discovery})
    assert node.unapplied_limits == ["discovery"]
    assert any("discovery is not applied by the Python node" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("discovery", [{}, {"mdns": False}])
def test_discovery_off_is_not_reported(discovery: dict[str, object]) -> None:
    assert Node(config={"name": "n", "discovery": discovery}).unapplied_limits == []


@pytest.mark.parametrize("discovery", [{"mdns": "yes"}, {"mdns": {"serviceTag": "spikewire"}},
                                       {"mdns": {"intervalMs": 10}}, {"mdns": {"port": 5353}}, {"dht": True}])
def test_bad_discovery_refused(discovery: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        parse_config({"name": "n", "discovery": discovery})
