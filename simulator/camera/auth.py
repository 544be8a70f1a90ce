"""Basic and Digest authentication (RFC 7617, RFC 2617 / RFC 7616 with MD5).

The digest challenge carries no `qop`, as most IP cameras do, because some clients
(live555, so VLC) cannot answer a qop challenge; responses that do carry qop=auth are
verified too. Nonces are stateless: a time stamp signed with a per-server secret, valid
for NONCE_LIFETIME seconds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SCHEMES = ("basic", "digest")
NONCE_LIFETIME = 300.0
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    scheme: str = "digest"
    realm: str = "mediagrid"

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"auth scheme {self.scheme!r} is unknown: use one of {SCHEMES}")
        if not self.user:
            raise ValueError("an empty user name cannot log in: give --user NAME")


def parse_params(text: str) -> dict[str, str]:
    """`a="x", b=y` -> {"a": "x", "b": "y"} (the parameters of an auth header)."""
    return {m[1].lower(): (m[2] if m[2] is not None else m[3]) for m in _PARAM.finditer(text)}


@dataclass
class Authenticator:
    """Checks the Authorization header of requests against one set of credentials."""

    credentials: Credentials
    clock: Callable[[], float] = time.time
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    def challenge(self) -> str:
        """The WWW-Authenticate value of a 401."""
        realm = self.credentials.realm
        if self.credentials.scheme == "basic":
            return f'Basic realm="{realm}"'
        return f'Digest realm="{realm}", nonce="{self.make_nonce()}", algorithm=MD5'

    def make_nonce(self) -> str:
        stamp = f"{self.clock():.0f}"
        return stamp + ":" + hmac.new(self.secret, stamp.encode(), "sha256").hexdigest()[:24]

    def nonce_valid(self, nonce: str) -> bool:
        stamp, _, mac = nonce.partition(":")
        want = hmac.new(self.secret, stamp.encode(), "sha256").hexdigest()[:24]
        if not hmac.compare_digest(mac, want):
            return False
        try:
            return self.clock() - float(stamp) <= NONCE_LIFETIME
        except ValueError:
            return False

    def check(self, method: str, authorization: str) -> bool:
        """True when the Authorization header value proves the credentials for this method."""
        scheme, _, rest = authorization.strip().partition(" ")
        if scheme.lower() != self.credentials.scheme:
            return False
        if scheme.lower() == "basic":
            return self._check_basic(rest.strip())
        return self._check_digest(method, parse_params(rest))

    def _check_basic(self, token: str) -> bool:
        try:
            decoded = base64.b64decode(token, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return hmac.compare_digest(user, self.credentials.user) and hmac.compare_digest(
            password, self.credentials.password
        )

    def _check_digest(self, method: str, params: dict[str, str]) -> bool:
        creds = self.credentials
        if params.get("username") != creds.user or params.get("realm") != creds.realm:
            return False
        nonce = params.get("nonce", "")
        if not self.nonce_valid(nonce):
            return False
        if params.get("algorithm", "MD5").upper() != "MD5":
            return False
        ha1 = _md5(f"{creds.user}:{creds.realm}:{creds.password}")
        ha2 = _md5(f"{method}:{params.get('uri', '')}")
        qop = params.get("qop")
        if qop:
            if qop != "auth":
                return False
            nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
            want = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        else:
            want = _md5(f"{ha1}:{nonce}:{ha2}")
        return hmac.compare_digest(params.get("response", ""), want)
