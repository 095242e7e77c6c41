"""A private, throw-away Postfix instance on loopback, configured from docs/deployment.md's snippets."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "deployment.md"
POSTFIX = Path("/usr/sbin/postfix")
POSTQUEUE = Path("/usr/sbin/postqueue")
POSTSUPER = Path("/usr/sbin/postsuper")
SENDMAIL = Path("/usr/sbin/sendmail")
# The ports docs/deployment.md uses; the test swaps in free ones.
DOC_PROXY_PORT, DOC_REINJECT_PORT = "10025", "10026"

T = TypeVar("T")

# Postfix's internal services, none chrooted: a chroot would need copies of /etc files in the temp dir.
# (pickup comes from the docs, with their content_filter.)
INTERNAL_SERVICES = """\
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def skip_reason() -> str | None:
    """Why a live Postfix cannot run here, or None when it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "a private Postfix instance needs root (it runs its daemons as the postfix user)"
    if not all(p.exists() for p in (POSTFIX, POSTQUEUE, POSTSUPER, SENDMAIL)):
        return "Postfix is not installed (apt-get install -y postfix, debconf 'No configuration')"
    try:
        import pwd

        pwd.getpwnam("postfix")
        import grp

        grp.getgrnam("postdrop")
    except KeyError:
        return "the postfix user or postdrop group is missing (Debian's postfix package creates them)"
    return None


def wait_for(check: Callable[[], T | None], limit: float, what: str, step: float = 0.05) -> T:
    """Poll `check` until it returns something truthy and return that; fail after `limit` seconds."""
    deadline = time.monotonic() + limit
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:.0f} s waiting for {what}")
        time.sleep(step)


# --- the documented configuration ------------------------------------------------------------------

def _code_blocks(text: str) -> list[str]:
    """The fenced code blocks of a Markdown text."""
    return re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _entries(block: str) -> dict[str, list[str]]:
    """master.cf entries of a block by service name: the service line plus its `-o` continuation lines."""
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace():
            if current is not None:
                current.append(line)
            continue
        current = [line]
        entries.setdefault(line.split()[0], current)
    return entries


@dataclass(frozen=True)
class DocumentedConfig:
    """The pieces of docs/deployment.md a live Postfix is built from."""

    filter_transport: list[str]      # the `versprochen unix … smtp` entry
    pickup: list[str]                # the `pickup` entry (locally submitted mail, also filtered)
    reinject: list[str]              # the `127.0.0.1:10026 inet … smtpd` entry
    content_filter: list[str]        # the submission's `-o content_filter=…` lines
    proxy_filter: list[str]          # the submission's `-o smtpd_proxy_…` lines (before-queue variant)
    main_cf: list[str]               # the main.cf lines


def documented_config(path: Path = DOCS) -> DocumentedConfig:
    """Read the master.cf/main.cf snippets from the deployment docs (fails clearly when they moved)."""
    blocks = _code_blocks(path.read_text(encoding="utf-8"))
    after = next((b for b in blocks if "versprochen unix" in b), None)
    before = next((b for b in blocks if "smtpd_proxy_filter=" in b), None)
    main = next((b for b in blocks if "versprochen_destination_recipient_limit" in b), None)
    if after is None or before is None or main is None:
        raise AssertionError(f"{path}: the master.cf/main.cf snippets were not found")
    entries = _entries(after)
    reinject_name = f"127.0.0.1:{DOC_REINJECT_PORT}"
    if not {"versprochen", reinject_name, "submission", "pickup"} <= entries.keys():
        raise AssertionError(f"{path}: expected master.cf entries versprochen, {reinject_name}, submission, "
                             "pickup")
    content_filter = [o for o in entries["submission"] if "content_filter=" in o]
    proxy_filter = [o for o in _entries(before)["submission"] if "-o smtpd_proxy_" in o]
    main_cf = [line for line in main.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return DocumentedConfig(entries["versprochen"], entries["pickup"], entries[reinject_name], content_filter,
                            proxy_filter, main_cf)


# --- the instance ----------------------------------------------------------------------------------

@dataclass
class Ports:
    """Every port of the topology, all free when chosen."""

    intake: int        # client -> Postfix smtpd with content_filter (after-queue)
    before: int        # client -> Postfix smtpd with smtpd_proxy_filter (before-queue)
    proxy: int         # versprochen proxy
    reinject: int      # Postfix re-injection smtpd (the proxy's upstream)
    sink: int          # relayhost: the capturing aiosmtpd sink


@dataclass
class PostfixInstance:
    """One private Postfix (config, queue and data directories under `root`), never the system's."""

    root: Path
    ports: Ports
    docs: DocumentedConfig
    extra_main: dict[str, str] = field(default_factory=dict)

    @property
    def config_dir(self) -> Path:
        """The instance's config directory (`postfix -c`)."""
        return self.root / "conf"

    @property
    def maillog(self) -> Path:
        """Postfix's log file (maillog_file, written by postlogd: no syslog needed)."""
        return self.root / "maillog"

    def _ported(self, lines: list[str]) -> str:
        """Documented lines with the documented ports replaced by this instance's ports."""
        text = "\n".join(lines)
        return text.replace(DOC_PROXY_PORT, str(self.ports.proxy)).replace(
            DOC_REINJECT_PORT, str(self.ports.reinject))

    def main_cf(self) -> str:
        """main.cf: a loopback-only null client relaying to the sink, plus the documented lines."""
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.root / "queue"),
            "data_directory": str(self.root / "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "myhostname": "postfix-test.example",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "relayhost": f"[127.0.0.1]:{self.ports.sink}",
            "smtp_host_lookup": "native",
            "disable_dns_lookups": "yes",
            "smtp_dns_support_level": "disabled",
            "maillog_file": str(self.maillog),
            # postlogd only writes below these prefixes (default /var, /dev/stdout).
            "maillog_file_prefixes": str(self.root),
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
        }
        # Queue timers stay at Postfix's defaults (queue_run_delay, minimal_backoff_time 300 s): a deferred
        # mail is delivered within the test only because `postqueue -f` asks for it.
        settings.update(self.extra_main)
        own = "\n".join(f"{key} = {value}" for key, value in settings.items())
        return f"{own}\n# from docs/deployment.md\n{self._ported(self.docs.main_cf)}\n"

    def master_cf(self) -> str:
        """master.cf: the two client-facing smtpd services, the documented filter services, internals."""
        intake = [f"127.0.0.1:{self.ports.intake} inet n - n - - smtpd",
                  "  -o syslog_name=postfix/intake", *self.docs.content_filter]
        before = [f"127.0.0.1:{self.ports.before} inet n - n - - smtpd",
                  "  -o syslog_name=postfix/before-queue", *self.docs.proxy_filter]
        documented = (self.docs.filter_transport, self.docs.pickup, self.docs.reinject)
        parts = [self._ported(p) for p in (intake, before, *documented)]
        return "\n".join(parts) + "\n" + INTERNAL_SERVICES

    def _run(self, *args: str, limit: float = 30) -> subprocess.CompletedProcess[str]:
        """Run a Postfix command against this instance's config directory."""
        return subprocess.run(list(args), capture_output=True, text=True, timeout=limit, check=False,
                              env={**os.environ, "MAIL_CONFIG": str(self.config_dir)})

    def start(self) -> None:
        """Write the configuration and start the master daemon; fails with Postfix's log on error."""
        for sub in ("conf", "queue", "data"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        # The daemons run as `postfix` and must reach the queue; the master lock lives in data_directory.
        self.root.chmod(0o755)
        shutil.chown(self.root / "data", user="postfix")
        (self.config_dir / "main.cf").write_text(self.main_cf(), encoding="utf-8")
        (self.config_dir / "master.cf").write_text(self.master_cf(), encoding="utf-8")
        done = self._run(str(POSTFIX), "-c", str(self.config_dir), "start")
        if done.returncode != 0:
            raise AssertionError(f"postfix start failed ({done.returncode}): {done.stderr}\n{self.log()}")

    def master_pid(self) -> int | None:
        """The running master's pid, from the instance's own pid file."""
        try:
            return int((self.root / "queue" / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """`postfix stop`, then wait for the master to exit; kill it (by its pid) if it will not."""
        pid = self.master_pid()
        self._run(str(POSTFIX), "-c", str(self.config_dir), "stop")
        if pid is None:
            return
        try:
            wait_for(lambda: not _alive(pid), 15, "the Postfix master to exit")
        except AssertionError:
            os.kill(pid, signal.SIGKILL)

    def queue(self) -> list[dict[str, Any]]:
        """The queue as `postqueue -j` reports it (one dict per message)."""
        done = self._run(str(POSTQUEUE), "-c", str(self.config_dir), "-j")
        if done.returncode != 0:
            raise AssertionError(f"postqueue -j failed: {done.stderr}")
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    def flush(self) -> None:
        """`postqueue -f`: retry every deferred message now."""
        done = self._run(str(POSTQUEUE), "-c", str(self.config_dir), "-f")
        if done.returncode != 0:
            raise AssertionError(f"postqueue -f failed: {done.stderr}")

    def sendmail(self, data: bytes, sender: str, recipient: str) -> None:
        """Submit locally with sendmail(1) (postdrop -> maildrop -> pickup), as cron or scripts would."""
        done = subprocess.run([str(SENDMAIL), "-C", str(self.config_dir), "-i", "-f", sender, recipient],
                              input=data, capture_output=True, timeout=30, check=False)
        if done.returncode != 0:
            raise AssertionError(f"sendmail failed ({done.returncode}): {done.stderr!r}")

    def purge(self) -> None:
        """`postsuper -d ALL`: drop whatever a failed test left queued, so it cannot fail the next one."""
        self._run(str(POSTSUPER), "-c", str(self.config_dir), "-d", "ALL")

    def log(self) -> str:
        """Postfix's log so far (empty before postlogd wrote anything)."""
        try:
            return self.maillog.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


def _alive(pid: int) -> bool:
    """True while a process with this pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# --- the proxy as a subprocess -----------------------------------------------------------------------

@dataclass
class ProxyProcess:
    """`versprochen proxy` started from the real CLI, listening on `port`, relaying to `upstream`."""

    port: int
    upstream: int
    db: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, limit: float = 90) -> float:
        """Start the proxy and wait until it listens (once its engine is built); returns the seconds taken."""
        import socket

        began = time.monotonic()
        with self.log.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "proxy", "--listen", f"127.0.0.1:{self.port}",
                 "--upstream", f"127.0.0.1:{self.upstream}", "--db", str(self.db), "--workers", "1",
                 "--tag-wait", "2s", "--timeout", "20", "--log-level", "warning"],
                cwd=ROOT, stderr=err)
        process = self.process

        def listening() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the proxy exited ({process.returncode}): {self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        wait_for(listening, limit, "the proxy to listen", step=0.1)
        return time.monotonic() - began

    def stop(self) -> int | None:
        """SIGTERM (orderly: drains its analyses), bounded wait, then SIGKILL; returns the exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                return process.wait(45)
            except subprocess.TimeoutExpired:
                process.kill()
        return process.wait(10)
