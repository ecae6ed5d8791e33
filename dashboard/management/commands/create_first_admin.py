import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from dashboard.audit.services import recording
from dashboard.tenancy.models import PlatformRole


class Command(BaseCommand):
    help = (
        "Create the first platform admin (a superuser, who grants the other platform admins and the "
        "auditors their roles) with a random password printed once, unless a superuser exists already. "
        "The password is not stored anywhere else."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, **options):
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser exists already; no new admin created.")
            return
        password = secrets.token_urlsafe(12)
        with recording("auth.user.create_first_admin", actor=None, target={"user": options["username"]}):
            user = users.objects.create_superuser(options["username"], "", password)
            # Explicit as well as implied by superuser status, so the account stays a platform admin if a
            # later superuser takes that status away.
            PlatformRole.objects.create(user=user, role=PlatformRole.PLATFORM_ADMIN)
        self.stdout.write(f"Created platform admin '{options['username']}' with password: {password}")
        self.stdout.write("Change it after the first login (your name → Change password).")
