"""What a contract is: a frozen dataclass per integration event type and version, its data
read from and written to JSON, and the JSON Schema (2020-12) derived from its fields.

Standard library only. The field types a contract may use are few on purpose, so each
maps to one JSON Schema: str, int, bool, Number (int or float), Date (an ISO date string),
dict (an open object), list[T], T | None, and other contract shapes (nested dataclasses).
A field that older events lack has the default ABSENT: it is left out of the data, and it
is not required by the schema. Readers ignore fields they do not know (docs/events.md,
Versioning)."""
import dataclasses
import datetime
import functools
import types
import typing

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "/schemas/"  # served by the portal (services/notices/portal.py)


class _Absent:
    """A field the event does not carry (older events, or nothing to say)."""

    def __repr__(self):
        return "ABSENT"

    def __bool__(self):
        return False


ABSENT = _Absent()

Number = typing.Annotated[float, "number"]  # a JSON number: 85 or 72.5
Date = typing.Annotated[str, "date"]  # YYYY-MM-DD


class ContractError(ValueError):
    """Data that does not fit its contract."""


def absent():
    return dataclasses.field(default=ABSENT)


# -- the registry of event contracts --------------------------------------------------
_BY_TYPE = {}


def event(type_name, routing_key, *, summary):
    """Declare a dataclass as the contract of one event type and version."""
    def register(cls):
        cls = dataclasses.dataclass(frozen=True)(cls)
        cls.TYPE, cls.ROUTING_KEY, cls.SUMMARY = type_name, routing_key, summary
        if type_name in _BY_TYPE:
            raise RuntimeError(f"two contracts for {type_name}")
        _BY_TYPE[type_name] = cls
        return cls
    return register


def shape(cls):
    """Declare a dataclass as a shape nested in events (a filing, a publication row)."""
    return dataclasses.dataclass(frozen=True)(cls)


def all_events():
    return dict(sorted(_BY_TYPE.items()))


def contract_for(type_name):
    return _BY_TYPE.get(type_name)


def schema_url(type_name):
    return f"{SCHEMA_BASE}{type_name}.json"


# -- reading and writing data ------------------------------------------------------------
# Resolved once per contract and per type hint: resolving them costs more than reading an
# event, and every upstream message is read through its contract (issue 14).
@functools.cache
def _fields(cls):
    hints = typing.get_type_hints(cls, include_extras=True)
    return tuple((f.name, f.default is ABSENT, hints[f.name]) for f in dataclasses.fields(cls))


@functools.cache
def _names(cls):
    """(every field's name, the names of the required ones) of a contract."""
    fields = dataclasses.fields(cls)
    return (frozenset(f.name for f in fields),
            tuple(f.name for f in fields if f.default is not ABSENT))


@functools.cache
def _shape(hint):
    return typing.get_origin(hint), typing.get_args(hint), dataclasses.is_dataclass(hint)


def from_data(cls, data, path=""):
    """The contract instance of a JSON object; ContractError naming the field if it does
    not fit. Unknown fields are ignored."""
    if not isinstance(data, dict):
        raise ContractError(f"{path or 'data'}: expected an object")
    values = {}
    for name, optional, read in _readers(cls):
        if name not in data:
            if optional:
                continue
            raise ContractError(f"{path}.{name}: missing" if path else f"{name}: missing")
        values[name] = read(data[name], f"{path}.{name}" if path else name)
    return cls(**values)


@functools.cache
def _readers(cls):
    """(name, optional, reader) of each field of a contract: every upstream event is read
    through its contract, and choosing the reading for each value anew, by its type hint,
    was most of what reading cost (issue 14)."""
    return tuple((name, optional, _reader(hint)) for name, optional, hint in _fields(cls))


@functools.cache
def _reader(hint):
    """The function that reads one JSON value of the type `hint` (value, where -> value),
    raising ContractError naming `where` if it does not fit."""
    origin, args, is_dataclass = _shape(hint)
    if origin is typing.Annotated and args[1] in ("number", "date"):
        return _read_number if args[1] == "number" else _read_date
    if origin in (typing.Union, types.UnionType):
        nullable = type(None) in args
        (inner,) = [a for a in args if a is not type(None)]
        read_inner = _reader(inner)

        def read_optional(value, where):
            if value is None and nullable:
                return None
            return read_inner(value, where)
        return read_optional
    if origin is list:
        read_item = _reader(args[0])

        def read_list(value, where):
            if not isinstance(value, list):
                raise ContractError(f"{where}: expected an array")
            return [read_item(item, f"{where}[{n}]") for n, item in enumerate(value)]
        return read_list
    if is_dataclass:
        return lambda value, where: from_data(hint, value, where)
    if hint in _SIMPLE:
        return _SIMPLE[hint]

    def unreadable(value, where):
        raise TypeError(f"{where}: no reading for {hint!r}")
    return unreadable


