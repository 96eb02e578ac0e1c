"""Progress under a chapter's long cell: which epoch (or step) of how many, how long is left.

Two short lines, the model's name and its state, so that each fits the site's
column without scrolling.

Training a chapter's model in full mode takes minutes to an hour on a CPU; a
student should see that it runs and when it ends, and whether a model was
trained at all or loaded from the cache. The lines are one display, updated in
place after every epoch (in JupyterLab and in the built site, which shows its
last state).
"""

from __future__ import annotations

import statistics
import time


def duration(seconds: float) -> str:
    """"45 s", "3 min 20 s", "1 h 05 min": as precise as a reader needs."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class TrainingStatus:
    """An epoch callback (`record, model`) that keeps one line up to date: call it from fit's callback."""

    def __init__(self, what: str, epochs: int, display_line=None):
        self.what, self.epochs = what, epochs
        self.current = what  # the first line: the model now trained (a sweep names each in turn)
        self.started = time.monotonic()
        shown = display_line or _display_line()
        self.show = lambda state: shown(f"{self.current}:\n  {state}")  # the name, then the state under it
        self.show(f"training {epochs} epochs (the time left shows after the first)")

    def start_model(self, name: str) -> None:
        """A sweep's next model: name it on the first line ("beta sweep, beta 2 (model 3 of 5)")."""
        self.current = f"{self.what}, {name}"
        self.show(f"training {self.epochs} epochs or loading from the cache")

    def note(self, state: str) -> None:
        """What runs now between epochs, e.g. "evaluating on the test images"."""
        self.show(state)

    def __call__(self, record: dict, model=None) -> None:
        epoch, seconds = record["epoch"], record.get("epoch_seconds", 0.0)
        left = (self.epochs - epoch) * seconds
        weight = f" (KL weight {record['beta']:g})" if record.get("beta", 1) != 1 else ""
        self.show(f"epoch {epoch} of {self.epochs}{weight}, {seconds:.1f} s each"
                  + (f", about {duration(left)} left" if left > 0 else ""))

    def finish_all(self, trained: int, loaded: int) -> None:
        """The last line after several models (a sweep): how many were trained now, how many loaded."""
        counted = [f"{count} {'model' if count == 1 else 'models'} {how}"
                   for count, how in ((trained, f"trained in {duration(time.monotonic() - self.started)}"),
                                      (loaded, "loaded from the cache")) if count]
        self.show(", ".join(counted) or "no model")

    def finish(self, result) -> None:
        """The last line: trained in how long, or loaded (with how long it had taken)."""
        history = result.history
        per_epoch = statistics.median(r["epoch_seconds"] for r in history) if history else 0.0
        if result.cached:  # runs/cache: nothing trained now
            self.show(f"loaded from the cache ({len(history)} epochs, {per_epoch:.1f} s each)")
        else:
            self.show(f"trained {len(history)} epochs in {duration(time.monotonic() - self.started)}")


def steps(items, what: str, unit: str = "step", display_line=None, every_seconds: float = 1.0):
    """range(items) (or the items of a list or dict) for a long loop in a chapter, with one line that
    says how far it is.

    `for step in steps(600, "fitting q"):` shows "fitting q: step 240 of 600, about 6 s left", updated
    in place at most once a second, and "fitting q: 600 steps in 14 s" at the end (what the site
    shows); `steps(fits, "judging", unit="model")` goes through a dict's keys, counting models.
    """
    items = range(items) if isinstance(items, int) else items
    count = len(items)
    if count < 1:
        raise ValueError(f"steps needs at least one {unit}, got none")
    show = display_line or _display_line()
    started = shown_at = time.monotonic()
    show(f"{what}: {count} {unit}s")
    for done, item in enumerate(items, 1):
        yield item
        now = time.monotonic()
        if now - shown_at >= every_seconds and done < count:
            shown_at = now
            left = (now - started) / done * (count - done)
            show(f"{what}: {unit} {done} of {count}, about {duration(left)} left")
    show(f"{what}: {count} {unit}s in {duration(time.monotonic() - started)}")


def _display_line():
    """A function that shows a line of text, replacing the line it showed before."""
    from IPython.display import display

    handle = None

    def show(text: str) -> None:
        nonlocal handle
        if handle is None:
            handle = display(_Line(text), display_id=True)
        else:
            handle.update(_Line(text))

    return show


class _Line:
    """Plain text for IPython's display, without quotes."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text
