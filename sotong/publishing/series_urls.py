from django.urls import path

from sotong.publishing import series_views as views

app_name = "series"

urlpatterns = [
    path("series/", views.series_list, name="list"),
    path("series/new/", views.series_create, name="create"),
    path("series/rule-preview/", views.rule_preview, name="rule_preview"),
    path("series/<int:pk>/", views.series_detail, name="detail"),
    path("series/<int:pk>/edit/", views.series_edit, name="edit"),
    path("series/<int:pk>/items/", views.item_add, name="item_add"),
    path(
        "series/<int:pk>/items/<int:item_pk>/move/<slug:direction>/",
        views.item_move,
        name="item_move",
    ),
    path("series/<int:pk>/items/<int:item_pk>/remove/", views.item_remove, name="item_remove"),
    path("series/<int:pk>/feed/upload/", views.feed_upload, name="feed_upload"),
    path("series/<int:pk>/feed/fetch/", views.feed_fetch, name="feed_fetch"),
]
