"""Which installed versions of transformers and peft work together, and errors that say how to fix it.

loracode-embed drives its adapters through PEFT's own functions (``peft.functional``), never through
transformers' PEFT integration, so the core does not depend on transformers' peft version gate
(transformers 5.24+ demands peft >= 0.22, which is not published, in ``set_adapter``,
``enable_adapters``, ``add_adapter`` and friends). What can still go wrong with a new upstream release
is that peft no longer imports against the installed transformers, or lacks the functions used here;
:func:`import_peft` then names the versions and the command that fixes it, instead of the upstream's
advice alone (such as "please use a version >= 0.22.0", which could not be followed).

Example:
    >>> import_peft().__name__
    'peft'
"""

from __future__ import annotations

import importlib
import importlib.metadata
from types import ModuleType

#: The ranges the whole test suite last passed on (``make test-min`` / ``make test-latest``;
#: docs/install.md). Shown in errors so that a user knows what to pin.
TESTED_RANGES = "transformers 5.0-5.25 with peft 0.18-0.21 (docs/install.md)"


class DependencyError(ImportError):
    """Installed package versions that do not work together; the message names them and the fix."""


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or ``None``.

    Example:
        >>> installed_version("surely-not-installed-xyz") is None
        True
    """
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _versions() -> str:
    names = ("transformers", "peft", "sentence-transformers", "torch")
    return ", ".join(f"{name} {installed_version(name) or 'not installed'}" for name in names)


def import_peft() -> ModuleType:
    """Import peft and the functions the core uses from it, or raise a :class:`DependencyError`.

    Raises:
        DependencyError: peft is missing, or does not import against the installed transformers.
    """
    try:
        peft = importlib.import_module("peft")
        functional = importlib.import_module("peft.functional")
        for name in ("inject_adapter_in_model", "set_peft_model_state_dict"):
            getattr(functional, name)
    except (ImportError, AttributeError) as exc:
        raise DependencyError(
            f"peft cannot be used with the installed packages ({_versions()}): {exc}. "
            f"Tested together: {TESTED_RANGES}. Fix: install the tested set from the repository's lock "
            f"(`pip install -c requirements.lock -e .`), or `pip install 'peft>=0.18'` with a transformers from that range."
        ) from exc
    return peft
