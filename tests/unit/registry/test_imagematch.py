import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.imagematch import (
    ImageReference,
    ImageReferenceError,
    PullCredential,
    kubelet_key,
    match_image,
    parse_image,
)

pytestmark = pytest.mark.unit

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("reference", "registry", "port", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", None, "library/nginx", "latest", None),
        ("nginx:1.25", "docker.io", None, "library/nginx", "1.25", None),
        ("library/nginx:1.25", "docker.io", None, "library/nginx", "1.25", None),
        ("docker.io/x/y", "docker.io", None, "x/y", "latest", None),
        ("docker.io/nginx", "docker.io", None, "library/nginx", "latest", None),
        ("index.docker.io/x/y", "docker.io", None, "x/y", "latest", None),
        ("bitnami/redis:7.2-debian-12", "docker.io", None, "bitnami/redis", "7.2-debian-12", None),
        (
            f"registry.example.com:5000/team/app/api@{DIGEST}",
            "registry.example.com",
            5000,
            "team/app/api",
            None,
            DIGEST,
        ),
        (f"quay.io/coreos/etcd:v3.5@{DIGEST}", "quay.io", None, "coreos/etcd", "v3.5", DIGEST),
        ("localhost/app", "localhost", None, "app", "latest", None),
        ("localhost:5000/app:dev", "localhost", 5000, "app", "dev", None),
        ("127.0.0.1:5000/a/b", "127.0.0.1", 5000, "a/b", "latest", None),
        ("[::1]:5000/app", "[::1]", 5000, "app", "latest", None),
        ("Registry/app", "Registry", None, "app", "latest", None),  # upper case: a host, as in the reference grammar
        ("registry.example.com:5000", "docker.io", None, "library/registry.example.com", "5000", None),
        ("my_app__x-y.z", "docker.io", None, "library/my_app__x-y.z", "latest", None),
    ],
)
def test_parse_image(reference, registry, port, repository, tag, digest):
    parsed = parse_image(reference)
    assert (parsed.registry, parsed.port, parsed.repository, parsed.tag, parsed.digest) == (
        registry,
        port,
        repository,
        tag,
        digest,
    )


@pytest.mark.parametrize(
    ("reference", "says"),
    [
        ("", "empty"),
        ("ngi nx", "whitespace"),
        ("Nginx", "lower case"),
        ("team/App", "lower case"),
        ("registry.example.com/team//app", "path component ''"),
        ("registry.example.com/-app", "path component '-app'"),
        ("nginx:-bad", "tag '-bad'"),
        ("nginx:" + "a" * 129, "up to 128"),
        ("nginx@sha256:abc", "digest"),
        ("nginx@md5:" + "0" * 32, "digest"),
        ("nginx@sha256:" + "A" * 64, "digest"),
        ("regis_try.example.com/app", "not a valid registry"),
        ("registry.example.com:99999/app", "out of range"),
        ("registry.example.com/" + "a" * 250, "longer than 255"),
    ],
)
def test_invalid_images(reference, says):
    with pytest.raises(ImageReferenceError) as raised:
        parse_image(reference)
    assert says in raised.value.message


def test_image_name_and_str():
    parsed = parse_image(f"registry.example.com:5000/team/app:1@{DIGEST}")
    assert parsed.domain == "registry.example.com:5000"
    assert parsed.name == "registry.example.com:5000/team/app"
    assert str(parsed) == f"registry.example.com:5000/team/app:1@{DIGEST}"


@pytest.mark.parametrize(
    ("server", "key"),
    [
        ("registry.example.com", "registry.example.com"),
        ("https://registry.example.com", "registry.example.com"),
        ("http://registry.example.com:5000/", "registry.example.com:5000"),
        ("https://index.docker.io/v1/", "index.docker.io"),
        ("registry.example.com/v2", "registry.example.com/v2"),  # only a leading "/v2/" is dropped
        ("registry.example.com/v2/team", "registry.example.com/team"),
        ("https://registry.example.com/v2/team/app", "registry.example.com/team/app"),
        ("Registry.Example.COM/Team", "Registry.Example.COM/Team"),  # the kubelet compares case-sensitively
        ("*.example.com", "*.example.com"),
        ("registry example.com", None),
        ("registry.example.com:port", None),
        ("", None),
    ],
)
def test_kubelet_key(server, key):
    assert kubelet_key(server) == key


