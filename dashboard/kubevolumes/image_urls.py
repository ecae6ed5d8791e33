"""Pages under /kubernetes/: an image as a static volume (cluster and RBD namespace in the query string,
as on the storage pages)."""

from django.urls import path

from dashboard.kubevolumes import views

urlpatterns = [
    path("pools/<str:pool>/images/<str:name>/volume/", views.image_kube_volume, name="image-kubernetes"),
    path("volumes/stranded/", views.stranded_volumes, name="kubernetes-stranded-volumes"),
]
