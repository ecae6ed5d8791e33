"""The pull-secret UI against the real kube-apiserver, reusing the registry services' fixtures
(a KubeCluster row for the session API server, namespaces with a `default` service account)."""

from tests.integration.registry.conftest import core, kube_cluster, namespace, second_namespace  # noqa: F401
