"""Schemathesis hooks for fuzzing Conifer's REST surface (run by e2e/src/api-fuzz.test.ts).

Three things the OpenAPI document cannot say by itself:

- `specialize_to_fuzz_index`: the fuzzer targets one real index, a dense one, so dense vectors have
  exactly its dimension (the document allows 1 to 20000, the dimension of *some* index) and are
  required where the document lets a sparse index's records and queries leave them out;
- `equal_sparse_lengths`: a sparse vector's `indices` and `values` (a search vector's
  `sparse_indices` and `sparse_values`) have the same length and come together (JSON Schema cannot
  relate two arrays), so valid cases are made valid;
- `bad_input_names_field`: a check that a rejected invalid request says which field was wrong.
"""

from __future__ import annotations

import os
import re
from typing import Any

import schemathesis
from schemathesis.core.mutations import OperatorKind
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import REQUEST_SHAPE_PROBES, CoveragePhaseData

DIMENSION = int(os.environ["CONIFER_FUZZ_DIMENSION"])

# Where the document puts an index's dense vectors. A KeyError here means the document changed
# shape: update this list rather than let the fuzzer draw vectors of any length.
DENSE_VECTOR_SCHEMAS = (
    ("Vector", "values"),
    ("QueryRequest", "vector"),
    ("UpdateRequest", "values"),
    ("SearchRecordsVector", "values"),
)


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    """Dense vectors of the fuzz index's dimension: any other length is refused (and is tested
    as invalid data, since the bounds are now part of the schema)."""
    schemas = raw_schema["components"]["schemas"]
    for schema, prop in DENSE_VECTOR_SCHEMAS:
        values = schemas[schema]["properties"][prop]
        values["minItems"] = DIMENSION
        values["maxItems"] = DIMENSION
    # The fuzz index is dense: its records need values, its queries a vector or an id, its
    # searches dense values (a sparse part goes beside them).
    schemas["Vector"]["required"] = ["id", "values"]
    schemas["QueryRequest"]["oneOf"] = [{"required": ["vector"]}, {"required": ["id"]}]
    search = schemas["SearchRecordsVector"]
    search.pop("anyOf", None)
    search["required"] = ["values"]


def _equal_lengths(indices: Any, values: Any) -> None:
    if isinstance(indices, list) and isinstance(values, list) and len(indices) != len(values):
        n = min(len(indices), len(values))
        del indices[n:]
        del values[n:]


def _equalize_sparse(value: Any) -> None:
    if isinstance(value, dict):
        _equal_lengths(value.get("indices"), value.get("values"))
        # A search vector's sparse part: both arrays or neither (should the generator not have
        # honoured `dependentRequired`), of the same length.
        has_indices, has_values = "sparse_indices" in value, "sparse_values" in value
        if has_indices != has_values:
            value.pop("sparse_indices", None)
            value.pop("sparse_values", None)
        _equal_lengths(value.get("sparse_indices"), value.get("sparse_values"))
        for child in value.values():
            _equalize_sparse(child)
    elif isinstance(value, list):
        for child in value:
            _equalize_sparse(child)


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    """In a valid case, cut every sparse vector's longer array to the length of the shorter one.
    Invalid cases are left as generated: a length mismatch there is one more way to be invalid."""
    meta = case._meta
    if meta is not None and meta.generation.mode.is_positive and isinstance(case.body, (dict, list)):
        _equalize_sparse(case.body)
    return case


# A rejection that cannot name a field: the request line and headers were too large to parse.
UNPARSED = {431}


def _error_message(response: Any) -> str | None:
    """The message of a Conifer error body, in any of its shapes: data plane `{code, message}`,
    control plane and admin `{error: {code, message}}`, HTTP parser `{error, message}`."""
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 -- not JSON: no message to read
        return None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return body.get("message") if isinstance(body.get("message"), str) else None


def _offending_names(data: Any) -> tuple[set[str], set[ParameterLocation]]:
    """Names of the parameters and body properties the case made invalid, and where they are.
    Empty names mean the whole component was replaced (a body that is not an object, or not JSON
    at all, or missing): no field to name."""
    names: set[str] = set()
    locations: set[ParameterLocation] = set()
    if data.parameter_location is not None:
        locations.add(data.parameter_location)
    # For the body, `parameter` is its media type (`application/json`), not a field.
    if data.parameter and data.parameter_location != ParameterLocation.BODY:
        names.add(data.parameter)
    for mutation in getattr(data, "mutations", ()):
        locations.add(mutation.parameter_location)
        if mutation.operator == OperatorKind.SYNTAX_FUZZING:
            continue
        if mutation.parameter:
            names.add(mutation.parameter)
        names.update(segment for segment in mutation.path if isinstance(segment, str) and segment)
    return names, locations


def _names(message: str, name: str) -> bool:
    # As a field of a path such as `vectors[0].values` or `schema.fields`, not inside another word.
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


@schemathesis.check
def bad_input_names_field(ctx: Any, response: Any, case: Any) -> bool | None:
    """Invalid data that is rejected with a 4xx is rejected with a message naming the field or
    parameter that was invalid (`vectors[0].values: ...`, `topK: must be at most 10000`).

    Whether invalid data is rejected at all is `negative_data_rejection`'s job, and a 5xx is
    `not_a_server_error`'s; this check looks only at 4xx answers to invalid data. It asks only for
    a 4xx where no field can be named: a body that is missing, not JSON or not an object, probes
    of the method or content type, and a request too large to parse (431). A wrong API key is
    rejected with 401 before any field is read; an invalid path parameter names a resource that
    cannot exist, and 404 says so.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return None
    if not 400 <= response.status_code < 500 or response.status_code in UNPARSED:
        return None
    data = meta.phase.data
    if isinstance(data, CoveragePhaseData) and data.scenario in REQUEST_SHAPE_PROBES:
        return None
    names, locations = _offending_names(data)
    if ParameterLocation.HEADER in locations and response.status_code == 401:
        return None
    if ParameterLocation.PATH in locations and response.status_code == 404:
        return None
    if not names:
        return None
    message = _error_message(response)
    if message is None:
        raise AssertionError(f"Invalid {', '.join(sorted(names))} rejected with {response.status_code} but without an error message")
    if not any(_names(message, name) for name in names):
        raise AssertionError(
            f"Invalid {', '.join(f'`{name}`' for name in sorted(names))} rejected with {response.status_code}, "
            f"but the message does not name it: {message!r}"
        )
    return None
