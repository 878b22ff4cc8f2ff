"""Motion: the keyframe layout, buffering per conversation round, interpolation, idle and transitions."""
