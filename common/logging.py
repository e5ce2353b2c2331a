"""Log formatters: plain lines, one line per refused request, and JSON lines (LOG_FORMAT=json)."""

import json
import logging


class OneLineFormatter(logging.Formatter):
    """The message without the traceback: for refusals (a bad Host header) that are the client's fault."""

    def format(self, record):
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; a traceback goes into `exc_info` as text."""

    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and getattr(self, "with_traceback", True):
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class OneLineJsonFormatter(JsonFormatter):
    with_traceback = False
