"""One rate limit for "Test login", shared by the API and the wizard: both count in the same cache
entry per user, so switching between them gains nothing."""

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class LoginTestThrottle(UserRateThrottle):
    scope = "registry_login_test"

    def get_rate(self) -> str:
        # Read per request rather than from DRF's settings, which are fixed when DRF is imported.
        return settings.BERTH_REGISTRY_LOGIN_RATE