def _read_number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ContractError(f"{where}: expected a number, got {value!r}")
    return value


def _read_date(value, where):
    if not isinstance(value, str):
        raise ContractError(f"{where}: expected a date YYYY-MM-DD, got {value!r}")
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise ContractError(f"{where}: expected a date YYYY-MM-DD, got {value!r}")
    return value


def _of_type(kind, expected, show_value=True):
    """The reader of a JSON value that must be an instance of `kind`."""
    def read(value, where):
        if not isinstance(value, kind):
            raise ContractError(f"{where}: expected {expected}" +
                                (f", got {value!r}" if show_value else ""))
        return value
    return read


def _read_int(value, where):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ContractError(f"{where}: expected an integer, got {value!r}")
    return value


_SIMPLE = {dict: _of_type(dict, "an object", show_value=False),
           bool: _of_type(bool, "true or false"), int: _read_int,
           str: _of_type(str, "a string")}


def _read(hint, value, where):
    """One JSON value read as the type `hint` (see `_reader`)."""
    return _reader(hint)(value, where)


def to_data(instance):
    """The JSON object of a contract instance (ABSENT fields left out)."""
    out = {}
    for name in _field_names(type(instance)):
        value = getattr(instance, name)
        if value is not ABSENT:
            out[name] = _write(value)
    return out


@functools.cache
def _field_names(cls):
    return tuple(name for name, _, _ in _fields(cls))


# Values written as they are, found by their exact type before anything else is asked of
# them (dataclasses.is_dataclass on every value was most of what writing cost: issue 14).
_PLAIN = frozenset({str, int, float, bool, type(None), dict})


def _write(value):
    kind = type(value)
    if kind in _PLAIN:
        return value
    if isinstance(value, list):
        return [_write(v) for v in value]
    if isinstance(value, type):  # a class, not an instance: as dataclasses.is_dataclass
        return to_data(value) if dataclasses.is_dataclass(value) else value
    if _is_dataclass_type(kind):
        return to_data(value)
    return value


@functools.cache
def _is_dataclass_type(kind):
    return dataclasses.is_dataclass(kind)


def of_event(cls, domain_event):
    """The contract instance of a domain event, from its fields. A field of the event that
    the contract does not declare is an error: the contract must be changed first."""
    names, required = _names(cls)
    fields = domain_event.__dict__
    extra = fields.keys() - names - ENVELOPE_KEYS
    if extra:
        raise ContractError(f"{cls.TYPE} declares no field {', '.join(sorted(extra))}: "
                            "add it to shared/contracts (a new field is additive)")
    missing = [name for name in required if name not in fields]
    if missing:
        raise ContractError(f"{cls.TYPE}: the event has no {', '.join(missing)}, which the "
                            "contract requires")
    return cls(**{name: value for name, value in fields.items() if name in names})


# The domain event's own bookkeeping, carried by the envelope instead.
ENVELOPE_FIELDS = ("originator_id", "originator_version", "timestamp", "meta",
                   "originator_topic")
ENVELOPE_KEYS = frozenset(ENVELOPE_FIELDS)


# -- JSON Schema ----------------------------------------------------------------------------
def json_schema(cls):
    """The JSON Schema (2020-12) of a contract's data."""
    defs = {}
    body = _object_schema(cls, defs)
    schema = {"$schema": SCHEMA_DIALECT, "$id": schema_url(cls.TYPE), "title": cls.TYPE,
              "description": cls.SUMMARY, **body}
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def _object_schema(cls, defs):
    properties, required = {}, []
    for name, optional, hint in _fields(cls):
        properties[name] = _schema(hint, defs)
        if not optional:
            required.append(name)
    out = {"type": "object", "properties": properties, "required": required}
    if cls.__doc__ and not hasattr(cls, "TYPE"):
        out["description"] = " ".join(cls.__doc__.split())
    return out


def _schema(hint, defs):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return {"type": "number"} if args[1] == "number" else {"type": "string",
                                                               "format": "date"}
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        (only,) = inner
        return {"anyOf": [_schema(only, defs), {"type": "null"}]}
    if origin is list:
        return {"type": "array", "items": _schema(args[0], defs)}
    if dataclasses.is_dataclass(hint):
        if hint.__name__ not in defs:
            defs[hint.__name__] = None  # reserve (shapes do not nest themselves)
            defs[hint.__name__] = _object_schema(hint, defs)
        return {"$ref": f"#/$defs/{hint.__name__}"}
    return {dict: {"type": "object"}, bool: {"type": "boolean"}, int: {"type": "integer"},
            str: {"type": "string"}}[hint]
