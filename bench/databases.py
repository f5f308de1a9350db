"""The databases a bench run measures, each fresh and its own: a SQLite file
under var/bench/, or a PostgreSQL database created for the run on the server
at ``BENCH_POSTGRES_URL`` (default: the local one the tests use) and dropped
afterwards.  Nothing of a run is left in a database anybody else uses."""

from __future__ import annotations

import os
from pathlib import Path

from tests.stack import ROOT

VAR_BENCH = ROOT / "var" / "bench"
DATABASES = ("sqlite", "postgres")
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
POSTGRES_PREFIX = "ibkr_bench_"


def postgres_server() -> str:
    """The server (any database on it to connect to) where runs create theirs."""
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _with_name(url: str, name: str) -> str:
    base, _, _ = url.rstrip("/").rpartition("/")
    return f"{base}/{name}"


def _admin(sql: str) -> None:
    import psycopg

    server = postgres_server().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)  # type: ignore[arg-type]  # a name we made, never input


def database_url(kind: str, token: str) -> tuple[str, Path | None]:
    """A fresh database of ``kind`` for run ``token``: its URL, and the SQLite
    file (None for PostgreSQL)."""
    if kind == "sqlite":
        VAR_BENCH.mkdir(parents=True, exist_ok=True)
        path = VAR_BENCH / f"bench-{token}.sqlite3"
        return f"sqlite:///{path}", path
    if kind != "postgres":
        raise ValueError(f"unknown database {kind!r}")
    name = POSTGRES_PREFIX + token
    _admin(f'CREATE DATABASE "{name}"')
    return _with_name(postgres_server(), name), None


def drop(url: str, sqlite_path: Path | None) -> None:
    """Remove a run's database."""
    if sqlite_path is not None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        return
    name = url.rstrip("/").rpartition("/")[2]
    if name.startswith(POSTGRES_PREFIX):
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