def _credentials(*pairs: str) -> list[PullCredential]:
    """'secret=server' strings, in imagePullSecrets order."""
    return [PullCredential(server=pair.split("=", 1)[1], secret=pair.split("=", 1)[0]) for pair in pairs]


@pytest.mark.parametrize(
    ("image", "entries", "used"),
    [
        pytest.param("registry.example.com/team/app/api", ["a=registry.example.com"], ["a"], id="host-only-key"),
        pytest.param(
            "registry.example.com/team/app/api",
            ["a=https://registry.example.com/v2/"],
            ["a"],
            id="scheme-and-v2-ignored",
        ),
        pytest.param(
            "registry.example.com/team/app/api",
            ["host=registry.example.com", "team=registry.example.com/team", "app=registry.example.com/team/app"],
            ["app", "team", "host"],
            id="most-specific-first",
        ),
        pytest.param(
            "registry.example.com/team/app",
            ["wild=*.example.com", "exact=registry.example.com"],
            ["exact", "wild"],
            id="literal-before-glob",
        ),
        pytest.param(
            "registry.example.com/app",
            ["one=registry.example.com", "two=https://registry.example.com"],
            ["one", "two"],
            id="same-key-keeps-secret-order",
        ),
        pytest.param(
            "registry.example.com/app",
            ["two=https://registry.example.com", "one=registry.example.com"],
            ["two", "one"],
            id="same-key-keeps-secret-order-reversed",
        ),
        pytest.param(
            "registry.eu.example.com/app",
            ["wild=registry.*.example.com", "bad=*.example.com"],
            ["wild"],
            id="glob-one-label",
        ),
        pytest.param("reg-7.example.com/app", ["partial=reg-*.example.com"], ["partial"], id="partial-label-glob"),
        pytest.param(
            "registry.example.com:5000/app",
            ["p=registry.example.com:5000", "n=registry.example.com"],
            ["p"],
            id="port-must-match",
        ),
        pytest.param("nginx", ["hub=https://index.docker.io/v1/"], ["hub"], id="hub-fallback"),
        pytest.param("nginx", ["hub=index.docker.io"], ["hub"], id="hub-fallback-bare"),
        pytest.param(
            "nginx", ["d=docker.io", "hub=https://index.docker.io/v1/"], ["d"], id="hub-fallback-only-if-none"
        ),
        pytest.param(
            "docker.io/myorg/app",
            ["org=docker.io/myorg", "hub=https://index.docker.io/v1/"],
            ["org"],
            id="hub-with-path",
        ),
        pytest.param("nginx", ["r1=registry-1.docker.io"], [], id="registry-1-never-used"),
        pytest.param(
            "localhost/app", ["hub=https://index.docker.io/v1/"], ["hub"], id="kubelet-quirk-localhost-is-hub"
        ),
        pytest.param("quay.io/app", ["hub=https://index.docker.io/v1/"], [], id="hub-creds-not-for-quay"),
        pytest.param(
            "registry.example.com/team/app", ["x=registry.example.com/team/ap"], ["x"], id="character-prefix-matches"
        ),
        pytest.param("registry.example.com/team/app", [], [], id="no-secrets"),
    ],
)
def test_match_order(image, entries, used):
    report = match_image(image, _credentials(*entries))
    assert [verdict.credential.secret for verdict in report.used] == used
    assert len(report.used) + len(report.not_used) == len(entries)
    assert report.match == (report.used[0].credential if used else None)


