"""The plugin manager: loads the ``facecast`` entry points and owns the registry.

Built-in plugins (``plugins/``) are found exactly as third-party ones are,
through their distribution's entry points, so ``facecast plugins`` lists them
side by side.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from . import hookspecs

if TYPE_CHECKING:
    from .contracts import BackendScore

log = logging.getLogger("facecast.plugins")

ENTRY_POINT_GROUP = "facecast"
KINDS = ("transports", "renderers", "starvation_policies", "audio_sinks", "motion_generators")


class PluginError(RuntimeError):
    """A plugin is broken: it failed to import, implements an unknown hook, or clashes with another."""


@attrs.frozen
class PluginInfo:
    """One loaded plugin, for listings."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


@attrs.frozen
class Registration:
    """One thing a plugin registered: ``kind`` is one of :data:`KINDS`."""

    kind: str
    name: str
    plugin: str
    factory: Callable[..., Any]
    probe: Callable[[], Any] | None = None


class PluginManager:
    """Loads plugins once and answers "which factory is called NAME for KIND"."""

    def __init__(self, plugins: Iterable[tuple[str, object]] | None = None, *, load_entry_points: bool = True):
        self.pm = pluggy.PluginManager("facecast")
        self.pm.add_hookspecs(hookspecs)
        self._info: dict[str, PluginInfo] = {}
        if load_entry_points:
            self._load_entry_points()
        for name, plugin in plugins or ():
            self._register(name, plugin, None)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
            raise PluginError(
                f"plugin {name!r} implements a hook that does not exist ({exc.args[0].split(' in plugin')[0]}); "
                "check the spelling against engine.hookspecs"
            ) from None
        self.registry: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}
        for kind in KINDS:
            self._collect(kind)

    # -- loading -------------------------------------------------------------------------------

    def _load_entry_points(self) -> None:
        wanted = os.environ.get("FACECAST_LOAD_PLUGINS")
        allowed = {n.strip() for n in wanted.split(",") if n.strip()} if wanted is not None else None
        for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if allowed is not None and ep.name not in allowed:
                continue
            if self.pm.get_plugin(ep.name) is not None:
                continue  # the same distribution seen twice on sys.path
            try:
                plugin = ep.load()
            except Exception as exc:
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
            self._register(ep.name, plugin, ep.dist)

    def _register(self, name: str, plugin: object, dist: md.Distribution | None) -> None:
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {name!r} is invalid: {exc}") from None
        except ValueError as exc:
            raise PluginError(f"plugin {name!r} could not be registered: {exc}") from None
        hooks = tuple(sorted(c.name for c in (self.pm.get_hookcallers(plugin) or ())))
        self._info[name] = PluginInfo(
            name=name,
            module=getattr(plugin, "__name__", type(plugin).__name__),
            distribution=dist.metadata["Name"] if dist is not None else None,
            version=dist.version if dist is not None else None,
            hooks=hooks,
        )

    def _collect(self, kind: str) -> None:
        caller = getattr(self.pm.hook, f"register_{kind}")
        table = self.registry[kind]
        for impl in caller.get_hookimpls():  # registration order
            plugin_name = impl.plugin_name

            def register(name: str, factory: Callable[..., Any], probe: Callable[[], Any] | None = None,
                         _plugin: str = plugin_name) -> None:
                if not isinstance(name, str) or not name:
                    raise PluginError(f"plugin {_plugin!r} registered a {kind[:-1]} with an empty name")
                if not callable(factory):
                    raise PluginError(f"plugin {_plugin!r} registered {kind[:-1]} {name!r} with a factory "
                                      "that is not callable")
                if kind == "renderers" and not callable(probe):
                    raise PluginError(f"plugin {_plugin!r} registered renderer {name!r} without a probe()")
                if name in table:
                    raise PluginError(f"{kind[:-1]} {name!r} is registered by both plugin "
                                      f"{table[name].plugin!r} and plugin {_plugin!r}; "
                                      "uninstall one or restrict FACECAST_LOAD_PLUGINS")
                table[name] = Registration(kind, name, _plugin, factory, probe)

            impl.function(register=register)

    # -- queries -------------------------------------------------------------------------------

    def get(self, kind: str, name: str) -> Registration:
        """The registration ``name`` of ``kind``; ``KeyError`` lists what is available."""
        try:
            return self.registry[kind][name]
        except KeyError:
            have = ", ".join(sorted(self.registry.get(kind, {}))) or "none"
            raise KeyError(f"no {kind[:-1].replace('_', ' ')} named {name!r} (available: {have})") from None

    def names(self, kind: str) -> list[str]:
        return sorted(self.registry[kind])

    def plugins(self) -> list[dict[str, Any]]:
        """One dict per plugin: name, module, distribution, version, hooks and what it registered."""
        out = []
        for info in sorted(self._info.values(), key=lambda i: i.name):
            registered = {
                kind: sorted(r.name for r in self.registry[kind].values() if r.plugin == info.name)
                for kind in KINDS
            }
            out.append({**attrs.asdict(info), "hooks": list(info.hooks),
                        "registers": {k: v for k, v in registered.items() if v}})
        return out

    def choose_renderer(self, scores: Sequence[BackendScore]) -> str | None:
        """The first plugin's answer to the ``choose_renderer`` hook (``firstresult``), or None."""
        return self.pm.hook.choose_renderer(scores=scores)


_manager: PluginManager | None = None
_lock = threading.Lock()


def get_plugin_manager() -> PluginManager:
    """The process-wide manager, loaded on first use."""
    global _manager
    with _lock:
        if _manager is None:
            _manager = PluginManager()
        return _manager


def reset_plugin_manager() -> None:
    """Forget the loaded plugins (tests, or after installing a plugin at run time)."""
    global _manager
    with _lock:
        _manager = None
        importlib.invalidate_caches()
