from django.urls import path

from dashboard.tenancy import views

urlpatterns = [
    path("", views.tenant_list, name="tenant-list"),
    # Before <slug:slug>/: the service refuses "create" as a slug.
    path("create/", views.TenantCreateView.as_view(), name="tenant-create"),
    path("<slug:slug>/", views.tenant_detail, name="tenant-detail"),
    path("<slug:slug>/edit/", views.TenantEditView.as_view(), name="tenant-edit"),
    path("<slug:slug>/delete/", views.TenantDeleteView.as_view(), name="tenant-delete"),
    path("<slug:slug>/members/", views.member_set, name="tenant-member-set"),
    path("<slug:slug>/members/<str:username>/remove/", views.member_remove, name="tenant-member-remove"),
]
