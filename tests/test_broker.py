"""The embedded broker under a real producer process and a consumer reading as fast as it can.

kombu's own filesystem transport fails this test (the consumer takes a file
the producer has created but not yet written: JSONDecodeError, the message
lost); ``rodan.broker`` renames each message into place whole.
"""

import subprocess
import sys
import time

import pytest
from kombu import Connection

MESSAGES = 100
PAYLOAD_SIZE = 4_000_000  # large, so writing one message takes a while
PRODUCER = """
import sys
from kombu import Connection
folder, transport, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
options = {"data_folder_in": folder, "data_folder_out": folder, "control_folder": folder}
with Connection(transport=transport, transport_options=options) as connection:
    queue = connection.SimpleQueue("pages")
    for index in range(count):
        queue.put({"index": index, "payload": "x" * size})
    queue.close()
"""


@pytest.mark.timeout(120)
def test_a_consumer_never_sees_a_half_written_message(tmp_path):
    transport = "rodan.broker:Transport"
    producer = subprocess.Popen(
        [sys.executable, "-c", PRODUCER, str(tmp_path), transport, str(MESSAGES), str(PAYLOAD_SIZE)]
    )
    received = []
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "control_folder": str(tmp_path)}
    with Connection(transport=transport, transport_options=options) as connection:
        queue = connection.SimpleQueue("pages")
        deadline = time.monotonic() + 60
        while len(received) < MESSAGES and time.monotonic() < deadline:
            try:
                message = queue.get(timeout=1)  # under the broker's 2 s loop wait, so not shortened
            except queue.Empty:
                continue
            assert len(message.payload["payload"]) == PAYLOAD_SIZE
            received.append(message.payload["index"])
            message.ack()
        queue.close()
    assert producer.wait(timeout=30) == 0
    assert received == list(range(MESSAGES))
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".partial"] == []
