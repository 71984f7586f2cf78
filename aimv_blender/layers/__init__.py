"""The scene's layers in Blender, one module each (background, lights, camera, hits, lyrics,
pictograms), and the one table (``table.py``) that maps the keying's meaningful channels to
datablocks and data paths. The maths lives in ``aimv_blender/motion/`` (no bpy)."""
