import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.dockerconfig import (
    DOCKER_HUB,
    ConfigFormat,
    Credential,
    DockerConfigError,
    add_entry,
    build_config,
    decode_secret,
    merge_credentials,
    normalise_server,
    parse_config,
    parse_server,
    remove_entry,
    replace_password,
)

pytestmark = pytest.mark.unit

JSON_TYPE = ConfigFormat.DOCKERCONFIGJSON.secret_type
CFG_TYPE = ConfigFormat.DOCKERCFG.secret_type


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def doc(entries: dict, **top) -> str:
    return json.dumps({"auths": entries, **top})


def logins(credentials) -> list[tuple]:
    return [(c.server, c.username, c.password, c.email) for c in credentials]


# --- servers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "key"),
    [
        ("", DOCKER_HUB),
        ("   ", DOCKER_HUB),
        ("docker.io", DOCKER_HUB),
        ("index.docker.io", DOCKER_HUB),
        ("registry-1.docker.io", DOCKER_HUB),
        ("https://index.docker.io/v1/", DOCKER_HUB),
        ("HTTPS://Docker.IO/", DOCKER_HUB),
        ("https://registry-1.docker.io/v2/", DOCKER_HUB),
        ("docker.io/myorg", "docker.io/myorg"),
        ("index.docker.io/myorg/", "docker.io/myorg/"),
        ("docker.io:443", "docker.io:443"),
        ("registry.example.com", "registry.example.com"),
        ("https://registry.example.com", "registry.example.com"),
        ("http://Registry.Example.com:5000/", "registry.example.com:5000"),
        ("registry.example.com/team/app", "registry.example.com/team/app"),
        ("https://registry.example.com/v2/team/", "registry.example.com/team/"),
        ("https://registry.example.com/v1/", "registry.example.com"),
        ("  quay.io  ", "quay.io"),
        ("quay.io\n", "quay.io"),
        ("localhost:5000", "localhost:5000"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000/x"),
        ("[::1]:5000", "[::1]:5000"),
        ("*.example.com", "*.example.com"),
        ("registry.example.com/my-team/app_1.v2__x", "registry.example.com/my-team/app_1.v2__x"),
    ],
)
def test_normalise_server(server, key):
    assert normalise_server(server) == key


@pytest.mark.parametrize(
    ("server", "says"),
    [
        ("registry example.com", "whitespace"),
        ("reg\tistry.example.com", "whitespace"),
        ("ftp://registry.example.com", "only http:// or https://"),
        ("user:pw@registry.example.com", "user names"),
        ("registry.example.com?x=1", "queries"),
        ("registry.example.com#frag", "fragments"),
        ("registry.example.com:0", "port must be a number from 1 to 65535"),
        ("registry.example.com:65536", "port must be a number"),
        ("registry.example.com:http", "port must be a number"),
        ("registry.example.com:", "port must be a number"),
        ("-registry.example.com", "the host may hold"),
        ("registry..example.com", "the host may hold"),
        ("reg_istry.example.com", "the host may hold"),
        ("/team/app", "the host may hold"),
        ("[zz::1]:5000", "IPv6"),
        ("registry.example.com/Team", "lower case"),
        ("registry.example.com/a//b", "path component ''"),
        ("registry.example.com/-a", "path component '-a'"),
    ],
)
def test_invalid_servers_are_refused_with_a_reason(server, says):
    with pytest.raises(DockerConfigError) as raised:
        normalise_server(server)
    assert says in raised.value.message
    assert raised.value.field == "server"


def test_server_parts():
    address = parse_server("https://Registry.Example.com:5000/v2/team/app")
    assert (address.host, address.port, address.path) == ("registry.example.com", 5000, "/team/app")
    assert not address.is_docker_hub
    assert parse_server("docker.io").is_docker_hub
    assert not parse_server("docker.io:5000").is_docker_hub


