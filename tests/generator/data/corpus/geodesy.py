"""Great-circle helpers for the survey planner."""

import itertools
import math

EARTH_RADIUS_M = 6371008.8


def haversine_distance(lat1, lon1, lat2, lon2):
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = math.radians(lat2 - lat1)
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def initial_bearing(lat1, lon1, lat2, lon2):
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_lambda = math.radians(lon2 - lon1)
    y = math.sin(d_lambda) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(d_lambda)
    return (math.degrees(math.atan2(y, x)) + 360.0) % 360.0


def survey_legs(waypoints):
    legs = []
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(waypoints):
        legs.append(
            (
                round(haversine_distance(lat1, lon1, lat2, lon2), 1),
                round(initial_bearing(lat1, lon1, lat2, lon2), 2),
            )
        )
    return legs
