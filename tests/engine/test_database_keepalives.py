"""PostgreSQL drops a worker host that vanished mid-transaction, so its row locks do not outlive it.

Without server-side keepalives a backend whose client was cut off keeps its
locks until the kernel gives up on the socket (about two hours with Linux's
defaults), and every other RunJob of the same run waits behind it.
"""

import pytest
from django.db import connection

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def test_the_server_probes_our_connections_and_gives_up_on_a_silent_client_within_two_minutes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_client_addr() IS NOT NULL")
        (over_tcp,) = cursor.fetchone()
        assert over_tcp, "keepalives apply to TCP connections; the test database is reached over TCP"
        settings = {}
        for name in ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count"):
            cursor.execute(f"SELECT setting::int FROM pg_settings WHERE name = '{name}'")
            settings[name] = cursor.fetchone()[0]
    assert settings == {"tcp_keepalives_idle": 60, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 6}
    dead_after = settings["tcp_keepalives_idle"] + settings["tcp_keepalives_interval"] * settings["tcp_keepalives_count"]
    assert dead_after <= 120
