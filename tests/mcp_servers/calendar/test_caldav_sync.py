"""Incremental CalDAV sync against a real Radicale: sync-collection, a lost token, and the ETag fallback."""

from __future__ import annotations

from pathlib import Path

import anyio
import caldav
import pytest
from caldav.lib import error as dav_error
from fastmcp import Client

from mcp_servers.calendar.caldav_provider import CaldavProvider
from mcp_servers.calendar.caldav_sync import CollectionMirror
from mcp_servers.calendar.server import build_server
from mcp_servers.calendar.settings import CalendarSettings
from tests.mcp_servers.calendar.test_caldav_provider import SERIES, ZONE, account, radicale  # noqa: F401

EXTRA = SERIES.replace("weekly@", "extra@").replace("Weekly review", "Extra")


async def _changes(client: Client, since: str | None) -> tuple[list[tuple[str, str]], str]:
    result = (await client.call_tool("list_changes", {"since": since} if since else {})).structured_content
    return [(c["op"], c["uid"]) for c in result["changes"]], result["cursor"]


def _other_client(url: str, user: str) -> caldav.Calendar:
    return caldav.DAVClient(url, username=user, password="x", timeout=10).principal().calendar(cal_id="work")


def _provider(url: str, user: str, sync_collection: bool = True) -> CaldavProvider:
    return CaldavProvider(url, user, "x", ZONE, timeout=5, sync_collection=sync_collection)


async def _walk_add_change_delete(client: Client, other: caldav.Calendar) -> None:
    """Another client adds, changes and deletes an event; each shows up once, then nothing more."""
    found, cursor = await _changes(client, None)
    assert found == [("created", "weekly@example.com")]
    added = await anyio.to_thread.run_sync(other.add_event, EXTRA)
    found, cursor = await _changes(client, cursor)
    assert found == [("created", "extra@example.com")]
    assert (await _changes(client, cursor))[0] == []
    added.data = EXTRA.replace("SUMMARY:Extra", "SUMMARY:Extra, moved")
    await anyio.to_thread.run_sync(added.save)
    found, cursor = await _changes(client, cursor)
    assert found == [("updated", "extra@example.com")]
    await anyio.to_thread.run_sync(added.delete)
    found, cursor = await _changes(client, cursor)
    assert found == [("deleted", "extra@example.com")]
    assert (await _changes(client, cursor))[0] == []


@pytest.mark.slow
@pytest.mark.anyio
async def test_sync_collection_reports_each_change_of_another_client_exactly_once(
    account: tuple[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    url, user = account
    provider = _provider(url, user)
    async with Client(build_server(CalendarSettings(state_dir=tmp_path), provider=provider)) as client:
        await _walk_add_change_delete(client, _other_client(url, user))
    mirror = provider._sources["work"].mirror
    assert (mirror.mode, mirror.full_reads) == ("sync", 1)  # one full listing, then only changes
    assert mirror.fetched == 3  # the series once, the extra event when added and when changed


@pytest.mark.slow
@pytest.mark.anyio
async def test_sync_collection_reads_in_full_after_an_invalid_token_without_duplicates(
    account: tuple[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    url, user = account
    provider = _provider(url, user)
    other = _other_client(url, user)
    async with Client(build_server(CalendarSettings(state_dir=tmp_path), provider=provider)) as client:
        _, cursor = await _changes(client, None)
        mirror = provider._sources["work"].mirror
        bogus = "http://radicale.org/ns/sync/" + "0" * 64
        await provider._run(lambda: setattr(mirror, "token", bogus))  # not while the monitor syncs
        gone = (await anyio.to_thread.run_sync(other.get_events))[0]
        await anyio.to_thread.run_sync(other.add_event, EXTRA)
        await anyio.to_thread.run_sync(gone.delete)  # deleted while the token was useless
        found, cursor = await _changes(client, cursor)
        assert sorted(found) == [("created", "extra@example.com"), ("deleted", "weekly@example.com")]
        assert (await _changes(client, cursor))[0] == []
    assert mirror.full_reads == 2 and mirror.token.startswith("http://radicale.org/ns/sync/")
    assert set(provider._sources["work"].hrefs) == {"extra@example.com"}


@pytest.mark.slow
@pytest.mark.anyio
async def test_etag_comparison_reports_each_change_once_without_sync_collection(
    account: tuple[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    url, user = account
    provider = _provider(url, user, sync_collection=False)
    async with Client(build_server(CalendarSettings(state_dir=tmp_path), provider=provider)) as client:
        await _walk_add_change_delete(client, _other_client(url, user))
    mirror = provider._sources["work"].mirror
    assert mirror.mode == "etag" and mirror.fetched == 3


class _NoSyncCollection:
    """A real Radicale collection whose server, as far as the client can tell, refuses sync-collection."""

    def __init__(self, collection: caldav.Calendar) -> None:
        self._collection = collection

    def get_objects_by_sync_token(self, **_: object) -> None:
        raise dav_error.ReportError("REPORT sync-collection: 501 Not Implemented")

    def __getattr__(self, name: str) -> object:
        return getattr(self._collection, name)


@pytest.mark.slow
def test_mirror_switches_to_etags_when_the_server_refuses_sync_collection(
    account: tuple[str, str],  # noqa: F811
) -> None:
    url, user = account
    collection = _NoSyncCollection(_other_client(url, user))
    mirror = CollectionMirror()
    assert mirror.refresh(collection) and mirror.mode == "etag"
    assert not mirror.refresh(collection)  # the CTag did not move: nothing fetched again
    _other_client(url, user).add_event(EXTRA)
    assert mirror.refresh(collection)
    uids = {str(c.calendar.walk("VEVENT")[0]["UID"]) for c in mirror.objects.values()}
    assert uids == {"weekly@example.com", "extra@example.com"} and mirror.fetched == 2
