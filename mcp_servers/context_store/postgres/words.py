"""The PostgreSQL keyword index: which items' words `items.tsv` holds, and keeping it to the rule.

`tsv` is a plain column set by a trigger (`items_words`, BEFORE INSERT OR UPDATE, so the server's
upserts, `migrate`'s COPY and any other writer follow it): `to_tsvector('simple', text)`, or NULL
when the item has no text or its namespace is one of the unindexed namespaces
(`PEPPER_CONTEXT_UNINDEXED_NAMESPACES`, default `raw.email`, whose keyword search the gmail server's
own index answers). The list is written into the trigger function as a constant and recorded in
`meta` (`lexical.unindexed`); at open, a different setting replaces both in one short transaction,
and then a backfill, in batches of `BATCH` row ids each committed on its own (no lock held on the
table between batches), drops the words of namespaces newly unindexed and gives those indexed again
back theirs. `lexical.checked` records the rule the last complete backfill enforced, so a backfill
cut short (a crash, a stop) is finished at the next open. A schema of the previous format (a
GENERATED `tsv` holding every item's words) is upgraded in place: the expression is dropped (the
values stay, no rewrite), the trigger added, and the backfill clears the unindexed namespaces' words;
when at least one item in ten lost its words, the GIN index is rebuilt (`REINDEX INDEX CONCURRENTLY`,
no lock on writes), since VACUUM leaves their keys and pages in it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from ..errors import StorageError
from ..settings import ContextStoreSettings

__all__ = ["BATCH", "DEFAULT_UNINDEXED", "backfill", "check_owner", "enforce_rule", "shrink_index"]

logger = logging.getLogger(__name__)

BATCH = 2000  # row ids per backfill transaction
SHRINK_SHARE = 10  # the keyword index is rebuilt when at least 1 item in 10 lost its words
# The setting's default, for a new schema opened without a setting (`migrate` from an older file).
DEFAULT_UNINDEXED: tuple[str, ...] = ContextStoreSettings.model_fields["unindexed_namespaces"].default
RULE_KEY, CHECKED_KEY = "lexical.unindexed", "lexical.checked"

WORDS_FUNCTION = """
CREATE OR REPLACE FUNCTION items_words() RETURNS trigger LANGUAGE plpgsql AS $words$
BEGIN
    NEW.tsv := CASE WHEN NEW.text IS NULL OR NEW.namespace = ANY({unindexed}::text[]) THEN NULL
        ELSE to_tsvector('simple', NEW.text) END;
    RETURN NEW;
