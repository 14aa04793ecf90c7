"""A client's malformed HTTP is the client's error, logged as such.

aiohttp answers a request it cannot parse (a ``Content-Length: {``, conflicting lengths, a
bad request line) with 400 itself and logs it on ``aiohttp.server`` at error level with a
traceback, as if the gateway had failed. This filter turns those records into one info line,
``malformed_http_request``, with the parser's reason and no traceback, so a fuzzer or a broken
client never pages anyone; a real failure of the server keeps its traceback.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError


class MalformedRequests(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and exc.code == 400:
            record.msg, record.args = "malformed_http_request", ()
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
            record.reason = str(exc.message).splitlines()[0][:200]
        return True


def log_malformed_requests_as_the_clients() -> None:
    logging.getLogger("aiohttp.server").addFilter(MalformedRequests())