# --- credentials -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "password", "email", "field", "says"),
    [
        ("", "pw", None, "username", "must not be empty"),
        ("a:b", "pw", None, "username", 'must not contain ":"'),
        ("al\nice", "pw", None, "username", "line breaks"),
        ("alice", "", None, "password", "must not be empty"),
        ("alice", "pw\n", None, "password", "trailing newline"),
        ("alice", "pw", "a b@example.com", "email", "spaces"),
    ],
)
def test_credential_validation(username, password, email, field, says):
    with pytest.raises(DockerConfigError) as raised:
        Credential(server="registry.example.com", username=username, password=password, email=email)
    assert raised.value.field == field
    assert says in raised.value.message


def test_credential_normalises_and_keeps_password_out_of_repr():
    credential = Credential(server="docker.io", username="alice", password="hunter2:x", email=" a@b.c ")
    assert credential.server == DOCKER_HUB
    assert credential.email == "a@b.c"
    assert credential.auth == b64("alice:hunter2:x")
    for shown in (repr(credential), str(credential)):
        assert "hunter2" not in shown
        assert credential.auth not in shown
    assert Credential(server="", username="a", password="p", email="").email is None


# --- building ----------------------------------------------------------------------------------


def test_build_dockerconfigjson_is_compact_sorted_and_kubectl_compatible():
    built = build_config(
        [
            Credential(server="registry.example.com:5000", username="bob", password="pw2"),
            Credential(server="", username="alice", password="pw1", email="alice@example.com"),
        ]
    )
    assert built == (
        b'{"auths":{"https://index.docker.io/v1/":{"auth":"YWxpY2U6cHcx","email":"alice@example.com",'
        b'"password":"pw1","username":"alice"},"registry.example.com:5000":{"auth":"Ym9iOnB3Mg==",'
        b'"password":"pw2","username":"bob"}}}'
    )


def test_build_legacy_dockercfg_is_a_bare_map():
    built = build_config(
        [Credential(server="quay.io", username="bob", password="pw")], config_format=ConfigFormat.DOCKERCFG
    )
    assert json.loads(built) == {"quay.io": {"auth": b64("bob:pw"), "password": "pw", "username": "bob"}}


def test_build_keeps_non_ascii_as_utf8():
    built = build_config([Credential(server="quay.io", username="jürgen", password="pässwort")])
    assert "jürgen".encode() in built
    assert json.loads(built)["auths"]["quay.io"]["auth"] == b64("jürgen:pässwort")


def test_build_refuses_two_logins_for_one_registry():
    with pytest.raises(DockerConfigError, match="given twice"):
        build_config(
            [
                Credential(server="docker.io", username="a", password="p"),
                Credential(server="index.docker.io", username="b", password="q"),
            ]
        )


