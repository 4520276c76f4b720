"""Whether a schema may replace a published one under the same type and version
(docs/events.md, Versioning): within a version changes are additive only. So no field
removed, no field newly required or no longer required, no field's type changed; new
optional fields are allowed. Anything else needs a new type `….v<N+1>`."""


def problems(published, current, path="data"):
    """Readable reasons `current` breaks `published` (empty: compatible)."""
    return _compare(published, current, published, current, path)


def _resolve(schema, root):
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = root["$defs"][name]
    return schema


def _compare(old, new, old_root, new_root, path):
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    if "anyOf" in old or "anyOf" in new:
        olds, news = old.get("anyOf", [old]), new.get("anyOf", [new])
        if len(olds) != len(news):
            return [f"{path}: type changed"]
        out = []
        for o, n in zip(olds, news):
            out += _compare(o, n, old_root, new_root, path)
        return out
    if old.get("type") != new.get("type") or old.get("format") != new.get("format"):
        return [f"{path}: type changed from {old.get('type')} to {new.get('type')}"]
    out = []
    if old.get("type") == "object" and "properties" in old:
        old_props, new_props = old["properties"], new.get("properties", {})
        for name in old_props:
            if name not in new_props:
                out.append(f"{path}.{name}: removed")
            else:
                out += _compare(old_props[name], new_props[name], old_root, new_root,
                                f"{path}.{name}")
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        out += [f"{path}.{n}: newly required" for n in sorted(new_required - old_required)]
        out += [f"{path}.{n}: no longer required" for n in sorted(old_required - new_required)]
    if old.get("type") == "array":
        out += _compare(old["items"], new["items"], old_root, new_root, f"{path}[]")
    return out
