"""Node identity (spec §4.2): an Ed25519 key in a file of its own, in the format `spikewire keygen` writes.

The file holds the libp2p protobuf encoding of the private key (the message PrivateKey{Type=1 (Ed25519),
Data=seed(32) || public key(32)}), written with mode 0600. The same file gives the same PeerId here and in the
TypeScript node.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from libp2p.crypto.ed25519 import Ed25519PrivateKey
from libp2p.crypto.keys import KeyPair
from libp2p.peer.id import ID

from spikewire.errors import ConfigError

MAX_KEY_FILE = 4096
_KEY_TYPE_ED25519 = 1


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated or over-long varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def decode_private_key(data: bytes) -> KeyPair:
    """Parse the protobuf PrivateKey message; only Ed25519 keys are accepted."""
    key_type: int | None = None
    key_data: bytes | None = None
    pos = 0
    while pos < len(data):
        tag, pos = _read_varint(data, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
            if field == 1:
                key_type = value
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated field")
            if field == 2:
                key_data = data[pos:pos + length]
            pos += length
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    if key_type != _KEY_TYPE_ED25519:
        raise ValueError(f"key type {key_type} is not Ed25519 (1)")
    if key_data is None or len(key_data) not in (32, 64):
        raise ValueError("an Ed25519 key holds 32 or 64 bytes")
    private = Ed25519PrivateKey.from_bytes(key_data[:32])
    public = private.get_public_key()
    if len(key_data) == 64 and public.to_bytes() != key_data[32:]:
        raise ValueError("the public half does not match the private key")
    return KeyPair(private, public)


def encode_private_key(key: KeyPair) -> bytes:
    """The protobuf PrivateKey message, as js-libp2p's privateKeyToProtobuf writes it (seed || public key)."""
    priv = key.private_key
    if not isinstance(priv, Ed25519PrivateKey):
        raise ValueError("only Ed25519 identities are supported")
    body = priv.to_bytes()[:32] + key.public_key.to_bytes()
    return bytes([0x08, _KEY_TYPE_ED25519, 0x12]) + _varint(len(body)) + body


def new_key() -> KeyPair:
    private = Ed25519PrivateKey.new()
    return KeyPair(private, private.get_public_key())


def peer_id_of(key: KeyPair) -> ID:
    return ID.from_pubkey(key.public_key)


def read_key(path: str | os.PathLike[str]) -> KeyPair:
    """Read a key file. Refuses files that other users can read, as the TypeScript node does."""
    p = Path(path)
    st = p.stat()
    if st.st_mode & 0o077:
        raise ConfigError(f"{p} is readable by other users (mode {stat.S_IMODE(st.st_mode):o}); run chmod 600 {p}",
                          "key-permissions")
    if st.st_size > MAX_KEY_FILE:
        raise ConfigError(f"{p} is too large to be a key file", "key-invalid")
    try:
        return decode_private_key(p.read_bytes())
    except ValueError as err:
        raise ConfigError(f"{p} does not hold a libp2p private key: {err}", "key-invalid") from err


def write_new_key(path: str | os.PathLike[str]) -> KeyPair:
    """Create a new key file with mode 0600; never overwrites an existing file."""
    key = new_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as err:
        raise ConfigError(f"{path} exists already; refusing to overwrite a node identity", "key-exists") from err
    with os.fdopen(fd, "wb") as f:
        f.write(encode_private_key(key))
    return key


def load_or_create_key(path: str | os.PathLike[str]) -> tuple[KeyPair, bool]:
    try:
        return read_key(path), False
    except FileNotFoundError:
        return write_new_key(path), True
