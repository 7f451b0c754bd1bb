"""The bulk runs collect cycles rarely, and give the collector back as it was, even after an error."""

from __future__ import annotations

import gc

import pytest

from inboxrel.pipelines.memory import BULK_THRESHOLD, bulk_collection


def test_bulk_collection_relaxes_then_restores_the_collector():
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with bulk_collection():
        assert gc.get_threshold() == BULK_THRESHOLD
        assert gc.get_freeze_count() > frozen  # what existed before the run is out of the collector's sight
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_bulk_collection_restores_the_collector_after_an_error():
    before = gc.get_threshold()

    @bulk_collection()
    def run():
        raise RuntimeError("the run failed")

    with pytest.raises(RuntimeError):
        run()
    assert gc.get_threshold() == before
