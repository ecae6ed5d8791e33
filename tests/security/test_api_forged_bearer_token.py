"""Attack: call Berth's API with an OpenID bearer token the provider did not issue for it: one signed with the
attacker's key, an unsigned one, one HMAC-signed with the provider's public key, an expired one, one from
another issuer, or an ID token of Berth's web sign-in (audience: the web client, not the API).

Berth accepts client-credentials access tokens for the audience BERTH_OIDC_API_AUDIENCE, signed by a key of the
provider's JWKS with an allowed algorithm, and nothing else.
"""

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework.test import APIClient

from tests.fixtures.oidc import unsigned_token
from tests.services.oidc import API_AUDIENCE

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def claims(oidc, **changes):
    now = int(time.time())
    return {
        "iss": oidc.provider.issuer,
        "aud": API_AUDIENCE,
        "sub": "berth-automation",
        "client_id": "berth-automation",
        "iat": now,
        "exp": now + 300,
        **changes,
    }


def attackers_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def call(token: str):
    return APIClient().get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_client_credentials_token_from_the_provider_is_accepted(oidc, forget_provider_keys):
    assert call(oidc.client_credentials_token()).status_code == 200


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda oidc: oidc.provider.sign(claims(oidc), key=attackers_key()), id="attackers-key"),
        pytest.param(lambda oidc: unsigned_token({"alg": "none", "kid": "berth-test-1"}, claims(oidc)), id="alg-none"),
        pytest.param(lambda oidc: oidc.provider.sign(claims(oidc, exp=int(time.time()) - 600)), id="expired"),
        pytest.param(lambda oidc: oidc.provider.sign(claims(oidc, iss="https://idp.attacker.example")), id="issuer"),
        pytest.param(lambda oidc: oidc.provider.sign(claims(oidc, aud="berth")), id="web-sign-in-id-token"),
        pytest.param(lambda oidc: oidc.provider.sign(claims(oidc, aud=None)), id="no-audience"),
    ],
)
def test_a_forged_or_misdirected_bearer_token_is_refused(oidc, forget_provider_keys, forge):
    answer = call(forge(oidc))
    assert answer.status_code == 401
    assert answer.json()["code"] == "invalid_token"
