"""The access log, without a line for every media byte served.

Listeners fetch a playlist or a segment every second or so each: a line for every one
would cost more than serving it (and fill disks at thousands of listeners). Granted
media that was served is left out of the access log; refusals (4xx, 5xx), the doors
that issue grants and everything else keep their one line each.
"""

from __future__ import annotations

import logging

from airspace.delivery.grants import MEDIA_PREFIX

ACCESS_LOGGER = "uvicorn.access"


class ServedMediaFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client, method, path, HTTP version, status code)
        if isinstance(args, tuple) and len(args) == 5:
            path, status = args[2], args[4]
            if isinstance(path, str) and path.startswith(MEDIA_PREFIX):
                return not (isinstance(status, int) and status < 400)
        return True


def quiet_served_media() -> None:
    """Leave served media out of the server's access log."""
    logging.getLogger(ACCESS_LOGGER).addFilter(ServedMediaFilter())
