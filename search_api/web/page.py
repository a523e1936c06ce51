"""The lookup page at /: plain HTML, CSS and JavaScript, every asset served from here (works offline)."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template

from indexer.analysis.languages import NON_CODE, known_languages


def page_blueprint() -> Blueprint:
    blp = Blueprint("page", __name__)

    @blp.route("/", methods=["GET"])
    def lookup_page() -> Response:
        languages = [lang for lang in known_languages() if lang not in NON_CODE]
        response = make_response(render_template("lookup.html", languages=languages))
        response.headers["Cache-Control"] = "no-cache"
        return response

    return blp
