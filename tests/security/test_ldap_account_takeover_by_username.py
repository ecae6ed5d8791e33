"""Attack: become Berth's break-glass superuser by signing in with the LDAP password of a directory entry whose
uid is the superuser's username (a directory account anyone in the company's IT can have made).

django-auth-ldap signs an entry in as the Berth user of the same username. Berth links an entry to a user by
the server and the entry's DN only, and gives a newcomer whose name is taken a name of its own.
"""

import pytest

from tests.fixtures.berth import TEST_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_directory_entry_named_like_the_local_superuser_does_not_sign_in_as_them(ldap_directory, client, admin_user):
    ldap_directory.add_user(admin_user.username, "mallorys-directory-password")

    client.post("/login/", {"username": admin_user.username, "password": "mallorys-directory-password"})

    signed_in = client.get("/").wsgi_request.user
    assert signed_in.is_authenticated, "the directory's own user signs in"
    assert signed_in.pk != admin_user.pk and not signed_in.is_superuser
    # The superuser's own password still works, and is still theirs.
    client.logout()
    client.post("/login/", {"username": admin_user.username, "password": TEST_PASSWORD})
    assert client.get("/").wsgi_request.user.pk == admin_user.pk
