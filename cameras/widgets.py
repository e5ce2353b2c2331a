"""The admin's coverage editor: the coverage JSON textarea, enhanced by a Leaflet map to draw it on.

Click the map to add a corner, drag a corner to move it, "Clear" to start again; the textarea follows every
change and stays the value the form saves (and what a browser without scripts edits). With no coverage drawn,
the map shows the view the server computes from position, heading, field of view and range.
"""

import json

from django import forms
from django.conf import settings


class CoverageMapWidget(forms.Textarea):
    template_name = "cameras/coverage_widget.html"

    class Media:
        css = {"all": ["vendor/leaflet/leaflet.css", "cameras/coverage-widget.css"]}
        js = ["vendor/leaflet/leaflet.js", "cameras/coverage-widget.js"]

    def __init__(self, *, preview_url: str = "", attrs=None):
        super().__init__(attrs={"rows": 4, "cols": 80, **(attrs or {})})
        self.preview_url = preview_url

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["map"] = json.dumps({
            "tileUrl": settings.MAP_TILE_URL, "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
            "center": settings.MAP_DEFAULT_CENTER, "previewUrl": self.preview_url,
        })
        return context
