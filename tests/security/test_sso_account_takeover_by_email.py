"""Attack: become Berth's break-glass superuser by signing in through single sign-on as someone who chose the
same e-mail address and username at the identity provider.

mozilla-django-oidc finds the user to sign in by the e-mail claim, which many providers let people set
themselves (and which a social or partner account carries unverified). Berth links an identity-provider
account to a user by the provider's issuer and subject only, and gives a newcomer a name of its own.
"""

import pytest
from django.contrib.auth import get_user_model

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_an_idp_account_named_like_the_local_superuser_does_not_sign_in_as_them(oidc, client, admin_user):
    oidc.account(
        "mallory-sub", groups=[], email=admin_user.email, preferred_username=admin_user.username, email_verified=True
    )

    answer = oidc.sign_in(client, "mallory-sub")

    assert answer.status_code == 302
    signed_in = client.get("/").wsgi_request.user
    assert signed_in.is_authenticated
    assert signed_in.pk != admin_user.pk and not signed_in.is_superuser
    assert client.get("/admin/").status_code == 302, "the admin site must send her to its login page"
    assert get_user_model().objects.get(pk=admin_user.pk).username == admin_user.username
