"""Listen: cut the song into windows and measure each (volume, colour, instruments, voice)."""
