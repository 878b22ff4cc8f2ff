"""Playback: the audio clock, the sample ring, AvatarController, starvation handling and state events."""
