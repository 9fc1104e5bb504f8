"""Names of the analysis contract (``analysis.json``, ``strikes.csv``), defined once.

Strike fields and their units
-----------------------------
foot              "left" | "right" (body side)
near              bool, True for the leg nearer the camera
ic_frame          int, first frame showing the foot on the belt (0-based, decode order)
ic_time_s         float, time of initial contact, may fall between frames
toe_off_frame     int | None, last frame the foot still touches the belt
contact_time_ms   float | None
shin_angle_deg    float, shank from vertical at IC, + = ankle ahead of knee
knee_flexion_deg  float, 0 = straight
foot_angle_deg    float, heel-to-toe line against the belt, + = toes up
strike_pattern    "rearfoot" | "midfoot" | "forefoot"
overstride        float, heel ahead of hip at IC / leg length
confidence        float in [0, 1]
edited            bool, a person changed this strike
rejected          bool, kept out of the summary
"""

SCHEMA = "gaitscope.analysis/1"

STRIKE_FIELDS = (
    "foot", "near", "ic_frame", "ic_time_s", "toe_off_frame", "contact_time_ms", "shin_angle_deg",
    "knee_flexion_deg", "foot_angle_deg", "strike_pattern", "overstride", "confidence", "edited", "rejected",
)

KEYPOINT_COLUMNS = ("frame", "time_s", "landmark", "x_px", "y_px", "visibility")
