"""The Python implementation under the interop contract (interop-tests/README.md): the harness side
(environment, rendezvous, generator, stdout lines) and one module per group of scenarios."""
