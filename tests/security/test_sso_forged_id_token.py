"""Attack: get signed in with an ID token the provider did not issue to Berth: one it issued to another of its
clients (another application's token for the same person), one from another issuer, one signed with a key of
the attacker's, one with `alg: none` or HMAC-signed with the provider's public key, an expired one, or one
minted for another sign-in (nonce).

The token reaches Berth's backend from the provider's token endpoint, so these are what stops a substituted
or forged token should that channel, or another client of the provider, be in an attacker's hands.
mozilla-django-oidc checked the signature and nonce but neither the audience nor the issuer; Berth checks all.
"""

import hashlib
import hmac
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import SuspiciousOperation

from dashboard.tenancy.oidc import OidcBackend
from tests.fixtures.oidc import unsigned_token

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

NONCE = "nonce-of-this-sign-in"


def claims(oidc, **changes):
    now = int(time.time())
    return {
        "iss": oidc.provider.issuer,
        "aud": "berth",
        "sub": "victim-sub",
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        **changes,
    }


def verify(token: str):
    return OidcBackend().verify_token(token, nonce=NONCE)


def test_a_token_the_provider_signed_for_berth_passes(oidc, forget_provider_keys):
    assert verify(oidc.provider.sign(claims(oidc)))["sub"] == "victim-sub"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": "another-application"}, id="issued-to-another-client"),
        pytest.param({"iss": "https://idp.attacker.example"}, id="another-issuer"),
        pytest.param({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, id="expired"),
        pytest.param({"nonce": "nonce-of-another-sign-in"}, id="replayed-from-another-sign-in"),
    ],
)
def test_a_token_signed_by_the_provider_but_not_for_this_sign_in_is_refused(oidc, forget_provider_keys, changes):
    with pytest.raises(SuspiciousOperation):
        verify(oidc.provider.sign(claims(oidc, **changes)))


def test_a_token_signed_with_the_attackers_key_is_refused(oidc, forget_provider_keys):
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SuspiciousOperation):
        verify(oidc.provider.sign(claims(oidc), key=attacker))


def test_an_unsigned_token_is_refused(oidc, forget_provider_keys):
    with pytest.raises(SuspiciousOperation):
        verify(unsigned_token({"alg": "none", "typ": "JWT", "kid": "berth-test-1"}, claims(oidc)))


def test_a_token_hmac_signed_with_the_providers_public_key_is_refused(oidc, forget_provider_keys):
    public_pem = oidc.provider.signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header, payload = {"alg": "HS256", "typ": "JWT", "kid": "berth-test-1"}, claims(oidc)
    signing_input = unsigned_token(header, payload).rsplit(".", 1)[0].encode()
    token = unsigned_token(header, payload, hmac.new(public_pem, signing_input, hashlib.sha256).digest())
    with pytest.raises(SuspiciousOperation):
        verify(token)
