"""Several mail and calendar accounts (docs/decisions.md, D1): one Pepper server process per account.

`[accounts.NAME]` tables (`config`) become one `pepper-gmail` or `pepper-calendar` child each
(`specs`, imported on its own: it needs `orchestrator.config`), whose connection is named `gmail.NAME` / `calendar.NAME`; the single-account names `gmail`
and `calendar` mean the account `default`. `names` translates between connection names, server kinds
and stored ids (`raw.email/<account>:<provider id>` for accounts other than `default`); `senses` runs
each extra account's ingest and health; `routing` sends an action on a stored item to its account's
server with the provider's id; `merge` asks every calendar account and merges the answers; `setup`
is `pepper-orchestrator setup KIND --account NAME`.
"""

from orchestrator.accounts.config import ACCOUNT_KINDS, AccountConfig, check_accounts
from orchestrator.accounts.names import (
    DEFAULT_ACCOUNT,
    account_of,
    connection_name,
    provider_id,
    scoped_id,
    server_kind,
)

__all__ = [
    "ACCOUNT_KINDS",
    "DEFAULT_ACCOUNT",
    "AccountConfig",
    "account_of",
    "check_accounts",
    "connection_name",
    "provider_id",
    "scoped_id",
    "server_kind",
]
