"""3D Viewport > Sidebar > AIMV: the song, the settings and the three buttons."""

from __future__ import annotations

import bpy


class AIMV_PT_main(bpy.types.Panel):
    bl_idname = "AIMV_PT_main"
    bl_label = "AIMV"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "AIMV"

    def draw(self, context):
        layout = self.layout
        s = context.scene.aimv
        layout.use_property_split = True
        layout.use_property_decorate = False
        layout.prop(s, "audio_path")
        layout.prop(s, "work_dir")

        box = layout.box()
        box.label(text="Listen and imagine")
        box.prop(s, "window_seconds")
        box.prop(s, "instruments")
        box.prop(s, "asr")
        box.prop(s, "language")
        box.prop(s, "beats_per_bar")
        box.prop(s, "textures")
        box.prop(s, "seed")

        if s.running:
            row = layout.row(align=True)
            if hasattr(row, "progress"):  # Blender 4.0+
                row.progress(factor=s.progress, type="BAR", text=s.status or "working")
            else:
                row.label(text=f"{s.status} {100 * s.progress:.0f}%")
            row.operator("aimv.cancel", text="", icon="CANCEL")
        else:
            layout.operator("aimv.generate", icon="PLAY_SOUND")
            if s.status:
                layout.label(text=f"Last run: {s.status}")

        box = layout.box()
        box.label(text="Scene")
        box.prop(s, "timeline_path")
        box.prop(s, "fps")
        box.prop(s, "crossfade")
        col = box.column(heading="Layers", align=True)
        for name in ("lyrics", "pictograms", "hits", "motion"):
            col.prop(s, f"layer_{name}")
        box.prop(s, "font_path")
        box.operator("aimv.build_scene", icon="KEYINGSET")

        box = layout.box()
        box.label(text="Render")
        col = box.column(align=True)
        col.prop(s, "resolution_x")
        col.prop(s, "resolution_y")
        box.prop(s, "render_engine")
        if s.render_engine != "workbench":
            box.prop(s, "samples")
        box.prop(s, "output_path")
        box.prop(s, "overwrite")
        box.operator("aimv.render", icon="RENDER_ANIMATION")


classes = (AIMV_PT_main,)

register, unregister = bpy.utils.register_classes_factory(classes)
