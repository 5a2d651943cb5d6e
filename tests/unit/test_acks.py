"""The prefetch window of a worker on RabbitMQ: one message per idle pool process, none while all are busy."""

from types import SimpleNamespace

from rodan.engine.acks import Window


class FakeQoS:
    def __init__(self, value):
        self.value = self.prev = value
        self.sent = []

    def set(self, count):
        self.prev = count
        self.sent.append(count)


class FakeTaskConsumer:
    def __init__(self):
        self.consuming = True
        self.calls = []

    def cancel(self):
        self.consuming = False
        self.calls.append("cancel")

    def consume(self):
        self.consuming = True
        self.calls.append("consume")


def consumer(processes):
    return SimpleNamespace(
        max_prefetch_count=processes,
        qos=FakeQoS(processes),
        task_consumer=FakeTaskConsumer(),
        hub=SimpleNamespace(call_soon=lambda callback: callback()),
    )


def test_the_window_shrinks_with_each_started_job_and_closes_when_every_process_is_busy():
    c = consumer(2)
    window = Window()
    window.attach(c)
    window.started("a")
    assert (c.qos.value, c.qos.sent[-1], c.task_consumer.consuming) == (1, 1, True)
    window.started("b")
    assert c.task_consumer.calls == ["cancel"] and 0 not in c.qos.sent  # a count of 0 would mean no limit
    window.ended("a")
    assert c.task_consumer.calls == ["cancel", "consume"] and c.qos.value == 1
    window.ended("a")  # a request ends once, however many of its hooks run
    window.ended("b")
    assert c.task_consumer.calls == ["cancel", "consume"] and c.qos.value == 2


def test_a_consumer_restarted_while_every_process_is_busy_stops_consuming_again():
    window = Window()
    window.attach(consumer(1))
    window.started("a")
    restarted = consumer(1)
    window.attach(restarted)
    assert restarted.task_consumer.calls == ["cancel"] and restarted.qos.value == 1
    window.ended("a")
    assert restarted.task_consumer.calls == ["cancel", "consume"]
