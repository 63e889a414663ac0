"""Several server processes on one data folder: each tells the others what it wrote.

The embedded store keeps things in memory that a write elsewhere makes old: the caches that
`Store.observe_writes` keeps honest (a session's state, who may read it, the caller's
account) and the live feeds waiting for a database's next change. In one process the store
reports each commit to them before the writer is answered. With several processes on the
same files, a commit in one must reach the others, and until it has, their caches must not
answer for what it changed. Two parts do that:

- `WriteGenerations`: a small file of counters shared through `mmap`. Each commit adds one
  to the counters of the document groups it wrote (`partition`: a session and its events,
  one account) and of its database, under a file lock, before its writer is answered.
- `PeerBus`: a Unix datagram socket per process in the data folder. After the counters,
  the writer sends the others what it wrote (database, ids, seq, the counters' new values);
  each one's receiving thread drops what its caches hold of those ids, wakes its feeds, and
  only then counts the write as applied (`Applied`).

A cache trusts an entry only while every counter it depends on equals what this process has
applied (`Applied.current`): a write another process committed and counted but whose message
has not been applied yet closes exactly the groups it wrote, and a lookup there reads the
store instead. A message lost (a peer's buffer full, a process killed between its count and
its message) leaves a counter ahead for good; after `STALL_S` the process forgets every
cached entry and takes the counters as they are, which is always safe.

Counters are hashed into `SLOTS` slots. Two groups sharing a slot only cost each other a
cache miss now and then.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import mmap
import os
import selectors
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from ..observed_cache import partition
from ..private_files import private_dir

_log = logging.getLogger("branchline.peers")

SLOTS = 1 << 16
_SLOT_BYTES = 8
# How long a counter may stay ahead of what this process applied before it gives up waiting
# for the message and forgets its caches (a lost datagram, a peer killed mid-write).
STALL_S = 1.0
# A commit moving more counters than this moves the database's own counter instead, and its
# message names no ids: the receivers forget the whole database (a replicated batch of
# thousands of documents), which is rare and always correct. Messages stay small.
MAX_GROUPS = 256
_MAX_MESSAGE = 64 * 1024
# How often the sender looks for processes that came or went.
_PEERS_REFRESH_S = 0.5


def slot_of(db: str, group: str | None) -> int:
    """The counter of a group of `db`'s documents (None: the database as a whole)."""
    key = f"{db}\x00{group}" if group is not None else db
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) & (SLOTS - 1)


def slots_written(db: str, ids: Iterable[str] | None) -> list[int]:
    """The counters a commit of `ids` (None: the whole database) moves on.

    A commit of documents moves only their groups' counters, so a team writing one database
    from every process never closes the groups it did not touch; the database's own counter
    moves only when it is created, deleted or written too widely to name the ids.
    """
    if ids is None:
        return [slot_of(db, None)]
    slots = {slot_of(db, partition(docid)) for docid in ids}
    if len(slots) > MAX_GROUPS:
        return [slot_of(db, None)]
    return sorted(slots)


def peers_running(data_dir: str | os.PathLike[str]) -> bool:
    """Whether server processes sharing `data_dir` have their mailboxes open."""
    folder = Path(data_dir) / "dbs" / ".peers"
    try:
        return any(name.endswith(".sock") for name in os.listdir(folder))
    except OSError:
        return False


