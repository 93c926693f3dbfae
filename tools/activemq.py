"""The ActiveMQ Classic broker: its full distribution fetched from Maven Central, and the
configuration this project runs it with.

Debian's `activemq` package has no web console, so the broker image and the integration test both
use the full distribution (`org.apache.activemq:apache-activemq`, classifier `bin`, `tar.gz`),
cached under CACHE_ROOT/activemq/<version>/ and verified against Maven Central's checksum.

`write_conf()` writes one configuration that both use. It has a user per role
(apps.images.BROKER_ROLES): an admin for the web console, a publisher that may only send to the
news queue, a consumer that may only read it, so a leaked job password cannot read the queue or
log in to the console. Credentials are never written to disk: the XML holds `${ACTIVEMQ_<ROLE>_USER}`
/ `${ACTIVEMQ_<ROLE>_PASSWORD}` placeholders that the broker's Spring context resolves from the
environment when it starts, so an image can be built once and given its credentials by Kubernetes
Secrets, and a broker started without them fails instead of falling back to admin/admin.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from apps.images import ACTIVEMQ_VERSION, BROKER_LOGIN_ENV, BROKER_ROLES, NEWS_QUEUE
from tools.errors import SetupError
from tools.paths import CACHE_ROOT
from tools.progress import say, step

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
ARTIFACT_PATH = "org/apache/activemq/apache-activemq"
#: Strongest first; Maven Central serves `.sha1` for every artifact, `.sha512` for some.
CHECKSUMS = (("sha512", hashlib.sha512), ("sha1", hashlib.sha1))
#: Role -> the broker group its user is in, which the authorization entries name.
GROUPS = {"admin": "admins", "publisher": "publishers", "consumer": "consumers"}


def home(version: str = ACTIVEMQ_VERSION) -> Path:
    """Where the unpacked distribution of `version` lives once fetched."""
    return CACHE_ROOT / "activemq" / version / f"apache-activemq-{version}"


def fetch(version: str = ACTIVEMQ_VERSION) -> Path:
    """The unpacked distribution (ACTIVEMQ_HOME), downloaded and verified on first use."""
    target = home(version)
    if (target / "bin" / "activemq").is_file():
        return target
    name = f"apache-activemq-{version}-bin.tar.gz"
    url = f"{MAVEN_CENTRAL}/{ARTIFACT_PATH}/{version}/{name}"
    version_dir = target.parent
    version_dir.parent.mkdir(parents=True, exist_ok=True)
    with step(f"fetching ActiveMQ {version} from Maven Central"), \
            tempfile.TemporaryDirectory(dir=version_dir.parent, prefix=f".{version}-") as scratch:
        archive = Path(scratch) / name
        _download(url, archive)
        _verify(url, archive)
        unpacked = Path(scratch) / "unpacked"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="tar")
        if not (unpacked / target.name / "bin" / "activemq").is_file():
            raise SetupError(f"{name} does not contain {target.name}/bin/activemq; is {version} "
                             "an ActiveMQ Classic version?")
        shutil.rmtree(version_dir, ignore_errors=True)
        unpacked.rename(version_dir)
    say(f"ActiveMQ {version} is in {target}")
    return target


def _download(url: str, destination: Path) -> None:
    try:
        with requests.get(url, stream=True, timeout=60) as response:
            if response.status_code == 404:
                raise SetupError(f"Maven Central has no {url}; pick a version it serves "
                                 "(apps/images.py: ACTIVEMQ_VERSION)")
            response.raise_for_status()
            with destination.open("wb") as out:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    out.write(chunk)
    except requests.RequestException as error:
        raise SetupError(f"cannot download {url}: {error}; check the network to Maven Central") from error


def _verify(url: str, archive: Path) -> None:
    """Compare the archive with the strongest checksum Maven Central publishes for it."""
    for suffix, algorithm in CHECKSUMS:
        try:
            response = requests.get(f"{url}.{suffix}", timeout=30)
        except requests.RequestException as error:
            raise SetupError(f"cannot download {url}.{suffix}: {error}") from error
        if response.status_code == 404:
            continue
        response.raise_for_status()
        expected = response.text.split()[0].strip().lower()
        digest = algorithm()
        with archive.open("rb") as data:
            for chunk in iter(lambda: data.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != expected:
            raise SetupError(f"{archive.name}: {suffix} {digest.hexdigest()} does not match "
                             f"Maven Central's {expected}; delete {archive.parent} and retry")
        return
    raise SetupError(f"Maven Central publishes no checksum for {url}; refusing an unverified archive")


@dataclass(frozen=True)
class Listen:
    """Where the configured broker listens. In a pod everything binds 0.0.0.0 (the Service routes
    to the pod IP); a test binds 127.0.0.1 on free ports."""
    host: str = "0.0.0.0"
    openwire: int = 61616
    stomp: int = 61613
    console_host: str = "0.0.0.0"
    console: int = 8161


#: Our activemq.xml: OpenWire and STOMP only, a login per role from the environment, rights per
#: role, bounded disk use. `${...}` is resolved by the Spring placeholder configurer from system
#: properties, then the environment; `{...}` is filled in by write_conf().
#: Rights are the union of every entry that matches a destination: `>` gives admins everything,
#: the queue's own entry adds the publishers' write and the consumers' read. The queue exists from
#: the start, so neither needs the right to create it.
BROKER_XML = """\
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd
       http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <!-- Written by tools/activemq.py (news-tracker). -->
  <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>
  <!-- brokerName stays "localhost": the web console reaches the broker at vm://localhost. -->
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="localhost"
          dataDirectory="${{activemq.data}}" schedulePeriodForDestinationPurge="0">
    <destinations>
      <queue physicalName="{queue}"/>
    </destinations>
    <plugins>
      <simpleAuthenticationPlugin anonymousAccessAllowed="false">
        <users>
{users}
        </users>
      </simpleAuthenticationPlugin>
      <authorizationPlugin>
        <map>
          <authorizationMap>
            <authorizationEntries>
              <authorizationEntry queue=">" read="admins" write="admins" admin="admins"/>
              <authorizationEntry topic=">" read="admins" write="admins" admin="admins"/>
              <authorizationEntry queue="{queue}" read="consumers" write="publishers" admin="admins"/>
              <!-- The broker announces every connection and subscription on these topics in the
                   client's name; reading them stays the admins'. -->
              <authorizationEntry topic="ActiveMQ.Advisory.>" read="admins" write="admins,publishers,consumers" admin="admins,publishers,consumers"/>
            </authorizationEntries>
          </authorizationMap>
        </map>
      </authorizationPlugin>
    </plugins>
    <managementContext>
      <managementContext createConnector="false"/>
    </managementContext>
    <persistenceAdapter>
      <kahaDB directory="${{activemq.data}}/kahadb"/>
    </persistenceAdapter>
    <systemUsage>
      <systemUsage>
        <memoryUsage><memoryUsage percentOfJvmHeap="70"/></memoryUsage>
        <storeUsage><storeUsage limit="{store_limit}"/></storeUsage>
        <tempUsage><tempUsage limit="{store_limit}"/></tempUsage>
      </systemUsage>
    </systemUsage>
    <transportConnectors>
      <transportConnector name="openwire" uri="tcp://{host}:{openwire}?maximumConnections=1000&amp;wireFormat.maxFrameSize=104857600"/>
      <!-- A STOMP client that announces heart-beats every N ms is dropped only after 2 N ms of
           silence, not N: clients (stomp.py too) send at N, so one late beat is tolerated. -->
      <transportConnector name="stomp" uri="stomp://{host}:{stomp}?maximumConnections=1000&amp;wireFormat.maxFrameSize=104857600&amp;transport.hbGracePeriodMultiplier=2"/>
    </transportConnectors>
    <shutdownHooks>
      <bean xmlns="http://www.springframework.org/schema/beans" class="org.apache.activemq.hooks.SpringContextHook"/>
    </shutdownHooks>
  </broker>
  <import resource="jetty.xml"/>
