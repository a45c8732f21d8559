from django.urls import include, path

from sotong.api import views
from sotong.api.api import api

# No app_name here: the API's own namespace ("api-v1") must stay top-level, where its docs
# page looks up the OpenAPI document.
token_patterns = (
    [
        path("", views.tokens, name="list"),
        path("<int:pk>/revoke/", views.revoke, name="revoke"),
    ],
    "api_tokens",
)

urlpatterns = [
    path("v1/", api.urls),
    path("tokens/", include(token_patterns)),
]
