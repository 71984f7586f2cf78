"""AIMV backend: listen to a song, describe each second, imagine a texture for it.

The stages meet in the timeline file (``aimv_timeline.schema``) and a folder of textures.
"""

__version__ = "0.1.0"
