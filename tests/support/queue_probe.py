"""Plain messages published on a queue no test worker consumes, to see a queue's depth move."""

import pytest

PROBE_QUEUE = "GPU"  # a queue of RODAN_QUEUES that the tests' workers do not consume


@pytest.fixture
def probe_queue():
    """``probe_queue(n)`` publishes n messages on PROBE_QUEUE; the queue is emptied afterwards."""
    from rodan.celery import app

    queue = app.amqp.queues[PROBE_QUEUE]

    def publish(count):
        with app.connection_for_write() as connection, connection.Producer() as producer:
            for index in range(count):
                producer.publish({"probe": index}, exchange=queue.exchange, routing_key=queue.routing_key, declare=[queue])

    yield publish
    with app.connection_for_write() as connection:
        queue.bind(connection.default_channel).purge()
