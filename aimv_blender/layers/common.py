"""Small bpy helpers shared by the layers: collections, objects, meshes and materials."""

from __future__ import annotations

import bpy

COLLECTION = "AIMV"
MATERIAL = "aimv_material"  # the material AIMV last assigned to an object
# The name AIMV gave an object: renamed by the artist, it is still that object (no twin is
# made); a copy (Shift+D: "AIMV Lyric fire.001") carries it under another name, and is theirs.
IDENTITY = "aimv_name"


def collection(scene: bpy.types.Scene, name: str = COLLECTION) -> bpy.types.Collection:
    """AIMV's collection (``name`` = "AIMV") or one of its per-layer children ("AIMV Lyrics").

    One the artist renamed is found by its :data:`IDENTITY` and keeps their name: a layer
    switched off must hide the objects where they are, not in a twin made under the old name.
    """
    coll = find_collection(name)
    if coll is None:
        coll = bpy.data.collections.new(name)
    coll[IDENTITY] = name
    parent = scene.collection if name == COLLECTION else collection(scene)
    if coll.name not in parent.children:
        parent.children.link(coll)
    return coll


def find_collection(name: str = COLLECTION) -> bpy.types.Collection | None:
    """AIMV's collection ``name`` if there is one, renamed by the artist or not."""
    ours = [c for c in bpy.data.collections if c.get(IDENTITY) == name]
    # under its own name first: a Shift-D copy ("AIMV Lyrics.001") carries the identity too
    named = next((c for c in ours if c.name == name), None)
    return named or next(iter(ours), None) or bpy.data.collections.get(name)


def set_layer_visible(scene: bpy.types.Scene, coll: bpy.types.Collection, visible: bool) -> None:
    """Show or hide a layer's collection in the picture (its objects and keys are kept)."""
    coll.hide_render = not visible

    def find(lc):
        if lc.collection == coll:
            return lc
        for child in lc.children:
            hit = find(child)
            if hit is not None:
                return hit
        return None

    for view_layer in scene.view_layers:
        lc = find(view_layer.layer_collection)
        if lc is not None:
            lc.exclude = not visible


def get_object(coll, name: str, make_data, kind: str) -> tuple[bpy.types.Object, bool]:
    """AIMV's object ``name`` (created when missing, linked into ``coll``) and whether it is
    new. One the artist renamed is found by its :data:`IDENTITY` and keeps their name."""
    ob = bpy.data.objects.get(name)
    if ob is None or ob.type != kind:
        ob = _renamed(name, kind) or ob
    created = ob is None or ob.type != kind
    if created:
        ob = bpy.data.objects.new(name, make_data())
    ob[IDENTITY] = name
    if ob.name not in coll.objects:
        coll.objects.link(ob)
    return ob, created


def _renamed(name: str, kind: str) -> bpy.types.Object | None:
    return next((o for o in bpy.data.objects if o.type == kind and o.get(IDENTITY) == name), None)


def is_leftover(ob: bpy.types.Object, wanted, *, legacy_mark: str) -> bool:
    """Whether ``ob`` is an object of AIMV's that this build no longer needs (``wanted``: the
    names it keeps). Never one the artist renamed or copied: its name is not the one AIMV gave
    it. An object of a build from before :data:`IDENTITY` counts when it has ``legacy_mark``."""
    identity = ob.get(IDENTITY)
    if identity is None:
        return legacy_mark in ob and ob.name not in wanted
    return identity == ob.name and identity not in wanted


def plane_mesh(
    name: str, width: float, height: float, uv: tuple[float, float, float, float] = (0, 0, 1, 1)
) -> bpy.types.Mesh:
    """A vertical plane facing -Y (towards the camera), its UVs spanning ``uv`` (u0, v0, u1, v1)."""
    w, h = width / 2, height / 2
    verts = [(-w, 0.0, -h), (w, 0.0, -h), (w, 0.0, h), (-w, 0.0, h)]
    u0, v0, u1, v1 = uv
    mesh = bpy.data.meshes.get(name)
    if mesh is None or len(mesh.vertices) != 4:
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata(verts, [], [(0, 1, 2, 3)])
        mesh.uv_layers.new(name="UVMap")
    else:
        mesh.vertices.foreach_set("co", [c for v in verts for c in v])
    mesh.uv_layers[0].data.foreach_set("uv", [u0, v0, u1, v0, u1, v1, u0, v1])
    mesh.update()
    return mesh


