"""Read TensorFlow 1 checkpoints (tensor bundles) without TensorFlow.

musicnn ships its pretrained weights as TensorFlow checkpoints, but TensorFlow is a ~600 MB
dependency that pins old numpy versions. The bundle format is small and documented:

* ``<prefix>.index`` is a LevelDB-style SSTable (data blocks of prefix-compressed key/value
  entries with restart points, an index block, a 48-byte footer ending in a magic number).
  Key ``""`` holds a ``BundleHeaderProto``; every other key is a variable name whose value is a
  ``BundleEntryProto`` (dtype, shape, shard, offset, size, crc32c).
* ``<prefix>.data-00000-of-00001`` holds the raw little-endian tensor bytes at those offsets.

This module decodes both with the standard library and numpy, including the few protobuf wire
types needed. Only uncompressed tables (what TensorFlow writes) and numeric dtypes are read.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aimv_backend.errors import ModelUnavailableError

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_BYTES = 48
BLOCK_TRAILER_BYTES = 5  # 1 byte compression type + 4 bytes masked crc32c

# tensorflow/core/framework/types.proto -> numpy little-endian dtype
_DTYPES: dict[int, np.dtype] = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    5: np.dtype("<i2"),  # DT_INT16
    6: np.dtype("i1"),  # DT_INT8
    9: np.dtype("<i8"),  # DT_INT64
    10: np.dtype("?"),  # DT_BOOL
    19: np.dtype("<f2"),  # DT_HALF
}


@dataclass(frozen=True)
class TensorEntry:
    """Where one variable lives in the data shard (a decoded BundleEntryProto)."""

    name: str
    dtype: int
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int


class CheckpointFormatError(ModelUnavailableError):
    """The checkpoint files are missing, truncated or not a TensorFlow tensor bundle."""


# --------------------------------------------------------------------------------------------
# Protobuf wire format (just enough for BundleEntryProto and TensorShapeProto)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise CheckpointFormatError("truncated varint in checkpoint index")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise CheckpointFormatError("varint too long in checkpoint index")


def _fields(buf: bytes) -> list[tuple[int, int, int | bytes]]:
    """Decode a protobuf message into (field number, wire type, value) triples."""
    out: list[tuple[int, int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value = bytes(buf[pos : pos + length])
            pos += length
        elif wire == 5:
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise CheckpointFormatError(f"unsupported protobuf wire type {wire}")
        out.append((number, wire, value))
    return out


def _shape(buf: bytes) -> tuple[int, ...]:
    """TensorShapeProto: repeated Dim dim = 2 {int64 size = 1; string name = 2}."""
    dims = []
    for number, _, value in _fields(buf):
        if number == 2:
            size = 0
            for n, _, v in _fields(value):  # type: ignore[arg-type]
                if n == 1:
                    size = int(v)  # type: ignore[arg-type]
            dims.append(size)
        elif number == 3 and value:  # unknown_rank
            raise CheckpointFormatError("checkpoint tensor has unknown rank")
    return tuple(dims)


def _entry(name: str, buf: bytes) -> TensorEntry:
    values: dict[int, int | bytes] = {}
    for number, _, value in _fields(buf):
        values[number] = value
    if 7 in values:
        raise CheckpointFormatError(f"checkpoint variable {name!r} is partitioned (unsupported)")
    return TensorEntry(
        name=name,
        dtype=int(values.get(1, 0)),  # type: ignore[arg-type]
        shape=_shape(values.get(2, b"")),  # type: ignore[arg-type]
        shard_id=int(values.get(3, 0)),  # type: ignore[arg-type]
        offset=int(values.get(4, 0)),  # type: ignore[arg-type]
        size=int(values.get(5, 0)),  # type: ignore[arg-type]
        crc32c=int(values.get(6, 0)),  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------------------------
# SSTable (LevelDB table format)


def _block_handle(buf: bytes, pos: int) -> tuple[int, int, int]:
    offset, pos = _varint(buf, pos)
    size, pos = _varint(buf, pos)
    return offset, size, pos


def _read_block(table: bytes, offset: int, size: int) -> bytes:
    end = offset + size
    if end + BLOCK_TRAILER_BYTES > len(table):
        raise CheckpointFormatError("checkpoint index block runs past the end of the file")
    if table[end] != 0:
        raise CheckpointFormatError(
            f"checkpoint index block uses compression type {table[end]} (only 0 is supported)"
        )
    return table[offset:end]


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    """All key/value pairs of one block, undoing LevelDB's key prefix compression."""
    if len(block) < 4:
        raise CheckpointFormatError("checkpoint index block is too short")
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 - 4 * num_restarts
    if limit < 0:
        raise CheckpointFormatError("checkpoint index block has a bad restart array")
    entries: list[tuple[bytes, bytes]] = []
    key = b""
    pos = 0
    while pos < limit:
        shared, pos = _varint(block, pos)
        non_shared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        if shared > len(key) or pos + non_shared + value_len > limit:
            raise CheckpointFormatError("checkpoint index block entry is corrupt")
        key = key[:shared] + block[pos : pos + non_shared]
        pos += non_shared
        entries.append((key, block[pos : pos + value_len]))
        pos += value_len
    return entries


