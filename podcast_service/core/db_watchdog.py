"""A client-side limit on every wait for PostgreSQL, for the server that hangs rather than fails.

statement_timeout is enforced by the server, and TCP keepalives are
answered by the peer's kernel, so neither ends a wait on a server (or a
proxy, or a network path) that has stopped answering while its sockets stay
open: every request would hang. This watchdog notes when each round trip
(a statement, a commit, a rollback) begins; a thread looks twice a second
for connections still waiting on the server past the timeout (libpq says
ACTIVE, and no answer waits in the socket) and shuts their socket down. The waiting call then fails with a
disconnect, SQLAlchemy discards the connection, and the request answers 503.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
SWEEP_SECONDS = 0.5


class Watchdog:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._started: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._pid: int | None = None

    def mark(self, dbapi_connection: Any) -> None:
        """A round trip to the server begins on this connection now."""
        with self._lock:
            self._started[dbapi_connection] = time.monotonic()
        if self._pid != os.getpid():  # first use in this process (a pre-forking server forks after import)
            self._pid = os.getpid()
            threading.Thread(target=self._sweep, name="db-watchdog", daemon=True).start()

    def _sweep(self) -> None:
        while True:
            time.sleep(SWEEP_SECONDS)
            self.sweep_once()

    def sweep_once(self) -> int:
        """Cut the connections waiting on the server past the timeout; how many.

        Waiting means libpq says a command is in progress (ACTIVE) and nothing
        has come back: a connection whose answer sits unread in its socket
        (its thread starved of CPU by an encode, or busy elsewhere) is healthy
        and left alone.
        """
        from psycopg.pq import TransactionStatus

        now = time.monotonic()
        with self._lock:
            overdue = [c for c, started in list(self._started.items()) if now - started > self.timeout]
        cut = 0
        for connection in overdue:
            try:
                if connection.closed or connection.pgconn.transaction_status != TransactionStatus.ACTIVE:
                    continue
                if self._answered(connection.pgconn.socket):
                    continue
                self._cut(connection.pgconn.socket)
            except Exception:
                continue
            cut += 1
            log.error("database: no answer in %s s; connection cut so the request can fail cleanly", self.timeout)
            with self._lock:
                self._started.pop(connection, None)
        return cut

    @staticmethod
    def _answered(fd: int) -> bool:
        """Whether the server's answer (or its hanging up) is waiting to be read."""
        readable, _, _ = select.select([fd], [], [], 0)
        return bool(readable)

    @staticmethod
    def _cut(fd: int) -> None:
        """Shut the socket down (through a duplicate descriptor, leaving the original to libpq)."""
        sock = socket.socket(fileno=os.dup(fd))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()


def install(engine: Engine, timeout: float) -> None:
    """Watch every round trip of this PostgreSQL engine."""
    watchdog = Watchdog(timeout)

    def mark(conn, *_args: Any) -> None:  # noqa: ANN001
        watchdog.mark(conn.connection.dbapi_connection)

    for name in ("before_cursor_execute", "commit", "rollback"):
        event.listen(engine, name, mark)
