"""`JSONAnswer`: a JSON response serialised with orjson.

FastAPI's own `ORJSONResponse` is deprecated (it serialises through Pydantic now); routes that
answer a document as stored (with headers of their own) and the error handlers use this.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONAnswer(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