def material(name: str) -> bpy.types.Material:
    mat = bpy.data.materials.get(name) or bpy.data.materials.new(name)
    if hasattr(mat, "use_nodes") and not mat.use_nodes:
        mat.use_nodes = True  # needed before 5.0, where node trees are always on
    return mat


def has_nodes(nt, wanted: dict[str, str]) -> bool:
    """Whether node tree ``nt`` still holds AIMV's named nodes (name -> bl_idname).

    Such a tree is updated in place, never cleared: clearing deletes the F-curves that key its
    nodes (an artist's texture swaps and colours) and any node the artist added.
    """
    return all(
        (node := nt.nodes.get(name)) is not None and node.bl_idname == idname
        for name, idname in wanted.items()
    )


def blended(mat: bpy.types.Material) -> None:
    """Let the material's alpha (Workbench: diffuse_color's) show through."""
    if hasattr(mat, "surface_render_method"):  # 4.2+
        mat.surface_render_method = "BLENDED"
    if hasattr(mat, "blend_method"):
        mat.blend_method = "BLEND"


def assign(ob: bpy.types.Object, mat: bpy.types.Material) -> None:
    if len(ob.data.materials) == 0:
        ob.data.materials.append(mat)
    elif ob.data.materials[0] != mat:
        ob.data.materials[0] = mat


def assign_unless_replaced(ob: bpy.types.Object, mat: bpy.types.Material) -> None:
    """Give ``ob`` AIMV's material ``mat``, unless the artist has put another in its slot.

    AIMV records the material it assigned (``aimv_material``); a different one there now is
    the artist's choice and stays.
    """
    current = _first_material(ob)
    if current is not None and current != mat and own_material(ob) is None:
        return
    assign(ob, mat)
    ob[MATERIAL] = mat.name


def own_material(ob: bpy.types.Object) -> bpy.types.Material | None:
    """The material AIMV assigned to ``ob``, if it is still there (None: the artist's)."""
    current = _first_material(ob)
    if current is None or current.name != ob.get(MATERIAL, current.name):
        return None
    return current


def _first_material(ob: bpy.types.Object) -> bpy.types.Material | None:
    return ob.data.materials[0] if len(ob.data.materials) else None


def emission_output(nt, colour_socket, *, alpha_socket=None):
    """Colour -> Emission (strength 1), mixed with transparency by ``alpha_socket`` if given."""
    emit = nt.nodes.new("ShaderNodeEmission")
    emit.location = (200, 0)
    nt.links.new(colour_socket, emit.inputs["Color"])
    out = nt.nodes.new("ShaderNodeOutputMaterial")
    out.location = (600, 0)
    if alpha_socket is None:
        nt.links.new(emit.outputs[0], out.inputs["Surface"])
        return emit
    clear = nt.nodes.new("ShaderNodeBsdfTransparent")
    clear.location = (200, 150)
    mix = nt.nodes.new("ShaderNodeMixShader")
    mix.location = (400, 0)
    nt.links.new(alpha_socket, mix.inputs[0])
    nt.links.new(clear.outputs[0], mix.inputs[1])
    nt.links.new(emit.outputs[0], mix.inputs[2])
    nt.links.new(mix.outputs[0], out.inputs["Surface"])
    return emit


def remove_objects(names) -> int:
    """Remove AIMV's objects (and their now unused data and AIMV's materials) by name. A
    material the artist gave one is kept (with a fake user: Blender would drop it on save)."""
    n = 0
    for name in names:
        ob = bpy.data.objects.get(name)
        if ob is None:
            continue
        data = ob.data
        mats = [m for m in getattr(data, "materials", ()) if m is not None]
        for m in mats:
            if MATERIAL in ob and m.name != ob[MATERIAL]:
                m.use_fake_user = True  # the artist's
        mats = [m for m in mats if not m.use_fake_user]
        bpy.data.objects.remove(ob)
        n += 1
        if data is not None and data.users == 0:
            kind = {bpy.types.Mesh: "meshes", bpy.types.Curve: "curves"}
            for cls, coll in kind.items():
                if isinstance(data, cls):
                    getattr(bpy.data, coll).remove(data)
        for m in mats:
            if m.users == 0:
                bpy.data.materials.remove(m)
    return n
