"""A real OpenLDAP server (Debian's slapd) for the LDAP sign-in tests, on a free loopback port, run by the tests'
own user with a slapd.conf and an MDB database in a temporary folder, seeded with ldapadd.

The tree: dc=berth,dc=test with ou=people (inetOrgPerson entries, uid and userPassword) and ou=groups
(groupOfNames, members by DN). Tests add and remove members with ldapmodify as the directory's admins would.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.services.postgres import free_loopback_port

SLAPD = os.environ.get("BERTH_SLAPD", "/usr/sbin/slapd")
SCHEMA = Path("/etc/ldap/schema")
BASE = "dc=berth,dc=test"
PEOPLE, GROUPS = f"ou=people,{BASE}", f"ou=groups,{BASE}"
ADMIN_DN = f"cn=admin,{BASE}"


@dataclass
class LdapServer:
    uri: str
    admin_password: str
    workdir: Path
    process: subprocess.Popen[bytes]

    def _tool(self, tool: str, ldif: str) -> None:
        completed = subprocess.run(
            [tool, "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", self.admin_password],
            input=ldif.encode(),
            capture_output=True,
            timeout=30,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"{tool} failed: {completed.stderr.decode()}\n{ldif}")

    def add(self, ldif: str) -> None:
        self._tool("ldapadd", ldif)

    def modify(self, ldif: str) -> None:
        self._tool("ldapmodify", ldif)

    def add_user(self, uid: str, password: str, *, mail: str = "", given_name: str = "", surname: str = "") -> str:
        dn = f"uid={uid},{PEOPLE}"
        self.add(
            f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {surname or uid}\n"
            f"givenName: {given_name or uid}\nmail: {mail or f'{uid}@example.com'}\nuserPassword: {password}\n"
        )
        return dn

    def add_group(self, cn: str, *member_uids: str) -> None:
        # groupOfNames needs a member: the admin entry is one of every group, so that any person can leave it.
        members = [ADMIN_DN, *(f"uid={uid},{PEOPLE}" for uid in member_uids)]
        lines = "".join(f"member: {dn}\n" for dn in members)
        self.add(f"dn: cn={cn},{GROUPS}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}")

    def add_member(self, cn: str, uid: str) -> None:
        self.modify(f"dn: cn={cn},{GROUPS}\nchangetype: modify\nadd: member\nmember: uid={uid},{PEOPLE}\n")

    def remove_member(self, cn: str, uid: str) -> None:
        self.modify(f"dn: cn={cn},{GROUPS}\nchangetype: modify\ndelete: member\nmember: uid={uid},{PEOPLE}\n")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_slapd(workdir: Path) -> LdapServer:
    if not Path(SLAPD).exists() or shutil.which("ldapadd") is None:
        raise RuntimeError(f"{SLAPD} and ldapadd are needed: apt-get install slapd ldap-utils (scripts/install does).")
    data = workdir / "data"
    data.mkdir(parents=True)
    password = secrets.token_urlsafe(18)
    schemas = "".join(f"include {SCHEMA / name}.schema\n" for name in ("core", "cosine", "inetorgperson", "nis"))
    (workdir / "slapd.conf").write_text(
        f"{schemas}"
        "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
        f"pidfile {workdir / 'slapd.pid'}\nargsfile {workdir / 'slapd.args'}\n"
        f'database mdb\nmaxsize 67108864\nsuffix "{BASE}"\nrootdn "{ADMIN_DN}"\nrootpw {password}\n'
        f"directory {data}\n"
        # Anyone may bind (with a password) and read; only the admin changes entries.
        "access to attrs=userPassword by anonymous auth by self read by * none\n"
        "access to * by * read\n"
    )
    port = free_loopback_port()
    uri = f"ldap://127.0.0.1:{port}"
    log = (workdir / "slapd.log").open("wb")
    # -d keeps slapd in the foreground, where the fixture can stop it; level 0 logs nothing but fatal errors.
    process = subprocess.Popen(
        [SLAPD, "-f", str(workdir / "slapd.conf"), "-h", f"{uri}/", "-d", "0"], stdout=log, stderr=subprocess.STDOUT
    )
    server = LdapServer(uri=uri, admin_password=password, workdir=workdir, process=process)
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"slapd exited ({process.returncode}):\n{(workdir / 'slapd.log').read_text()[-4000:]}")
        try:
            server.add(f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: berth\no: Berth tests\n")
            break
        except RuntimeError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)
    server.add(f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n")
    server.add(f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n")
    return server