@pytest.mark.parametrize(
    ("image", "server", "reason"),
    [
        (
            "registry.example.com/team/app/api",
            "registry.example.com/team/other",
            "secret regkey holds registry.example.com/team/other, which is not a prefix of "
            "registry.example.com/team/app/api",
        ),
        (
            "registry.example.com/app",
            "registry.example.com:5000",
            "secret regkey holds registry.example.com:5000: port 5000 in the key but the image uses the default port",
        ),
        (
            "registry.example.com:5000/app",
            "registry.example.com",
            "secret regkey holds registry.example.com: the image uses port 5000 but the key has no port",
        ),
        (
            "registry.example.com:5001/app",
            "registry.example.com:5000",
            "secret regkey holds registry.example.com:5000: port 5000 in the key, port 5001 in the image",
        ),
        (
            "registry.example.com/app",
            "quay.io",
            "secret regkey holds quay.io: quay.io is a different host from the image's registry.example.com",
        ),
        (
            "registry.eu.example.com/app",
            "*.example.com",
            "secret regkey holds *.example.com: *.example.com has 3 labels, the image's host registry.eu.example.com "
            "has 4, and a * stands for exactly one label",
        ),
        (
            "registry.example.org/app",
            "*.example.com",
            "secret regkey holds *.example.com: *.example.com does not match the image's host registry.example.org",
        ),
        (
            "nginx",
            "registry-1.docker.io",
            "secret regkey holds registry-1.docker.io: registry-1.docker.io is a different host from the image's "
            "docker.io; for Docker Hub images the kubelet only uses keys for docker.io or https://index.docker.io/v1/",
        ),
        (
            "registry.example.com/app",
            "registry example.com",
            "secret regkey holds 'registry example.com', which the kubelet cannot parse and ignores",
        ),
    ],
)
def test_reasons_for_entries_not_used(image, server, reason):
    report = match_image(image, [PullCredential(server=server, secret="regkey", username="u")])
    assert report.used == ()
    assert [verdict.reason for verdict in report.not_used] == [reason]


def test_hub_credentials_lose_to_a_matching_key_and_say_why():
    report = match_image("docker.io/myorg/app", _credentials("hub=https://index.docker.io/v1/", "org=docker.io/myorg"))
    assert report.match.secret == "org"
    [skipped] = report.not_used
    assert skipped.credential.secret == "hub"
    assert "only when no other key matches" in skipped.reason
    assert "org's docker.io/myorg matched first" in skipped.reason


def test_reasons_for_entries_used():
    report = match_image(
        "registry.example.com/team/app",
        _credentials(
            "fallback=https://index.docker.io/v1/",
            "host=registry.example.com",
            "team=registry.example.com/team/",
            "partial=registry.example.com/team/ap",
        ),
    )
    reasons = {verdict.credential.secret: verdict.reason for verdict in report.used}
    assert reasons["host"] == (
        "secret host holds registry.example.com, which covers every repository on registry.example.com"
    )
    assert reasons["team"] == "secret team holds registry.example.com/team/, a prefix of registry.example.com/team/app"
    assert "compares characters, not path segments" in reasons["partial"]
    assert [v.credential.secret for v in report.used] == ["partial", "team", "host"]
    assert [v.credential.secret for v in report.not_used] == ["fallback"]

    hub = match_image("nginx", _credentials("fallback=https://index.docker.io/v1/"))
    assert "no other key matches" in hub.used[0].reason
    assert hub.used[0].key == "index.docker.io"


def test_not_used_keeps_input_order_and_accepts_a_parsed_image():
    image = parse_image("quay.io/app")
    report = match_image(image, _credentials("c=ghcr.io", "a=gcr.io", "b=bad host"))
    assert report.image is image
    assert [v.credential.secret for v in report.not_used] == ["c", "a", "b"]
    assert report.match is None


_component = st.from_regex(r"[a-z0-9]+([._-][a-z0-9]+)?", fullmatch=True)
_images = st.builds(
    ImageReference,
    registry=st.sampled_from(["docker.io", "quay.io", "registry.example.com", "localhost"]),
    port=st.one_of(st.none(), st.integers(1, 65535)),
    repository=st.lists(_component, min_size=2, max_size=4).map("/".join),
    tag=st.one_of(st.none(), st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)),
    digest=st.one_of(st.none(), st.just(DIGEST)),
).filter(lambda ref: (ref.tag or ref.digest) and not (ref.registry == "docker.io" and ref.port))


@given(image=_images)
def test_image_round_trips_and_its_own_name_is_a_matching_key(image):
    assert parse_image(str(image)) == image
    for key in (image.domain, image.name, f"https://{image.domain}/v2/"):
        assert match_image(image, [PullCredential(server=key, secret="s")]).match is not None