END
$words$
"""
WORDS_TRIGGER = (
    "CREATE TRIGGER items_words BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_words()"
)
# A row whose words disagree with the rule; updating it (any column) makes the trigger set them right.
WRONG = "(tsv IS NULL) IS DISTINCT FROM (text IS NULL OR namespace = ANY(%s::text[]))"


async def _value(connection: Any, query: str, *parameters: Any) -> Any:
    row = await (await connection.execute(query, parameters or None)).fetchone()
    return None if row is None else row[0]


async def enforce_rule(connection: Any, schema: str, unindexed: Sequence[str] | None) -> list[str]:
    """Make the trigger and `meta` hold `unindexed` (None: keep the recorded rule, or the default for
    a new schema); upgrade a previous-format `tsv` first. Runs inside `create_schema`'s transaction,
    with its search path; returns the rule in force."""
    generated = await _value(
        connection,
        "SELECT attgenerated = 's' FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'tsv'",
    )
    has_trigger = await _value(
        connection, "SELECT 1 FROM pg_trigger WHERE tgrelid = 'items'::regclass AND tgname = 'items_words'"
    )
    recorded_text = await _value(connection, "SELECT value FROM meta WHERE key = %s", RULE_KEY)
    recorded = json.loads(recorded_text) if recorded_text is not None else None
    if unindexed is None:
        unindexed = recorded if recorded is not None else DEFAULT_UNINDEXED
    wanted = sorted(set(unindexed))
    if not generated and has_trigger and recorded == wanted:
        return wanted
    # Waits for writers in flight (they may have used the old rule) and holds new ones until the
    # commit, so the backfill that follows sees every row written under the old rule.
    await connection.execute("LOCK TABLE items IN SHARE ROW EXCLUSIVE MODE")
    if generated:
        logger.info("schema %s: tsv becomes a plain column kept by a trigger (values kept)", schema)
        await connection.execute("ALTER TABLE items ALTER COLUMN tsv DROP EXPRESSION")
    await connection.execute(sql.SQL(WORDS_FUNCTION).format(unindexed=sql.Literal(wanted)))
    if not has_trigger:
        await connection.execute(WORDS_TRIGGER)
    await _record(connection, RULE_KEY, json.dumps(wanted))
    if await _value(connection, "SELECT NOT EXISTS (SELECT 1 FROM items)"):
        await _record(connection, CHECKED_KEY, json.dumps(wanted))  # nothing to backfill
    if recorded is not None and recorded != wanted:
        logger.info(
            "schema %s: namespaces left out of the keyword index now %s (were %s)", schema, wanted, recorded
        )
    return wanted


async def check_owner(connection: Any, schema: str) -> None:
    """Opening upgrades the tables in place (indexes, the keyword trigger), which only their owner
    may do: say so, naming the owner, before PostgreSQL refuses. Nothing to check in a new schema."""
    row = await (
        await connection.execute(
            "SELECT relowner::regrole::text, pg_has_role(relowner, 'USAGE') FROM pg_class "
            "WHERE oid = to_regclass(format('%%I.items', %s::text))",
            (schema,),
        )
    ).fetchone()
    if row is not None and not row[1]:
        user = await _value(connection, "SELECT current_user")
        raise StorageError(
            f"the items table of schema {schema} belongs to {row[0]}, and only its owner may upgrade it "
            f"at open; this server connects as {user}: connect as {row[0]} (for a tenant, its own "
            f"database_url), or run ALTER TABLE {schema}.items OWNER TO {user} (and its other tables)"
        )


async def _record(connection: Any, key: str, value: str) -> None:
    await connection.execute(
        "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def backfill(connection: Any, batch: int = BATCH) -> int:
    """Bring every row's words in line with the recorded rule, `batch` row ids per transaction, if
    the last complete backfill enforced another rule; returns how many rows changed. The connection
    is in autocommit mode with the tenant's search path."""
    rule = await _value(connection, "SELECT value FROM meta WHERE key = %s", RULE_KEY)
    if rule is None or rule == await _value(connection, "SELECT value FROM meta WHERE key = %s", CHECKED_KEY):
        return 0
    unindexed = json.loads(rule)
    # Rows stored since the rule was committed follow it already (the trigger): the ids to check end here.
    low, high = await (await connection.execute("SELECT min(rowid), max(rowid) FROM items")).fetchone()
    changed = cleared = 0
    for start in range(low or 0, (high or -1) + 1, batch):
        async with connection.transaction():
            counts = await connection.execute(
                f"WITH fixed AS (UPDATE items SET text = text WHERE rowid >= %s AND rowid < %s AND {WRONG} "
                "RETURNING tsv IS NULL AS cleared) SELECT count(*), count(*) FILTER (WHERE cleared) FROM fixed",
                (start, start + batch, unindexed),
            )
            done, gone = await counts.fetchone()
            changed, cleared = changed + done, cleared + gone
    async with connection.transaction():  # unless another process changed the rule meanwhile
        if await _value(connection, "SELECT value FROM meta WHERE key = %s FOR UPDATE", RULE_KEY) == rule:
            await _record(connection, CHECKED_KEY, rule)
    if changed:
        logger.info("keyword index: %d items' words set to the rule (unindexed: %s)", changed, unindexed)
    if cleared and cleared * SHRINK_SHARE >= await _value(connection, "SELECT count(*) FROM items"):
        await shrink_index(connection)
    return changed


async def shrink_index(connection: Any) -> None:
    """Rebuild the keyword index without the cleared words' keys and pages (VACUUM frees their
    postings for reuse but keeps both), without blocking reads or writes; a failure costs only space."""
    try:
        leftovers = await connection.execute(  # an invalid copy left by a rebuild that was cut short
            "SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE NOT i.indisvalid "
            "AND c.relname LIKE 'items\\_by\\_words\\_ccnew%' "
            "AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        )
        for (name,) in await leftovers.fetchall():
            await connection.execute(
                sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(name))
            )
        await connection.execute("REINDEX INDEX CONCURRENTLY items_by_words")
    except psycopg.Error as exc:
        logger.warning(
            "the keyword index keeps the space of the words cleared (%s); REINDEX INDEX CONCURRENTLY "
            "items_by_words returns it",
            exc,
        )
