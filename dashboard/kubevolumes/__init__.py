"""Using a tenant's RBD namespaces from its Kubernetes cluster: the one place that joins the storage app
(Ceph: keys, monitors, images) and the registry app (Kubernetes: ceph-csi's objects), which do not know
each other. Part of the project package, which composes the apps (docs/kubernetes-volumes.md)."""
