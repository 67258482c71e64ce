"""`dialer campaign import` and `dialer campaign status`, run as the real command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session

from dialer.db import make_sync_engine
from dialer.migrations import upgrade_to_head
from dialer.models import Campaign
from dialer.vocabulary import Channel


def _dialer(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{database}", "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "dialer", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _sms_campaign(database: Path, **fields: str) -> int:
    """A campaign in a freshly migrated SQLite file, written straight to it."""
    upgrade_to_head(f"sqlite:///{database}")
    engine = make_sync_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        campaign = Campaign.model_validate(
            {"provider": "xoxzo", "channel": Channel.sms, "from_number": "DIALER", **fields}
        )
        session.add(campaign)
        session.commit()
        assert campaign.id is not None
        campaign_id = campaign.id
    engine.dispose()
    return campaign_id


def test_import_reports_counts_and_bad_rows_then_status_counts_them(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    campaign_id = _sms_campaign(database, name="cli", template="Hi {{ name }}")
    contacts = tmp_path / "contacts.csv"
    contacts.write_bytes("電話番号,お名前\n090-1234-5670,山田\n12,短い\n".encode("cp932"))
    args = ("campaign", "import", str(campaign_id), str(contacts))
    unnamed = _dialer(*args, database=database)
    assert unnamed.returncode != 0 and "the template needs column(s) name" in unnamed.stderr
    imported = _dialer(*args, "--rename", "お名前=name", database=database)
    assert imported.returncode == 0, imported.stderr
    assert "2 rows" in imported.stdout and "imported 1" in imported.stdout
    assert "row 3: invalid phone number: too short (12)" in imported.stdout
    status = _dialer("campaign", "status", str(campaign_id), database=database)
    assert status.returncode == 0, status.stderr
    assert f"campaign {campaign_id} 'cli': draft, 0/1" in status.stdout
    assert "status:  held 1" in status.stdout
    missing = _dialer("campaign", "status", "99", database=database)
    assert missing.returncode != 0 and "no campaign 99" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nA\n")
    refused = _dialer("campaign", "import", str(campaign_id), str(bad), database=database)
    assert refused.returncode != 0 and "no phone column" in refused.stderr
    malformed = _dialer(*args, "--rename", "お名前", database=database)
    assert malformed.returncode == 2 and "'お名前' is not HEADER=NAME" in malformed.stderr


def test_hostile_names_and_numbers_are_printed_as_inert_text(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    campaign_id = _sms_campaign(
        database,
        name="[/x][link=https://evil.example]click[/link]\x1b[2J",
        template="Hi",
        pause_reason="[bold]\x1b]52;c;aGk=\x07",
    )
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("phone\n\x1b[2J\x1b]52;c;aGk=\x07\n")
    imported = _dialer("campaign", "import", str(campaign_id), str(contacts), database=database)
    assert imported.returncode == 0, imported.stderr
    assert "\x1b" not in imported.stdout and "\\x1b[2J" in imported.stdout
    status = _dialer("campaign", "status", str(campaign_id), database=database)
    assert status.returncode == 0, status.stderr
    assert "\x1b" not in status.stdout
    assert "[/x][link=https://evil.example]click[/link]\\x1b[2J" in status.stdout
