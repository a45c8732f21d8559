from django.urls import path

from sotong.chat import views

app_name = "chat"

urlpatterns = [
    path("inbox/chats/", views.conversation_list, name="list"),
    path("inbox/chats/<int:pk>/", views.conversation_detail, name="detail"),
    path("inbox/chats/<int:pk>/hand-back/", views.hand_back, name="hand_back"),
    path("settings/chatbot/", views.chat_settings, name="settings"),
]
