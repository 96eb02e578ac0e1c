"""Train once, reuse everywhere: runs cached in folders named by their configuration.

The chapters and the sweep ask for a model by its settings; the first ask
trains it, later asks (another chapter, another build) load the checkpoint.
The key holds the settings, a version of the code and checkpoint format, and a
fingerprint of the training images, so a stale or foreign run is never served.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import __version__
from ..checkpoint import FORMAT, atomic_write, load_checkpoint, model_from_state
from ..config import ModelConfig, TrainConfig, describe, env_path, to_dict, variant_tags
from ..data import Split, load_data
from ..device import pick_device
from ..errors import CheckpointError, FolderError, TrainingDiverged, printable
from ..train import CHECKPOINT_NAME, METRICS_NAME, EpochCallback, FitResult, fit
from .folder import claimed_folder
from .targets import KEY_NAME

CACHE_ENV_VAR = "VAE_TUTORIAL_CACHE"
CACHE_FORMAT = 2  # raise when training changes what a configuration learns
MAX_KEY_BYTES = 1 << 16  # a key is a few hundred bytes of settings
IGNORED = ("device", "data_dir")  # where a run happens does not change what it learns
# Settings added after the first cached runs are left out of the key at their defaults, so runs cached before
# they existed stay valid (0.3: likelihood to free bits; then the prior; then the data and beta-TCVAE).
LATER_DEFAULTS = {"likelihood": "bernoulli", "gaussian_sigma": None, "conditional": False, "num_classes": 10,
                  "free_bits": 0.0, "prior": "standard", "prior_components": None, "data": "fashion-mnist",
                  "tc_weight": None}


def cache_root(root: str | os.PathLike | None = None) -> Path:
    """The cache folder: the argument, else $VAE_TUTORIAL_CACHE (a folder; set but blank is refused), else ./runs/cache."""
    return Path(root or env_path(CACHE_ENV_VAR) or Path("runs") / "cache")


def data_fingerprint(split: Split) -> str:
    """A short hash of a split's images (and their number): which data a model learnt from."""
    images = split.images.detach().cpu().contiguous()
    digest = hashlib.sha1(str(tuple(images.shape)).encode())
    digest.update(memoryview(images.numpy()).cast("B"))
    return digest.hexdigest()[:12]


def run_settings(model_config: ModelConfig, train_config: TrainConfig, train_data: Split) -> dict:
    """Everything that decides what a cached run holds."""
    values = {**to_dict(model_config), **{k: v for k, v in to_dict(train_config).items() if k not in IGNORED}}
    values = {k: v for k, v in values.items() if k not in LATER_DEFAULTS or v != LATER_DEFAULTS[k]}
    return {**values, "code": f"{__version__}/{CACHE_FORMAT}/{FORMAT}", "train_data": data_fingerprint(train_data)}


def run_key(model_config: ModelConfig, train_config: TrainConfig, train_data: Split | None = None) -> str:
    """A readable, unique folder name for a configuration, e.g. mlp-z20-beta1-e50-3f9a1c2e."""
    train_data = (train_data or load_data(train_config.data, True, train_config.data_dir)).head(train_config.subset)
    return _folder_name(model_config, train_config, run_settings(model_config, train_config, train_data))


def _folder_name(model_config: ModelConfig, train_config: TrainConfig, settings: dict) -> str:
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    variant = "".join(f"-{part}" for part in variant_tags(model_config, train_config))
    return f"{model_config.arch}-z{model_config.latent_dim}-beta{train_config.beta:g}{variant}-e{train_config.epochs}-{digest}"


