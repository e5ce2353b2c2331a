"""The languages citizens are served in, and which one a request asks for."""

from django.utils.translation.trans_real import parse_accept_lang_header

# Each named in itself, for the citizen page's switcher.
CITIZEN_LANGUAGES = [
    ("en", "English"), ("hi", "हिन्दी"), ("bn", "বাংলা"), ("ta", "தமிழ்"), ("te", "తెలుగు"), ("kn", "ಕನ್ನಡ"), ("mr", "मराठी"),
]
LANGUAGE_COOKIE = "nk_lang"


def citizen_language(request) -> str:
    """The citizen's choice (?lang=, then the switcher's cookie), else the browser's language, else English."""
    codes = {code for code, _ in CITIZEN_LANGUAGES}
    for chosen in (request.GET.get("lang"), request.COOKIES.get(LANGUAGE_COOKIE)):
        if chosen in codes:
            return chosen
    for accepted, _ in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        base = accepted.split("-")[0].lower()
        if base in codes:
            return base
    return "en"
