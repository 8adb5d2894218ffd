"""Progress of long calls: the Rust library sends events (dicts with ``kind`` = ``step``,
``finished``, ``detail`` or ``warning``); this module turns the ``progress`` argument of the public
functions into the callable that receives them.

``progress`` may be ``"auto"`` (a tqdm bar when tqdm is installed, else nothing), ``True`` (a tqdm
bar, or plain lines on stderr without tqdm), ``False``/``None`` (nothing), or any callable taking
the event dict (called from the computing thread, with the GIL held for the call).
"""

import sys


class _Bars:
    """One tqdm bar per task, updated from step events and closed when the task finishes."""

    def __init__(self, tqdm):
        self._tqdm = tqdm
        self._bars = {}

    def __call__(self, event):
        kind = event.get("kind")
        if kind not in ("step", "finished"):
            return  # details are for verbose logs; warnings are raised as Python warnings on return
        task = event["task"]
        bar = self._bars.get(task)
        if bar is None:
            bar = self._tqdm(total=event["total"], desc=task, unit="step", leave=False, dynamic_ncols=True)
            self._bars[task] = bar
        bar.n = event["done"]
        bar.set_postfix_str(event["what"], refresh=False)
        bar.refresh()
        if kind == "finished":
            bar.close()
            del self._bars[task]

    def close(self):
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


class _Lines:
    """Plain progress lines on stderr, for ``progress=True`` without tqdm."""

    def __call__(self, event):
        kind = event.get("kind")
        if kind == "step":
            print(f"  {event['task']} [{event['done']}/{event['total']}] {event['what']}", file=sys.stderr)
        elif kind == "finished":
            print(f"  {event['task']} done in {event['seconds']:.1f} s: {event['what']}", file=sys.stderr)

    def close(self):
        pass


class _Callable:
    def __init__(self, fn):
        self._fn = fn

    def __call__(self, event):
        self._fn(event)

    def close(self):
        pass


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def resolve(progress):
    """The event receiver for ``progress`` (``None`` for silence); call ``.close()`` when done."""
    if progress is None or progress is False:
        return None
    if progress == "auto" or progress is True:
        tqdm = _tqdm()
        if tqdm is not None:
            return _Bars(tqdm)
        return _Lines() if progress is True else None
    if callable(progress):
        return _Callable(progress)
    raise ValueError(f'invalid parameter `progress`: expected "auto", True, False, None or a callable, got {progress!r}')