def test_secret_types():
    assert ConfigFormat.for_secret_type("kubernetes.io/dockerconfigjson").data_key == ".dockerconfigjson"
    assert ConfigFormat.for_secret_type("kubernetes.io/dockercfg").data_key == ".dockercfg"
    with pytest.raises(DockerConfigError, match="Opaque"):
        ConfigFormat.for_secret_type("Opaque")


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "expected_format", "expected", "note"),
    [
        pytest.param(
            doc({"registry.example.com": {"auth": b64("alice:pw:with:colons")}}),
            ConfigFormat.DOCKERCONFIGJSON,
            [("registry.example.com", "alice", "pw:with:colons", None)],
            None,
            id="auth-only",
        ),
        pytest.param(
            doc({"https://quay.io": {"username": "bob", "password": "pw", "email": "b@x.io"}}),
            ConfigFormat.DOCKERCONFIGJSON,
            [("quay.io", "bob", "pw", "b@x.io")],
            None,
            id="username-password",
        ),
        pytest.param(
            doc({"quay.io": {"auth": b64("alice:right"), "username": "bob", "password": "other"}}),
            ConfigFormat.DOCKERCONFIGJSON,
            [("quay.io", "alice", "right", None)],
            '"auth" is used',
            id="auth-wins",
        ),
        pytest.param(
            doc({"quay.io": {"auth": b64("alice:pw"), "username": "alice", "password": "pw"}}),
            ConfigFormat.DOCKERCONFIGJSON,
            [("quay.io", "alice", "pw", None)],
            None,
            id="auth-agrees",
        ),
        pytest.param(
            json.dumps({"https://index.docker.io/v1/": {"auth": b64("carol:pw"), "email": "c@x.io"}}),
            ConfigFormat.DOCKERCFG,
            [(DOCKER_HUB, "carol", "pw", "c@x.io")],
            None,
            id="legacy-dockercfg",
        ),
        pytest.param(
            doc({"docker.io": {"auth": b64("old:pw1")}, "https://index.docker.io/v1/": {"auth": b64("new:pw2")}}),
            ConfigFormat.DOCKERCONFIGJSON,
            [(DOCKER_HUB, "new", "pw2", None)],
            "replaces an earlier one",
            id="two-spellings-merge",
        ),
        pytest.param(
            f'{{"auths": {{"quay.io": {{"auth": "{b64("a:1")}"}}, "quay.io": {{"auth": "{b64("b:2")}"}}}}}}',
            ConfigFormat.DOCKERCONFIGJSON,
            [("quay.io", "b", "2", None)],
            "(user b) replaces",
            id="repeated-key",
        ),
        pytest.param(
            doc({"https://index.docker.io/v1/": {}, "quay.io": {"auth": b64("d:pw")}}, credsStore="desktop"),
            ConfigFormat.DOCKERCONFIGJSON,
            [("quay.io", "d", "pw", None)],
            "credential store); skipped",
            id="creds-store-mixed",
        ),
        pytest.param(
            doc({"myregistry.azurecr.io": {"identitytoken": "eyJ..."}, "quay.io": {"auth": b64("e:pw")}}),
            ConfigFormat.DOCKERCONFIGJSON,
            [("quay.io", "e", "pw", None)],
            "only an identity token",
            id="identity-token-skipped",
        ),
        pytest.param(
            doc({"quay.io": {"auth": b64("f:pw")}}, HttpHeaders={"User-Agent": "x"}, psFormat="table"),
            ConfigFormat.DOCKERCONFIGJSON,
            [("quay.io", "f", "pw", None)],
            None,
            id="cli-settings-ignored",
        ),
        pytest.param(
            "\ufeff" + doc({"quay.io": {"auth": b64("g:pw")}}),
            ConfigFormat.DOCKERCONFIGJSON,
            [("quay.io", "g", "pw", None)],
            None,
            id="byte-order-mark",
        ),
    ],
)
def test_parse_config(document, expected_format, expected, note):
    parsed = parse_config(document.encode("utf-8"))
    assert parsed.format is expected_format
    assert logins(parsed.credentials) == expected
    if note is None:
        assert parsed.notes == ()
    else:
        assert any(note in line for line in parsed.notes), parsed.notes


