"""Where an account's password or OAuth2 token comes from: an environment variable, a command, the keyring.

The config names only the *source* of a secret. The secret itself lives in memory just long enough to log
in: it is never written to the config, the store or a log, never put into an error message, and never
passed on the command line of a process we start (commands get it from us on no channel at all: they
print it and we read their standard output).

Sources, first configured wins:

=========================  ===============================================================================
``oauth2_token_command``   prints an OAuth2 access token (Gmail, Microsoft 365); logged in with XOAUTH2
``password_env``           names an environment variable holding the password
``password_command``       prints the password on its first line, like mbsync's PassCmd (``pass show mail``)
``keyring``                the system keyring, service ``inboxrel/<account>``, user = the IMAP username
=========================  ===============================================================================
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping

from inboxrel.errors import AuthError, ConfigError
from inboxrel.pipelines.imap import Credential

COMMAND_TIMEOUT = 120  # seconds; a password manager may wait for a passphrase prompt (gpg-agent, pinentry)


def keyring_service(account) -> str:
    """The keyring service name the password of ``account`` is stored under."""
    return f"inboxrel/{account.name}"


def fetch_credential(account, environ: Mapping[str, str], *, timeout: float = COMMAND_TIMEOUT) -> Credential:
    """Get the account's username and secret from its configured source; raise AuthError when it cannot."""
    username = account.username
    if not username:
        raise ConfigError(f"account {account.name!r} has no username: set it with `inboxrel account add`")
    if account.oauth2_token_command:
        token = run_secret_command(account.oauth2_token_command, "OAuth2 token command", environ, timeout)
        return Credential(username, token, "xoauth2", f"OAuth2 token command `{_program(account.oauth2_token_command)}`")
    if account.password_env:
        value = environ.get(account.password_env)
        if not value:
            raise AuthError(f"account {account.name!r} reads its password from the environment variable "
                            f"{account.password_env}, which is not set (cron jobs start with an almost empty "
                            f"environment: a password_command is safer there)")
        return Credential(username, value, "password", f"environment variable {account.password_env}")
    if account.password_command:
        value = run_secret_command(account.password_command, "password command", environ, timeout)
        return Credential(username, value, "password", f"password command `{_program(account.password_command)}`")
    if account.keyring:
        return Credential(username, _keyring_password(account), "password",
                          f"keyring entry {keyring_service(account)}")
    raise AuthError(f"account {account.name!r} has no password source: add one with `inboxrel account add "
                    f"{account.name} --password-command 'pass show mail'` (or --password-env VAR, --keyring)")


def run_secret_command(command: str, what: str, environ: Mapping[str, str], timeout: float) -> str:
    """Run ``command`` without a shell and return the first line it prints; its output is never shown."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"cannot split the {what} into words ({exc}): check its quotes in the config") from None
    if not argv:
        raise ConfigError(f"the {what} is empty: set it with `inboxrel account add`")
    try:
        proc = subprocess.run(argv, shell=False, stdin=subprocess.DEVNULL, capture_output=True,
                              env=dict(environ), timeout=timeout)
    except FileNotFoundError:
        raise AuthError(f"{what} `{argv[0]}` not found: give its full path, or install it") from None
    except PermissionError:
        raise AuthError(f"{what} `{argv[0]}` is not executable: check its permissions") from None
    except subprocess.TimeoutExpired:
        raise AuthError(f"{what} `{argv[0]}` did not finish within {timeout:.0f} s (waiting for a passphrase?)"
                        ) from None
    out = proc.stdout.decode("utf-8", "replace")
    secret = out.splitlines()[0].strip("\r\n") if out.strip() else ""
    if proc.returncode != 0:
        raise AuthError(f"{what} `{argv[0]}` failed with exit status {proc.returncode}"
                        f"{_stderr_hint(proc.stderr, secret)}: run it yourself to see why")
    if not secret:
        raise AuthError(f"{what} `{argv[0]}` printed nothing: it must print the secret on its first line")
    return secret


def _stderr_hint(stderr: bytes, secret: str) -> str:
    """The last line the command wrote to stderr (password managers explain themselves there), masked."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    if not lines:
        return ""
    line = lines[-1][:200]
    if secret and secret in line:
        return ""
    return f" ({line})"


def _program(command: str) -> str:
    try:
        argv = shlex.split(command)
    except ValueError:
        return "?"
    return argv[0] if argv else "?"


def _keyring_password(account) -> str:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        raise AuthError("the keyring password source needs the keyring package: pip install 'inboxrel[keyring]'"
                        ) from None
    try:
        value = keyring.get_password(keyring_service(account), account.username)
    except KeyringError as exc:
        raise AuthError(f"the system keyring cannot be read ({type(exc).__name__}): use --password-command "
                        f"instead, or unlock the keyring") from None
    if not value:
        raise AuthError(f"no password in the keyring for service {keyring_service(account)!r}, user "
                        f"{account.username!r}: store one with `keyring set {keyring_service(account)} "
                        f"{account.username}`")
    return value


def save_keyring_password(account, password: str) -> None:
    """Store the account's password in the system keyring (``account add --keyring`` asks for it)."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        raise AuthError("the keyring password source needs the keyring package: pip install 'inboxrel[keyring]'"
                        ) from None
    try:
        keyring.set_password(keyring_service(account), account.username, password)
    except KeyringError as exc:
        raise AuthError(f"cannot write to the system keyring ({type(exc).__name__}): use --password-command "
                        f"instead") from None
