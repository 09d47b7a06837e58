"""Schemathesis hooks for .ci/run (loaded by .ci/schemathesis.toml; schemathesis 4.32.5).

`before_call` gives each positive request its own `Idempotency-Key`. `filter_failure` drops a
"schema-valid request rejected" failure (ST202, positive_data_acceptance) in exactly the cases
listed below, each a rule the OpenAPI document cannot state or a request schemathesis
mislabels; every other failure is kept. Each case is narrow: it reads the answer's problem
`code` and the field errors' codes (docs/problems.md), never the status alone.

Set FABRIQUES_ST_FILTER_LOG to a file to list every failure dropped, with the reason.
"""

from __future__ import annotations

import itertools
import json
import os
import re

import schemathesis
from schemathesis.core.parameters import ParameterLocation

# --- Fresh idempotency keys ------------------------------------------------------------------
# schemathesis draws `Idempotency-Key` values like any string: `0` over and over. The server
# keeps a key's first request and answers any other request with that key 422
# `idempotency_key_reused`, as it must; most POSTs of the run would then be judged on a key
# collision instead of their data, and most negative ones on the collision instead of the
# invalid part they carry. Each key the document admits is made unique (a suffix keeps it
# within `^[!-~]{1,255}$`) when the case's headers are the valid part of it: a case whose
# headers are the negative part (a malformed key, a missing `Authorization`) is sent as drawn,
# since an edited case is revalidated, which would undo what it leaves out on purpose.
# Replays and reuse are the test suite's (tests/tests/api/idempotency.rs).
VALID_KEY = re.compile(r"^[!-~]{1,255}$")
_keys = itertools.count()


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    headers = case.headers
    meta = case.meta
    component = meta.components.get(ParameterLocation.HEADER) if meta is not None else None
    if not headers or component is None or not component.mode.is_positive:
        return
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and VALID_KEY.match(value):
            suffix = f"~{next(_keys)}"
            headers[name] = value[: 255 - len(suffix)] + suffix


# --- 1. Opaque cursors --------------------------------------------------------------------
# `cursor` (and the feed's `after`) is a token the server issued: base64url of a small JSON
# document naming the last item of a page for one list and one sort. The document declares its
# alphabet and length; "was issued by this server for this list and sort" is not a JSON Schema
# constraint. A made-up value is refused with 400 `invalid_query` whose only field error is
# `invalid_cursor` on that parameter; that answer, and only that one, is expected.
CURSOR_POINTERS = {"/cursor", "/after"}


def _problem(response) -> dict | None:
    try:
        body = json.loads(response.content or b"")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _only_cursor_refused(problem: dict) -> bool:
    errors = problem.get("errors") or []
    return (
        problem.get("code") == "invalid_query"
        and bool(errors)
        and all(e.get("code") == "invalid_cursor" and e.get("pointer") in CURSOR_POINTERS for e in errors)
    )


# --- 2. Requests schemathesis labels positive but which break the document ------------------
# schemathesis 4.32's coverage phase cannot draw a positive value for a header whose pattern
# needs characters outside [A-Za-z0-9] (`If-Match`: `"…"` or `*`). It then seeds its template
# with a negative value (the integer 0, sent as `If-Match: 0`) and still emits the "all
# required properties and optional 'If-Match'" combination as a *positive* case. The server's
# 400 `invalid_precondition` is right. A failure is dropped here only if a header actually sent
# does not conform to the schema the document declares for it: that request was not positive.
def _header_breaking_document(case, response) -> str | None:
    """The first header sent whose value the document's schema for it refuses."""
    request = getattr(response, "request", None)
    if request is None:
        return None
    validator_cls = case.operation.schema.adapter.jsonschema_validator_cls
    sent = {k.lower(): v for k, v in request.headers.items()}
    for parameter in case.operation.headers:
        value = sent.get(parameter.name.lower())
        if value is not None and not parameter.admits(value, validator_cls):
            return f"{parameter.name}: {value!r}"
    return None


