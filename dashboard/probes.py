"""Cluster calls for the operations endpoints (dashboard/health.py), kept off the request's clock.

A cluster that is down can hold a call for BERTH_CEPH_TIMEOUT seconds, and a probe must answer within
one. So these calls run in background threads, at most one at a time per key in each process: the
endpoint waits for them while its budget lasts and otherwise reports the last answer it has, with its
age. Answers are kept a short while, so frequent probes and scrapes do not multiply the calls.
"""

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django.db import connections

from dashboard.core.errors import BerthError
from registry.models import KubeCluster
from registry.services.kube import kube_cluster_version
from storage.models import CephCluster
from storage.services.cluster import cluster_health_status

logger = logging.getLogger(__name__)

# Seconds a probe or scrape waits for cluster calls before it answers with what it knows.
BUDGET = 0.8

Read = Callable[[], Any]
Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Answer:
    value: Any = None
    error: BerthError | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def age(self) -> float:
        return time.monotonic() - self.at


_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="berth-probe")


class BackgroundReads:
    """Reads, each under a key, run in background threads and remembered: an answer younger than
    `fresh_for` seconds is reused, and a key whose read is still running gets no second one."""

    def __init__(self, *, fresh_for: float) -> None:
        self.fresh_for = fresh_for
        self._lock = threading.Lock()
        self._answers: dict[Hashable, Answer] = {}
        self._running: dict[Hashable, Future[None]] = {}

    def start(self, reads: Mapping[Key, Read]) -> list[Future[None]]:
        """Start the reads whose answer is not fresh; returns what to wait for."""
        with self._lock:
            for key, read in reads.items():
                answer = self._answers.get(key)
                if (answer is None or answer.age >= self.fresh_for) and key not in self._running:
                    self._running[key] = _executor.submit(self._run, key, read)
            return [self._running[key] for key in reads if key in self._running]

    def answers(self, keys: Iterable[Key]) -> dict[Key, Answer | None]:
        """The newest answer for each key (None: none yet)."""
        with self._lock:
            return {key: self._answers.get(key) for key in keys}

    def _run(self, key: Hashable, read: Read) -> None:
        try:
            answer = Answer(value=read())
        except BerthError as error:
            answer = Answer(error=error)
        except Exception:
            logger.exception("reading %s for the operations endpoints failed", key)
            answer = Answer(error=BerthError("Berth could not read this; the server log says why."))
        finally:
            # This thread serves no request, so nothing else would close the connections it opened.
            connections.close_all()
        with self._lock:
            self._answers[key] = answer
            del self._running[key]


_cluster_reads = BackgroundReads(fresh_for=5)


@dataclass(frozen=True)
class ClusterAnswer:
    kind: str  # "ceph" or "kubernetes"
    record: CephCluster | KubeCluster
    answer: Answer | None  # Ceph: the health status; Kubernetes: the server's version


class ClusterReads:
    """Every registered cluster asked at once: `start()`, wait on what it returns, then `results()`."""

    def __init__(self) -> None:
        self.records: list[tuple[str, CephCluster | KubeCluster]] = [
            *(("ceph", record) for record in CephCluster.objects.all()),
            *(("kubernetes", record) for record in KubeCluster.objects.all()),
        ]

    def start(self) -> list[Future[None]]:
        return _cluster_reads.start({(kind, record.pk): self._read(kind, record) for kind, record in self.records})

    @staticmethod
    def _read(kind: str, record: CephCluster | KubeCluster) -> Read:
        if isinstance(record, CephCluster):
            return partial(cluster_health_status, cluster=record)
        return partial(kube_cluster_version, cluster=record)

    def results(self) -> list[ClusterAnswer]:
        answers = _cluster_reads.answers((kind, record.pk) for kind, record in self.records)
        # Read again: the calls just made may have recorded a newer contact (dashboard.core.clusters).
        contacts = {
            "ceph": dict(CephCluster.objects.values_list("pk", "last_contact")),
            "kubernetes": dict(KubeCluster.objects.values_list("pk", "last_contact")),
        }
        for kind, record in self.records:
            record.last_contact = contacts[kind].get(record.pk, record.last_contact)
        return [ClusterAnswer(kind, record, answers[(kind, record.pk)]) for kind, record in self.records]


def cluster_answers(budget: float = BUDGET) -> list[ClusterAnswer]:
    reads = ClusterReads()
    wait(reads.start(), timeout=budget)
    return reads.results()
