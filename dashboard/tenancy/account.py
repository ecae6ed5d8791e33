"""The signed-in user's API tokens page: make a token (its key is shown on the answer to that POST
and never again), see the tokens' names, prefixes and expiry, revoke one."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.core.errors import BerthError
from dashboard.core.generic.forms import StyledForm
from dashboard.core.generic.views import attach_error, redirect_after_success, render_error
from dashboard.tenancy import tokens


class ApiTokenForm(StyledForm):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “deploy pipeline”.")
    days = forms.IntegerField(min_value=1, required=False, label="Valid for (days)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The service refuses more than the limit, with the message shown at this field.
        limit = tokens.api_token_days_limit()
        self.fields["days"].widget.attrs["max"] = limit
        self.fields["days"].initial = limit
        self.fields["days"].help_text = f"At most {limit}; {limit} if left empty."


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = tokens.api_token_create(
                actor=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except BerthError as error:
            attach_error(form, error, request.user)
        else:
            form = ApiTokenForm()
    context = {
        "title": "API tokens",
        "form": form,
        "new_key": new_key,
        "tokens": tokens.api_token_list(actor=request.user),
    }
    return render(request, "tenancy/api_tokens.html", context)


@login_required
@require_POST
def api_token_revoke(request, token_id):
    try:
        tokens.api_token_revoke(actor=request.user, token_id=token_id)
    except BerthError as error:
        return render_error(request, error, title="API tokens")
    messages.success(request, "Token revoked; it no longer works.")
    return redirect_after_success(request, reverse("account-tokens"))