# --- 3. Rules about data, not about shapes -------------------------------------------------
# 422 `validation_failed` whose every field error is one of these codes: each depends on what
# the database holds, on the official geography shipped with the server, on arithmetic or on
# another field, which no JSON Schema keyword can compare. The descriptions of the fields say
# each rule; the document states every rule it can (patterns of the official codes, the
# fields a kind of territory or a client's role requires or forbids, both coordinates or
# neither on creation). tests/tests/api/acceptance.rs checks that the document admits such
# bodies and that the server refuses them with these codes.
DATA_RULES = {
    # A body names another resource by id; that it exists (and is active, for a client) is
    # state. On an empty database every drawn id is unknown.
    "unknown_organization": "the organization id names no organization",
    "unknown_territory": "the territory id names no territory",
    "unknown_programme": "the programme id names no programme",
    "unknown_seminar": "the seminar id names no seminar of this Fabrique",
    "unknown_participation": "the participation id names no participation of this Fabrique",
    "unknown_entity": "the external id is attached to an id that names nothing",
    "unknown_client": "the client id names no active machine client",
    "not_a_participant": "the territory does not take part in this Fabrique",
    # The official geography (COG 2026, 34,969 communes and 1,255 EPCI) is data: a code of the
    # right form may name no current commune or EPCI, an EPCI of another kind, or a name or a
    # department or region contradicting it.
    "unknown_code": "the official code names no current territory of the geography",
    "kind_mismatch": "the SIREN names an EPCI of another kind",
    "name_mismatch": "the name contradicts the official geography",
    "reference_mismatch": "the department or region contradicts the official geography",
    # Arithmetic no pattern states.
    "invalid_siren_checksum": "the SIREN's Luhn checksum",
    # Comparisons between fields, or (PATCH) with the stored resource.
    "end_before_start": "the end date must come after the (planned or actual) start",
    "territory_bounds_invalid": "min_territories <= max_territories",
    "incomplete_coordinates": "latitude and longitude both or neither, with the stored ones (PATCH)",
    # Where a webhook may deliver: https on a public address; whether an address is public
    # (private, loopback, reserved ranges, single-label hosts) is not a URI format.
    "url_not_allowed": "the webhook URL is not https on a public address",
}

# Field errors that depend on who calls, which no body schema knows: a webhook subscription
# belongs to a machine client; a client's own token subscribes itself (and may not name
# another), while a user's token (the run's admin token) must name the client.
CALLER_RULES = {("/client_id", "required"), ("/client_id", "not_allowed")}

# A SIREN given without a kind takes the kind of the EPCI the official geography lists under
# it; one it does not list (a PETR's, or any other) needs the kind: data again.
POINTED_DATA_RULES = {("/kind", "required")}


def _data_rules_only(problem: dict) -> bool:
    errors = problem.get("errors") or []
    return (
        problem.get("code") == "validation_failed"
        and bool(errors)
        and all(
            e.get("code") in DATA_RULES
            or (e.get("pointer"), e.get("code")) in CALLER_RULES | POINTED_DATA_RULES
            for e in errors
        )
    )


def _why_expected(case, response) -> str | None:
    """Why this rejection of a positive case is expected, or None if it is a real failure."""
    problem = _problem(response) or {}
    if response.status_code == 400 and _only_cursor_refused(problem):
        return "opaque cursor"
    # Who calls, again: a person's partner token may not subscribe (the partner pass of the run).
    if response.status_code == 422 and problem.get("code") == "machine_client_required":
        return "caller rule: webhooks belong to machine clients"
    if response.status_code == 422 and _data_rules_only(problem):
        return "data rule: " + ", ".join(sorted({f"{e['pointer']} {e['code']}" for e in problem["errors"]}))
    header = _header_breaking_document(case, response)
    if header is not None:
        return f"header sent breaks the document ({header})"
    return None


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    if getattr(failure, "code", None) != "ST202":
        return True
    why = _why_expected(case, response)
    log = os.environ.get("FABRIQUES_ST_FILTER_LOG")
    if why and log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{why}\t{case.operation.label}\t{response.status_code}\t{(response.content or b'')[:300]!r}\n")
    return why is None
