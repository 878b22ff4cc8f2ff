"""How a ``Flame`` keyframe message maps onto the engine's motion layout (engine.motion.layout)."""

from __future__ import annotations

# (protobuf field name, first column, end column or None for "to the end"); field number = index + 1.
FLAME_FIELDS = (
    ("translation", 0, 3),
    ("rotation", 3, 6),
    ("neck_pose", 6, 9),
    ("jaw_pose", 9, 12),
    ("eye_pose", 12, 18),
    ("eye_lid", 18, 20),
    ("expression", 20, None),
)
# Columns and value counts per Flame field number 1..7 (index 0 unused); expression's count is E.
FIELD_OFFSET = (0, 0, 3, 6, 9, 12, 18, 20)
FIELD_COUNT = (0, 3, 3, 3, 3, 6, 2, -1)
