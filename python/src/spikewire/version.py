"""The software string in node descriptions (spec §8.2)."""

VERSION = "0.1.0"
SOFTWARE = f"spikewire-py/{VERSION}"
