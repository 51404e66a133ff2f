from pathlib import Path

import pytest
from agent_framework_hosting import DiskStateStore, MemoryStateStore, StateStore
from agent_framework_hosting.testing import (
    SharedStateStoreConformanceTests,
    StateStoreConformanceTests,
)


class TestMemoryStateStore(StateStoreConformanceTests):
    async def open_store(self) -> StateStore:
        return MemoryStateStore()


class TestDiskStateStore(SharedStateStoreConformanceTests):
    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: Path) -> None:
        self.directory = tmp_path / "state"

    async def open_store(self) -> StateStore:
        return DiskStateStore(self.directory)

    async def open_peer(self, store: StateStore) -> StateStore:
        return DiskStateStore(self.directory)