class WriteGenerations:
    """The shared counters (a file of `SLOTS` 64-bit integers, mapped into memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.fstat(fd).st_size < SLOTS * _SLOT_BYTES:
                    os.ftruncate(fd, SLOTS * _SLOT_BYTES)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self._mm = mmap.mmap(fd, SLOTS * _SLOT_BYTES)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._view = memoryview(self._mm).cast("Q")
        # The lock between this process's threads; the file lock is between processes.
        self._lock = threading.Lock()

    def value(self, slot: int) -> int:
        # An aligned 8-byte load: a bump in another process is seen whole or not at all.
        return int(self._view[slot])

    def snapshot(self) -> bytes:
        return bytes(self._mm)

    def bump(self, slots: list[int]) -> list[tuple[int, int]]:
        """Add one to each slot (sorted, distinct); answer (slot, new value) pairs."""
        out = []
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                view = self._view
                for slot in slots:
                    value = view[slot] + 1
                    view[slot] = value
                    out.append((slot, value))
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        return out

    def close(self) -> None:
        with contextlib.suppress(BufferError):
            self._view.release()
            self._mm.close()
        with contextlib.suppress(OSError):
            os.close(self._fd)


class Applied:
    """Up to which value of each counter this process has applied every write."""

    def __init__(self, gens: WriteGenerations, clock: Callable[[], float] = time.monotonic) -> None:
        self._gens = gens
        self._clock = clock
        # A fresh process has nothing cached: every write so far counts as applied.
        self._mark = memoryview(bytearray(gens.snapshot())).cast("Q")
        self._early: dict[int, set[int]] = {}  # values applied ahead of a missing one
        self._lock = threading.Lock()
        self._behind_since: dict[int, tuple[float, int]] = {}

    def current(self, slot: int) -> int | None:
        """The counter's value when this process has applied every write it counts, else None."""
        value = self._gens.value(slot)
        return value if value == self._mark[slot] else None

    def record(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Writes counted as (slot, value) are applied here (their caches' entries dropped)."""
        with self._lock:
            mark = self._mark
            for slot, value in pairs:
                if value <= mark[slot]:
                    continue
                early = self._early.setdefault(slot, set())
                early.add(value)
                while mark[slot] + 1 in early:
                    early.discard(mark[slot] + 1)
                    mark[slot] += 1
                if not early:
                    del self._early[slot]

    def stalled(self) -> list[tuple[int, int]]:
        """(slot, counter) of the slots ahead of this process, with no progress, for `STALL_S`.

        The caller forgets every cached entry and then calls `take_as_applied` with them.
        """
        now = self._clock()
        shared = self._gens.snapshot()
        with self._lock:  # copied, so writers' `record` never waits for the scan below
            mine = self._mark.tobytes()
        if shared == mine:
            self._behind_since.clear()
            return []
        ahead, marks = memoryview(shared).cast("Q"), memoryview(mine).cast("Q")
        behind: dict[int, int] = {}
        # Compared 4 KB at a time: a busy server is behind on a handful of slots.
        step = 512
        for start in range(0, SLOTS, step):
            lo, hi = start * _SLOT_BYTES, (start + step) * _SLOT_BYTES
            if shared[lo:hi] == mine[lo:hi]:
                continue
            for slot in range(start, start + step):
                if ahead[slot] > marks[slot]:
                    behind[slot] = marks[slot]
        # The bookkeeping below is this method's own (one caller: the bus thread).
        stuck = []
        since = {}
        for slot, mark in behind.items():
            seen = self._behind_since.get(slot)
            if seen is None or seen[1] != mark:
                since[slot] = (now, mark)
            elif now - seen[0] >= STALL_S:
                stuck.append((slot, int(ahead[slot])))
            else:
                since[slot] = seen
        self._behind_since = since
        return stuck

    def take_as_applied(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Count every write up to these values as applied (the caches were just emptied)."""
        with self._lock:
            for slot, value in pairs:
                if value > self._mark[slot]:
                    self._mark[slot] = value
                early = self._early.get(slot)
                if early is not None:
                    early.difference_update([v for v in early if v <= self._mark[slot]])
                    while self._mark[slot] + 1 in early:
                        early.discard(self._mark[slot] + 1)
                        self._mark[slot] += 1
                    if not early:
                        del self._early[slot]


class PeerBus:
    """This process's mailbox, and its connections to the others' mailboxes, in `folder`.

    Unix `SOCK_SEQPACKET` sockets: messages keep their boundaries as datagrams do, but each
    sender has its own connection, queued by bytes (a datagram mailbox holds only ten messages
    on a default Linux, which a busy peer overran in milliseconds). A peer whose connection
    ends has exited: whatever it committed but had not yet counted would never reach this
    process, so `on_peer_gone` forgets the caches.
    """

    def __init__(
        self,
        folder: Path,
        on_message: Callable[[dict[str, Any]], None],
        on_peer_gone: Callable[[], None] | None = None,
    ) -> None:
        self.folder = private_dir(folder)
        self.address = folder / f"{os.getpid()}-{os.urandom(4).hex()}.sock"
        # A socket's path may not exceed 107 bytes, and a data folder can be deep. Through
        # the folder's descriptor (Linux's /proc/self/fd) every path is short; the folder's
        # own permissions still apply.
        self._folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._listener.bind(self._reach(self.address.name))
        os.chmod(self.address, 0o600)
        self._listener.listen(64)
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._on_message = on_message
        self._on_peer_gone = on_peer_gone
        self._out: dict[str, socket.socket] = {}  # peer's mailbox name -> our connection to it
        self._out_at = 0.0
        self._out_lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self.on_idle: Callable[[], None] | None = None
        self.sent = self.received = self.dropped = self.peers_gone = 0
        self._thread = threading.Thread(target=self._receive, name="peer-bus", daemon=True)
        self._thread.start()

    def _reach(self, name: str) -> str:
        """The path to use for mailbox `name` in the folder: short enough for a socket."""
        full = str(self.folder / name)
        return full if len(full.encode()) < 100 else f"/proc/self/fd/{self._folder_fd}/{name}"

    def _connections(self) -> list[tuple[str, socket.socket]]:
        """Our connections to every other mailbox in the folder (new ones looked for twice a second)."""
        now = time.monotonic()
        with self._out_lock:
            if now - self._out_at >= _PEERS_REFRESH_S:
                self._out_at = now
                mine = self.address.name
                try:
                    names = {n for n in os.listdir(self.folder) if n.endswith(".sock") and n != mine}
                except OSError:
                    names = set()
                for name in set(self._out) - names:
                    self._out.pop(name).close()
                for name in names - set(self._out):
                    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                    try:
                        conn.connect(self._reach(name))
                    except OSError as exc:
                        conn.close()
                        if exc.errno == errno.ECONNREFUSED:
                            self._unlink(name)  # left behind by a process that ended
                        continue
                    conn.setblocking(False)
                    with contextlib.suppress(OSError):
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
                    self._out[name] = conn
            return list(self._out.items())

    def publish(self, message: dict[str, Any]) -> None:
        if self._closed:
            return
        data = orjson.dumps(message)
        if len(data) > _MAX_MESSAGE:
            # Thousands of ids: the receivers forget the database whole instead.
            data = orjson.dumps({**message, "ids": None})
        for name, conn in self._connections():
            try:
                conn.send(data)
                self.sent += 1
            except BlockingIOError:
                # The peer is far behind: it will find the counters ahead and forget its caches
                # after STALL_S. Waiting here would hold a writer's answer.
                self.dropped += 1
            except OSError:
                self.dropped += 1
                with self._out_lock:
                    if self._out.get(name) is conn:
                        del self._out[name]
                conn.close()

    def _unlink(self, name: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.folder / name)

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                events = self._selector.select(timeout=0.25)
            except OSError:
                if self._stop.is_set():
                    return
                _log.exception("the peer bus could not wait for messages")
                time.sleep(0.25)
                continue
            for key, _ in events:
                if key.data is None:
                    self._accept()
                else:
                    self._read(key.fileobj)  # type: ignore[arg-type]
            idle = self.on_idle
            if idle is not None:
                try:
                    idle()
                except Exception:  # noqa: BLE001
                    _log.exception("the peer bus's stall check failed")

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                if not self._stop.is_set():
                    _log.exception("the peer bus could not accept a connection")
                return
            conn.setblocking(False)
            self._selector.register(conn, selectors.EVENT_READ, "peer")

    def _read(self, conn: socket.socket) -> None:
        # Everything queued on this connection, then the next one: a busy peer's messages
        # are applied in a batch per wake-up.
        while True:
            try:
                data = conn.recv(_MAX_MESSAGE + 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self._selector.unregister(conn)
                conn.close()
                self.peers_gone += 1
                if self._on_peer_gone is not None and not self._stop.is_set():
                    try:
                        self._on_peer_gone()
                    except Exception:  # noqa: BLE001
                        _log.exception("forgetting the caches after a peer left failed")
                return
            self.received += 1
            try:
                self._on_message(orjson.loads(data))
            except Exception:  # noqa: BLE001 - one bad message must not end the receiver
                _log.exception("a peer's write message could not be applied")

    def close(self) -> None:
        """Leave: no more messages in or out (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._unlink(self.address.name)
        self._thread.join(timeout=2)
        with self._out_lock:
            for conn in self._out.values():
                conn.close()
            self._out.clear()
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()
        with contextlib.suppress(OSError):
            os.close(self._folder_fd)
