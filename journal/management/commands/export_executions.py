"""Export the journal as CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from journal.admin import EXPORT_FIELDS
from journal.selectors import executions_query


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    when = parse_datetime(text)
    if when is None:
        try:
            when = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        except ValueError as exc:
            raise CommandError(f"not an ISO 8601 date or time: {text!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Export executions (oldest first) as CSV or JSON to stdout or a file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--since", help="ISO 8601, inclusive (UTC without an offset)")
        parser.add_argument("--until", help="ISO 8601, exclusive")
        parser.add_argument("--symbol")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--output", help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = executions_query(
            symbol=options["symbol"],
            since=_moment(options["since"]),
            until=_moment(options["until"]),
        ).order_by("executed_at", "id")
        out: Any
        if options["output"]:
            out = open(options["output"], "w", newline="")  # noqa: SIM115
        else:
            # The command's stdout (call_command(stdout=...) captures it), written as is.
            self.stdout.ending = ""
            out = self.stdout
        try:
            if options["format"] == "csv":
                writer = csv.writer(out)
                writer.writerow(EXPORT_FIELDS)
                for row in rows.iterator():
                    writer.writerow([_text(getattr(row, name)) for name in EXPORT_FIELDS])
            else:
                out.write("[")
                for index, row in enumerate(rows.iterator()):
                    item = {name: _json(getattr(row, name)) for name in EXPORT_FIELDS}
                    out.write(("," if index else "") + "\n" + json.dumps(item))
                out.write("\n]\n")
        finally:
            if out is not self.stdout:
                out.close()


def _text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return "" if value is None else value


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if value is None or isinstance(value, int | str):
        return value
    return str(value)
