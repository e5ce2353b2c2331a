"""Web pages: the police dashboard (live map, lists, actions) and the citizen SOS page."""
