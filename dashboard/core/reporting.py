"""What Django's error reports (the debug page, mails to ADMINS, error trackers built on its reporter)
may show of a failed request: no posted value at all, and no local variable whose name suggests a
credential. `sensitive_post_parameters` on each password-taking view stays, but a view added later
without it, or a service holding a registry password in an argument, must not leak either."""

import re
from typing import Any

from django.http import HttpRequest, QueryDict
from django.views.debug import SafeExceptionReporterFilter

CREDENTIAL_LIKE = re.compile(
    r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|COOKIE|CREDENTIAL|CONFIG|DOCUMENT|LOGIN|ENTR|ROW|DATA|BODY", re.I
)


class BerthExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = CREDENTIAL_LIKE

    def get_post_parameters(self, request: HttpRequest | None) -> QueryDict | dict[str, Any]:
        if request is None:
            return {}
        cleansed = request.POST.copy()
        for key in cleansed:
            cleansed[key] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        return [
            (name, self.cleansed_substitute if CREDENTIAL_LIKE.search(name) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
