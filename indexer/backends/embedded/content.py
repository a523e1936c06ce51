"""Document contents, zstd-compressed in blocks of about 16 KB (`IndexOptions.content_block_bytes`).

Small files compress badly alone; blocks of several files compress about 3.8x on code at zstd
level 3 (256 KB blocks at level 12: about 4.7x, at several times the CPU). A read decompresses the one block holding the document: a query verifies
several candidate files, and a small block costs it tens of microseconds instead of about a
millisecond. The last few blocks read are cached. Writing compresses on a background thread
(zstd releases the GIL), so it overlaps the build."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import zstandard
from cachetools import LRUCache

from indexer.backends.errors import CorruptIndexError

_IN_FLIGHT = 32  # blocks handed to the compressing thread and not yet written


class ContentWriter:
    """Appends texts to ``content.bin``; `add` returns where the text went (block, offset, length)."""

    def __init__(self, path: Path, block_bytes: int, level: int) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._compressor = zstandard.ZstdCompressor(level=level)  # used by the one compressing thread
        self._block_bytes = block_bytes
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._blocks = 0
        self._block_offsets: list[int] = [0]
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="compress")  # one thread: blocks in order
        self._writing: list[Future] = []

    def add(self, data: bytes) -> tuple[int, int, int]:
        where = (self._blocks, self._pending_size, len(data))
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= self._block_bytes:
            self._flush()
        return where

    def _flush(self) -> None:
        if not self._pending:
            return
        block = b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        self._blocks += 1
        while len(self._writing) >= _IN_FLIGHT:  # bounded memory
            self._writing.pop(0).result()
        self._writing.append(self._pool.submit(self._write_block, block))

    def _write_block(self, block: bytes) -> None:
        compressed = self._compressor.compress(block)
        self._file.write(compressed)
        self._block_offsets.append(self._block_offsets[-1] + len(compressed))

    def close(self, blocks_path: Path) -> None:
        self._flush()
        for writing in self._writing:
            writing.result()
        self._pool.shutdown()
        self._file.close()
        np.save(blocks_path, np.array(self._block_offsets, dtype=np.uint64))


class ContentReader:
    """Random access to the texts of one segment."""

    def __init__(self, path: Path, blocks_path: Path, cache_blocks: int = 128) -> None:
        self._data = (
            np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.zeros(0, np.uint8)
        )
        self._offsets = np.load(blocks_path)
        self._decompressor = zstandard.ZstdDecompressor()
        self._cache: LRUCache[int, bytes] = LRUCache(cache_blocks)

    def read(self, block: int, offset: int, length: int) -> bytes:
        raw = self._block(block)
        if offset + length > len(raw):
            raise CorruptIndexError(f"content block {block} is shorter than the document table says")
        return raw[offset : offset + length]

    def _block(self, block: int) -> bytes:
        cached = self._cache.get(block)
        if cached is not None:
            return cached
        start, end = int(self._offsets[block]), int(self._offsets[block + 1])
        try:
            raw = self._decompressor.decompress(self._data[start:end].tobytes())
        except zstandard.ZstdError as err:
            raise CorruptIndexError(f"content block {block} does not decompress ({err})") from err
        self._cache[block] = raw
        return raw
