"""A real Dovecot IMAP server for tests: started on a loopback port, one fresh user per test.

Needs the `dovecot` binary (Debian: `apt-get install dovecot-imapd`) and root, since Dovecot runs
mail processes as `nobody`. The server is configured entirely in a private directory (no systemd,
no /etc/dovecot), with TLS (a certificate from a throwaway CA: implicit TLS on `tls_port`,
STARTTLS on `port`) and a passwd-file of test users that `add_user` hands out one by one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from pydantic import SecretStr

from mcp_servers.gmail.imap_connection import ImapConnection
from mcp_servers.gmail.settings import GmailSettings
from tests.support.processes import free_port, stop, wait_for_port

from .certificates import make_certificates

DOVECOT = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)
_users = count(1)
USERS = 200

CONFIG = """
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{base}/tls/server.pem
ssl_key = <{base}/tls/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{base}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {base}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = create
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = create
  }}
  mailbox Archive {{
    special_use = \\Archive
    auto = create
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = create
  }}
}}
"""


@dataclass
class Dovecot:
    """A running Dovecot: where it listens and how to add users."""

    base: Path
    port: int  # plain IMAP, STARTTLS offered
    tls_port: int  # implicit TLS (993-style)
    ca_file: Path  # the CA that signed the server's certificate
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [str(DOVECOT), "-F", "-c", str(self.base / "dovecot.conf")]
        self.process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)
        wait_for_port(self.tls_port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def add_user(self) -> str:
        """A user nobody has used yet (password `secret`)."""
        user = f"user{next(_users)}"
        if int(user[4:]) > USERS:
            raise RuntimeError(f"only {USERS} test users are configured")
        return user

    def maildir(self, user: str) -> Path:
        return self.base / "mail" / user


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    base = Path(tempfile.mkdtemp(prefix="pepper-dovecot-"))
    base.chmod(0o755)  # mail processes run as nobody
    try:
        for sub in ("run", "state", "mail", "home"):
            (base / sub).mkdir()
        shutil.chown(base / "mail", "nobody", "nogroup")
        shutil.chown(base / "home", "nobody", "nogroup")
        # Dovecot notices passwd-file edits by mtime (seconds): write every user up front.
        (base / "passwd").write_text("".join(f"user{n}:{{PLAIN}}secret\n" for n in range(1, USERS + 1)))
        certificates = make_certificates(base / "tls")
        port, tls_port = free_port(), free_port()
        (base / "dovecot.conf").write_text(CONFIG.format(base=base, port=port, tls_port=tls_port))
        server = Dovecot(base, port, tls_port, certificates.ca)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def imap_account(server: Dovecot, state_dir: Path) -> GmailSettings:
    """Settings of the imap provider for a fresh user of `server` (plain IMAP on loopback)."""
    return GmailSettings(
        provider="imap", imap_host="127.0.0.1", imap_port=server.port, imap_security="none",
        imap_username=server.add_user(), imap_password=SecretStr("secret"), state_dir=state_dir,
    )  # fmt: skip


def other_client(settings: GmailSettings) -> ImapConnection:
    """Another mail client on the same account (a phone, a webmail) changing things behind our back."""
    assert settings.imap_username
    return ImapConnection("127.0.0.1", settings.imap_port, "none", settings.imap_username, "secret")


def drop_into_maildir(server: Dovecot, user: str, raws: list[bytes], folder: str = "") -> None:
    """Deliver `raws` straight into the user's Maildir (as a local delivery agent would, files named
    so that Dovecot numbers them in list order), much faster than an APPEND each."""
    root = server.maildir(user)
    base = root / f".{folder}" if folder else root
    for sub in ("tmp", "new", "cur"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    for number, raw in enumerate(raws):
        name = f"{1_700_000_000 + number}.M{number:07d}P1.test"
        (base / "tmp" / name).write_bytes(raw)
        os.rename(base / "tmp" / name, base / "new" / name)
    for directory, _, files in os.walk(root):
        shutil.chown(directory, "nobody", "nogroup")
        for name in files:
            shutil.chown(os.path.join(directory, name), "nobody", "nogroup")
