from django.urls import path

from chats import views

CHAT = "chats/<uuid:chat_id>"

urlpatterns = [
    path("chats", views.ChatListView.as_view(), name="chat-list"),
    path("chats/sync", views.ChatSyncView.as_view(), name="chat-sync"),
    path(CHAT, views.ChatDetailView.as_view(), name="chat-detail"),
    path(f"{CHAT}/avatar", views.ChatAvatarView.as_view(), name="chat-avatar"),
    path(f"{CHAT}/leave", views.ChatLeaveView.as_view(), name="chat-leave"),
    path(f"{CHAT}/members", views.ChatMembersView.as_view(), name="chat-members"),
    path(f"{CHAT}/members/<uuid:user_id>", views.ChatMemberView.as_view(), name="chat-member"),
    path(f"{CHAT}/read", views.ChatReadView.as_view(), name="chat-read"),
    path(f"{CHAT}/online", views.ChatOnlineView.as_view(), name="chat-online"),
]
