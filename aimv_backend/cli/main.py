"""``aimv`` entry point: parse, run one subcommand, turn user errors into one line and exit 2.

Each subcommand lives in ``aimv_backend/cli/<name>_cmd.py`` and exposes
``add_parser(subparsers, parents)`` and ``run(args, progress) -> int``; its flags come from
:mod:`aimv_backend.cli.options`. Modules are imported only when their subcommand runs, so
``aimv --help`` stays fast and light. With ``--progress json`` a failure is also an ``error``
event (:mod:`aimv_timeline.events`), which is how the add-on and the orchestrator read it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from aimv_backend import __version__
from aimv_backend.errors import AimvError, Cancelled
from aimv_backend.progress import JsonLinesProgress, SilentProgress, TqdmProgress
from aimv_backend.util.procs import install_sigterm_handler
from aimv_timeline import flags as shared
from aimv_timeline import names, offline
from aimv_timeline.events import ERROR_PREFIX
from aimv_timeline.names import STAGE_ALIASES, STAGES, TIMELINE_FILE
from aimv_timeline.schema import TimelineFormatError

# subcommand name -> (module, one-line help): the four stages, then the whole run
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "listen": ("aimv_backend.cli.listen_cmd", f"analyse a song into out/{TIMELINE_FILE}"),
    "describe": ("aimv_backend.cli.describe_cmd", "write the sentence and prompt of every window"),
    "imagine": ("aimv_backend.cli.imagine_cmd", "make one texture image per window"),
    "stage": ("aimv_backend.cli.stage_cmd", "key a timeline in Blender and render the video"),
    "render": ("aimv_backend.cli.render_cmd", "song to music video: every stage, then Blender"),
}
assert tuple(SUBCOMMANDS)[:4] == STAGES
EXIT_USER_ERROR = names.EXIT_USER_ERROR
EXIT_CANCELLED = names.EXIT_CANCELLED
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a process a closed pipe ended


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors on one line with exit code 2 (its default code too)."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        _usage_error(f"{message} (see '{self.prog} --help')")


_ARGV: list[str] = []  # what main() was given: --progress json asks for error events


# The options every command takes, and whether each takes a value: given before the command
# ("aimv -q render ..."), they are moved after it, where argparse reads them.
_COMMON = {"--seed": True, "--force": False, "--quiet": False, "-q": False, "--offline": False,
           "--progress": True}  # fmt: skip


def _common_options_after_the_command(argv: list[str]) -> list[str]:
    before: list[str] = []
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name = argv[i].split("=", 1)[0]
        if name not in _COMMON:
            return argv  # --help, --version or a mistake: argparse says which
        takes_value = _COMMON[name] and "=" not in argv[i]
        before += argv[i : i + 1 + takes_value]
        i += 1 + takes_value
    if not before or i >= len(argv):
        return argv
    return [argv[i], *before, *argv[i + 1 :]]


def wants_events(argv: list[str]) -> bool:
    """Whether ``argv`` asks for ``--progress json`` (read before, or without, parsing it)."""
    return "--progress=json" in argv or any(
        a == "--progress" and b == "json" for a, b in zip(argv, argv[1:], strict=False)
    )


def _usage_error(message: str) -> None:
    """A bad command line: one line, and with --progress json (-q too) the ``error`` event."""
    if wants_events(_ARGV):
        JsonLinesProgress().emit("error", type="ParameterError", message=message)
    sys.stderr.write(f"{ERROR_PREFIX}{message}\n")
    raise SystemExit(EXIT_USER_ERROR)


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand takes."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("common options")
    shared.SEED.add_to(group, dest="seed", shown=0)  # None: not given (a timeline's may stay)
    group.add_argument(
        "--force",
        action="store_true",
        help="overwrite outputs that exist and differ (default: refuse)",
    )
    group.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    group.add_argument(
        "--offline",
        action="store_true",
        default=os.environ.get("AIMV_OFFLINE", "") not in ("", "0"),
        help="never touch the network: local models only (default: $AIMV_OFFLINE)",
    )
    group.add_argument(
        "--progress",
        choices=("bar", "json", "none"),
        default="bar",
        help="progress display: a bar, JSON lines for tools, or none (default: bar)",
    )
    return parent


def build_parser(*, load: str | None = None) -> argparse.ArgumentParser:
    """The full parser. With ``load`` only that subcommand's module is imported."""
    parser = _Parser(
        prog="aimv",
        description="AIMV turns a song into a music video that follows it second by second.",
    )
    parser.add_argument("--version", action="version", version=f"aimv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parents = [common_options()]
    aliases = {stage: old for old, stage in STAGE_ALIASES.items()}
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        if load is None or load == name:
            module = importlib.import_module(module_name)
            module.add_parser(sub, parents)
        else:
            extra = [aliases[name]] if name in aliases else []
            sub.add_parser(name, aliases=extra, help=help_text, add_help=False)
    return parser


def make_progress(args: argparse.Namespace):
    if getattr(args, "quiet", False) or getattr(args, "progress", "bar") == "none":
        return SilentProgress()
    if args.progress == "json":
        return JsonLinesProgress()
    return TqdmProgress()


def main(argv: list[str] | None = None) -> int:
    argv = _common_options_after_the_command(sys.argv[1:] if argv is None else list(argv))
    _ARGV[:] = argv
    chosen = next((a for a in argv if not a.startswith("-")), None)
    chosen = STAGE_ALIASES.get(chosen, chosen)
    parser = build_parser(load=chosen if chosen in SUBCOMMANDS else None)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # name the subcommand's --help, where the valid options are
        sub = f"{parser.prog} {args.command}" if getattr(args, "command", None) else parser.prog
        _usage_error(f"unrecognized arguments: {' '.join(unknown)} (see '{sub} --help')")
    if not args.command:
        parser.print_help()
        return EXIT_USER_ERROR
    offline.enforce(offline=bool(getattr(args, "offline", False)))
    progress = make_progress(args)
    install_sigterm_handler()  # SIGTERM cleans up like Ctrl-C
    try:
        return int(args.run(args, progress) or 0)
    except KeyboardInterrupt:
        return _cancelled(progress, "")
    except Cancelled as exc:
        return _cancelled(progress, " ".join(str(exc).split()))
    except (AimvError, TimelineFormatError) as exc:
        return _user_error(progress, exc, " ".join(str(exc).split()))
    except BrokenPipeError:  # "aimv ... | head": the reader left; not a user error
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # a full disk, a folder where a file should be, permissions ...
        where = f" {exc.filename!r}" if exc.filename else ""
        return _user_error(progress, exc, f"{where.strip()} {exc.strerror or exc}".strip())


def _cancelled(progress, reason: str) -> int:
    """One line for a person; with --progress json (-q too) also the ``cancelled`` event."""
    if isinstance(progress, JsonLinesProgress) or wants_events(_ARGV):
        JsonLinesProgress().emit("cancelled", message=reason)
    print(f"aimv: cancelled: {reason}" if reason else "aimv: cancelled", file=sys.stderr)
    return EXIT_CANCELLED


def _user_error(progress, exc: BaseException, message: str) -> int:
    """One line for a person; with --progress json (-q too) also the ``error`` event."""
    if isinstance(progress, JsonLinesProgress) or wants_events(_ARGV):
        JsonLinesProgress().emit("error", type=type(exc).__name__, message=message)
    print(f"{ERROR_PREFIX}{message}", file=sys.stderr)
    return EXIT_USER_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
