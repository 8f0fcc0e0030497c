"""Make a madoguchi identity token in a host app (docs/identity.md). Python 3.8+, stdlib only.

In the app, call ``identity_token(member_id, plan)`` when rendering a page for a signed-in
member and put the result on the widget's script tag::

    <script src="https://chat.example.com/widget.js" data-identity="{{ token }}" async></script>

From a shell (the secret from the environment, never from the command line)::

    MADOGUCHI_IDENTITY_SECRET=... python make_token.py M-1001 pro 30
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def identity_token(
    member_id: str, plan: str, minutes: int = 30, secret: bytes | None = None
) -> str:
    """``v1.<payload>.<signature>``: who the member is, their plan, and until when it holds."""
    key = secret if secret is not None else os.environ["MADOGUCHI_IDENTITY_SECRET"].encode()
    payload = {"sub": member_id, "plan": plan, "exp": int(time.time()) + minutes * 60}
    body = _b64url(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    signed = "v1." + body
    signature = hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()
    return signed + "." + _b64url(signature)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: make_token.py MEMBER_ID PLAN [MINUTES]")
    minutes = int(sys.argv[3]) if len(sys.argv) == 4 else 30
    print(identity_token(sys.argv[1], sys.argv[2], minutes))
