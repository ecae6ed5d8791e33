"""Password changes, which Django's own views and forms carry out, recorded like every other change."""

import functools

from django.contrib.auth import get_user_model

from dashboard.audit.services import record_event

PASSWORD_CHANGE_ACTION = "auth.user.password.change"


def audited_password_change(view):
    """Record a password change made by a Django view (the site's, the admin's own, or the admin's
    form for another user's password).

    Those views save through Django's forms and answer a successful POST with a redirect; an
    invalid form re-renders with 200 and changes nothing. `user_id` is the changed user when the
    view is about someone else; otherwise it is the signed-in user. Passwords are never recorded.
    """

    @functools.wraps(view)
    def run(request, *args, **kwargs):
        actor = request.user
        response = view(request, *args, **kwargs)
        if request.method == "POST" and response.status_code in (301, 302, 303):
            changed = kwargs.get("id")
            user = get_user_model().objects.filter(pk=changed).first() if changed else actor
            record_event(
                actor=actor,
                action=PASSWORD_CHANGE_ACTION,
                target={"user": user.get_username() if user else str(changed)},
                parameters={"fields": ["password"]},
                outcome="success",
            )
        return response

    return run
