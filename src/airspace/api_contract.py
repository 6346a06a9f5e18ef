"""The API's contract as its OpenAPI description states it: one error body for every
error, and every status an operation can answer.

An operation names the errors of its own rules with ``responses=errors(...)``; the
statuses that follow from how it is reached are added to the description here, from the
route itself: 401 where a bearer token or a sign-in is read, 403 for moderators' and
administrators' routes and for unsafe requests signed in by cookie (the CSRF check), 413
for bodies, 422 for inputs, 503 and 507 for outages of what the server needs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from airspace.accounts.auth import current_admin, current_moderator, current_user, optional_user

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MEANINGS = {
    400: "The request cannot be acted on as sent (the reason says why).",
    401: "Not signed in, or the API token is not valid.",
    403: "Signed in, but not allowed to do this (the reason says why).",
    404: "No such thing, or not one this account may see.",
    409: "Not possible in the current state of the thing (the reason says which).",
    410: "It existed, and is gone for good or for this purpose.",
    413: "The request body is larger than the server accepts.",
    422: "An input breaks a rule: `errors` lists each field refused.",
    429: "Too many of these for now: `Retry-After` says how many seconds to wait.",
    502: "The node holding this live Space answered with an error.",
    503: "A service the server needs is unavailable for a moment (see `Retry-After`).",
    504: "The node holding this live Space did not answer in time.",
    507: "The server's storage is full.",
}
ERROR_SCHEMA = "Error"
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}
RETRY_STATUSES = (429, 503, 507)


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="Where the input is: body, query or path, then names.")
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error's body."""

    model_config = ConfigDict(title=ERROR_SCHEMA)

    detail: str = Field(description="What went wrong, in words a person can act on.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="On 422 for inputs that break the schema: each one refused."
    )


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route for the errors its own rules give (their body, the
    one error schema, is filled in by ``complete_errors``)."""
    return {status: {"description": MEANINGS[status]} for status in statuses}


def statuses_of_route(route: APIRoute) -> set[int]:
    """The error statuses that follow from how ``route`` is reached, not from its rules."""
    calls = set(_dependency_calls(route.dependant))
    methods = route.methods or set()
    found = {503}
    if methods - SAFE_METHODS:
        found.add(507)
    if optional_user in calls:
        found.add(401)  # a bad bearer token is refused wherever one is read
        if methods - SAFE_METHODS:
            found.add(403)  # the CSRF check of a cookie session
    if current_user in calls:
        found.add(401)
    if current_moderator in calls or current_admin in calls:
        found.add(403)
    if route.body_field is not None:
        found.update({413, 422})
    if _has_inputs(route.dependant):
        found.add(422)
    return found


def complete_errors(schema: dict[str, Any], routes: list[BaseRoute]) -> dict[str, Any]:
    """``schema`` (an OpenAPI description) with every operation's error statuses, all
    described by the one error body, and FastAPI's own validation error schemas gone."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    components.update(_error_schemas())
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    for context in iter_route_contexts(routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        path = schema.get("paths", {}).get(context.path_format)
        if path is None:
            continue
        for method in route.methods or ():
            operation = path.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in statuses_of_route(route) | _declared(responses):
                answer = responses.setdefault(str(status), {"description": MEANINGS[status]})
                answer["content"] = {"application/json": {"schema": reference}}
                if status in RETRY_STATUSES:
                    answer["headers"] = RETRY_AFTER
    return schema


def state_topics(schema: dict[str, Any], topics: tuple[str, ...], bodies: tuple[str, ...]) -> None:
    """Name this instance's topics (a setting) as the only ones the ``bodies`` take."""
    components = schema.get("components", {}).get("schemas", {})
    for body in bodies:
        field = components.get(body, {}).get("properties", {}).get("topics", {})
        for variant in [field, *field.get("anyOf", [])]:
            if variant.get("type") == "array":
                variant.setdefault("items", {})["enum"] = list(topics)


def _error_schemas() -> dict[str, Any]:
    generated = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = generated.pop("$defs", {})
    return {ERROR_SCHEMA: generated, **definitions}


def _declared(responses: dict[str, Any]) -> set[int]:
    return {int(status) for status in responses if status.isdigit() and int(status) >= 400}


def _dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _dependency_calls(dependency)


def _has_inputs(dependant: Dependant) -> bool:
    if dependant.path_params or dependant.query_params or dependant.header_params:
        return True
    if dependant.body_params or dependant.cookie_params:
        return True
    return any(_has_inputs(dependency) for dependency in dependant.dependencies)
