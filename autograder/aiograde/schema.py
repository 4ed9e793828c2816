"""A small JSON Schema validator: the subset of draft 2020-12 that the schemas in
docs/reference/schemas/ use, so the grader's tests need no third-party package.

Supported keywords: type, enum, const, properties, required, additionalProperties,
patternProperties, items, minItems, maxItems, minimum, maximum, exclusiveMinimum,
exclusiveMaximum, minLength, maxLength, pattern, $ref (to #/$defs/... or
#/definitions/...), allOf, anyOf, oneOf, not, if/then/else. Annotations ($schema, $id,
title, description, examples, default, $comment) are ignored. Any other keyword is an
error, so a schema never silently relies on something this validator skips.
"""
from __future__ import annotations

import re

ANNOTATIONS = {"$schema", "$id", "title", "description", "examples", "default", "$comment", "$defs",
               "definitions", "format"}
KEYWORDS = {"type", "enum", "const", "properties", "required", "additionalProperties",
            "patternProperties", "items", "minItems", "maxItems", "minimum", "maximum",
            "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "$ref",
            "allOf", "anyOf", "oneOf", "not", "if", "then", "else"}


class SchemaError(Exception):
    """The schema uses something this validator does not support."""


def _type_matches(value, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or \
            (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    raise SchemaError(f"unknown type {name!r}")


def _equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


class Validator:
    def __init__(self, schema: dict):
        self.root = schema

    def errors(self, value) -> list[str]:
        """Every way `value` breaks the schema, as 'path: problem' strings ([] = valid)."""
        found: list[str] = []
        self._check(value, self.root, "$", found)
        return found

    def _resolve(self, ref: str) -> dict:
        if not ref.startswith("#/"):
            raise SchemaError(f"only local $ref is supported, not {ref!r}")
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _check(self, value, schema, path: str, found: list[str]) -> None:
        if schema is True:
            return
        if schema is False:
            found.append(f"{path}: not allowed")
            return
        unknown = set(schema) - KEYWORDS - ANNOTATIONS
        if unknown:
            raise SchemaError(f"unsupported keywords {sorted(unknown)} at {path}")
        if "$ref" in schema:
            self._check(value, self._resolve(schema["$ref"]), path, found)
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_type_matches(value, name) for name in names):
                found.append(f"{path}: expected {' or '.join(names)}, got {type(value).__name__}")
                return
        if "enum" in schema and not any(_equal(value, option) for option in schema["enum"]):
            found.append(f"{path}: {value!r} is not one of {schema['enum']}")
        if "const" in schema and not _equal(value, schema["const"]):
            found.append(f"{path}: must be {schema['const']!r}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                found.append(f"{path}: {value} < minimum {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                found.append(f"{path}: {value} > maximum {schema['maximum']}")
            if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
                found.append(f"{path}: {value} <= exclusiveMinimum {schema['exclusiveMinimum']}")
            if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
                found.append(f"{path}: {value} >= exclusiveMaximum {schema['exclusiveMaximum']}")
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                found.append(f"{path}: shorter than {schema['minLength']}")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                found.append(f"{path}: longer than {schema['maxLength']} characters")
            if "pattern" in schema and not re.search(schema["pattern"], value):
                found.append(f"{path}: {value!r} does not match {schema['pattern']!r}")
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                found.append(f"{path}: fewer than {schema['minItems']} items")
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                found.append(f"{path}: more than {schema['maxItems']} items")
            if "items" in schema:
                for index, item in enumerate(value):
                    self._check(item, schema["items"], f"{path}[{index}]", found)
        if isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    found.append(f"{path}: missing required property {name!r}")
            properties = schema.get("properties", {})
            patterns = schema.get("patternProperties", {})
            for name, item in value.items():
                matched = False
                if name in properties:
                    matched = True
                    self._check(item, properties[name], f"{path}.{name}", found)
                for pattern, subschema in patterns.items():
                    if re.search(pattern, name):
                        matched = True
                        self._check(item, subschema, f"{path}.{name}", found)
                if not matched and "additionalProperties" in schema:
                    self._check(item, schema["additionalProperties"], f"{path}.{name}", found)
        for subschema in schema.get("allOf", []):
            self._check(value, subschema, path, found)
        if "anyOf" in schema:
            if not any(not self._sub_errors(value, s, path) for s in schema["anyOf"]):
                found.append(f"{path}: matches none of anyOf")
        if "oneOf" in schema:
            matches = sum(1 for s in schema["oneOf"] if not self._sub_errors(value, s, path))
            if matches != 1:
                found.append(f"{path}: matches {matches} of oneOf, not exactly 1")
        if "not" in schema and not self._sub_errors(value, schema["not"], path):
            found.append(f"{path}: matches a schema it must not match")
        if "if" in schema:
            branch = "then" if not self._sub_errors(value, schema["if"], path) else "else"
            if branch in schema:
                self._check(value, schema[branch], path, found)

    def _sub_errors(self, value, schema, path) -> list[str]:
        found: list[str] = []
        self._check(value, schema, path, found)
        return found


def validate(value, schema: dict) -> list[str]:
    return Validator(schema).errors(value)
