"""Quaternion interpolation for the orbit camera rig."""

import math


def quat_normalize(q):
    w, x, y, z = q
    magnitude = math.sqrt(w * w + x * x + y * y + z * z)
    if magnitude < 1e-12:
        return (1.0, 0.0, 0.0, 0.0)
    return (w / magnitude, x / magnitude, y / magnitude, z / magnitude)


def quat_slerp(qa, qb, t):
    """Spherical linear interpolation from qa (t=0) to qb (t=1) along the shorter arc."""
    cos_half_theta = sum(a * b for a, b in zip(qa, qb))
    if cos_half_theta < 0.0:
        qb = tuple(-component for component in qb)
        cos_half_theta = -cos_half_theta
    if cos_half_theta > 0.9995:
        blended = tuple(a + t * (b - a) for a, b in zip(qa, qb))
        return quat_normalize(blended)
    half_theta = math.acos(cos_half_theta)
    sin_half_theta = math.sqrt(1.0 - cos_half_theta * cos_half_theta)
    ratio_a = math.sin((1.0 - t) * half_theta) / sin_half_theta
    ratio_b = math.sin(t * half_theta) / sin_half_theta
    return tuple(ratio_a * a + ratio_b * b for a, b in zip(qa, qb))


def orbit_keyframes(start, end, frames=24):
    return [quat_slerp(start, end, i / (frames - 1)) for i in range(frames)]
