"""Pages under a tenant's address (/tenants/<slug>/...) and under an image's."""

from django.urls import path

from dashboard.kubevolumes import views

urlpatterns = [
    path("<slug:slug>/bindings/<int:binding_id>/kubernetes/", views.binding_kube_use, name="tenant-binding-kubernetes"),
]
