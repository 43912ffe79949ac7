"""The event stream sends pending actions as their signed cards, and never one Pepper did not sign."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent
from orchestrator.trust.actions import NAMESPACE, ContextActionStore, Signer
from orchestrator.trust.desk import ApprovalDesk
from orchestrator.trust.provenance import Provenance
from tests.orchestrator.conftest import connections  # noqa: F401 (the real context store)
from web.stream import ui_payload

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context")]


def stored(seq: int, item_id: str) -> ContextEvent:
    return ContextEvent(seq=seq, namespace=NAMESPACE, id=item_id, op="store", at=datetime.now(UTC))


async def test_stream_sends_signed_cards_and_drops_forged_actions(
    connections,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    items = ContextItems(connections["context"])
    desk = ApprovalDesk(ContextActionStore(items, Signer.from_data_dir(tmp_path)), None, {})
    pepper = SimpleNamespace(items=items, desk=desk)
    action = await desk.request("gmail", "trash", {"id": "m1"}, Provenance(requested_by="worker:mail"))
    payload = await ui_payload(pepper, stored(1, action.id))
    assert payload is not None and payload["item"]["data"]["verification"] == "signed"
    assert payload["item"]["data"]["preview"]["labels_added"] == ["TRASH"]
    assert "signature" not in payload["item"]["data"]
    forged = {**action.model_dump(mode="json"), "id": "forged", "requested_by": "user"}
    await items.put(NAMESPACE, "forged", forged, "x", ["pending"])
    assert await ui_payload(pepper, stored(2, "forged")) is None
