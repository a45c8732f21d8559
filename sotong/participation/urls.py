from django.urls import path

from sotong.participation import views

app_name = "participation"

urlpatterns = [
    path("participation/", views.poll_list, name="index"),
    path("participation/new/", views.poll_create, name="new"),
    path("participation/<int:pk>/", views.poll_detail, name="poll"),
    path("participation/<int:pk>/ballots.csv", views.ballots_csv, name="ballots_csv"),
    path(
        "participation/<int:pk>/proposals/<int:submission>/",
        views.moderate,
        name="moderate",
    ),
    path("participation/<int:pk>/<slug:action>/", views.poll_action, name="poll_action"),
    # The citizens' page: the unguessable token is the address, no login.
    path("p/<str:token>/", views.public, name="public"),
]
