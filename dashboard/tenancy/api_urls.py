from django.urls import path

from dashboard.tenancy import api

# Included under /api/tokens/ in the "api" namespace. Any id reaches the view, which answers a JSON 404 for
# one that is not a token of the caller's, where a <uuid:> pattern would answer with Django's HTML 404.
urlpatterns = [
    path("", api.ApiTokenListApi.as_view(), name="token-list"),
    path("<str:token_id>/", api.ApiTokenDetailApi.as_view(), name="token-detail"),
]
