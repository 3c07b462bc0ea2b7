"""A delivery batch reads its structures once (review r31): every attempt checks its structure is still active, and
a read per job cost up to ~45 read units each (a structure's record holds its services)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.domain.directory import Structure
from chalicelib.services.webhooks import BatchStructures

ACTIVE, INACTIVE, OTHER = "55203253400646", "73282932000074", "21750000100011"


class CountingDirectory:
    def __init__(self, fail_first: bool = False):
        self.calls: list[list[str]] = []
        self.fail_first = fail_first
        self.records = {
            ACTIVE: Structure(ACTIVE, "A", ("supplier",)),
            INACTIVE: Structure(INACTIVE, "B", ("supplier",), active=False),
            OTHER: Structure(OTHER, "C", ("recipient",)),
        }

    def structures(self, sirets, *, consistent=True):
        self.calls.append(list(sirets))
        if self.fail_first and len(self.calls) == 1:
            raise TimeoutError("DynamoDB did not answer")
        return {s: self.records[s] for s in sirets if s in self.records}


def test_the_batch_s_attempts_share_one_read():
    directory = CountingDirectory()
    batch = BatchStructures(directory, [ACTIVE, INACTIVE, ACTIVE] * 3)
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda siret: batch.structures([siret]), [ACTIVE, INACTIVE] * 5))
    assert directory.calls == [[ACTIVE, INACTIVE]]
    assert answers[0][ACTIVE].active and not answers[1][INACTIVE].active


def test_a_structure_the_batch_did_not_announce_is_read_on_its_own():
    directory = CountingDirectory()
    batch = BatchStructures(directory, [ACTIVE])
    assert set(batch.structures([ACTIVE, OTHER])) == {ACTIVE, OTHER}
    assert directory.calls == [sorted([ACTIVE, OTHER])]  # the first read takes the asker's too
    assert not batch.structures([INACTIVE])[INACTIVE].active
    assert directory.calls == [sorted([ACTIVE, OTHER]), [INACTIVE]]


def test_a_failed_read_fails_that_attempt_and_the_next_one_reads_again():
    directory = CountingDirectory(fail_first=True)
    batch = BatchStructures(directory, [ACTIVE])
    with pytest.raises(TimeoutError):
        batch.structures([ACTIVE])
    assert batch.structures([ACTIVE])[ACTIVE].active
    assert len(directory.calls) == 2
