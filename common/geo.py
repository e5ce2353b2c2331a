"""Positions on the Earth: the one definition of a valid latitude, longitude and accuracy."""

import math

LATITUDE_MIN, LATITUDE_MAX = -90.0, 90.0
LONGITUDE_MIN, LONGITUDE_MAX = -180.0, 180.0
EARTH_RADIUS_KM = 6371.0088

# For DRF FloatFields: `serializers.FloatField(**LATITUDE_FIELD)`.
LATITUDE_FIELD = {"min_value": LATITUDE_MIN, "max_value": LATITUDE_MAX}
LONGITUDE_FIELD = {"min_value": LONGITUDE_MIN, "max_value": LONGITUDE_MAX}


def position_errors(latitude: float | None, longitude: float | None, accuracy_m: float | None = None, *,
                    required: bool = True) -> dict[str, list[str]]:
    """Field errors for a position, empty when it is valid. With required=False both may be None (not one)."""
    fields: dict[str, list[str]] = {}
    if latitude is None or longitude is None:
        if required or (latitude is None) != (longitude is None):
            fields["latitude"] = ["Give both latitude and longitude."]
        return fields
    if not (math.isfinite(latitude) and LATITUDE_MIN <= latitude <= LATITUDE_MAX):
        fields["latitude"] = ["Latitude must be between -90 and 90."]
    if not (math.isfinite(longitude) and LONGITUDE_MIN <= longitude <= LONGITUDE_MAX):
        fields["longitude"] = ["Longitude must be between -180 and 180."]
    if accuracy_m is not None and not (math.isfinite(accuracy_m) and accuracy_m >= 0):
        fields["accuracy_m"] = ["Accuracy cannot be negative."]
    return fields


def validate_position(latitude: float | None, longitude: float | None, accuracy_m: float | None = None, *,
                      required: bool = True) -> None:
    """Raise InvalidInput (400) naming the bad fields."""
    from common.errors import InvalidInput

    fields = position_errors(latitude, longitude, accuracy_m, required=required)
    if fields:
        raise InvalidInput("Invalid position.", fields=fields)


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _model_validators(low: float, high: float) -> list:
    from django.core.validators import MaxValueValidator, MinValueValidator

    return [MinValueValidator(low), MaxValueValidator(high)]


# For model fields: `models.FloatField(validators=LATITUDE_VALIDATORS)`.
LATITUDE_VALIDATORS = _model_validators(LATITUDE_MIN, LATITUDE_MAX)
LONGITUDE_VALIDATORS = _model_validators(LONGITUDE_MIN, LONGITUDE_MAX)
