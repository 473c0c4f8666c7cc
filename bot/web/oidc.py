"""OpenID Connect sign-in (authorization code flow with PKCE) for Microsoft Entra ID and Slack
("Sign in with Slack"): two configured issuers of one mechanism.

Authlib has no aiohttp web integration, so the two requests of the flow (the provider's
metadata and keys, the token exchange) are made with aiohttp, which ``regie serve`` runs on
anyway; Authlib supplies the protocol pieces — state, nonce and PKCE values, the authorization
URL, and the ID token's claims validation (``CodeIDToken``: iss, aud, exp, iat, nonce, azp,
at_hash) over a signature checked with joserfc against the provider's JWKS.

Who signed in is matched to a person the way the chat matches them: the chat platform's own
id first (Entra ID's ``oid`` is the Teams AAD object id, Slack's ``https://slack.com/user_id``
is the Slack user id), else the e-mail address when the provider says it is verified. Nobody
is created: someone Regie does not know gets a friendly page.

What the flow must remember between leaving for the provider and coming back (state, nonce,
the PKCE verifier) is kept in a short-lived HttpOnly cookie on the callback's path; the
state in the callback must match it (constant-time), so a callback nobody started here is
refused.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlmodel import Session

from bot.config import Settings
from storage.models import Person
from storage.people import by_email, by_slack_id, by_teams_id

SCOPES = "openid email profile"
ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""Signature algorithms accepted for ID tokens: never ``none``, and no HMAC (that would make
the client secret a key anyone holding it could sign with)."""
METADATA_TTL = 3600.0
TIMEOUT = aiohttp.ClientTimeout(total=10)
LEEWAY = 60
"""Seconds of clock difference allowed when checking ``exp``/``iat``."""
PENDING_TTL = 600
"""Seconds a sign-in started here may take at the provider."""


class SignInFailed(Exception):
    """The provider's answer cannot be trusted or used; ``reason`` is for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Provider:
    name: str
    """``entra`` or ``slack``: the path segment and the settings' prefix."""
    label: str
    issuer: str
    client_id: str
    client_secret: str
    id_claim: str
    """The claim carrying the chat platform's id of the person."""
    find: Callable[[Session, str], Person | None]
    """How that id finds the person (the chat's own lookup)."""

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def providers(settings: Settings) -> dict[str, Provider]:
    """The providers switched on in the settings (client id and secret set), by name."""
    found: dict[str, Provider] = {}
    if settings.oidc_entra_client_id and settings.oidc_entra_client_secret:
        assert settings.oidc_entra_issuer is not None  # the settings insist on it
        found["entra"] = Provider(
            "entra",
            "Microsoft",
            settings.oidc_entra_issuer,
            settings.oidc_entra_client_id,
            settings.oidc_entra_client_secret.get_secret_value(),
            "oid",
            by_teams_id,
        )
    if settings.oidc_slack_client_id and settings.oidc_slack_client_secret:
        found["slack"] = Provider(
            "slack",
            "Slack",
            settings.oidc_slack_issuer,
            settings.oidc_slack_client_id,
            settings.oidc_slack_client_secret.get_secret_value(),
            "https://slack.com/user_id",
            by_slack_id,
        )
    return found


@dataclass(frozen=True)
class Pending:
    """A sign-in on its way through the provider: what its callback must match."""

    provider: str
    state: str
    nonce: str
    verifier: str

    def cookie(self) -> str:
        return ".".join((self.provider, self.state, self.nonce, self.verifier))

    @classmethod
    def from_cookie(cls, value: str | None) -> Pending | None:
        parts = (value or "").split(".")
        if len(parts) != 4 or not all(parts):
            return None
        return cls(*parts)

    def matches(self, provider: str, state: str | None) -> bool:
        return self.provider == provider and hmac.compare_digest(
            self.state.encode(), (state or "").encode()
        )


def match_person(db: Session, provider: Provider, claims: dict[str, Any]) -> Person | None:
    """The person these validated claims are: by the chat platform's id, else by a verified
    e-mail address. None: Regie does not know them (nothing is created)."""
    platform_id = claims.get(provider.id_claim)
    if isinstance(platform_id, str) and platform_id:
        person = provider.find(db, platform_id)
        if person is not None:
            return person
    email = claims.get("email")
    verified = claims.get("email_verified") is True or claims.get("xms_edov") is True
    if isinstance(email, str) and email and verified:
        return by_email(db, email)
    return None


