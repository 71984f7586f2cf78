"""THE table: each meaningful channel of the keying -> the datablocks and data paths it keys.

A binding is (target, data path, index); index None means "the channel's own index". Targets:
stage datablocks ("camera", "key_light", "screen_nodes", ...) resolved by the scene builder,
and, for per-object channels (a channel's ``subject``), "subject" (the object),
"subject_data" (its curve or mesh) and "subject_material" (its material).

Node names the bindings use are the names the layers give their nodes (NODE_*), defined here
once so the layers and the table cannot drift apart.
"""

from __future__ import annotations

NODE_COLOUR = "AIMV Colour"
NODE_TEXTURE_A = "AIMV Texture A"
NODE_TEXTURE_B = "AIMV Texture B"
NODE_CROSSFADE = "AIMV Crossfade"
NODE_AMOUNT = "AIMV Amount"


def _node_value(node: str, socket: str = "outputs[0]") -> str:
    return f'nodes["{node}"].{socket}.default_value'


def _frame_offset(node: str) -> str:
    return f'nodes["{node}"].image_user.frame_offset'


Binding = tuple[str, str, "int | None"]

TABLE: dict[str, tuple[Binding, ...]] = {
    # background
    "colour": (
        ("key_light", "color", None),
        ("rim_light", "color", None),
        ("screen_nodes", _node_value(NODE_COLOUR), None),
        ("screen_material", "diffuse_color", None),  # Workbench without textures
    ),
    "texture.current": (("screen_nodes", _frame_offset(NODE_TEXTURE_A), 0),),
    "texture.next": (
        ("screen_nodes", _frame_offset(NODE_TEXTURE_B), 0),
        ("fade_nodes", _frame_offset(NODE_TEXTURE_B), 0),
    ),
    # Workbench shows one image per material: the fade plane's alpha does its crossfade
    "crossfade": (
        ("screen_nodes", _node_value(NODE_CROSSFADE, "inputs[0]"), 0),
        ("fade_material", "diffuse_color", 3),
    ),
    "background.zoom": (
        ("screen", "scale", 0),
        ("screen", "scale", 1),
        ("screen", "scale", 2),
    ),
    "background.drift": (("screen", "location", None),),
    # hidden while a generated clip plays on its plane behind the screen (clips.py)
    "background.hidden": (("screen", "hide_render", 0), ("screen", "hide_viewport", 0)),
    # the fade plane: hidden between crossfades (alpha 0) and with the screen (scene_build.py)
    "fade.hidden": (("fade", "hide_render", 0), ("fade", "hide_viewport", 0)),
    "clip.hidden": (("subject", "hide_render", 0), ("subject", "hide_viewport", 0)),
    "background.pulse": (
        ("screen", "delta_scale", 0),
        ("screen", "delta_scale", 1),
        ("screen", "delta_scale", 2),
    ),
    # lights (EEVEE and Cycles; Workbench ignores lights)
    "energy.key": (("key_light", "energy", 0),),
    "energy.rim": (("rim_light", "energy", 0),),
    "drive": (),  # kept for tools; nothing in the scene shows it directly
    # camera
    "camera.location": (("camera", "location", None),),
    "camera.roll": (("camera", "rotation_euler", None),),
    "camera.punch": (("camera", "delta_location", 1),),
    # hits: a plane in front of the camera lights up in the window's pale tint
    "flash": (
        ("flash_material", "diffuse_color", 3),
        ("flash_nodes", _node_value(NODE_AMOUNT), 0),
    ),
    "flash.hidden": (("flash", "hide_render", 0), ("flash", "hide_viewport", 0)),  # while dark
    "flash.colour": (
        ("flash_material", "diffuse_color", None),
        ("flash_nodes", _node_value(NODE_COLOUR), None),
    ),
    # lyrics: per text object
    "lyric.location": (("subject", "location", None),),
    "lyric.scale": (("subject", "scale", 0), ("subject", "scale", 1), ("subject", "scale", 2)),
    "lyric.alpha": (("subject_material", "diffuse_color", 3), ("subject", "color", 3)),
    "lyric.colour": (("subject_material", "diffuse_color", None), ("subject", "color", None)),
    "lyric.hidden": (("subject", "hide_render", 0), ("subject", "hide_viewport", 0)),
    "lyric.weight": (("subject_data", "extrude", 0),),
    # the translucent plate behind the current phrase (one object for all phrases)
    "plate.location": (("subject", "location", None),),
    "plate.size": (("subject", "scale", None),),
    "plate.alpha": (("subject_material", "diffuse_color", 3), ("subject", "color", 3)),
    "plate.colour": (("subject_material", "diffuse_color", None), ("subject", "color", None)),
    "plate.hidden": (("subject", "hide_render", 0), ("subject", "hide_viewport", 0)),
    # pictograms: per image plane
    "pictogram.location": (("subject", "location", None),),
    "pictogram.scale": (
        ("subject", "scale", 0),
        ("subject", "scale", 1),
        ("subject", "scale", 2),
    ),
    "pictogram.alpha": (("subject_material", "diffuse_color", 3), ("subject", "color", 3)),
    "pictogram.hidden": (("subject", "hide_render", 0), ("subject", "hide_viewport", 0)),
}
