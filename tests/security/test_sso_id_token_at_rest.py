"""Attack: read a user's ID token from Berth's database (a backup, a read-only replica, a leaked dump of the
session table) after they signed in through single sign-on.

The provider's logout wants the ID token back as `id_token_hint`, and mozilla-django-oidc keeps it in the
session, which Django's default session engine writes to the database. Berth keeps the hint in an HttpOnly
cookie sent to its logout URL only, so no token from the provider is ever written to Berth's database.
"""

import pytest
from django.contrib.sessions.models import Session

from dashboard.audit.models import AuditEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

JWT_HEADER = "eyJ"  # base64url of '{"', the start of every JSON Web Token


def test_no_token_from_the_provider_reaches_the_database(oidc, client):
    oidc.account("ivy-sub", groups=[], preferred_username="ivy")

    answer = oidc.sign_in(client, "ivy-sub")

    assert answer.status_code == 302
    assert client.get("/").wsgi_request.user.is_authenticated
    sessions = [session.get_decoded() for session in Session.objects.all()]
    assert sessions, "the sign-in made a session"
    stored = [f"{key}={value}" for data in sessions for key, value in data.items() if JWT_HEADER in str(value)]
    assert stored == [], "tokens in the session table"
    assert not AuditEvent.objects.filter(parameters__icontains=JWT_HEADER).exists()
    # The logout still has its hint, from the browser's cookie.
    logout = client.post("/logout/")
    assert "id_token_hint=eyJ" in logout.text
