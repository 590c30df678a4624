"""WebSockets listen addresses (spec §4.1.2, optional): the Python node listens on TCP only, so it leaves
/ws addresses out, warns and lists them in `stats()["unappliedLimits"]`; WebSockets alone is refused, as
by the TypeScript node (§4.1.1)."""

from __future__ import annotations

import logging

import pytest

from spikewire.errors import ConfigError
from spikewire.node import Node


def test_ws_listen_left_out_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    listen = ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/0/ws"]
    with caplog.at_level(logging.WARNING, logger="spikewire.node"):
        node = Node(config={"name": "n", "listen": listen})
    assert node.listen == ["/ip4/127.0.0.1/tcp/0"]
    assert node.unapplied_limits == ["listen:ws"]
    assert any("/ws not applied" in r.getMessage() for r in caplog.records)


def test_tcp_only_is_not_reported() -> None:
    assert Node(config={"name": "n", "listen": ["/ip4/127.0.0.1/tcp/0"]}).unapplied_limits == []


@pytest.mark.parametrize("addr", ["/ip4/127.0.0.1/tcp/0/ws", "/dns4/lab.example/tcp/443/wss",
                                  "/ip4/127.0.0.1/tcp/443/tls/ws"])
def test_websockets_alone_refused(addr: str) -> None:
    with pytest.raises(ConfigError) as e:
        Node(listen=[addr])
    assert e.value.code == "config-invalid"
