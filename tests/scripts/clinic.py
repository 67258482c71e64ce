"""The issue's clinic reminder: confirm, reschedule, front desk or opt out, in Japanese."""

from __future__ import annotations

from typing import Any

CLINIC: dict[str, Any] = {
    "start": "greet",
    "lang": "ja",
    "steps": {
        "greet": {"say": "{{ 氏名 }}様、明日{{ 予約時刻 }}のご予約です。", "next": "confirm"},
        "confirm": {
            "ask": "確定は1、変更は2、受付は0を押してください。",
            "keys": {
                "1": {"label": "confirmed", "next": "thanks"},
                "2": {"label": "reschedule", "next": "thanks"},
                "0": {"label": "front desk", "next": "desk"},
                "9": {"label": "opted out", "next": "optout"},
            },
            "no_input": {"repeat": 2, "next": "bye"},
        },
        "desk": {"transfer": "+81312345678"},
        "optout": {"opt_out": True, "say": "今後お電話いたしません。", "next": "bye"},
        "thanks": {"say": "ありがとうございました。", "next": "bye"},
        "bye": {"hangup": True},
    },
    "voicemail": {"say": "{{ 氏名 }}様、明日のご予約のお知らせです。"},
}
