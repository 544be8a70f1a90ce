"""The on-screen window: SDL2 through pygame, one window per display entity.

The bundled ffmpeg has no SDL output device, so the display decodes with ffmpeg and shows
the frames itself. `pygame._sdl2.video` gives a window per entity (pygame.display allows
only one) and scales the picture to the window on the GPU where there is one. Runs on the
module's event-loop thread, which is the process's main thread, as SDL wants.
Without a display (no DISPLAY, no Wayland) opening fails with a message naming the fix;
SDL_VIDEODRIVER=dummy gives a window that shows nowhere (tests, servers).
"""

from __future__ import annotations

import os
from typing import Any

from mediagrid.reference.modules.display.frames import Frame

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


class WindowError(RuntimeError):
    """No window could be opened; the message says why and what to do."""


class Window:
    def __init__(self, title: str, size: tuple[int, int] | None,
                 position: tuple[int, int] | None) -> None:
        self.title, self.size, self.position = title, size, position
        self._window: Any = None
        self._renderer: Any = None
        self._texture: Any = None
        self._texture_size: tuple[int, int] | None = None
        self.shown = 0

    def show(self, frame: Frame) -> None:
        """Puts the frame in the window (opening it at the first frame)."""
        import pygame
        from pygame._sdl2 import video

        if self._window is None:
            self._open(frame, pygame, video)
        if self._texture_size != (frame.width, frame.height):
            self._texture = video.Texture(self._renderer, (frame.width, frame.height),
                                          streaming=True)
            self._texture_size = (frame.width, frame.height)
        surface = pygame.image.frombuffer(frame.rgb, (frame.width, frame.height), "RGB")
        self._texture.update(surface)
        self._renderer.clear()
        self._texture.draw()  # stretched to the whole window
        self._renderer.present()
        pygame.event.pump()  # keeps the window responsive to the desktop
        self.shown += 1

    def _open(self, frame: Frame, pygame: Any, video: Any) -> None:
        try:
            if not pygame.display.get_init():
                pygame.display.init()
            size = self.size or (frame.width, frame.height)
            position = self.position or video.WINDOWPOS_UNDEFINED
            self._window = video.Window(self.title, size=size, position=position)
            self._renderer = video.Renderer(self._window)
        except pygame.error as exc:
            self._window = None
            raise WindowError(
                f"no window ({exc}): run where there is a desktop (DISPLAY or WAYLAND_DISPLAY"
                " set), or set SDL_VIDEODRIVER=dummy, or config window=false; the preview"
                " still works") from None

    def close(self) -> None:
        if self._window is not None:
            self._texture = self._renderer = None
            self._window.destroy()
            self._window = None
