"""A replay step applies its events with the cycle collector paused, and leaves it as it
found it (issue 14)."""
import gc

import pytest

from shared import replay


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_for_a_step_and_left_as_it_was(enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        with replay._collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() == enabled
        with pytest.raises(RuntimeError), replay._collector_paused():
            raise RuntimeError("a step that fails")
        assert gc.isenabled() == enabled
    finally:
        gc.enable()

