from django.urls import path

from sotong.publishing import image_views

app_name = "images"

urlpatterns = [
    # Public: the platforms fetch images here without signing in.
    path("images/<slug:token>/", image_views.public_image, name="public"),
    path("post-images/<int:pk>/", image_views.staff_image, name="staff"),
    path("post-images/<int:pk>/remove/", image_views.remove_image, name="remove"),
    path("posts/<int:pk>/add-image/", image_views.add_image, name="add"),
]
