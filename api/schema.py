"""OpenAPI post-processing (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): every operation
documents the problem details it may answer with, so clients and schemathesis know them."""

from .errors import PROBLEM

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object",
                   "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "lines": {"type": "array", "items": {
            "type": "object",
            "properties": {"line": {"type": "integer", "nullable": True},
                           "message": {"type": "string"}},
            "required": ["line", "message"]}},
    },
    "required": ["type", "title", "status", "detail"],
}
ERRORS = {
    "400": "Bad input (field errors in errors, Markdown errors with their lines in lines)",
    "401": "No credentials, or an unknown, revoked or expired token",
    "403": "Not allowed",
    "404": "Unknown object",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Stale state: the plan is not in a state that allows this",
    "413": "Body over the limit (1 MB)",
    "415": "Unsupported media type (send JSON)",
    "429": "Rate limit: retry after Retry-After seconds",
}


def add_problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                if code in responses:
                    continue
                responses[code] = {
                    "description": description,
                    "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
                if code == "429":
                    responses[code]["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"},
                                        "description": "Seconds to wait"}}
    return result