@dataclass
class OidcClient:
    """One provider's client: its metadata and keys cached for an hour (keys fetched again
    when a token names one we do not have: providers rotate them)."""

    provider: Provider
    clock: Callable[[], float] = time.time
    _metadata: dict[str, Any] | None = None
    _metadata_at: float = 0.0
    _jwks: dict[str, Any] | None = field(default=None, repr=False)

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or self.clock() - self._metadata_at > METADATA_TTL:
            found = await _get_json(self.provider.discovery_url)
            if found.get("issuer", "").rstrip("/") != self.provider.issuer.rstrip("/"):
                raise SignInFailed("the discovery document names another issuer")
            self._metadata, self._metadata_at, self._jwks = found, self.clock(), None
        return self._metadata

    async def authorization_url(self, redirect_uri: str, *, locale: str) -> tuple[str, Pending]:
        metadata = await self.metadata()
        pending = Pending(
            self.provider.name, generate_token(32), generate_token(32), generate_token(64)
        )
        url = add_params_to_uri(
            metadata["authorization_endpoint"],
            [
                ("response_type", "code"),
                ("client_id", self.provider.client_id),
                ("redirect_uri", redirect_uri),
                ("scope", SCOPES),
                ("state", pending.state),
                ("nonce", pending.nonce),
                ("code_challenge", create_s256_code_challenge(pending.verifier)),
                ("code_challenge_method", "S256"),
                ("ui_locales", locale),
            ],
        )
        return url, pending

    async def finish(self, *, code: str, pending: Pending, redirect_uri: str) -> dict[str, Any]:
        """Exchange the code and return the ID token's validated claims."""
        metadata = await self.metadata()
        token = await self._exchange(metadata, code, pending, redirect_uri)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("no ID token in the token response")
        algorithms = [
            a
            for a in metadata.get("id_token_signing_alg_values_supported", ["RS256"])
            if a in ASYMMETRIC
        ]
        registry = JWSRegistry(algorithms=algorithms or ["RS256"])
        try:
            try:
                decoded = jwt.decode(id_token, await self._keys(metadata), registry=registry)
            except InvalidKeyIdError:
                decoded = jwt.decode(
                    id_token, await self._keys(metadata, fresh=True), registry=registry
                )
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": metadata["issuer"]},
                    "aud": {"essential": True, "value": self.provider.client_id},
                },
                {
                    "nonce": pending.nonce,
                    "client_id": self.provider.client_id,
                    "access_token": token.get("access_token"),
                },
            )
            claims.validate(now=int(self.clock()), leeway=LEEWAY)
        except (JoseError, ValueError) as error:
            raise SignInFailed(f"ID token refused: {type(error).__name__} {error}") from None
        if claims.get("nonce") != pending.nonce:  # validate() checks it only when present
            raise SignInFailed("ID token refused: nonce")
        return dict(claims)

    async def _exchange(
        self, metadata: dict[str, Any], code: str, pending: Pending, redirect_uri: str
    ) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": pending.verifier,
        }
        methods = metadata.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        auth = None
        if "client_secret_basic" in methods:
            # RFC 6749 2.3.1: both form-encoded before they are joined.
            auth = aiohttp.BasicAuth(
                quote(self.provider.client_id, safe=""), quote(self.provider.client_secret, safe="")
            )
        else:
            form |= {
                "client_id": self.provider.client_id,
                "client_secret": self.provider.client_secret,
            }
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.post(metadata["token_endpoint"], data=form, auth=auth) as response,
        ):
            body = await response.json(content_type=None)
            if response.status != 200 or not isinstance(body, dict):
                error = body.get("error") if isinstance(body, dict) else None
                raise SignInFailed(f"token endpoint answered {response.status} {error or ''}")
            return body

    async def _keys(self, metadata: dict[str, Any], *, fresh: bool = False) -> KeySet:
        if self._jwks is None or fresh:
            self._jwks = await _get_json(metadata["jwks_uri"])
        return KeySet.import_key_set(self._jwks)  # type: ignore[arg-type]


async def _get_json(url: str) -> dict[str, Any]:
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.get(url) as response,
        ):
            if response.status != 200:
                raise SignInFailed(f"{url} answered {response.status}")
            found = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise SignInFailed(f"{url}: {type(error).__name__}") from None
    if not isinstance(found, dict):
        raise SignInFailed(f"{url} is not a JSON object")
    return found