</beans>
"""

#: Replaces the console's realm file (admin/admin) with the admin role's login, its only user.
CONSOLE_USERS_XML = """\
<bean id="consoleUsers" class="org.eclipse.jetty.security.UserStore"/>
    <bean id="consoleUser" class="org.springframework.beans.factory.config.MethodInvokingBean">
        <property name="targetObject" ref="consoleUsers"/>
        <property name="targetMethod" value="addUser"/>
        <property name="arguments">
            <list>
                <value>${{{user_env}}}</value>
                <bean class="org.eclipse.jetty.util.security.Credential" factory-method="getCredential">
                    <constructor-arg value="${{{password_env}}}"/>
                </bean>
                <array><value>admin</value><value>user</value></array>
            </list>
        </property>
    </bean>
    <bean id="securityLoginService" class="org.eclipse.jetty.security.HashLoginService" depends-on="consoleUser">
        <property name="name" value="ActiveMQRealm" />
        <property name="userStore" ref="consoleUsers" />
    </bean>"""

#: The distribution's jetty.xml fragments that write_conf() replaces (checked, so a version bump
#: that changes them fails loudly instead of keeping admin/admin).
REALM_BEAN = re.compile(r'<bean id="securityLoginService".*?</bean>', re.DOTALL)
CONSOLE_HOST = '<property name="host" value="127.0.0.1"/>'
CONSOLE_PORT = '<property name="port" value="8161"/>'

#: The module opens that bin/activemq passes on Java 9+; the broker and its console need them.
JAVA_OPENS = (
    "--add-reads=java.xml=java.logging",
    *(f"--add-opens={module}=ALL-UNNAMED" for module in (
        "java.base/java.security", "java.base/java.net", "java.base/java.lang", "java.base/java.util",
        "java.naming/javax.naming.spi", "java.rmi/sun.rmi.transport.tcp",
        "java.base/java.util.concurrent", "java.base/java.util.concurrent.atomic")),
    *(f"--add-exports={package}=ALL-UNNAMED" for package in (
        "java.base/sun.net.www.protocol.http", "java.base/sun.net.www.protocol.https",
        "java.base/sun.net.www.protocol.jar", "jdk.xml.dom/org.w3c.dom.html",
        "jdk.naming.rmi/com.sun.jndi.url.rmi")),
)


def login_env(logins: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """The broker's environment for the logins `role -> (user, password)` (BROKER_LOGIN_ENV)."""
    return {name: value for role, login in logins.items() for name, value in zip(BROKER_LOGIN_ENV[role], login)}


