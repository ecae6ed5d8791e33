from django.urls import path

from dashboard.tenancy import account

urlpatterns = [
    path("tokens/", account.api_tokens, name="account-tokens"),
    path("tokens/<uuid:token_id>/revoke/", account.api_token_revoke, name="account-token-revoke"),
]