def cached_fit(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train_data: Split | None = None,
    test_data: Split | None = None,
    root: str | os.PathLike | None = None,
    callback: EpochCallback | None = None,
    progress: bool = False,
) -> FitResult:
    """fit() unless this exact configuration has been trained before; then load it.

    On a cache hit the saved history is replayed through the callback, so live
    plots draw the same curves. An interrupted run is resumed where it stopped.
    The model is on the training device either way.
    """
    train_data = (train_data or load_data(train_config.data, True, train_config.data_dir)).head(train_config.subset)
    settings = run_settings(model_config, train_config, train_data)
    out = cache_root(root) / _folder_name(model_config, train_config, settings)  # the images hashed once
    checkpoint = out / CHECKPOINT_NAME
    # checked below; another process training this very run (a second chapter, a build) is waited for
    with _cache_folder(out):
        state = _readable(checkpoint)  # read once, for a cache hit and for a resume alike
        if state is not None and not _holds(checkpoint, state, settings):
            state = None  # set aside, as an unreadable checkpoint is, and trained again
        if state is not None:
            history = state["history"]
            if history[-1]["epoch"] >= train_config.epochs:
                model = model_from_state(state, checkpoint, pick_device(train_config.device))
                for record in history if callback else ():
                    callback(record, model)
                return FitResult(model, history, cached=True)
        text = (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode()
        atomic_write(out / KEY_NAME, lambda file: file.write(text))
        try:
            return fit(model_config, train_config, train_data, test_data, out_dir=out,
                       resume=checkpoint if state is not None else None, resume_state=state, callback=callback,
                       progress=progress)
        except BaseException as err:
            if not checkpoint.exists():  # no epoch was saved: no folder holding only its key is left behind
                (out / KEY_NAME).unlink(missing_ok=True)
            if isinstance(err, TrainingDiverged):  # which of a sweep's or a chapter's models, and what is kept
                kept = f"its last good epoch is kept in {out}" if checkpoint.exists() else "nothing was cached"
                raise TrainingDiverged(f"training the {describe(model_config, train_config)}: {err}; {kept}") from err
            raise


@contextmanager
def _cache_folder(out: Path) -> Iterator[Path]:
    """claimed_folder for a cached run: waited for while another process trains it, and a folder that cannot be
    used is one line naming the cache and what to do (a chapter's Run All and a sweep see the same)."""
    try:
        if out.parent.is_symlink():  # the cache folder itself: every model would be written where it points
            raise FolderError(f"{out.parent} is a symbolic link to {os.readlink(out.parent)}, and nothing is "
                              "written through a link")
        with claimed_folder(out, written=(CHECKPOINT_NAME, METRICS_NAME, KEY_NAME), refuse=False, wait=True,
                            links_refused=False) as folder:
            yield folder
    except FolderError as err:
        raise FolderError(f"the model cache cannot be used: {err}. The cache is {out.parent}: remove what is in "
                          f"the way, or use another cache (the chapters take theirs from ${CACHE_ENV_VAR}, a sweep "
                          "and the benchmarks from their --out)") from None


def _readable(checkpoint: Path) -> dict | None:
    """The cached checkpoint, or None: none yet, or unreadable (then set aside as *.unreadable and trained afresh)."""
    if not checkpoint.exists():
        return None
    try:
        return load_checkpoint(checkpoint, for_resume=True)
    except CheckpointError as err:
        _set_aside(checkpoint, f"could not be read ({err})")
        return None


def _holds(checkpoint: Path, state: dict, settings: dict) -> bool:
    """True when the folder's key and the checkpoint's own settings are exactly the ones asked for.

    The folder is named by a digest of the key, so a key that differs was damaged (cut short, edited, lost),
    and a checkpoint whose settings differ was put there from elsewhere: either way the run cannot be
    trusted, and is set aside (*.unreadable) and trained again, as an unreadable checkpoint is.
    """
    key_path = checkpoint.parent / KEY_NAME
    saved = _read_key(key_path)
    stored = {**state["model_config"], **{k: v for k, v in state["train_config"].items() if k not in IGNORED}}
    expected = {k: v for k, v in settings.items() if k in stored}
    if saved != settings:
        why = "has no key.json" if not key_path.exists() else "has a damaged key.json (or one that is not a file)"
    elif {k: stored[k] for k in expected} != expected:
        why = "holds a checkpoint of other settings"
    else:
        return True
    _set_aside(checkpoint, why)
    return False


def _read_key(path: Path) -> dict | None:
    """A cached run's key, or None: absent, not a plain file (a pipe would block, /dev/zero never end), too long,
    or not JSON. Opened without following a link and without blocking; at most MAX_KEY_BYTES are read."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return None
        data = os.read(handle, MAX_KEY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(handle)
    try:
        return json.loads(data) if len(data) <= MAX_KEY_BYTES else None
    except ValueError:
        return None


def _set_aside(checkpoint: Path, why: str) -> None:
    """Move a cached run's checkpoint (and its key) aside as *.unreadable (or *.unreadable-2, ... where that name
    is taken), and say so on stderr."""
    names = []
    for path in (checkpoint, checkpoint.parent / KEY_NAME):
        if path.exists() or path.is_symlink():
            aside = _free_name(path.with_name(path.name + ".unreadable"))
            try:
                path.replace(aside)
            except OSError as err:
                raise FolderError(f"cannot move {path} aside to {aside.name}: {err.strerror or err}") from None
            names.append(aside.name)
    print(printable(f"note: the cached run in {checkpoint.parent} {why}; it was moved to {' and '.join(names)} "
                    "and the model is trained again"), file=sys.stderr, flush=True)


def _free_name(path: Path) -> Path:
    """path, or path-2, path-3, ...: the first name nothing (not even a broken link) holds."""
    candidate, number = path, 1
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate
