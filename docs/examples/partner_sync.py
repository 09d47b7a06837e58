#!/usr/bin/env python3
"""Keep a copy of the Fabriques data in sync, as a partner system would (standard library only).

    FABRIQUES_URL=https://fabriques.example.gouv.fr \
    FABRIQUES_CLIENT_ID=... FABRIQUES_CLIENT_SECRET=fsec_... \
    python3 partner_sync.py [--once] [--state FILE]

It gets a token with the client credentials (and a new one before it expires), follows the
change feed from the cursor saved in FILE, hands every event to `apply`, saves the cursor after
each page, and waits when it is caught up (`--once`: stops instead). It honours 429 (Retry-After)
and retries 5xx and network errors with backoff. POSTs go through `post`, which sends an
Idempotency-Key reused on every retry, so a retried write is never applied twice.

    python3 partner_sync.py verify-webhook SECRET 'HEADER' BODY_FILE

checks a webhook's `Fabriques-Signature` header against its raw body (exit 0 when valid).
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

BASE = os.environ.get("FABRIQUES_URL", "http://127.0.0.1:8080").rstrip("/")
CLIENT_ID = os.environ.get("FABRIQUES_CLIENT_ID", "")
CLIENT_SECRET = os.environ.get("FABRIQUES_CLIENT_SECRET", "")

_token = {"value": None, "expires": 0.0}


def token():
    """A valid access token: a new one when the current one is within a minute of expiring."""
    if _token["value"] and time.time() < _token["expires"] - 60:
        return _token["value"]
    basic = base64.b64encode(
        f"{urllib.parse.quote(CLIENT_ID, safe='')}:{urllib.parse.quote(CLIENT_SECRET, safe='')}".encode()
    ).decode()
    req = urllib.request.Request(
        BASE + "/oauth/token",
        data=b"grant_type=client_credentials",
        headers={
            "Authorization": "Basic " + basic,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        body = json.load(r)
    _token["value"] = body["access_token"]
    _token["expires"] = time.time() + body["expires_in"]
    return _token["value"]


def call(method, path, body=None, attempts=6):
    """One API call with retries: 401 renews the token, 429 waits Retry-After, 5xx backs off."""
    key = str(uuid.uuid4()) if method == "POST" else None
    for attempt in range(attempts):
        headers = {"Authorization": "Bearer " + token(), "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key  # the same key on every retry
        req = urllib.request.Request(BASE + "/api/v1" + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            if e.code == 401 and attempt == 0:
                _token["value"] = None  # expired or rotated: get a new token once
                continue
            if e.code == 429:
                time.sleep(int(e.headers.get("Retry-After", "1")))
                continue
            if e.code >= 500:
                time.sleep(min(2**attempt, 30))
                continue
            problem = json.loads(e.read() or b"{}")
            raise SystemExit(f"{method} {path}: {e.code} {problem.get('code')}: {problem.get('detail')}")
        except urllib.error.URLError:
            time.sleep(min(2**attempt, 30))
    raise SystemExit(f"{method} {path}: gave up after {attempts} attempts")


def post(path, body):
    return call("POST", path, body)


def apply(event):
    """Your code goes here: upsert event["state"] into your copy, or delete it for a tombstone."""
    verb = "delete" if event["deleted"] else "upsert"
    print(f"{verb} {event['entity_type']} {event['entity_id']} {event['action']}", flush=True)


def sync(state_file, once):
    cursor = open(state_file).read().strip() if os.path.exists(state_file) else None
    while True:
        query = {"limit": "200"}
        if cursor:
            query["after"] = cursor
        page = call("GET", "/events?" + urllib.parse.urlencode(query))
        for event in page["items"]:
            apply(event)
        if page["next_cursor"] and page["next_cursor"] != cursor:
            cursor = page["next_cursor"]
            with open(state_file + ".tmp", "w") as f:
                f.write(cursor)
            os.replace(state_file + ".tmp", state_file)  # saved only once the page is applied
        if not page["items"]:
            if once:
                return
            time.sleep(30)


def verify_webhook(secret, header, body, tolerance=300):
    """True when `header` (t=...,v1=...) signs `body` (bytes) with `secret`, and is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance:
        return False  # too old (or from the future): a replay
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def main(argv):
    if argv[:1] == ["verify-webhook"]:
        secret, header, body_file = argv[1:4]
        with open(body_file, "rb") as f:
            ok = verify_webhook(secret, header, f.read())
        print("valid" if ok else "INVALID")
        return 0 if ok else 1
    once = "--once" in argv
    state = argv[argv.index("--state") + 1] if "--state" in argv else "fabriques-cursor"
    sync(state, once)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
