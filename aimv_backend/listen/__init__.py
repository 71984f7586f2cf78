"""Listen: cut the song into windows and measure each (volume, colour, instruments, voice).

from aimv_backend import listen
timeline = listen.run(audio, options=listen.Options(window_seconds=0.5), progress=progress)
"""

from aimv_backend.listen.analyze import ListenOptions
from aimv_backend.listen.analyze import analyze_song as run

Options = ListenOptions

__all__ = ["ListenOptions", "Options", "run"]
