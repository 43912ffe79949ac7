"""Import a CSV file into a SQLite table, for the data worker of this example to query.

    python import_csv.py expenses.csv ~/.local/share/pepper/data.sqlite3 [--table expenses]

The header row names the columns; a column whose every value is a number is stored as REAL, the
rest as TEXT. The table is replaced if it exists. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import re
import sqlite3
from pathlib import Path

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def import_csv(source: Path, db: Path, table: str) -> int:
    """Replace `table` in `db` with the rows of `source`; the number of rows imported."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise SystemExit(f"{source} is empty")
    header, body = rows[0], rows[1:]
    for name in [table, *header]:
        if not IDENTIFIER.match(name):
            raise SystemExit(f"{name!r} is not usable as a SQL name: letters, digits and _ only")
    numeric = [all(_number(row[i]) for row in body if i < len(row)) for i in range(len(header))]
    columns = ", ".join(
        f"{name} {'REAL' if number else 'TEXT'}" for name, number in zip(header, numeric, strict=True)
    )
    values = [[float(v) if numeric[i] else v for i, v in enumerate(row)] for row in body]
    with sqlite3.connect(db) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.execute(f"CREATE TABLE {table} ({columns})")
        connection.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(header))})", values)
    return len(values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("db", type=Path)
    parser.add_argument("--table", default=None, help="table name (default: the CSV file's name)")
    arguments = parser.parse_args(argv)
    table = arguments.table or arguments.csv.stem
    count = import_csv(arguments.csv, arguments.db, table)
    print(f"imported {count} rows into {arguments.db} table {table}")


if __name__ == "__main__":
    main()