def write_conf(conf_dir: Path, listen: Listen = Listen(), *, activemq_home: Path | None = None,
               log_dir: str | None = None, store_limit: str = "1 gb", queue: str = NEWS_QUEUE) -> None:
    """Write a complete broker configuration directory (ACTIVEMQ_CONF) into `conf_dir`.

    It starts from the distribution's conf/ (of `activemq_home`, default: the fetched pinned
    version) and replaces: activemq.xml (OpenWire + STOMP on `listen`, a login per role read from
    the environment at start (BROKER_LOGIN_ENV), anonymous access refused, `queue` created at start
    with the publisher's write and the consumer's read, `store_limit` of disk), jetty.xml (console
    on `listen.console_host` and `listen.console`, the admin's login as its only user, instead of
    conf/jetty-realm.properties)
    and, when `log_dir` is given, the broker log's directory (default: the data directory).
    The image writes it over /opt/activemq/conf; the integration test into a temp dir.
    """
    source = (activemq_home or fetch()) / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, conf_dir, dirs_exist_ok=True)
    for name in ("jetty-realm.properties", "users.properties", "groups.properties",
                 "credentials-enc.properties"):
        (conf_dir / name).unlink(missing_ok=True)  # the distribution's default logins: unused
    admin_user, admin_password = BROKER_LOGIN_ENV["admin"]
    names = {"user_env": admin_user, "password_env": admin_password}
    # The web console's own context logs in to the broker with these two properties.
    (conf_dir / "credentials.properties").write_text(
        f"activemq.username=${{{admin_user}}}\nactivemq.password=${{{admin_password}}}\n")
    users = "\n".join(
        f'          <authenticationUser username="${{{BROKER_LOGIN_ENV[role][0]}}}" '
        f'password="${{{BROKER_LOGIN_ENV[role][1]}}}" groups="{GROUPS[role]}"/>' for role in BROKER_ROLES)
    (conf_dir / "activemq.xml").write_text(BROKER_XML.format(
        host=listen.host, openwire=listen.openwire, stomp=listen.stomp, store_limit=store_limit,
        queue=queue, users=users))
    jetty = (source / "jetty.xml").read_text()
    for fragment in (CONSOLE_HOST, CONSOLE_PORT):
        if fragment not in jetty:
            raise SetupError(f"{source / 'jetty.xml'} has no {fragment}; update tools/activemq.py "
                             "for this ActiveMQ version")
    jetty, realms = REALM_BEAN.subn(lambda _: CONSOLE_USERS_XML.format(**names), jetty)
    if realms != 1:
        raise SetupError(f"{source / 'jetty.xml'}: expected one securityLoginService bean, "
                         f"found {realms}; update tools/activemq.py for this ActiveMQ version")
    jetty = jetty.replace(CONSOLE_HOST, f'<property name="host" value="{listen.console_host}"/>')
    jetty = jetty.replace(CONSOLE_PORT, f'<property name="port" value="{listen.console}"/>')
    (conf_dir / "jetty.xml").write_text(jetty)
    if log_dir is not None:
        log4j = conf_dir / "log4j2.properties"
        log4j.write_text(log4j.read_text().replace("${sys:activemq.data}/activemq.log",
                                                   f"{log_dir}/activemq.log"))


def java_command(activemq_home: Path | str, conf_dir: Path | str, data_dir: Path | str, *,
                 java: str = "java", max_heap: str = "384m") -> list[str]:
    """The broker's command line in the foreground (the container's command, the test's process).

    It runs java directly rather than bin/activemq: that script's bin/env sets variables of its
    own (ACTIVEMQ_USER, its name for the Unix user to run as); and java as the process itself
    receives SIGTERM and shuts the broker down cleanly. The logins come from the environment
    (BROKER_LOGIN_ENV), never from the command line.
    """
    home_dir, conf, data = (str(p) for p in (activemq_home, conf_dir, data_dir))
    return [
        java, "-Xms64m", f"-Xmx{max_heap}", *JAVA_OPENS,
        f"-Djava.util.logging.config.file={conf}/logging.properties",
        f"-Djava.security.auth.login.config={conf}/login.config",
        f"-Dactivemq.classpath={conf}:",
        f"-Dactivemq.home={home_dir}", f"-Dactivemq.base={home_dir}",
        f"-Dactivemq.conf={conf}", f"-Dactivemq.data={data}",
        f"-Djolokia.conf=file:{conf}/jolokia-access.xml",
        "-jar", f"{home_dir}/bin/activemq.jar", "start",
    ]
