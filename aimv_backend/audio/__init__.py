"""Audio input: probing, streaming and resampling songs."""

from aimv_backend.audio.io import AudioInfo, iter_mono_blocks, load_mono, probe_audio

__all__ = ["AudioInfo", "iter_mono_blocks", "load_mono", "probe_audio"]
