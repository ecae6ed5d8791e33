from django.urls import path

from dashboard.tenancy import views

urlpatterns = [
    path("", views.tenant_list, name="tenant-list"),
    path("<slug:slug>/", views.tenant_detail, name="tenant-detail"),
    path("<slug:slug>/members/", views.member_set, name="tenant-member-set"),
    path("<slug:slug>/members/<str:username>/remove/", views.member_remove, name="tenant-member-remove"),
]
