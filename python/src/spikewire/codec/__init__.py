"""The wire encoding of spikewire: strict deterministic CBOR (§7), framing (§5), messages (§8), batches."""