@pytest.mark.parametrize(
    ("document", "field", "says"),
    [
        ('{"auths": {"quay.io": {"auth": "x"},}}', "document", "not valid JSON"),
        ("[1, 2]", "document", "must be a JSON object"),
        (doc({}, credsStore="desktop"), "credsStore", '"credsStore": "desktop"'),
        (doc({"https://index.docker.io/v1/": {}}, credsStore="osxkeychain"), "credsStore", "docker login"),
        (
            json.dumps({"credHelpers": {"gcr.io": "gcloud", "123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"}}),
            "credsStore",
            '"credHelpers" for 123.dkr.ecr.us-east-1.amazonaws.com, gcr.io',
        ),
        ("{}", "document", "no credentials found"),
        (doc({}), "auths", "no credentials found"),
        (doc({"quay.io": {}}), "auths", "no credentials found"),
        (doc({"acr.io": {"identitytoken": "t"}}), "auths", "only identity tokens"),
        ('{"auths": []}', "auths", '"auths" must be an object'),
        (doc({"quay.io": "alice:pw"}), 'auths["quay.io"]', "must be an object"),
        (doc({"quay.io": {"auth": "not base64!"}}), 'auths["quay.io"].auth', "not valid base64"),
        (doc({"quay.io": {"auth": b64("alice:pw")[:-1]}}), 'auths["quay.io"].auth', "not valid base64"),
        (doc({"quay.io": {"auth": b64("nocolonhere")}}), 'auths["quay.io"].auth', 'without ":"'),
        (doc({"quay.io": {"auth": base64.b64encode(b"\xff\xfe:x").decode()}}), 'auths["quay.io"].auth', "not UTF-8"),
        (doc({"quay.io": {"auth": 42}}), 'auths["quay.io"].auth', "must be a string"),
        (doc({"quay.io": {"username": "alice"}}), 'auths["quay.io"].password', "a username but no password"),
        (doc({"quay.io": {"password": "pw"}}), 'auths["quay.io"].username', "a password but no username"),
        (doc({"quay.io": {"username": "a:b", "password": "pw"}}), 'auths["quay.io"].username', 'must not contain ":"'),
        (doc({"quay.io": {"auth": b64(":pw")}}), 'auths["quay.io"].username', "must not be empty"),
        (doc({"quay.io": {"auth": b64("alice:")}}), 'auths["quay.io"].password', "must not be empty"),
        (doc({"bad host": {"auth": b64("a:pw")}}), 'auths["bad host"]', "whitespace"),
        (doc({" ": {"auth": b64("a:pw")}}), 'auths[" "]', "server is empty"),
        (json.dumps({"quay.io": {"auth": "%%%"}}), '["quay.io"].auth', "not valid base64"),
    ],
)
def test_parse_config_errors_name_the_entry(document, field, says):
    with pytest.raises(DockerConfigError) as raised:
        parse_config(document)
    assert raised.value.field == field
    assert says in raised.value.message


def test_json_syntax_error_has_line_and_column():
    with pytest.raises(DockerConfigError) as raised:
        parse_config('{\n  "auths": {\n    "quay.io": {"auth": "x"},\n  }\n}')
    assert raised.value.position == (4, 3)
    assert "line 4, column 3" in raised.value.message
    assert raised.value.as_dict()["line"] == 4


def test_non_utf8_document_is_refused():
    with pytest.raises(DockerConfigError, match="not UTF-8"):
        parse_config(b'{"auths": {"\xff": {}}}')


@pytest.mark.parametrize(
    "document",
    [
        doc({"quay.io": {"auth": b64("s3cr3t-pw-no-colon")}}),
        doc({"quay.io": {"auth": b64("alice:s3cr3t-pw\n")}}),
        doc({"quay.io": {"username": "alice", "password": "s3cr3t-pw\r"}}),
    ],
)
def test_parse_errors_never_show_the_password(document):
    with pytest.raises(DockerConfigError) as raised:
        parse_config(document)
    assert "s3cr3t-pw" not in str(raised.value)
    assert "s3cr3t-pw" not in repr(raised.value.as_dict())


def test_merge_credentials_later_wins_and_says_so():
    first = [
        Credential(server="docker.io", username="a", password="1"),
        Credential(server="quay.io", username="q", password="2"),
    ]
    second = [Credential(server="https://index.docker.io/v1/", username="b", password="3")]
    merged = merge_credentials(first, second)
    assert logins(merged.credentials) == [("quay.io", "q", "2", None), (DOCKER_HUB, "b", "3", None)]
    assert merged.notes == (
        f"{DOCKER_HUB}: a later entry (user b) replaces an earlier one for the same registry (user a)",
    )


# --- secrets: display and edits ----------------------------------------------------------------

