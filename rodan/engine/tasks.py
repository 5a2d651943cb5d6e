"""The Celery tasks: run one RunJob, make a resource's viewer tiles, and ping (health checks and benchmarks)."""

from rodan.celery import app


@app.task(name="rodan.run_job", acks_late=True, reject_on_worker_lost=True, Request="rodan.engine.acks:RunJobRequest")
def run_job(runjob_id, token):
    from rodan.engine.execution import execute

    return execute(runjob_id, token)


@app.task(name="rodan.make_tiles")
def make_tiles(resource_id):
    """Deep-zoom tiles of an image resource's current file (``rodan.tiles``), made once."""
    from rodan.tiles import make

    return make(resource_id)


@app.task(name="rodan.ping", ignore_result=False)
def ping(value=None):
    """Echo ``value``: health checks and the bare round-trip benchmark."""
    return value
