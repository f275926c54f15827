"""The REST surface as the URL conf declares it, for tests that must cover all of it."""

from django.urls import URLResolver, get_resolver

ROUTE_PREFIXES = ("api/v1/", "files/")
WRITE_METHODS = {"post", "put", "patch", "delete"}


def api_routes(patterns=None, prefix: str = ""):
    """(route, URLPattern) of every route under ROUTE_PREFIXES, includes followed."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from api_routes(entry.url_patterns, route)
        elif route.startswith(ROUTE_PREFIXES):
            yield route, entry


def view_methods(callback) -> list[str]:
    """The HTTP methods a view handles (HEAD and OPTIONS aside); a plain function view
    (only /files/<token>) counts as GET."""
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is None:
        return ["get"]
    skipped = {"head", "options"}
    return [m for m in view_class.http_method_names if m not in skipped and hasattr(view_class, m)]


def route_methods() -> dict[tuple[str, str], list[str]]:
    """(route name, method) -> the names of the route's path parameters."""
    found = {}
    for route, entry in api_routes():
        assert entry.name, f"route {route} has no name"
        for method in view_methods(entry.callback):
            found[(entry.name, method)] = list(entry.pattern.regex.groupindex)
    return found


def write_routes() -> set[tuple[str, str]]:
    return {key for key in route_methods() if key[1] in WRITE_METHODS}
