"""The picture's motion maths, one module per layer, without Blender.

Each module turns a timeline into :class:`~aimv_blender.motion.base.Channel` keys named by what
they mean ("colour", "crossfade", "camera.punch", "lyric.scale", ...). The bpy side
(``aimv_blender/layers/``) holds the one table that maps each meaning to datablocks and data
paths. Everything here is plain Python, unit-tested without Blender and fast on long songs.
"""
