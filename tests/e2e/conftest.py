"""The local stack in a subprocess, driven over HTTP like an integrator would (see devstack/launcher.py)."""

from __future__ import annotations

import pytest

from devstack.launcher import DEMO_SEED, LocalStack, Response, free_port, start_local_stack, stop_local_stack

__all__ = ["DEMO_SEED", "LocalStack", "Response", "free_port", "start_local_stack", "stop_local_stack"]


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory):
    seed = tmp_path_factory.mktemp("seed") / "seed.json"
    seed.write_text(DEMO_SEED.read_text(encoding="utf-8"), encoding="utf-8")
    stack = start_local_stack(seed)
    yield stack
    assert stop_local_stack(stack) == 0, "the local stack must stop cleanly on SIGTERM"
