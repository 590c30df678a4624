"""The key file of `spikewire keygen` gives the same PeerId in Python and TypeScript (spec §4.2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import trio

from _tsnode import ts_cli, ts_node
from spikewire.errors import ConfigError
from spikewire.net.identity import (decode_private_key, encode_private_key, load_or_create_key, peer_id_of, read_key,
                                    write_new_key)
from spikewire.node import Node


def test_keygen_file_gives_the_same_peer_id(tmp_path: Path) -> None:
    key_file = tmp_path / "ts.key"
    r = ts_cli("keygen", "--out", str(key_file), "--json")
    assert r.returncode == 0, r.stderr
    ts_peer = json.loads(r.stdout)["peer"]
    key = read_key(key_file)
    assert peer_id_of(key).to_string() == ts_peer
    # Written back, the file is byte for byte what keygen wrote.
    assert encode_private_key(key) == key_file.read_bytes()

    async def main() -> str:
        async with Node(identity=key_file) as node:
            return str(node.peer_id)
    assert trio.run(main) == ts_peer


def test_python_key_file_runs_a_typescript_node_with_the_same_peer_id(tmp_path: Path) -> None:
    key_file = tmp_path / "py.key"
    key = write_new_key(key_file)
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    with ts_node({"name": "keyed", "identity": str(key_file)}, tmp_path) as ts:
        assert ts.peer == peer_id_of(key).to_string()


def test_refuses_unsafe_bad_and_existing_files(tmp_path: Path) -> None:
    f = tmp_path / "k.key"
    write_new_key(f)
    with pytest.raises(ConfigError) as e:
        write_new_key(f)
    assert e.value.code == "key-exists"
    os.chmod(f, 0o644)
    with pytest.raises(ConfigError) as e:
        read_key(f)
    assert e.value.code == "key-permissions"
    bad = tmp_path / "bad.key"
    for content in (b"", b"\x08\x01\x12\x05abcde", b"\x08\x00\x12\x40" + bytes(64), b"\xff" * 10, b"\x08\x01" * 3000):
        bad.write_bytes(content)
        os.chmod(bad, 0o600)
        with pytest.raises(ConfigError) as e:
            read_key(bad)
        assert e.value.code == "key-invalid", content[:8]
    # A 64-byte key whose public half does not match the seed is refused.
    good = f.read_bytes()
    tampered = bytearray(good)
    tampered[-1] ^= 1
    with pytest.raises(ValueError):
        decode_private_key(bytes(tampered))


def test_load_or_create(tmp_path: Path) -> None:
    f = tmp_path / "new.key"
    k1, created = load_or_create_key(f)
    assert created
    k2, created = load_or_create_key(f)
    assert not created
    assert peer_id_of(k1) == peer_id_of(k2)
