"""The OpenAPI document: every route, every operation summarised, tagged and with its
error responses; the document validates as OpenAPI 3; the docs page is local-only."""

from __future__ import annotations

import json
import re

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from sotong.api.api import api


def _routes() -> set[str]:
    """The API's routes as Django resolves them, in OpenAPI's path syntax."""
    found = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name not in (
                "openapi-json",
                "openapi-view",
                "api-root",
            ):
                found.add("/" + prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "")
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        for route in found
        if route.startswith("/api/v1/")
    }
    return routes


def test_every_route_is_documented_with_summary_tags_and_errors(city, make_staff) -> None:
    client = Client()
    client.force_login(make_staff(city).user)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Sotong API"
    assert "Asia/Seoul" in document["info"]["description"]
    assert "게시" in document["info"]["description"]
    assert document["components"]["securitySchemes"]["TokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert set(document["paths"]) == _routes()
    assert len(document["paths"]) == 43
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            assert operation.get("tags"), where
            assert "401" in operation["responses"], where
            assert operation.get("security"), where
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorOut"}, where
            if "{" in path:
                assert "404" in operation["responses"], where
            if "requestBody" in operation:
                assert "422" in operation["responses"], where


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_document_is_well_formed_openapi_3() -> None:
    """OpenAPI 3's required structure, checked by hand (no validator dependency): the
    top-level fields, an operation object with responses under each path, every path
    parameter declared, every $ref resolvable."""
    document = json.loads(json.dumps(api.get_openapi_schema()))
    assert re.fullmatch(r"3\.\d+\.\d+", document["openapi"])
    assert document["info"]["title"]
    assert document["info"]["version"]
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    for path, item in document["paths"].items():
        assert path.startswith("/")
        assert item, path
        assert set(item) <= methods, path
        for operation in item.values():
            assert operation["responses"], path
            for code, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", code), (path, code)
                assert response["description"], (path, code)
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), path
            assert len({o["operationId"] for o in item.values()}) == len(item)
    schemes = document["components"]["securitySchemes"]
    for operation in (o for item in document["paths"].values() for o in item.values()):
        for requirement in operation["security"]:
            assert set(requirement) <= set(schemes)
    for ref in _refs(document):
        assert ref.startswith("#/"), ref
        node = document
        for part in ref[2:].split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


def test_the_document_needs_a_session_or_token(city, author, client_for) -> None:
    assert Client().get("/api/v1/openapi.json").status_code == 401
    assert client_for(author).get("/api/v1/openapi.json").status_code == 200


def test_the_docs_page_is_swagger_ui_from_sotong_itself(city, author) -> None:
    assert Client().get("/api/v1/docs").status_code == 302
    client = Client()
    client.force_login(author.user)
    page = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    assert all(source.startswith("/") for source in sources), sources
    assert '"validatorUrl": null' in page