SECRET = json.dumps(
    {
        "auths": {
            "https://index.docker.io/v1/": {"auth": b64("alice:hub-pw"), "email": "alice@example.com"},
            "registry.example.com:5000": {"username": "bob", "password": "reg-pw", "identitytoken": "keep-me"},
            "quay.io": {"auth": "broken!"},
            "ghcr.io": {"username": "carol"},
            "bad host": {"auth": b64("dave:pw")},
        }
    }
).encode()


def test_decode_secret_lists_entries_without_passwords():
    entries = decode_secret(JSON_TYPE, SECRET)
    shown = {entry.key: entry for entry in entries}
    hub = shown["https://index.docker.io/v1/"]
    assert (hub.server, hub.username, hub.email, hub.has_password, hub.problem) == (
        DOCKER_HUB,
        "alice",
        "alice@example.com",
        True,
        None,
    )
    registry = shown["registry.example.com:5000"]
    assert (registry.username, registry.has_password, registry.problem) == ("bob", True, None)
    assert "not valid base64" in shown["quay.io"].problem
    assert not shown["quay.io"].has_password
    ghcr = shown["ghcr.io"]
    assert (ghcr.username, ghcr.has_password) == ("carol", False)
    assert "no password" in ghcr.problem
    assert "whitespace" in shown["bad host"].problem
    assert shown["bad host"].server == "bad host"
    everything = repr(entries) + "".join(str(entry) for entry in entries)
    for secret in ("hub-pw", "reg-pw", b64("alice:hub-pw")):
        assert secret not in everything


def test_decode_legacy_secret_and_shapes():
    legacy = json.dumps({"quay.io": {"auth": b64("q:pw")}}).encode()
    assert [(e.server, e.username) for e in decode_secret(CFG_TYPE, legacy)] == [("quay.io", "q")]
    assert decode_secret(JSON_TYPE, b'{"credsStore": "x"}') == ()
    with pytest.raises(DockerConfigError, match="must hold a JSON object"):
        decode_secret(JSON_TYPE, b"[]")
    with pytest.raises(DockerConfigError, match="not valid JSON"):
        decode_secret(JSON_TYPE, b"{")


def test_replace_password_changes_only_that_registry():
    updated = json.loads(replace_password(JSON_TYPE, SECRET, server="registry.example.com:5000", password="new-pw"))
    before = json.loads(SECRET)
    entry = updated["auths"]["registry.example.com:5000"]
    assert entry == {"username": "bob", "password": "new-pw", "auth": b64("bob:new-pw"), "identitytoken": "keep-me"}
    del updated["auths"]["registry.example.com:5000"], before["auths"]["registry.example.com:5000"]
    assert updated == before


def test_replace_password_finds_every_spelling_and_keeps_email():
    secret = json.dumps(
        {
            "auths": {
                "docker.io": {"auth": b64("a:1")},
                "https://index.docker.io/v1/": {"auth": b64("b:2"), "email": "b@x.io"},
            }
        }
    ).encode()
    updated = json.loads(replace_password(JSON_TYPE, secret, server="", password="3"))["auths"]
    assert updated["docker.io"]["auth"] == b64("a:3")
    assert updated["https://index.docker.io/v1/"] == {
        "auth": b64("b:3"),
        "username": "b",
        "password": "3",
        "email": "b@x.io",
    }


def test_replace_password_recovers_username_from_a_broken_auth():
    secret = json.dumps({"quay.io": {"auth": "broken!", "username": "q"}}).encode()
    updated = json.loads(replace_password(CFG_TYPE, secret, server="quay.io", password="fresh"))
    assert updated["quay.io"]["auth"] == b64("q:fresh")


@pytest.mark.parametrize(
    ("server", "password", "field", "says"),
    [
        ("gitlab.example.com", "pw", "server", "holds no login for gitlab.example.com"),
        ("quay.io", "pw", "server", "no username"),
        ("registry.example.com:5000", "", "registry.example.com:5000.password", "must not be empty"),
    ],
)
def test_replace_password_errors(server, password, field, says):
    secret = json.dumps({"auths": {"quay.io": {"auth": "!!"}, "registry.example.com:5000": {"auth": b64("b:1")}}})
    with pytest.raises(DockerConfigError) as raised:
        replace_password(JSON_TYPE, secret.encode(), server=server, password=password)
    assert raised.value.field == field
    assert says in raised.value.message


