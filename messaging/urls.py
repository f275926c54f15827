from django.urls import path

from messaging import views

urlpatterns = [
    path("chats/<uuid:chat_id>/messages", views.ChatMessagesView.as_view(), name="chat-messages"),
    path("chats/<uuid:chat_id>/changes", views.ChatChangesView.as_view(), name="chat-changes"),
    path("messages/search", views.MessageSearchView.as_view(), name="message-search"),
    path("messages/<int:message_id>", views.MessageDetailView.as_view(), name="message-detail"),
    path(
        "messages/<int:message_id>/reactions",
        views.MessageReactionsView.as_view(),
        name="message-reactions",
    ),
    path(
        "messages/<int:message_id>/receipts",
        views.MessageReceiptsView.as_view(),
        name="message-receipts",
    ),
    path(
        "messages/<int:message_id>/history",
        views.MessageHistoryView.as_view(),
        name="message-history",
    ),
    path(
        "messages/<int:message_id>/report", views.MessageReportView.as_view(), name="message-report"
    ),
]
