"""Staging: run the Blender add-on headless from the backend."""