def read_index(index_path: str | os.PathLike[str]) -> dict[str, TensorEntry]:
    """Decode a ``.index`` file into {variable name: TensorEntry}, in file order."""
    path = Path(index_path)
    try:
        table = path.read_bytes()
    except OSError as exc:
        raise CheckpointFormatError(
            f"checkpoint index {str(path)!r} cannot be read: {exc.strerror}"
        ) from None
    if len(table) < FOOTER_BYTES:
        raise CheckpointFormatError(f"checkpoint index {str(path)!r} is too short")
    footer = table[-FOOTER_BYTES:]
    if struct.unpack_from("<Q", footer, 40)[0] != TABLE_MAGIC:
        raise CheckpointFormatError(f"checkpoint index {str(path)!r} is not an SSTable")
    _, _, pos = _block_handle(footer, 0)  # metaindex (unused)
    index_offset, index_size, _ = _block_handle(footer, pos)
    entries: dict[str, TensorEntry] = {}
    for _, handle in _block_entries(_read_block(table, index_offset, index_size)):
        offset, size, _ = _block_handle(handle, 0)
        for key, value in _block_entries(_read_block(table, offset, size)):
            if not key:  # BundleHeaderProto: num_shards=1, endianness=2 (0 = little)
                header = {n: v for n, _, v in _fields(value)}
                if header.get(2, 0) != 0:
                    raise CheckpointFormatError("big-endian checkpoints are not supported")
                continue
            name = key.decode("utf-8")
            entries[name] = _entry(name, value)
    return entries


class TFCheckpoint:
    """A TensorFlow tensor bundle opened for reading: ``ckpt.names``, ``ckpt[name]``.

    ``prefix`` is the path without the ``.index`` suffix (for musicnn it is the model folder
    plus "/", since its files are literally named ``.index`` and ``.data-00000-of-00001``).
    """

    def __init__(self, prefix: str | os.PathLike[str]):
        self.prefix = str(prefix)
        self.entries = read_index(self.prefix + ".index")
        self._data_paths: dict[int, Path] = {}
        shards = {e.shard_id for e in self.entries.values()}
        total = max(shards, default=0) + 1
        for shard in shards:
            p = Path(f"{self.prefix}.data-{shard:05d}-of-{total:05d}")
            if not p.is_file():
                raise CheckpointFormatError(f"checkpoint data file {str(p)!r} is missing")
            self._data_paths[shard] = p

    @property
    def names(self) -> list[str]:
        return list(self.entries)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {name: e.shape for name, e in self.entries.items()}

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def raw_bytes(self, name: str) -> bytes:
        """The stored bytes of one variable (checked against its recorded size)."""
        entry = self.entries[name]
        with open(self._data_paths[entry.shard_id], "rb") as fh:
            fh.seek(entry.offset)
            data = fh.read(entry.size)
        if len(data) != entry.size:
            raise CheckpointFormatError(
                f"checkpoint data for {name!r} is truncated ({len(data)} of {entry.size} bytes)"
            )
        return data

    def __getitem__(self, name: str) -> np.ndarray:
        entry = self.entries[name]
        dtype = _DTYPES.get(entry.dtype)
        if dtype is None:
            raise CheckpointFormatError(
                f"checkpoint variable {name!r} has unsupported dtype {entry.dtype}"
            )
        count = int(np.prod(entry.shape, dtype=np.int64)) if entry.shape else 1
        if count * dtype.itemsize != entry.size:
            raise CheckpointFormatError(
                f"checkpoint variable {name!r}: shape {entry.shape} needs "
                f"{count * dtype.itemsize} bytes, entry says {entry.size}"
            )
        array = np.frombuffer(self.raw_bytes(name), dtype=dtype, count=count)
        return array.reshape(entry.shape).astype(dtype.newbyteorder("="), copy=True)


# --------------------------------------------------------------------------------------------
# CRC32C (Castagnoli), to verify tensors the way TensorFlow's BundleReader does


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """Plain CRC-32C of ``data`` (pure Python: use on small tensors, ~3 MB/s)."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def unmask_crc(masked: int) -> int:
    """Undo LevelDB/TensorFlow's CRC masking (``rot = masked - 0xa282ead8; ror 15``)."""
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF
