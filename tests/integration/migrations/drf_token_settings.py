"""Berth's settings as they were while DRF's authtoken app kept API tokens: for writing a database of that time."""

from dashboard.settings import *  # noqa: F403
from dashboard.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework.authtoken"]
