"""Logs a machine can read: one JSON object a line, with the task and context ids the server's
records carry (`a2a-bridges serve --log-format json`)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

__all__ = ["FIELDS", "JsonFormatter", "log_json"]

FIELDS = ("task_id", "context_id", "seconds")
"""The extra fields a record may carry, written when it does."""


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, ids, and the error."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def log_json(level: str) -> None:
    """Send every log record, the a2a-sdk's and uvicorn's too, to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
