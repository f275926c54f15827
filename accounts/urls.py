from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/recover", views.RecoverView.as_view(), name="auth-recover"),
    path("auth/password", views.PasswordChangeView.as_view(), name="auth-password"),
    path("users", views.UserListView.as_view(), name="user-list"),
    path("users/me", views.MeView.as_view(), name="user-me"),
    path("users/me/security-phrase", views.SecurityPhraseView.as_view(), name="user-phrase"),
    path("users/me/avatar", views.AvatarView.as_view(), name="user-avatar"),
    path("users/online", views.OnlineUserListView.as_view(), name="user-online"),
    path("users/<uuid:user_id>", views.UserDetailView.as_view(), name="user-detail"),
    path("ws/stats", views.SocketStatsView.as_view(), name="ws-stats"),
]