def test_add_and_remove_entries():
    added = add_entry(JSON_TYPE, b'{"auths": {}}', Credential(server="https://quay.io/", username="q", password="pw"))
    assert json.loads(added) == {"auths": {"quay.io": {"auth": b64("q:pw"), "password": "pw", "username": "q"}}}
    with pytest.raises(DockerConfigError, match=r"already holds a login for quay\.io"):
        add_entry(JSON_TYPE, added, Credential(server="quay.io", username="other", password="pw"))
    assert json.loads(remove_entry(JSON_TYPE, added, server="https://quay.io")) == {"auths": {}}
    with pytest.raises(DockerConfigError, match=r"holds no login for ghcr\.io"):
        remove_entry(JSON_TYPE, added, server="ghcr.io")


def test_add_to_a_dockerconfigjson_without_auths_and_remove_every_spelling():
    credential = Credential(server="quay.io", username="q", password="p")
    added = add_entry(JSON_TYPE, b'{"HttpHeaders": {"X": "1"}}', credential)
    assert json.loads(added)["HttpHeaders"] == {"X": "1"}
    both = json.dumps({"auths": {"docker.io": {}, "https://index.docker.io/v1/": {}, "quay.io": {}}}).encode()
    assert json.loads(remove_entry(JSON_TYPE, both, server="index.docker.io")) == {"auths": {"quay.io": {}}}


def test_remove_an_entry_whose_key_is_not_a_valid_server():
    secret = json.dumps({"bad host": {}, "quay.io": {}}).encode()
    assert json.loads(remove_entry(CFG_TYPE, secret, server="bad host")) == {"quay.io": {}}


# --- round trip --------------------------------------------------------------------------------

_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_host = st.lists(_label, min_size=1, max_size=4).map(".".join)
_path = st.lists(st.from_regex(r"[a-z0-9]+([._-][a-z0-9]+)?", fullmatch=True), max_size=3).map(
    lambda parts: "".join(f"/{part}" for part in parts)
)
_server = st.one_of(
    st.sampled_from(["", "docker.io", "https://index.docker.io/v1/", "quay.io"]),
    st.builds(
        lambda scheme, host, port, path: f"{scheme}{host}{port}{path}",
        st.sampled_from(["", "https://", "http://"]),
        _host,
        st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")),
        _path,
    ),
)
_printable = st.characters(blacklist_categories=("Cc", "Cs"))
_credential = st.builds(
    Credential,
    server=_server,
    username=st.text(_printable.filter(lambda c: c != ":"), min_size=1, max_size=20),
    password=st.text(_printable, min_size=1, max_size=40),
    email=st.one_of(st.none(), st.from_regex(r"[a-z0-9.]{1,10}@[a-z0-9]{1,10}\.[a-z]{2,4}", fullmatch=True)),
)


@given(
    credentials=st.lists(_credential, max_size=5, unique_by=lambda c: c.server).filter(bool),
    config_format=st.sampled_from(list(ConfigFormat)),
)
def test_build_then_parse_round_trips(credentials, config_format):
    built = build_config(credentials, config_format=config_format)
    parsed = parse_config(built)
    assert parsed.format is config_format
    assert parsed.notes == ()
    assert sorted(logins(parsed.credentials)) == sorted(logins(credentials))
    shown = decode_secret(config_format.secret_type, built)
    assert sorted((e.server, e.username, e.email, e.has_password, e.problem) for e in shown) == sorted(
        (c.server, c.username, c.email, True, None) for c in credentials
    )
    assert build_config(parsed.credentials, config_format=config_format) == built
