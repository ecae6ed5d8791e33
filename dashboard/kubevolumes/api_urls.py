from django.urls import path

from dashboard.kubevolumes import api

urlpatterns = [
    path(
        "tenants/<slug:slug>/bindings/<int:binding_id>/",
        api.BindingKubernetesApi.as_view(),
        name="kubernetes-binding",
    ),
    path("pools/<str:pool>/images/<str:name>/volume/", api.ImageVolumeApi.as_view(), name="kubernetes-image-volume"),
]
